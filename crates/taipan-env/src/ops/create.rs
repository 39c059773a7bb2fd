//! `conda create`: a new environment from specs, `--file`s, `--clone`, or nothing; an
//! existing one is replaced only when confirmed. A root prefix also gets `bin/conda` and
//! the activation files.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::install::{lock_env, requested_map, Change};
use super::{transact, Transact, Transacted};
use crate::context::{same_path, Context};
use crate::error::{CondaError, ErrorKind, Result};
use crate::history::Entry;
use crate::reporter::{PlanSpecs, Reporter};
use crate::solve::{parse_spec, Kind, Request};
use crate::transaction::Plan;

/// `conda create`.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// Target, specs and flags.
    pub change: Change,
    /// `--clone SRC`: the packages of this environment (name or path).
    pub clone: Option<String>,
    /// `--no-default-packages`: leave out `create_default_packages`.
    pub no_default_packages: bool,
}

/// How a create ended.
pub enum Created {
    /// An environment from packages.
    Packages(Box<Transacted>),
    /// An empty environment (no specs); `dry_run`: not created.
    Empty {
        /// `--dry-run`.
        dry_run: bool,
    },
}

/// Runs `conda create`.
pub async fn create(ctx: &Context, req: CreateRequest, reporter: &dyn Reporter) -> Result<Created> {
    let change = &req.change;
    if req.clone.is_some() {
        refuse_clone_extras(change)?;
    }
    let prefix = &change.prefix;
    if same_path(prefix, &ctx.root_prefix) && crate::layout::is_conda_env(prefix) {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            "The target prefix is the base prefix. Aborting.",
        ));
    }
    crate::registry::finish_removals(ctx);
    replace_existing(ctx, prefix, change.dry_run, reporter).await?;
    if !change.dry_run && !crate::context::dir_writable(prefix) {
        return Err(crate::prefix_lock::not_writable(prefix, None));
    }
    let (mut texts, urls) = super::install::texts_and_urls(change)?;
    if !req.no_default_packages && req.clone.is_none() && !texts.is_empty() {
        texts.extend(ctx.config.create_default_packages.iter().cloned());
    }
    let specs = texts
        .iter()
        .map(|t| parse_spec(t))
        .collect::<Result<Vec<_>>>()?;
    let update_specs: Vec<String> = texts.iter().map(|t| crate::spec::conda_text(t)).collect();
    let t = Transact {
        dry_run: change.dry_run,
        download_only: change.download_only,
        confirmed: false,
        specs: PlanSpecs {
            removed: Vec::new(),
            updated: update_specs.clone(),
        },
        requested: requested_map(&specs),
        history: Entry {
            cmd: change.cmd.clone(),
            update_specs,
            ..Entry::default()
        },
    };
    let mut untracked = None;
    let plan = if let Some(source) = &req.clone {
        let src = clone_source(ctx, source)?;
        let installed = crate::prefix::records(&src)?;
        untracked = Some((super::clone::untracked(&src, &installed), src));
        let records = installed.into_iter().map(|r| r.repodata_record).collect();
        Plan::new(prefix, &[], records, &HashSet::new(), ctx.subdir)?
    } else if !urls.is_empty() {
        let (records, _held) = super::explicit_records(ctx, &urls).await?;
        Plan::new(prefix, &[], records, &HashSet::new(), ctx.subdir)?
    } else if specs.is_empty() {
        if !change.dry_run {
            create_empty(ctx, prefix, &t.history).await?;
            super::env_file::after_transaction(prefix, &change.env_files, reporter)?;
        }
        return Ok(Created::Empty {
            dry_run: change.dry_run,
        });
    } else {
        let solve = Request {
            specs,
            no_deps: change.solve.no_deps,
            only_deps: change.solve.only_deps,
            no_pin: change.solve.no_pin,
            ..Request::default()
        };
        super::solve_request(ctx, prefix, Kind::Create, solve, HashSet::new(), reporter)
            .await?
            .plan
    };
    let done = transact(ctx, plan, t, None, reporter).await?;
    let done = super::install::finish_env_files(change, done, reporter)?;
    if let (super::Done::Applied(_), Some((files, src))) = (&done.done, &untracked) {
        super::clone::copy_untracked(src, prefix, files)?;
    }
    if matches!(done.done, super::Done::Applied(_)) && same_path(prefix, &ctx.root_prefix) {
        let exe = std::env::current_exe()?;
        root_setup(prefix, &exe)?;
    }
    Ok(Created::Packages(Box::new(done)))
}

