//! `taipan installer build`: solve the spec for linux-64, fetch and verify every package,
//! and write `<name>-<version>-Linux-x86_64.sh` (+ `.sha256`).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use taipan_env::error::ErrorKind;

use rattler_conda_types::RepoDataRecord;
use taipan_env::context::{Context, ContextOptions};
use taipan_env::ops;
use taipan_env::reporter::Quiet;
use taipan_env::solve::{parse_spec, Kind, Request};
use taipan_env::{CondaError, Result};

use crate::header::{self, HeaderInfo};
use crate::layout::Script;
use crate::payload::{self, hex, EnvPlan};
use crate::spec::Spec;

/// What was built.
pub struct Built {
    /// The installer.
    pub installer: PathBuf,
    /// Its `.sha256` file.
    pub checksum: PathBuf,
    /// Packages inside.
    pub packages: Vec<String>,
}

/// Builds the installer for `spec_path` into `out_dir`, embedding `taipan_binary`.
pub async fn build(
    spec_path: &Path,
    out_dir: &Path,
    taipan_binary: &Path,
    env: &HashMap<String, String>,
) -> Result<Built> {
    let (spec, spec_dir) = Spec::load(spec_path)?;
    let work = tempfile::tempdir()?;
    let envs = solve_all(&spec, work.path(), env).await?;
    let stage = work.path().join("payload");
    stage_packages(&spec, &envs, work.path(), env, taipan_binary, &stage).await?;
    stage_files(&spec, &spec_dir, &envs, taipan_binary, &stage)?;
    let payload = work.path().join("payload.tar");
    payload::write_tar(&stage, &payload)?;
    let file_name = spec
        .installer_filename
        .clone()
        .unwrap_or_else(|| format!("{}-{}-Linux-x86_64.sh", spec.name, spec.version));
    std::fs::create_dir_all(out_dir)?;
    let installer = out_dir.join(&file_name);
    assemble(&spec, &payload, &installer)?;
    let checksum = out_dir.join(format!("{file_name}.sha256"));
    let digest = hex(&rattler_digest::compute_file_digest::<
        rattler_digest::Sha256,
    >(&installer)?);
    std::fs::write(&checksum, format!("{digest}  {file_name}\n"))?;
    Ok(Built {
        installer,
        checksum,
        packages: unique(&envs).map(|r| r.identifier.to_string()).collect(),
    })
}

/// Solves the base and every `extra_envs` entry, each against its own channels.
async fn solve_all(
    spec: &Spec,
    work: &Path,
    env: &HashMap<String, String>,
) -> Result<Vec<EnvPlan>> {
    let base = solve(&spec.channels, &spec.specs, work, env).await?;
    let mut envs = vec![EnvPlan {
        name: None,
        records: base,
        requested: spec
            .user_requested_specs
            .clone()
            .unwrap_or_else(|| spec.specs.clone()),
    }];
    for (name, extra) in &spec.extra_envs {
        let records = solve(spec.env_channels(extra), &extra.specs, work, env)
            .await
            .map_err(|mut e| {
                // Say which environment failed to solve.
                e.message = format!("extra_envs.{name}: {}", e.message);
                e
            })?;
        envs.push(EnvPlan {
            name: Some(name.clone()),
            records,
            requested: extra
                .user_requested_specs
                .clone()
                .unwrap_or_else(|| extra.specs.clone()),
        });
    }
    Ok(envs)
}

/// Every package of every env once (an env shares the base's copy of a package).
fn unique(envs: &[EnvPlan]) -> impl Iterator<Item = &RepoDataRecord> {
    let mut seen = HashSet::new();
    envs.iter()
        .flat_map(|e| &e.records)
        .filter(move |r| seen.insert(r.url.clone()))
}

/// Fetches and verifies every package and puts it into the payload's `pkgs/`.
async fn stage_packages(
    spec: &Spec,
    envs: &[EnvPlan],
    work: &Path,
    env: &HashMap<String, String>,
    taipan_binary: &Path,
    stage: &Path,
) -> Result<()> {
    let binary = payload::file_id(taipan_binary).map_err(|e| {
        CondaError::new(
            ErrorKind::CondaFileIOError,
            format!("cannot read {}: {}", taipan_binary.display(), e.message),
        )
    })?;
    let archives = work.join("archives");
    let pkgs = crate::layout::Payload::at(stage).pkgs();
    std::fs::create_dir_all(&archives)?;
    std::fs::create_dir_all(&pkgs)?;
    let ctx = context(&spec.channels, work, env)?;
    let records: Vec<RepoDataRecord> = unique(envs).cloned().collect();
    fetch(&ctx, &records, &archives).await?;
    for r in &records {
        payload::add_package(&pkgs, r, &archives.join(r.identifier.to_string()), &binary)?;
    }
    Ok(())
}

fn context(channels: &[String], work: &Path, env: &HashMap<String, String>) -> Result<Context> {
    let mut env = env.clone();
    env.insert(
        "CONDA_ROOT_PREFIX".into(),
        work.join("root").display().to_string(),
    );
    env.remove("CONDA_PREFIX");
    let cli = taipan_config::CliOverrides {
        channels: channels.to_vec(),
        override_channels: true,
        ..Default::default()
    };
    Context::load(&ContextOptions {
        exe: None,
        env,
        cli,
        prefix: None,
        name: None,
        platform: Some("linux-64".into()),
    })
}

