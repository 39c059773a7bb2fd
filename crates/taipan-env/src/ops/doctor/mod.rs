//! `conda doctor` (alias `conda check`): conda 26's health checks of an environment, and
//! `--fix` for those that can be repaired. The checks are read-only and run under the
//! prefix's lock; each fix takes the lock again (a re-link is a normal journaled
//! transaction).
//!
//! Checks, in conda's order: `altered-files`, `consistency`, `environment-txt`,
//! `file-locking`, `missing-files`, `pinned`, `requests-ca-bundle`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rattler_conda_types::match_spec::Matches;
use rattler_conda_types::{MatchSpec, PrefixRecord};

use super::install::lock_env;
use super::{transact, Done, Transact, Transacted};
use crate::context::Context;
use crate::error::{CondaError, Result};
use crate::history::Entry;
use crate::reporter::{PlanSpecs, Reporter};
use crate::transaction::Plan;

/// A health check: its name, summary, and what its fix does (none: report only).
pub struct CheckInfo {
    /// The name given on the command line.
    pub name: &'static str,
    /// What it checks.
    pub summary: &'static str,
    /// What `--fix` does.
    pub fix: Option<&'static str>,
}

/// conda 26's health checks, in the order it runs them.
pub const CHECKS: &[CheckInfo] = &[
    CheckInfo {
        name: "altered-files",
        summary: "Detect packages with modified files",
        fix: Some("Reinstall affected packages"),
    },
    CheckInfo {
        name: "consistency",
        summary: "Check for missing or inconsistent dependencies",
        fix: Some("Install missing dependencies"),
    },
    CheckInfo {
        name: "environment-txt",
        summary: "Verify environment is registered in environments.txt",
        fix: Some("Add environment to environments.txt"),
    },
    CheckInfo {
        name: "file-locking",
        summary: "Check if file locking is supported",
        fix: None,
    },
    CheckInfo {
        name: "missing-files",
        summary: "Detect packages with missing files",
        fix: Some("Reinstall affected packages"),
    },
    CheckInfo {
        name: "pinned",
        summary: "Validate format of the pinned file",
        fix: Some("Remove invalid specs from pinned file"),
    },
    CheckInfo {
        name: "requests-ca-bundle",
        summary: "Check REQUESTS_CA_BUNDLE environment variable",
        fix: None,
    },
];

/// `conda doctor`.
#[derive(Debug, Clone, Default)]
pub struct DoctorRequest {
    /// The environment.
    pub prefix: PathBuf,
    /// `-n`, for messages.
    pub name: Option<String>,
    /// The checks to run (empty: all).
    pub checks: Vec<String>,
    /// The command line, for the history of a re-link.
    pub cmd: String,
}

/// A dependency that does not match what is installed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mismatch {
    /// The dependency or constraint.
    pub expected: String,
    /// What is installed.
    pub installed: String,
}

/// One package's dependency problems.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct DependencyIssues {
    /// Dependencies nothing installed provides.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Dependencies and constraints the installed package does not satisfy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inconsistent: Vec<Mismatch>,
}

/// What a check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Files whose content differs from what the package installed, by package
    /// (`name-version-build`).
    AlteredFiles(BTreeMap<String, Vec<String>>),
    /// Dependency problems by package name, and the names of missing dependencies.
    Consistency {
        /// By package name.
        issues: BTreeMap<String, DependencyIssues>,
        /// Dependencies missing altogether.
        missing_deps: Vec<String>,
    },
    /// Whether the environment is in `environments.txt`, and the registered paths that
    /// are no longer environments.
    EnvironmentTxt {
        /// The environment is listed.
        listed: bool,
        /// The registry file.
        file: PathBuf,
        /// Entries that no longer exist.
        stale: Vec<PathBuf>,
    },
    /// Whether `flock` works where the environment is.
    FileLocking(bool),
    /// Files a package installed that are gone, by package.
    MissingFiles(BTreeMap<String, Vec<String>>),
    /// `conda-meta/pinned`: unreadable (the error), or its specs naming packages that are
    /// not installed, and those the environment violates.
    Pinned {
        /// The file.
        file: PathBuf,
        /// It could not be read.
        error: Option<String>,
        /// The number of specs in it.
        count: usize,
        /// Names of pinned packages that are not installed (conda: "maybe malformed").
        not_installed: Vec<String>,
        /// Pins the installed packages do not satisfy: (spec, installed dist).
        violated: Vec<(String, String)>,
    },
    /// `REQUESTS_CA_BUNDLE`: unset (`None`), or the result of using it.
    CaBundle(Option<std::result::Result<(), String>>),
}