/// A root prefix carries `bin/conda` (a link to `conda`, unless it has one) and the
/// activation files (`bin/activate`, `etc/profile.d/conda.sh`, …).
pub fn root_setup(root: &Path, conda: &Path) -> Result<()> {
    let link = root.join("bin").join("conda");
    if !link.exists() {
        std::fs::create_dir_all(root.join("bin"))?;
        // A dangling link left by an earlier install.
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(conda, &link)?;
    }
    let failed: Vec<String> = taipan_shell::files::install(root, false)
        .into_iter()
        .filter(|(_, outcome)| matches!(outcome, taipan_shell::files::Outcome::NeedsSudo))
        .map(|(path, _)| path.display().to_string())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(CondaError::new(
        ErrorKind::InstallError,
        format!(
            "cannot write the activation files:{}\n  Check the permissions of {}.",
            crate::error::dashlist(failed),
            root.display()
        ),
    ))
}

/// `--clone` takes no specs and no `--file` (conda's `TooManyArgumentsError`, exit 2).
fn refuse_clone_extras(change: &Change) -> Result<()> {
    let too_many = |given: Vec<String>, why: &str| {
        let s = if given.len() > 1 { "s" } else { "" };
        CondaError::new(
            ErrorKind::TooManyArgumentsError,
            format!(
                "{why} Got {} argument{s} ({}) but expected 0.",
                given.len(),
                given.join(", ")
            ),
        )
    };
    let files: Vec<String> = change
        .files
        .iter()
        .map(|f| f.display().to_string())
        .chain(
            change
                .env_files
                .iter()
                .map(|f| f.path.display().to_string()),
        )
        .collect();
    if !files.is_empty() {
        return Err(too_many(
            files,
            "`--file` and `--clone` arguments are mutually exclusive.",
        ));
    }
    if !change.specs.is_empty() {
        return Err(too_many(
            change.specs.clone(),
            "Did not expect any new packages or arguments for `--clone`.",
        ));
    }
    Ok(())
}

fn clone_source(ctx: &Context, source: &str) -> Result<PathBuf> {
    let path = if source.contains('/') {
        crate::context::absolute(Path::new(source))
    } else {
        ctx.prefix_for_name(source)?
    };
    if !crate::layout::is_conda_env(&path) {
        return Err(crate::context::location_not_found(&path));
    }
    Ok(path)
}

/// An existing environment is replaced only when confirmed; `--dry-run` refuses. It is
/// removed as `remove --all` removes it. A directory that is not an environment must be
/// empty.
async fn replace_existing(
    ctx: &Context,
    prefix: &Path,
    dry_run: bool,
    reporter: &dyn Reporter,
) -> Result<()> {
    if !crate::layout::is_conda_env(prefix) {
        if prefix.exists()
            && std::fs::read_dir(prefix)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
        {
            return Err(CondaError::new(
                ErrorKind::CondaValueError,
                format!("The target directory exists but is not a conda environment: {}\n  Choose another name or path, or empty that directory first.", prefix.display()),
            ));
        }
        return Ok(());
    }
    if dry_run {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            "Cannot `create --dry-run` with an existing conda environment",
        ));
    }
    if !reporter.confirm_replace(prefix)? {
        return Err(CondaError::new(ErrorKind::CondaSystemExit, "Exiting."));
    }
    let lock = lock_env(prefix, reporter).await?;
    super::remove_env(ctx, prefix, lock).await
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
