//! The operations commands are built from: solve a request into a plan, then apply it.

use crate::error::ErrorKind;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rattler_conda_types::{Channel, GenericVirtualPackage, MatchSpec, PackageName, RepoDataRecord};
use rattler_solve::ChannelPriority;
use rattler_virtual_packages::{Override, VirtualPackageOverrides, VirtualPackages};

use crate::cache::{Fetched, Progress};
use crate::context::Context;
use crate::error::{CondaError, Result};
use crate::history::Entry;
use crate::prefix_lock::PrefixLock;
use crate::solve::{self, Installed, Kind, Request, Rules};
use crate::transaction::{LinkSettings, Outcome, Packages, Plan};

/// A solved request, ready to show and apply.
pub struct Solved {
    /// The operations.
    pub plan: Plan,
    /// Channels used (for messages).
    pub channels: Vec<Channel>,
    /// The prefix state before.
    pub installed: Installed,
    /// History specs relaxed to satisfy this request (conda's "neutered specs").
    pub neutered: Vec<String>,
}

/// The virtual packages for the context's platform (`CONDA_OVERRIDE_*` respected).
pub fn virtual_packages(ctx: &Context) -> Result<Vec<GenericVirtualPackage>> {
    let mut overrides = VirtualPackageOverrides::from_env();
    // conda: `CONDA_OVERRIDE_CUDA=""` means "no CUDA"; then don't probe the GPU's arch either.
    if ctx
        .env
        .get("CONDA_OVERRIDE_CUDA")
        .is_some_and(|v| v.is_empty())
    {
        overrides.cuda_arch = Some(Override::String(String::new()));
    }
    VirtualPackages::detect_for_platform(ctx.subdir, &overrides, None)
        .map(|v| v.into_generic_virtual_packages().collect())
        .map_err(|e| CondaError::generic(format!("cannot detect virtual packages: {e}")))
}

/// Channel priority from configuration, as the solver understands it.
pub fn channel_priority(ctx: &Context) -> ChannelPriority {
    match ctx.config.channel_priority {
        taipan_config::ChannelPriority::Strict => ChannelPriority::Strict,
        taipan_config::ChannelPriority::Flexible => ChannelPriority::Flexible,
        taipan_config::ChannelPriority::Disabled => ChannelPriority::Disabled,
    }
}

/// Reports the phases of a solve (conda prints them as `<phase>: done`).
pub trait Steps {
    /// A phase starts (`Collecting package metadata (repodata.json)`, `Solving environment`).
    fn start(&self, phase: &str);
    /// The current phase ended.
    fn done(&self, ok: bool);
}

/// Reports nothing.
pub struct NoSteps;
impl Steps for NoSteps {
    fn start(&self, _: &str) {}
    fn done(&self, _: bool) {}
}

