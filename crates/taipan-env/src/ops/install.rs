//! `conda install` and `conda update`: the request solved against the environment as it is
//! (read under its lock), then carried out.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rattler_conda_types::match_spec::Matches;
use rattler_conda_types::{MatchSpec, PrefixRecord};

use super::{read_spec_files, transact, Transact, Transacted};
use crate::context::Context;
use crate::error::{CondaError, ErrorKind, Result};
use crate::history::Entry;
use crate::prefix_lock::PrefixLock;
use crate::reporter::{PlanSpecs, Reporter};
use crate::solve::{parse_spec, Kind, Request};
use crate::transaction::Plan;

/// What create, install and update share: the target, the specs as typed, spec files,
/// and how the result is carried out.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// The environment.
    pub prefix: PathBuf,
    /// `-n`, for messages.
    pub name: Option<String>,
    /// Specs as typed.
    pub specs: Vec<String>,
    /// `--file`: spec lists or `@EXPLICIT` files.
    pub files: Vec<PathBuf>,
    /// `--file`: environment files (`.yml`), read once when the request was built.
    pub env_files: Vec<crate::envfile::EnvFile>,
    /// The command line, for history.
    pub cmd: String,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--download-only`.
    pub download_only: bool,
    /// `--override-frozen`: change an environment marked frozen (CEP 22).
    pub override_frozen: bool,
    /// The solver flags (`--no-pin`, `--no-deps`, `--freeze-installed`, …); its specs are
    /// filled in from `specs`.
    pub solve: Request,
}

/// `conda install`.
#[derive(Debug, Clone, Default)]
pub struct InstallRequest {
    /// Target, specs and flags.
    pub change: Change,
    /// `-S`: nothing to do if every spec is satisfied already.
    pub satisfied_skip_solve: bool,
    /// `--force-reinstall`: relink the named packages.
    pub force_reinstall: bool,
}

/// The spec texts of a change with its spec files' and environment files', and its
/// `@EXPLICIT` URLs.
pub(super) fn texts_and_urls(change: &Change) -> Result<(Vec<String>, Vec<super::ExplicitUrl>)> {
    let (file_specs, urls) = read_spec_files(&change.files)?;
    let texts = change
        .specs
        .iter()
        .chain(&file_specs)
        .cloned()
        .chain(super::env_file::specs(&change.env_files))
        .collect();
    Ok((texts, urls))
}

/// How a change is carried out, with its history block.
fn transact_settings(change: &Change, texts: &[String], specs: &[MatchSpec]) -> Transact {
    let update_specs: Vec<String> = texts.iter().map(|t| crate::spec::conda_text(t)).collect();
    Transact {
        dry_run: change.dry_run,
        download_only: change.download_only,
        confirmed: false,
        specs: PlanSpecs {
            removed: Vec::new(),
            updated: update_specs.clone(),
        },
        requested: requested_map(specs),
        history: Entry {
            cmd: change.cmd.clone(),
            update_specs,
            ..Entry::default()
        },
    }
}

/// Requested spec by package name, recorded as `requested_spec` in conda-meta records (in
/// conda's form: `dependent=1.0`).
pub fn requested_map(specs: &[MatchSpec]) -> HashMap<String, String> {
    specs
        .iter()
        .filter_map(|s| {
            s.name
                .as_exact()
                .map(|n| (n.as_normalized().to_string(), crate::spec::conda_str(s)))
        })
        .collect()
}

/// Takes an existing environment's lock (recovering an interrupted command first).
pub async fn lock_env(prefix: &Path, reporter: &dyn Reporter) -> Result<PrefixLock> {
    let lock = crate::prefix_lock::lock(prefix).await?;
    if let Some(what) = &lock.recovered {
        reporter.recovered(prefix, what);
    }
    Ok(lock)
}

/// Runs `conda install`.
pub async fn install(
    ctx: &Context,
    req: InstallRequest,
    reporter: &dyn Reporter,
) -> Result<Transacted> {
    let change = &req.change;
    ctx.require_env(&change.prefix, change.name.as_deref())?;
    crate::prefix::check_not_frozen(ctx, &change.prefix, change.override_frozen)?;
    let (texts, urls) = texts_and_urls(change)?;
    if texts.is_empty() && urls.is_empty() && !change.solve.update_all {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            "too few arguments, must supply command line package specs or --file\n\nExample: conda install -n myenv scipy",
        ));
    }
    let specs = texts
        .iter()
        .map(|t| parse_spec(t))
        .collect::<Result<Vec<_>>>()?;
    // Held until the transaction ends: what is solved against is what is changed.
    let mut lock = lock_env(&change.prefix, reporter).await?;
    let installed = crate::prefix::records(&change.prefix)?;
    let mut t = transact_settings(change, &texts, &specs);
    let plan = if req.satisfied_skip_solve && !specs.is_empty() && all_satisfied(&specs, &installed)
    {
        unchanged(ctx, &change.prefix, &installed)?
    } else if !urls.is_empty() {
        super::explicit_plan(ctx, &change.prefix, &installed, &urls).await?
    } else {
        let reinstall = reinstalled(&specs, req.force_reinstall);
        let solve = Request {
            specs,
            ..change.solve.clone()
        };
        let solved = super::solve_request(
            ctx,
            &change.prefix,
            Kind::Install,
            solve,
            reinstall,
            reporter,
        )
        .await?;
        t.history.neutered_specs = solved.neutered;
        solved.plan
    };
    let done = transact(ctx, plan, t, Some(&mut lock), reporter).await;
    let done = match done {
        Ok(d) => finish_env_files(change, d, reporter),
        Err(e) => Err(e),
    };
    lock.release().await;
    done
}

/// After the packages: the environment files' variables and pip sections, when the
/// change was carried out (or there was nothing to change).
pub fn finish_env_files(
    change: &Change,
    mut done: Transacted,
    reporter: &dyn Reporter,
) -> Result<Transacted> {
    if matches!(done.done, super::Done::Applied(_) | super::Done::Nothing) {
        done.pip = super::env_file::after_transaction(&change.prefix, &change.env_files, reporter)?;
    }
    Ok(done)
}

/// `--force-reinstall`: the named packages are linked again even when unchanged.
fn reinstalled(specs: &[MatchSpec], force: bool) -> HashSet<rattler_conda_types::PackageName> {
    if !force {
        return HashSet::new();
    }
    specs
        .iter()
        .filter_map(|s| s.name.as_exact().cloned())
        .collect()
}

/// A plan that keeps everything as it is.
fn unchanged(ctx: &Context, prefix: &Path, installed: &[PrefixRecord]) -> Result<Plan> {
    let all = installed
        .iter()
        .map(|r| r.repodata_record.clone())
        .collect();
    Plan::new(prefix, installed, all, &HashSet::new(), ctx.subdir)
}

/// Every spec matches an installed record.
fn all_satisfied(specs: &[MatchSpec], installed: &[PrefixRecord]) -> bool {
    specs
        .iter()
        .all(|s| installed.iter().any(|r| s.matches(&r.repodata_record)))
}

/// Runs `conda update`: installed package names only (or `--all`); `-S` stops when every
/// name is installed already (conda's `--satisfied-skip-solve`), `--force-reinstall`
/// relinks the named packages.
pub async fn update(
    ctx: &Context,
    req: InstallRequest,
    reporter: &dyn Reporter,
) -> Result<Transacted> {
    let change = req.change;
    ctx.require_env(&change.prefix, change.name.as_deref())?;
    crate::prefix::check_not_frozen(ctx, &change.prefix, change.override_frozen)?;
    let (names, urls) = texts_and_urls(&change)?;
    if !urls.is_empty() {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            "`conda update --file` cannot use an @EXPLICIT file; use `conda install --file` instead.",
        ));
    }
    if names.is_empty() && !change.solve.update_all {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            "no package names supplied\n# Example: conda update -n myenv scipy",
        ));
    }
    let mut lock = lock_env(&change.prefix, reporter).await?;
    let installed = crate::prefix::records(&change.prefix)?;
    // With --all, conda takes versioned specs too (`update --all numba=0.6`).
    if !change.solve.update_all {
        check_update_names(&names, &installed, &change.prefix)?;
    }
    let specs = names
        .iter()
        .map(|t| parse_spec(t))
        .collect::<Result<Vec<_>>>()?;
    let mut t = transact_settings(&change, &names, &specs);
    if req.satisfied_skip_solve && !specs.is_empty() && all_satisfied(&specs, &installed) {
        let plan = unchanged(ctx, &change.prefix, &installed)?;
        let done = transact(ctx, plan, t, Some(&mut lock), reporter).await;
        lock.release().await;
        return done;
    }
    let reinstall = reinstalled(&specs, req.force_reinstall);
    let solve = Request {
        specs,
        update_specs: true,
        ..change.solve.clone()
    };
    let solved = super::solve_request(
        ctx,
        &change.prefix,
        Kind::Update,
        solve,
        reinstall,
        reporter,
    )
    .await;
    let solved = match solved {
        Ok(s) => s,
        Err(e) => {
            lock.release().await;
            return Err(e);
        }
    };
    t.history.neutered_specs = solved.neutered;
    let done = transact(ctx, solved.plan, t, Some(&mut lock), reporter).await;
    lock.release().await;
    done
}

/// `update` takes installed package names only.
fn check_update_names(names: &[String], installed: &[PrefixRecord], prefix: &Path) -> Result<()> {
    for n in names {
        let name = crate::history::spec_name(n);
        if name != n.trim().to_ascii_lowercase() {
            return Err(CondaError::new(
                ErrorKind::CondaUpdatePackageError,
                format!("`conda update` only supports name-only spec, but received: {n}\nUse `conda install` to install a specific version of a package."),
            ));
        }
        if !installed
            .iter()
            .any(|r| r.repodata_record.package_record.name.as_normalized() == name)
        {
            return Err(CondaError::new(
                ErrorKind::PackageNotInstalledError,
                format!(
                    "Package is not installed in prefix.\n  prefix: {}\n  package name: {n}",
                    prefix.display()
                ),
            ));
        }
    }
    Ok(())
}
