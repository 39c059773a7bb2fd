//! `conda install --revision N`: the environment goes back to the package set it had after
//! revision N of `conda-meta/history` (conda's `History.get_state`), carried out as any other
//! transaction. The records come from the environment itself, the channels, or the package
//! cache; a package found in none of them stops the command before anything changes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rattler_conda_types::{MatchSpec, PrefixRecord, RepoDataRecord};

use super::install::{lock_env, requested_map};
use super::{transact, Transact, Transacted};
use crate::context::Context;
use crate::dist::Dist;
use crate::error::{dashlist, CondaError, ErrorKind, Result};
use crate::history::Entry;
use crate::reporter::{PlanSpecs, Reporter};
use crate::transaction::Plan;

/// `conda install --revision N`.
#[derive(Debug, Clone, Default)]
pub struct RevisionRequest {
    /// The environment.
    pub prefix: PathBuf,
    /// `-n`, for messages.
    pub name: Option<String>,
    /// The revision; negative counts from the end, as Python indexes (`-1` is the last).
    pub revision: i64,
    /// The command line, for history.
    pub cmd: String,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--download-only`.
    pub download_only: bool,
}

/// Runs `conda install --revision N`.
pub async fn install_revision(
    ctx: &Context,
    req: RevisionRequest,
    reporter: &dyn Reporter,
) -> Result<Transacted> {
    ctx.require_env(&req.prefix, req.name.as_deref())?;
    // Held until the transaction ends: the state reverted from is the state changed.
    let mut lock = lock_env(&req.prefix, reporter).await?;
    let done = revert(ctx, &req, &mut lock, reporter).await;
    lock.release().await;
    done
}

async fn revert(
    ctx: &Context,
    req: &RevisionRequest,
    lock: &mut crate::prefix_lock::PrefixLock,
    reporter: &dyn Reporter,
) -> Result<Transacted> {
    let installed = crate::prefix::records(&req.prefix)?;
    let (revisions, warnings) = crate::history::read(&req.prefix)?;
    for w in &warnings {
        reporter.warning(w);
    }
    let target = target_state(&revisions, req.revision);
    let wanted: Vec<Dist> = match &target {
        Ok(t) => t.iter().map(|d| Dist::parse(d)).collect(),
        Err(_) => Vec::new(),
    };
    reporter.phase("Collecting package metadata (repodata.json)");
    let channel_records = channel_records(ctx, &wanted).await;
    reporter.phase_done(channel_records.is_ok());
    let (channel_records, channel_urls) = channel_records?;
    reporter.phase(&format!("Reverting to revision {}", req.revision));
    if let Err(e) = target {
        reporter.phase_done(false);
        return Err(e);
    }
    let desired = find_records(ctx, &wanted, &installed, &channel_records);
    reporter.phase_done(desired.is_ok());
    let desired = desired.map_err(|missing| not_found(&missing, &channel_urls))?;
    let plan = Plan::new(
        &req.prefix,
        &installed,
        desired,
        &HashSet::new(),
        ctx.subdir,
    )?;
    // As conda does, the revert is recorded with the specs the environment currently asks
    // for (the history's requested specs of installed packages).
    let specs = current_requested(&revisions, &installed);
    let parsed: Vec<MatchSpec> = specs
        .iter()
        .filter_map(|s| crate::solve::parse_spec(s).ok())
        .collect();
    let t = Transact {
        dry_run: req.dry_run,
        download_only: req.download_only,
        confirmed: false,
        specs: PlanSpecs {
            removed: Vec::new(),
            updated: specs.clone(),
        },
        requested: requested_map(&parsed),
        history: Entry {
            cmd: req.cmd.clone(),
            update_specs: specs,
            ..Entry::default()
        },
    };
    transact(ctx, plan, t, Some(lock), reporter).await
}

/// The dist strings of revision `rev` (Python indexing: `-1` is the last one).
pub fn target_state(
    revisions: &[crate::history::Revision],
    rev: i64,
) -> Result<std::collections::BTreeSet<String>> {
    let states = crate::history::states(revisions);
    let n = states.len() as i64;
    let index = if rev < 0 { n + rev } else { rev };
    if index < 0 || index >= n {
        return Err(CondaError::new(
            ErrorKind::CondaIndexError,
            format!("no such revision: {rev}"),
        ));
    }
    Ok(states.into_iter().nth(index as usize).unwrap_or_default())
}

/// The requested specs of installed packages, replayed over the history (conda's
/// `History.get_requested_specs_map`), in name order.
fn current_requested(
    revisions: &[crate::history::Revision],
    installed: &[PrefixRecord],
) -> Vec<String> {
    let names: HashSet<&str> = installed
        .iter()
        .map(|r| r.repodata_record.package_record.name.as_normalized())
        .collect();
    crate::history::requested_specs(revisions)
        .into_iter()
        .filter(|(name, _)| names.contains(name.as_str()))
        .map(|(_, spec)| spec)
        .collect()
}

/// The records of the wanted names in the configured channels, and the channels' subdir
/// URLs (for the error). No channels configured is no records, as in conda.
async fn channel_records(
    ctx: &Context,
    wanted: &[Dist],
) -> Result<(Vec<RepoDataRecord>, Vec<String>)> {
    if ctx.config.channels.is_empty() || wanted.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let channels = crate::channels::resolve(ctx)?;
    let urls = crate::channels::subdir_urls(&channels, ctx.subdir.as_str());
    let specs: Vec<MatchSpec> = wanted
        .iter()
        .filter_map(|d| crate::solve::parse_spec(&d.name).ok())
        .collect();
    let index = crate::repodata::query(ctx, &channels, ctx.subdir, specs)
        .await
        .map_err(|e| e.with("channel_urls", urls.clone()))?;
    Ok((index.iter().cloned().collect(), urls))
}

/// Whether a record is the package a history dist string names (a dist without a channel
/// matches any channel's).
fn same(want: &Dist, record: &RepoDataRecord) -> bool {
    let have = Dist::of(record);
    have.name == want.name
        && have.version == want.version
        && have.build == want.build
        && (want.channel.is_empty()
            // conda writes the canonical name (`defaults`); older histories the name
            // (`pkgs/main`).
            || ((have.channel == want.channel || crate::naming::name(record) == want.channel)
                && (want.subdir.is_empty() || have.subdir == want.subdir)))
}

/// A record for every wanted dist: installed, else from the channels, else from the package
/// cache; the dists found nowhere otherwise.
fn find_records(
    ctx: &Context,
    wanted: &[Dist],
    installed: &[PrefixRecord],
    channel: &[RepoDataRecord],
) -> std::result::Result<Vec<RepoDataRecord>, Vec<Dist>> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for want in wanted {
        let hit = installed
            .iter()
            .map(|r| &r.repodata_record)
            .find(|r| same(want, r))
            .or_else(|| channel.iter().find(|r| same(want, r)))
            .cloned()
            .or_else(|| cached_record(&ctx.pkgs_dirs, want));
        match hit {
            Some(r) => found.push(r),
            None => missing.push(want.clone()),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(missing)
    }
}

/// The record of a package cache entry `name-version-build` (its
/// `info/repodata_record.json`), when it is the wanted dist.
fn cached_record(pkgs_dirs: &[PathBuf], want: &Dist) -> Option<RepoDataRecord> {
    let entry = format!("{}-{}-{}", want.name, want.version, want.build);
    pkgs_dirs.iter().find_map(|dir| {
        let text = std::fs::read_to_string(
            Path::new(dir)
                .join(&entry)
                .join("info")
                .join("repodata_record.json"),
        )
        .ok()?;
        let record: RepoDataRecord = serde_json::from_str(&text).ok()?;
        same(want, &record).then_some(record)
    })
}

/// conda's `PackagesNotFoundInChannelsError` for dists found nowhere: the packages as match
/// specs (`channel/subdir::name==version=build`).
fn not_found(missing: &[Dist], channel_urls: &[String]) -> CondaError {
    let mut packages: Vec<String> = missing
        .iter()
        .map(|d| {
            let channel = if d.channel.is_empty() {
                String::new()
            } else if d.subdir.is_empty() {
                format!("{}::", d.channel)
            } else {
                format!("{}/{}::", d.channel, d.subdir)
            };
            format!("{channel}{}=={}={}", d.name, d.version, d.build)
        })
        .collect();
    packages.sort();
    let packages_formatted = dashlist(&packages);
    let channels_formatted = if channel_urls.is_empty() {
        String::new()
    } else {
        dashlist(channel_urls)
    };
    let message = if channel_urls.is_empty() {
        format!("The following packages are missing from the target environment:\n{packages_formatted}\n")
    } else {
        format!(
            "The following packages are not available from current channels:\n{packages_formatted}\n\nCurrent channels:\n{channels_formatted}\n\nTo search for alternate channels that may provide the conda package you're\nlooking for, navigate to\n\n    https://anaconda.org\n\nand use the search bar at the top of the page.\n"
        )
    };
    CondaError::new(ErrorKind::PackagesNotFoundInChannelsError, message)
        .with("channel_urls", channel_urls.to_vec())
        .with("channels_formatted", channels_formatted)
        .with("packages", packages)
        .with("packages_formatted", packages_formatted)
}