/// Solves a create/install/update request against the configured channels.
pub async fn solve_request(
    ctx: &Context,
    prefix: &Path,
    kind: Kind,
    mut req: Request,
    reinstall: HashSet<PackageName>,
    steps: &dyn Steps,
) -> Result<Solved> {
    let installed = if kind == Kind::Create {
        Installed {
            pins: crate::prefix::pins(ctx, prefix)?,
            ..Installed::default()
        }
    } else {
        crate::prefix::installed(ctx, prefix)?
    };
    let channels = crate::channels::resolve(ctx)?;
    req.channel_priority.get_or_insert(channel_priority(ctx));
    req.is_root = crate::context::same_path(prefix, &ctx.root_prefix);
    let mut query: Vec<MatchSpec> = req.specs.clone();
    for r in &installed.records {
        query.push(MatchSpec::from(
            r.repodata_record.package_record.name.clone(),
        ));
    }
    query.extend(installed.pins.iter().cloned());
    for name in installed.history.keys() {
        if let Ok(spec) = solve::parse_spec(name) {
            query.push(spec);
        }
    }
    query.retain(|s| {
        s.name
            .as_exact()
            .is_some_and(|n| !n.as_normalized().starts_with("__"))
    });
    steps.start("Collecting package metadata (repodata.json)");
    let index = crate::repodata::query(ctx, &channels, ctx.subdir, query).await;
    steps.done(index.is_ok());
    let index = index.map_err(|e| {
        e.with(
            "channel_urls",
            crate::channels::subdir_urls(&channels, ctx.subdir.as_str()),
        )
    })?;
    let vpkgs = virtual_packages(ctx)?;
    let rules = Rules {
        aggressive_update_packages: ctx.config.aggressive_update_packages.clone(),
        auto_update_conda: ctx.config.auto_update_conda,
    };
    steps.start("Solving environment");
    let records = solve::solve(kind, &req, &installed, &index, &vpkgs, &rules);
    steps.done(records.is_ok());
    let solution = records.map_err(|e| add_channels_to_error(e, &channels, ctx))?;
    let neutered = solution.neutered;
    let records = solution.records;
    let records = filter_deps(&req, &installed, records);
    let plan = Plan::new(prefix, &installed.records, records, &reinstall, ctx.subdir)?;
    Ok(Solved {
        plan,
        channels,
        installed,
        neutered,
    })
}

/// `--no-deps` keeps the installed state except the requested packages; `--only-deps` takes
/// the solution without them (keeping whatever version of them was installed).
fn filter_deps(
    req: &Request,
    installed: &Installed,
    solved: Vec<RepoDataRecord>,
) -> Vec<RepoDataRecord> {
    if !req.no_deps && !req.only_deps {
        return solved;
    }
    let user: HashSet<String> = req
        .specs
        .iter()
        .filter_map(|s| s.name.as_exact().map(|n| n.as_normalized().to_string()))
        .collect();
    let is_user = |r: &RepoDataRecord| user.contains(r.package_record.name.as_normalized());
    let installed_records = installed.records.iter().map(|r| r.repodata_record.clone());
    if req.no_deps {
        let mut out: Vec<RepoDataRecord> = installed_records.filter(|r| !is_user(r)).collect();
        out.extend(solved.into_iter().filter(|r| is_user(r)));
        return out;
    }
    let mut out: Vec<RepoDataRecord> = solved.into_iter().filter(|r| !is_user(r)).collect();
    out.extend(installed_records.filter(|r| is_user(r)));
    out
}

fn add_channels_to_error(mut e: CondaError, channels: &[Channel], ctx: &Context) -> CondaError {
    if e.kind == ErrorKind::PackagesNotFoundError {
        let urls = crate::channels::subdir_urls(channels, ctx.subdir.as_str());
        e.message.push_str(&format!(
            "\nCurrent channels:\n{}\n\nTo search for alternate channels that may provide the conda package you're\nlooking for, navigate to\n\n    https://anaconda.org\n\nand use the search bar at the top of the page.\n",
            crate::error::dashlist(&urls)
        ));
        e = e.with("channel_urls", urls);
    }
    e
}

/// Downloads what the plan links into the cache (nothing in the prefix changes). The
/// entries stay held until the result is dropped.
pub async fn download(ctx: &Context, plan: &Plan, progress: Arc<dyn Progress>) -> Result<Fetched> {
    crate::cache::fetch_all(ctx, &plan.link, progress).await
}

/// The `info/prelink_messages/*` files of the packages to link: (file name, text).
pub fn prelink_messages(plan: &Plan, extracted: &Fetched) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for record in &plan.link {
        let Some(dir) = extracted.dir(&record.url) else {
            continue;
        };
        let Ok(rd) = std::fs::read_dir(dir.join("info/prelink_messages")) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((name, std::fs::read_to_string(&f).unwrap_or_default()));
        }
    }
    out
}