async fn solve(
    channels: &[String],
    specs: &[String],
    work: &Path,
    env: &HashMap<String, String>,
) -> Result<Vec<RepoDataRecord>> {
    let ctx = context(channels, work, env)?;
    let specs = specs
        .iter()
        .map(|s| parse_spec(s))
        .collect::<Result<Vec<_>>>()?;
    let req = Request {
        specs,
        ..Request::default()
    };
    let solved = ops::solve_request(
        &ctx,
        &work.join("base"),
        Kind::Create,
        req,
        HashSet::new(),
        &Quiet,
    )
    .await?;
    Ok(solved.plan.link)
}

/// Downloads (or copies) every package archive and checks it against repodata's hashes.
async fn fetch(ctx: &Context, records: &[RepoDataRecord], dir: &Path) -> Result<()> {
    let client = taipan_env::net::client(ctx)?;
    for r in records {
        let dest = dir.join(r.identifier.to_string());
        let bytes = if r.url.scheme() == "file" {
            let path = r
                .url
                .to_file_path()
                .map_err(|_| CondaError::generic(format!("bad file URL {}", r.url)))?;
            std::fs::read(&path).map_err(|e| {
                CondaError::new(
                    ErrorKind::CondaFileIOError,
                    format!("cannot read {}: {e}", path.display()),
                )
            })?
        } else {
            let response = client
                .client()
                .get(r.url.clone())
                .send()
                .await
                .map_err(|e| http_error(r, e))?;
            let response = response.error_for_status().map_err(|e| http_error(r, e))?;
            response
                .bytes()
                .await
                .map_err(|e| http_error(r, e))?
                .to_vec()
        };
        verify(r, &bytes)?;
        std::fs::write(&dest, &bytes)?;
    }
    Ok(())
}

fn http_error(r: &RepoDataRecord, e: impl std::fmt::Display) -> CondaError {
    CondaError::new(
        ErrorKind::CondaHTTPError,
        format!("cannot download {}: {e}", r.url),
    )
}

fn verify(r: &RepoDataRecord, bytes: &[u8]) -> Result<()> {
    let p = &r.package_record;
    let ok = match (&p.sha256, &p.md5) {
        (Some(sha), _) => {
            rattler_digest::compute_bytes_digest::<rattler_digest::Sha256>(bytes).as_slice()
                == sha.as_slice()
        }
        (None, Some(md5)) => {
            rattler_digest::compute_bytes_digest::<rattler_digest::Md5>(bytes).as_slice()
                == md5.as_slice()
        }
        (None, None) => true,
    };
    if ok {
        return Ok(());
    }
    Err(CondaError::new(
        ErrorKind::ChecksumMismatchError,
        format!("{} does not match the checksum in the channel's repodata.\n  Re-index the channel or fetch the package again.", r.url),
    ))
}

/// Lays out the rest of the payload: `_conda` and `.taipan-installer/` (per env: lock,
/// history, initial state under `envs/NAME/` for extra envs; condarc, scripts, license).
fn stage_files(
    spec: &Spec,
    spec_dir: &Path,
    envs: &[EnvPlan],
    taipan: &Path,
    stage: &Path,
) -> Result<()> {
    let payload = crate::layout::Payload::at(stage);
    std::fs::create_dir_all(payload.meta())?;
    std::fs::copy(taipan, payload.binary()).map_err(|e| {
        CondaError::new(
            ErrorKind::CondaFileIOError,
            format!("cannot embed {}: {e}", taipan.display()),
        )
    })?;
    for env in envs {
        payload::write_env_files(env, &payload.env(env.name.as_deref()))?;
    }
    if let Some(rc) = &spec.condarc {
        let text = match rc {
            serde_yaml::Value::String(s) => s.clone(),
            other => serde_yaml::to_string(other).unwrap_or_default(),
        };
        std::fs::write(payload.condarc(), text)?;
    }
    for (dest, path) in [
        (payload.script(Script::PreInstall), &spec.pre_install),
        (payload.script(Script::PostInstall), &spec.post_install),
        (payload.license(), &spec.license_file),
    ] {
        if let Some(p) = path {
            let src = spec_dir.join(p);
            std::fs::copy(&src, dest).map_err(|e| {
                CondaError::new(
                    ErrorKind::CondaFileIOError,
                    format!("cannot read {}: {e}", src.display()),
                )
            })?;
        }
    }
    Ok(())
}

/// Header with the payload's size and sha256, then the payload.
fn assemble(spec: &Spec, payload: &Path, installer: &Path) -> Result<()> {
    let size = std::fs::metadata(payload)?.len();
    let sha = hex(&rattler_digest::compute_file_digest::<
        rattler_digest::Sha256,
    >(payload)?);
    let info = HeaderInfo {
        name: spec.name.clone(),
        version: spec.version.clone(),
        default_prefix: spec.default_prefix.clone(),
        payload_size: size,
        payload_sha256: sha,
        keep_pkgs: spec.keep_pkgs,
        min_glibc: spec.min_glibc(),
        init_mode: spec.init_mode(),
        initialize_by_default: spec.initialize_by_default,
        register_envs: spec.register_envs,
        welcome: spec.welcome_text.clone(),
        conclusion: spec
            .conclusion_text
            .clone()
            .unwrap_or_else(|| "installation finished.".into()),
    };
    let head = header::render(&info);
    let mut out = std::fs::File::create(installer)?;
    out.write_all(head.as_bytes())?;
    std::io::copy(&mut std::fs::File::open(payload)?, &mut out)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(installer, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}