/// The checks' findings, in order, each with its check's name.
pub struct Report {
    /// The environment.
    pub prefix: PathBuf,
    /// (check name, finding).
    pub findings: Vec<(&'static str, Finding)>,
    /// Names given that are no check.
    pub unknown: Vec<String>,
}

/// Runs the requested checks (all when none is named) under the prefix's lock.
pub async fn check(ctx: &Context, req: &DoctorRequest, reporter: &dyn Reporter) -> Result<Report> {
    let _ = ctx;
    if !crate::registry::is_conda_env(&req.prefix) {
        // conda's PrefixData.assert_environment.
        return Err(crate::context::location_not_found(&req.prefix));
    }
    let lock = lock_env(&req.prefix, reporter).await?;
    let report = check_locked(ctx, req).await;
    lock.release().await;
    report
}

async fn check_locked(ctx: &Context, req: &DoctorRequest) -> Result<Report> {
    let unknown: Vec<String> = req
        .checks
        .iter()
        .filter(|n| !CHECKS.iter().any(|c| c.name == n.as_str()))
        .cloned()
        .collect();
    let records = crate::prefix::records(&req.prefix)?;
    let mut findings = Vec::new();
    for info in CHECKS {
        if !req.checks.is_empty() && !req.checks.iter().any(|n| n == info.name) {
            continue;
        }
        let finding = match info.name {
            "altered-files" => Finding::AlteredFiles(altered_files(&req.prefix)),
            "consistency" => {
                let (issues, missing_deps) = consistency(ctx, &records)?;
                Finding::Consistency {
                    issues,
                    missing_deps,
                }
            }
            "environment-txt" => environment_txt(ctx, &req.prefix),
            "file-locking" => Finding::FileLocking(locking_supported(&req.prefix)),
            "missing-files" => Finding::MissingFiles(missing_files(&req.prefix)),
            "pinned" => pinned(&req.prefix, &records),
            _ => Finding::CaBundle(ca_bundle(ctx).await),
        };
        findings.push((info.name, finding));
    }
    Ok(Report {
        prefix: req.prefix.clone(),
        findings,
        unknown,
    })
}

/// The `conda-meta/*.json` records as JSON, by file stem, in name order.
fn meta_files(prefix: &Path) -> Vec<(String, serde_json::Value)> {
    let Ok(rd) = std::fs::read_dir(prefix.join("conda-meta")) else {
        return Vec::new();
    };
    let mut out: Vec<(String, serde_json::Value)> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.strip_suffix(".json")?.to_string();
            let text = std::fs::read_to_string(e.path()).ok()?;
            Some((name, serde_json::from_str(&text).ok()?))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// conda leaves compiled Python files out of both file checks.
fn excluded(path: &str) -> bool {
    path.ends_with(".pyc") || path.ends_with(".pyo")
}

/// Files of each package that are no longer in the prefix (a broken link counts as gone).
pub fn missing_files(prefix: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (stem, meta) in meta_files(prefix) {
        let files = meta["files"].as_array().cloned().unwrap_or_default();
        for f in files.iter().filter_map(|f| f.as_str()) {
            if !excluded(f) && !prefix.join(f).exists() {
                out.entry(stem.clone())
                    .or_insert_with(Vec::new)
                    .push(f.to_string());
            }
        }
    }
    out
}

/// The sha256 a file should have in the prefix: `sha256_in_prefix` (conda writes it for
/// every file), else the package's `sha256` when no prefix was replaced in it.
fn expected_sha256(entry: &serde_json::Value) -> Option<String> {
    if let Some(s) = entry["sha256_in_prefix"].as_str() {
        return Some(s.to_string());
    }
    if entry.get("prefix_placeholder").is_some() || entry.get("file_mode").is_some() {
        return None;
    }
    entry["sha256"].as_str().map(str::to_string)
}

fn sha256_hex(path: &Path) -> std::io::Result<String> {
    let digest = rattler_digest::compute_file_digest::<rattler_digest::Sha256>(path)?;
    Ok(crate::hex(&digest))
}

/// Files of each package whose content differs from what was installed.
pub fn altered_files(prefix: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (stem, meta) in meta_files(prefix) {
        let paths_data = &meta["paths_data"];
        if paths_data["paths_version"].as_u64() != Some(1) {
            continue;
        }
        let paths = paths_data["paths"].as_array().cloned().unwrap_or_default();
        for entry in &paths {
            let Some(path) = entry["_path"].as_str() else {
                continue;
            };
            if excluded(path) || entry["path_type"].as_str() == Some("softlink") {
                continue;
            }
            let Some(want) = expected_sha256(entry) else {
                continue;
            };
            let file = prefix.join(path);
            if !file.is_file() {
                continue;
            }
            if sha256_hex(&file).map(|h| h != want).unwrap_or(true) {
                out.entry(stem.clone())
                    .or_insert_with(Vec::new)
                    .push(path.to_string());
            }
        }
    }
    out
}

/// Every dependency and constraint of every installed package checked against what is
/// installed (and the virtual packages).
fn consistency(
    ctx: &Context,
    records: &[PrefixRecord],
) -> Result<(BTreeMap<String, DependencyIssues>, Vec<String>)> {
    let virtual_packages = super::virtual_packages(ctx)?;
    let by_name: HashMap<&str, &PrefixRecord> = records
        .iter()
        .map(|r| (r.repodata_record.package_record.name.as_normalized(), r))
        .collect();
    let mut issues: BTreeMap<String, DependencyIssues> = BTreeMap::new();
    let mut missing_deps = Vec::new();
    for r in records {
        let rec = &r.repodata_record.package_record;
        let name = rec.name.as_normalized().to_string();
        let mut check = |dep: &str, constraint: bool| {
            let Ok(spec) = crate::solve::parse_spec(dep) else {
                return;
            };
            let Some(dep_name) = spec.name.as_exact().map(|n| n.as_normalized().to_string()) else {
                return;
            };
            if let Some(installed) = by_name.get(dep_name.as_str()) {
                if !spec.matches(&installed.repodata_record.package_record) {
                    let p = &installed.repodata_record.package_record;
                    let shown = if constraint {
                        format!("{}[version='{}']", p.name.as_normalized(), p.version)
                    } else {
                        crate::dist::Dist::of(&installed.repodata_record).to_string()
                    };
                    issues
                        .entry(name.clone())
                        .or_default()
                        .inconsistent
                        .push(Mismatch {
                            expected: dep.to_string(),
                            installed: shown,
                        });
                }
            } else if let Some(v) = virtual_packages
                .iter()
                .find(|v| v.name.as_normalized() == dep_name)
            {
                let ok = spec
                    .version
                    .as_ref()
                    .is_none_or(|vs| vs.matches(&v.version));
                if !ok {
                    issues
                        .entry(name.clone())
                        .or_default()
                        .inconsistent
                        .push(Mismatch {
                            expected: dep.to_string(),
                            installed: format!("{}={}", v.name.as_normalized(), v.version),
                        });
                }
            } else if !constraint {
                issues
                    .entry(name.clone())
                    .or_default()
                    .missing
                    .push(dep.to_string());
                if !missing_deps.contains(&dep_name) {
                    missing_deps.push(dep_name);
                }
            }
        };
        for dep in &rec.depends {
            check(dep, false);
        }
        for c in &rec.constrains {
            check(c, true);
        }
    }
    Ok((issues, missing_deps))
}

/// The registry file, whether the environment is in it, and its stale entries.
fn environment_txt(ctx: &Context, prefix: &Path) -> Finding {
    let file = ctx.home.join(".conda").join("environments.txt");
    let listed_paths = crate::registry::listed_paths(&ctx.home);
    let listed = listed_paths
        .iter()
        .any(|p| crate::context::same_path(p, prefix));
    let stale = listed_paths
        .into_iter()
        .filter(|p| !crate::registry::is_conda_env(p))
        .collect();
    Finding::EnvironmentTxt {
        listed,
        file,
        stale,
    }
}

/// Whether `flock` works in the environment's `conda-meta` (where taipan's lock lives).
fn locking_supported(prefix: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let path = prefix.join("conda-meta").join(".doctor-lock-probe");
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
    else {
        return false;
    };
    // SAFETY: flock on a file descriptor this function owns.
    let ok = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    drop(file);
    let _ = std::fs::remove_file(&path);
    ok
}

/// The pinned specs, one a line (`#` comments); `None` when there is no file.
fn pinned_specs(file: &Path) -> std::result::Result<Option<Vec<String>>, String> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(Some(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

fn pinned(prefix: &Path, records: &[PrefixRecord]) -> Finding {
    let file = prefix.join("conda-meta").join("pinned");
    let mut finding = Finding::Pinned {
        file: file.clone(),
        error: None,
        count: 0,
        not_installed: Vec::new(),
        violated: Vec::new(),
    };
    let Finding::Pinned {
        error,
        count,
        not_installed,
        violated,
        ..
    } = &mut finding
    else {
        return finding;
    };
    let specs = match pinned_specs(&file) {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => {
            *error = Some(e);
            return finding;
        }
    };
    *count = specs.len();
    for text in &specs {
        let spec: MatchSpec = match crate::solve::parse_spec(text) {
            Ok(s) => s,
            Err(e) => {
                *error = Some(e.message);
                return finding;
            }
        };
        let Some(name) = spec.name.as_exact().map(|n| n.as_normalized().to_string()) else {
            continue;
        };
        match records
            .iter()
            .find(|r| r.repodata_record.package_record.name.as_normalized() == name)
        {
            None => not_installed.push(name),
            Some(r) if !spec.matches(&r.repodata_record.package_record) => violated.push((
                text.clone(),
                crate::dist::Dist::of(&r.repodata_record).to_string(),
            )),
            Some(_) => {}
        }
    }
    finding
}

/// `REQUESTS_CA_BUNDLE`: unset, a missing file, or an HTTPS request to the channel alias
/// made with that bundle as the only trusted certificates.
async fn ca_bundle(ctx: &Context) -> Option<std::result::Result<(), String>> {
    let bundle = ctx
        .env
        .get("REQUESTS_CA_BUNDLE")
        .filter(|v| !v.is_empty())?;
    let path = Path::new(bundle);
    if !path.exists() {
        return Some(Err(String::new()));
    }
    let alias = ctx.config.channel_alias.trim_end_matches('/').to_string();
    let url = format!("{alias}/{}", ctx.subdir.as_str());
    let result = async {
        let pem = std::fs::read(path).map_err(|e| e.to_string())?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| e.to_string())?;
        let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10));
        for c in certs {
            builder = builder.add_root_certificate(c);
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        let response = client.get(&url).send().await.map_err(error_chain)?;
        response.error_for_status().map_err(error_chain)?;
        Ok(())
    }
    .await;
    Some(result)
}

fn error_chain(e: reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

mod fix;
pub use fix::{fix, issues_yaml, Answer, FixUi};
