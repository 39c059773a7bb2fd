//! `conda remove`: packages (with what depends on them and what only they needed), or a
//! whole environment (`--all`).

use std::path::{Path, PathBuf};

use rattler_conda_types::PrefixRecord;

use super::install::lock_env;
use super::{transact, Done, Transact, Transacted};
use crate::context::{same_path, Context};
use crate::error::{CondaError, ErrorKind, Result};
use crate::history::Entry;
use crate::prefix_lock::PrefixLock;
use crate::reporter::{PlanSpecs, Reporter};
use crate::transaction::Plan;

/// `conda remove`.
#[derive(Debug, Clone, Default)]
pub struct RemoveRequest {
    /// The environment.
    pub prefix: PathBuf,
    /// `-n`, for messages.
    pub name: Option<String>,
    /// The package names (or specs: their names count).
    pub names: Vec<String>,
    /// `--all`: the whole environment.
    pub all: bool,
    /// `--force`: only the named packages, nothing that depends on them.
    pub force: bool,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--override-frozen`: change an environment marked frozen (CEP 22).
    pub override_frozen: bool,
    /// `--keep-env`: `--all` removes the packages and keeps the (empty) environment.
    pub keep_env: bool,
    /// The command line, for history.
    pub cmd: String,
}

/// How a removal ended.
pub enum Removed {
    /// Packages: the plan and how it ended.
    Packages(Box<Transacted>),
    /// `--all --dry-run`: nothing was removed; the packages that would be.
    EnvDryRun(Vec<PrefixRecord>),
    /// `--all`: the packages were unlinked, and the user kept the (now empty) directory.
    EnvKept,
    /// `--all`: the environment is gone; the packages it held.
    Env(Vec<PrefixRecord>),
}

/// Runs `conda remove`.
pub async fn remove(ctx: &Context, req: RemoveRequest, reporter: &dyn Reporter) -> Result<Removed> {
    crate::registry::finish_removals(ctx);
    ctx.require_env(&req.prefix, req.name.as_deref())?;
    crate::prefix::check_not_frozen(ctx, &req.prefix, req.override_frozen)?;
    if req.all {
        return remove_all(ctx, &req, reporter).await;
    }
    if req.names.is_empty() {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            "no package names supplied,\n       try \"conda remove -h\" for more details",
        ));
    }
    remove_names(ctx, &req, reporter).await
}

/// Removes the named packages (and, without `--force`, what depends on them).
async fn remove_names(
    ctx: &Context,
    req: &RemoveRequest,
    reporter: &dyn Reporter,
) -> Result<Removed> {
    let mut lock = lock_env(&req.prefix, reporter).await?;
    let installed = crate::prefix::installed(ctx, &req.prefix)?;
    let names = installed_names(&req.names, &installed.records)?;
    for w in &installed.warnings {
        reporter.warning(w);
    }
    let rules = crate::solve::Rules {
        aggressive_update_packages: ctx.config.aggressive_update_packages.clone(),
        auto_update_conda: ctx.config.auto_update_conda,
        track_features: ctx.config.track_features.clone(),
    };
    let keep = crate::solve::kept_on_removal(&rules);
    let removed = crate::solve::removal(&installed, &req.prefix, &names, req.force, &keep)?;
    if same_path(&req.prefix, &ctx.root_prefix) {
        refuse_removing_conda(&removed)?;
    }
    let plan = Plan::removal(&req.prefix, &installed.records, removed, ctx.subdir);
    let t = Transact {
        dry_run: req.dry_run,
        specs: PlanSpecs {
            removed: names.clone(),
            updated: Vec::new(),
        },
        history: Entry {
            cmd: req.cmd.clone(),
            remove_specs: names,
            ..Entry::default()
        },
        ..Transact::default()
    };
    let done = transact(ctx, plan, t, Some(&mut lock), reporter).await?;
    Ok(Removed::Packages(Box::new(done)))
}

/// The installed package names the request's specs select: a name, or a spec whose name is
/// a pattern or which selects by key (`*[track_features=mkl]`, what `--features mkl`
/// asks for), matched against the installed records. A pattern that matches nothing stays
/// as it was written, for the not-installed error.
fn installed_names(specs: &[String], installed: &[PrefixRecord]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for text in specs {
        if !text.contains(['*', '[']) {
            names.push(crate::history::spec_name(text));
            continue;
        }
        let spec = crate::spec::parse_query(text)?;
        let found: Vec<String> = installed
            .iter()
            .map(|r| &r.repodata_record.package_record)
            .filter(|p| rattler_conda_types::match_spec::Matches::matches(&spec, *p))
            .map(|p| p.name.as_normalized().to_string())
            .collect();
        if found.is_empty() {
            names.push(text.clone());
        }
        names.extend(found);
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// conda refuses to remove itself from its own installation.
fn refuse_removing_conda(removed: &[PrefixRecord]) -> Result<()> {
    if removed
        .iter()
        .any(|r| r.repodata_record.package_record.name.as_normalized() == "conda")
    {
        return Err(CondaError::new(
            ErrorKind::RemoveError,
            "This operation will remove conda without replacing it with\nanother version of conda.",
        ));
    }
    Ok(())
}

/// `remove --all`: never the root prefix or the active environment.
async fn remove_all(
    ctx: &Context,
    req: &RemoveRequest,
    reporter: &dyn Reporter,
) -> Result<Removed> {
    let prefix = &req.prefix;
    if same_path(prefix, &ctx.root_prefix) {
        return Err(CondaError::new(
            ErrorKind::CondaEnvironmentError,
            "cannot remove root environment, add -n NAME or -p PREFIX option",
        ));
    }
    if ctx.active_prefix().is_some_and(|p| same_path(&p, prefix)) {
        return Err(CondaError::new(
            ErrorKind::CondaEnvironmentError,
            "Cannot remove current environment. Deactivate and run conda remove again",
        ));
    }
    reporter.remove_env(prefix);
    let records = env_records(ctx, prefix)?;
    if records.is_empty() {
        reporter.no_packages(prefix);
        if req.dry_run {
            return Ok(Removed::EnvDryRun(records));
        }
    } else if req.keep_env || req.dry_run {
        // Every package goes as one transaction; the environment itself stays.
        return unlink_all(ctx, req, false, reporter).await;
    } else {
        let plan = Plan::removal(prefix, &records, records.clone(), ctx.subdir);
        reporter.plan(&plan, &[], &PlanSpecs::default());
        if !reporter.confirm()? {
            return Ok(Removed::Packages(Box::new(Transacted {
                plan,
                fetch: Vec::new(),
                done: Done::Declined,
                pip: None,
            })));
        }
    }
    if req.keep_env {
        return Ok(Removed::Env(records));
    }
    // conda unlinks the packages, then asks (default no) before deleting the directory.
    // Both answers are known before anything changes, so a full removal stays one atomic
    // step (the environment is there or gone, also when the process is killed), and "no"
    // leaves what conda leaves: the environment without its packages.
    if !reporter.confirm_delete(prefix)? {
        if !records.is_empty() {
            unlink_all(ctx, req, true, reporter).await?;
        }
        return Ok(Removed::EnvKept);
    }
    let lock = lock_env(prefix, reporter).await?;
    let shown = !records.is_empty();
    if shown {
        reporter.phase("Executing transaction");
    }
    let removed = remove_env(ctx, prefix, lock).await;
    if shown {
        reporter.phase_done(removed.is_ok());
    }
    removed?;
    Ok(Removed::Env(records))
}

/// Unlinks every package of the environment in one transaction (`--keep-env`, or "no" to
/// deleting the directory); `confirmed`: the plan was already shown and accepted.
async fn unlink_all(
    ctx: &Context,
    req: &RemoveRequest,
    confirmed: bool,
    reporter: &dyn Reporter,
) -> Result<Removed> {
    let mut lock = lock_env(&req.prefix, reporter).await?;
    let installed = crate::prefix::installed(ctx, &req.prefix)?;
    let all = installed.records.clone();
    let plan = Plan::removal(&req.prefix, &installed.records, all, ctx.subdir);
    let t = Transact {
        dry_run: req.dry_run,
        confirmed,
        // `--all` removes packages, not specs: conda's plan and history name none.
        history: Entry {
            cmd: req.cmd.clone(),
            ..Entry::default()
        },
        ..Transact::default()
    };
    let done = transact(ctx, plan, t, Some(&mut lock), reporter).await?;
    Ok(Removed::Packages(Box::new(done)))
}

/// The packages of an environment `--all` removes, by name (conda's `UNLINK` list).
fn env_records(ctx: &Context, prefix: &Path) -> Result<Vec<PrefixRecord>> {
    let mut records = crate::prefix::installed(ctx, prefix)?.records;
    records.sort_by(|a, b| {
        let (a, b) = (
            &a.repodata_record.package_record,
            &b.repodata_record.package_record,
        );
        a.name.as_normalized().cmp(b.name.as_normalized())
    });
    Ok(records)
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