/// Links a downloaded plan, holding the prefix's lock: link, history, registration. A
/// prefix being created takes its lock here (`lock: None`).
pub async fn apply(
    ctx: &Context,
    plan: &Plan,
    extracted: &Packages<'_>,
    history: &Entry,
    requested: HashMap<String, String>,
    lock: Option<&mut PrefixLock>,
) -> Result<Outcome> {
    let mut own = None;
    let lock = match lock {
        Some(l) => l,
        None => own.insert(crate::prefix_lock::lock_new(&plan.prefix).await?),
    };
    if lock.created_meta || lock.created_prefix {
        // Another command may have created it while this one was solving.
        if !crate::prefix::records(&plan.prefix)?.is_empty() && plan.unlink.is_empty() {
            return Err(CondaError::new(
                ErrorKind::CondaValueError,
                format!(
                    "{} was created by another command meanwhile; run this one again.",
                    plan.prefix.display()
                ),
            ));
        }
    }
    lock.begin().await?;
    let settings = LinkSettings {
        always_copy: ctx.config.always_copy,
        allow_softlinks: ctx.config.allow_softlinks,
        requested,
        root_prefix: ctx.root_prefix.clone(),
        envs_dirs: ctx.envs_dirs.clone(),
        conda_exe: ctx.conda_exe(),
        created_prefix: lock.created_prefix,
        created_meta: lock.created_meta,
        hardlinks: false,
        cmd: history.cmd.clone(),
    };
    let mut entry = history.clone();
    entry.removed = plan
        .unlink
        .iter()
        .map(|r| crate::dist::Dist::of(&r.repodata_record).to_string())
        .collect();
    entry.added = plan
        .link
        .iter()
        .map(|r| crate::dist::Dist::of(r).to_string())
        .collect();
    let register = || crate::registry::register(ctx, &plan.prefix);
    let outcome = crate::transaction::execute(plan, extracted, &settings, &entry, &register).await;
    if let Some(own) = own {
        own.release().await;
    }
    outcome
}

/// Removes a whole environment (`remove --all`), holding its lock: moved aside in one
/// rename (so it is there or gone, never half-deleted), deleted, then unregistered. A
/// removal killed midway is finished by the next command (see
/// [`crate::registry::finish_removals`]).
pub async fn remove_env(ctx: &Context, prefix: &Path, lock: PrefixLock) -> Result<()> {
    let trash = crate::registry::trash_path(prefix).ok_or_else(|| {
        CondaError::new(
            ErrorKind::CondaValueError,
            format!("cannot remove {}: not a removable path", prefix.display()),
        )
    })?;
    if std::fs::symlink_metadata(&trash).is_ok() {
        std::fs::remove_dir_all(&trash)?;
    }
    crate::registry::removal_started(ctx, prefix)?;
    crate::crashpoint::hit("remove-env");
    std::fs::rename(prefix, &trash)
        .map_err(|e| {
            CondaError::new(
                ErrorKind::EnvironmentNotWritableError,
                format!(
                    "cannot remove {}: {e}\n  The directory that holds it must be writable.",
                    prefix.display()
                ),
            )
        })
        .inspect_err(|_| crate::registry::removal_ended(ctx, prefix))?;
    crate::crashpoint::hit("remove-env-moved");
    drop(lock);
    std::fs::remove_dir_all(&trash).map_err(|e| {
        CondaError::new(
            ErrorKind::CondaError,
            format!(
                "cannot delete {} (the removed environment): {e}\n  It is deleted by the next conda command that can.",
                trash.display()
            ),
        )
    })?;
    crate::crashpoint::hit("remove-env-deleted");
    crate::registry::unregister(ctx, prefix)?;
    crate::registry::removal_ended(ctx, prefix);
    Ok(())
}

/// Creates an empty environment (`conda create -n x` with no specs).
pub async fn create_empty(ctx: &Context, prefix: &Path, history: &Entry) -> Result<()> {
    let lock = crate::prefix_lock::lock_new(prefix).await?;
    let result = crate::history::append(prefix, history)
        .and_then(|()| crate::registry::register(ctx, prefix));
    // The history says what it is now.
    let marker = crate::transaction::journal::CREATING;
    let _ = std::fs::remove_file(prefix.join("conda-meta").join(marker));
    if result.is_err() && lock.created_prefix {
        let _ = std::fs::remove_dir_all(prefix);
    }
    lock.release().await;
    result
}

