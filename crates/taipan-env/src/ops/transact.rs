//! Carrying out a plan, the common tail of create, install, update and remove: show it,
//! confirm, download and verify, prelink messages, then link under the prefix's lock.

use std::collections::HashMap;
use std::path::PathBuf;

use rattler_conda_types::RepoDataRecord;

use crate::cache::Fetched;
use crate::context::Context;
use crate::error::{CondaError, ErrorKind, Result};
use crate::history::Entry;
use crate::prefix_lock::PrefixLock;
use crate::reporter::{PlanSpecs, Reporter};
use crate::transaction::{LinkSettings, Outcome, Packages, Plan};

/// How a plan is carried out (from flags and configuration).
#[derive(Debug, Clone, Default)]
pub struct Transact {
    /// `--dry-run`: show the plan, change nothing.
    pub dry_run: bool,
    /// `--download-only`: fill the package cache, link nothing.
    pub download_only: bool,
    /// The plan was already shown and accepted (`remove --all` asked first).
    pub confirmed: bool,
    /// Specs shown with the plan.
    pub specs: PlanSpecs,
    /// Requested spec per package name, recorded as `requested_spec`.
    pub requested: HashMap<String, String>,
    /// The history block the transaction appends (its dists are filled in).
    pub history: Entry,
}

/// How a carried-out plan ended.
pub enum Done {
    /// The plan was empty.
    Nothing,
    /// `--dry-run`.
    DryRun,
    /// `--download-only`: the packages are in the cache.
    DownloadOnly,
    /// The user said no (to the plan or to the prelink messages).
    Declined,
    /// Linked.
    Applied(Outcome),
}

/// A plan and how it ended.
pub struct Transacted {
    /// The plan.
    pub plan: Plan,
    /// The records that were not in any package cache (`FETCH`).
    pub fetch: Vec<RepoDataRecord>,
    /// How it ended.
    pub done: Done,
    /// An environment file's pip section, installed after the packages were linked.
    pub pip: Option<crate::pip::PipRun>,
}

/// Carries out a plan: shown, confirmed, downloaded and verified, prelink messages
/// confirmed, linked under the prefix's lock (a new prefix is locked when it is created,
/// `lock: None`).
pub async fn transact(
    ctx: &Context,
    plan: Plan,
    t: Transact,
    lock: Option<&mut PrefixLock>,
    reporter: &dyn Reporter,
) -> Result<Transacted> {
    let fetch = to_fetch(ctx, &plan);
    let ended = |plan, fetch, done| {
        Ok(Transacted {
            plan,
            fetch,
            done,
            pip: None,
        })
    };
    if plan.is_empty() {
        return ended(plan, fetch, Done::Nothing);
    }
    if ctx.config.always_copy && ctx.config.always_softlink {
        return Err(CondaError::new(
            ErrorKind::ValidationError,
            "'always_copy' and 'always_softlink' are mutually exclusive. Only one can be set to 'True'.",
        ));
    }
    let fetch_refs: Vec<&RepoDataRecord> = fetch.iter().collect();
    if !t.confirmed {
        reporter.plan(&plan, &fetch_refs, &t.specs);
    }
    if t.dry_run {
        return ended(plan, fetch, Done::DryRun);
    }
    if !t.confirmed && !reporter.confirm()? {
        return ended(plan, fetch, Done::Declined);
    }
    if t.download_only {
        download(ctx, &plan, reporter).await?;
        return ended(plan, fetch, Done::DownloadOnly);
    }
    reporter.downloads(fetch.len());
    let extracted = download(ctx, &plan, reporter).await?;
    for phase in ["Preparing transaction", "Verifying transaction"] {
        reporter.phase(phase);
        reporter.phase_done(true);
    }
    if !reporter.prelink_messages(&prelink_messages(&plan, &extracted))? {
        return ended(plan, fetch, Done::Declined);
    }
    reporter.phase("Executing transaction");
    let packages = Packages::Ready(&extracted);
    let outcome = apply(ctx, &plan, &packages, &t.history, t.requested, lock).await;
    reporter.phase_done(outcome.is_ok());
    ended(plan, fetch, Done::Applied(outcome?))
}

/// Records that are not in any package cache yet.
fn to_fetch(ctx: &Context, plan: &Plan) -> Vec<RepoDataRecord> {
    plan.link
        .iter()
        .filter(|r| {
            let p = &r.package_record;
            let dir = format!("{}-{}-{}", p.name.as_normalized(), p.version, p.build);
            !ctx.pkgs_dirs
                .iter()
                .any(|d| d.join(&dir).join("info").join("index.json").is_file())
        })
        .cloned()
        .collect()
}

/// Downloads what the plan links into the cache (nothing in the prefix changes). The
/// entries stay held until the result is dropped.
pub async fn download(ctx: &Context, plan: &Plan, reporter: &dyn Reporter) -> Result<Fetched> {
    crate::cache::fetch_all(ctx, &plan.link, reporter).await
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
        always_softlink: ctx.config.always_softlink,
        allow_softlinks: ctx.config.allow_softlinks,
        requested,
        root_prefix: ctx.root_prefix.clone(),
        envs_dirs: ctx.envs_dirs.clone(),
        conda_exe: ctx.conda_exe(),
        created_prefix: lock.created_prefix,
        created_meta: lock.created_meta,
        hardlinks: false,
        cmd: history.cmd.clone(),
        path_conflict: if ctx.config.clobber {
            taipan_config::PathConflict::Clobber
        } else {
            ctx.config.path_conflict
        },
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