/// A package URL from an `@EXPLICIT` file with its optional `#hash`.
pub type ExplicitUrl = (url::Url, Option<String>);

/// The package URLs of an `@EXPLICIT` file's text (`file` names it in errors); paths are
/// made absolute `file://` URLs.
pub fn explicit_urls(file: &std::path::Path, text: &str) -> Result<Vec<ExplicitUrl>> {
    let mut out = Vec::new();
    let mut started = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line == "@EXPLICIT" {
            started = true;
            continue;
        }
        if !started || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (loc, hash) = match line.split_once('#') {
            Some((l, h)) => (l, Some(h.to_string())),
            None => (line, None),
        };
        let url = if loc.contains("://") {
            url::Url::parse(loc).ok()
        } else {
            url::Url::from_file_path(crate::context::absolute(std::path::Path::new(loc))).ok()
        };
        let url = url.ok_or_else(|| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!(
                    "{}:{}: '{loc}' is not a URL or path to a package",
                    file.display(),
                    n + 1
                ),
            )
        })?;
        out.push((url, hash));
    }
    Ok(out)
}

/// The plan that installs `@EXPLICIT` URLs: their records replace installed records of the
/// same names; everything else installed stays. The packages are fetched into the cache.
pub async fn explicit_plan(
    ctx: &Context,
    prefix: &Path,
    installed: &[rattler_conda_types::PrefixRecord],
    urls: &[ExplicitUrl],
) -> Result<Plan> {
    let (new, _held) = explicit_records(ctx, urls).await?;
    let desired = replacing(installed, new);
    Plan::new(prefix, installed, desired, &HashSet::new(), ctx.subdir)
}

/// The installed records with `new` in place of those of the same names.
fn replacing(
    installed: &[rattler_conda_types::PrefixRecord],
    new: Vec<RepoDataRecord>,
) -> Vec<RepoDataRecord> {
    let names: HashSet<String> = new
        .iter()
        .map(|r| r.package_record.name.as_normalized().to_string())
        .collect();
    let mut desired: Vec<RepoDataRecord> = installed
        .iter()
        .map(|r| r.repodata_record.clone())
        .filter(|r| !names.contains(r.package_record.name.as_normalized()))
        .collect();
    desired.extend(new);
    desired
}

/// Installs an installer's environment: `records` (its lock, with the records the build
/// solved) replace installed records of the same names. Each package is extracted from the
/// local cache in the background and linked as soon as it is ready; no output.
/// `discard_cache`: delete each extracted package once linked (the cache is not kept).
pub async fn install_records(
    ctx: &Context,
    prefix: &Path,
    records: Vec<RepoDataRecord>,
    history: &Entry,
    discard_cache: bool,
    lock: Option<&mut PrefixLock>,
) -> Result<Outcome> {
    let installed = crate::prefix::records(prefix)?;
    let desired = replacing(&installed, records);
    let plan = Plan::new(prefix, &installed, desired, &HashSet::new(), ctx.subdir)?;
    if plan.is_empty() {
        return Ok(Outcome::default());
    }
    let packages = crate::cache::fetch_in_background(ctx, &plan.link, discard_cache)?;
    let outcome = apply(ctx, &plan, &packages, history, HashMap::new(), lock).await;
    packages.finish();
    outcome
}

/// Records for `@EXPLICIT` URLs: fetched into the cache (concurrently) and verified
/// against the `#sha256` / `#md5` each line carries, described by the record stored with
/// the package or its `index.json`. Order follows the file. The entries stay held.
pub async fn explicit_records(
    ctx: &Context,
    urls: &[(url::Url, Option<String>)],
) -> Result<(Vec<RepoDataRecord>, Fetched)> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    let fetched: Vec<(RepoDataRecord, crate::cache::Entry, Vec<String>)> =
        stream::iter(urls.iter().cloned())
            .map(|(url, hash)| async move { explicit_record(ctx, url, hash).await })
            .buffered(8)
            .try_collect()
            .await?;
    let mut records = Vec::new();
    let mut held = Fetched::default();
    for (record, entry, warnings) in fetched {
        held.entries.insert(record.url.clone(), entry);
        held.warnings.extend(warnings);
        records.push(record);
    }
    Ok((records, held))
}

async fn explicit_record(
    ctx: &Context,
    url: url::Url,
    hash: Option<String>,
) -> Result<(RepoDataRecord, crate::cache::Entry, Vec<String>)> {
    let (sha256, md5) = parse_hash(hash.as_deref(), &url)?;
    let (entry, warnings) = crate::cache::fetch_explicit(ctx, &url, sha256, md5).await?;
    let file_name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("")
        .to_string();
    let id: rattler_conda_types::package::DistArchiveIdentifier =
        file_name.parse().map_err(|_| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!("'{url}' does not name a .conda or .tar.bz2 package file"),
            )
        })?;
    let channel = url.as_str().rsplitn(3, '/').nth(2).map(str::to_string);
    let package_record = match cached_record(&entry.dir, &file_name, sha256) {
        Some(record) => record,
        None => {
            let index = crate::transaction::read_index_json(&entry.dir)?;
            let mut record =
                rattler_conda_types::PackageRecord::from_index_json(index, None, sha256, md5)
                    .map_err(|e| CondaError::generic(format!("{url}: {e}")))?;
            if record.sha256.is_none() {
                record.sha256 = sha256;
            }
            record
        }
    };
    let record = RepoDataRecord {
        package_record,
        identifier: id,
        url,
        channel,
    };
    Ok((record, entry, warnings))
}

/// The `#hash` of an `@EXPLICIT` line: a sha256 (`sha256:` prefixed or 64 hex digits) or an
/// md5 (32 hex digits, as `conda list --explicit --md5` writes).
fn parse_hash(
    hash: Option<&str>,
    url: &url::Url,
) -> Result<(
    Option<rattler_digest::Sha256Hash>,
    Option<rattler_digest::Md5Hash>,
)> {
    let Some(h) = hash.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok((None, None));
    };
    let hex = h.strip_prefix("sha256:").unwrap_or(h);
    if hex.len() == 64 {
        if let Some(s) = rattler_digest::parse_digest_from_hex::<rattler_digest::Sha256>(hex) {
            return Ok((Some(s), None));
        }
    }
    let md5 = h.strip_prefix("md5:").unwrap_or(h);
    if md5.len() == 32 {
        if let Some(m) = rattler_digest::parse_digest_from_hex::<rattler_digest::Md5>(md5) {
            return Ok((None, Some(m)));
        }
    }
    Err(CondaError::new(
        ErrorKind::CondaValueError,
        format!("'{url}#{h}': the part after '#' is neither a sha256 nor an md5 checksum"),
    ))
}

/// The record a package cache entry was made from (`info/repodata_record.json`, as conda's
/// cache and taipan's installers write it): unlike `index.json` it keeps the channel's md5,
/// size and repodata patches. Only used when it describes this very file.
fn cached_record(
    dir: &Path,
    file_name: &str,
    sha256: Option<rattler_digest::Sha256Hash>,
) -> Option<rattler_conda_types::PackageRecord> {
    let text = std::fs::read_to_string(dir.join("info/repodata_record.json")).ok()?;
    let record: RepoDataRecord = serde_json::from_str(&text).ok()?;
    let same_file = record.identifier.to_string() == file_name;
    let same_hash = sha256.is_none() || record.package_record.sha256 == sha256;
    (same_file && same_hash).then_some(record.package_record)
}
