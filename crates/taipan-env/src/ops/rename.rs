//! `conda rename`: an environment moves to a new name or path. As in conda it is cloned
//! (packages linked anew, so files holding the prefix are right at the new place; files no
//! package owns copied with the path replaced) and the source is then removed; the
//! registration in `environments.txt` follows. With `--yes` an existing destination is
//! moved aside first and put back if anything fails.

use std::path::{Path, PathBuf};

use super::create::{create, CreateRequest, Created};
use super::install::Change;
use crate::context::{same_path, Context};
use crate::error::{CondaError, ErrorKind, Result};
use crate::reporter::Reporter;

/// conda's prefix for what `--dry-run` would do.
pub const DRY_RUN_PREFIX: &str = "Dry run action:";

/// `conda rename`.
#[derive(Debug, Clone, Default)]
pub struct RenameRequest {
    /// The environment to rename (resolved from `-n`/`-p` or the active one).
    pub source: PathBuf,
    /// The new name, or a path if it has a `/`.
    pub destination: String,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--yes`: replace an existing destination.
    pub yes: bool,
    /// The command line, for the new environment's history.
    pub cmd: String,
}

/// How a rename ended.
#[derive(Debug, Clone)]
pub enum Renamed {
    /// `--dry-run`: conda's `Dry run action:` lines.
    DryRun(Vec<String>),
    /// Done: the new prefix.
    Done(PathBuf),
}

/// Runs `conda rename`.
pub async fn rename(ctx: &Context, req: RenameRequest, reporter: &dyn Reporter) -> Result<Renamed> {
    let source = &req.source;
    check_source(ctx, source)?;
    let destination = destination(ctx, &req.destination)?;
    let exists = destination.exists();
    if exists && !req.yes {
        return Err(env_exception(format!(
            "The environment '{}' already exists. Override with --yes.",
            destination.display()
        )));
    }
    if req.dry_run {
        let mut lines = Vec::new();
        if req.yes {
            lines.push(format!(
                "{DRY_RUN_PREFIX} rename_context {} > {}",
                destination.display(),
                aside_path(&destination).display()
            ));
        }
        lines.push(format!(
            "{DRY_RUN_PREFIX} clone {},{}",
            source.display(),
            destination.display()
        ));
        lines.push(format!("{DRY_RUN_PREFIX} rm_rf {}", source.display()));
        return Ok(Renamed::DryRun(lines));
    }
    let aside = if exists {
        let aside = aside_path(&destination);
        std::fs::rename(&destination, &aside)?;
        Some(aside)
    } else {
        None
    };
    let moved = clone_and_remove(ctx, &req, &destination, reporter).await;
    match (moved, aside) {
        (Ok(()), aside) => {
            if let Some(aside) = aside {
                let _ = std::fs::remove_dir_all(aside);
            }
            Ok(Renamed::Done(destination))
        }
        (Err(e), aside) => {
            if let Some(aside) = aside {
                let _ = std::fs::remove_dir_all(&destination);
                std::fs::rename(&aside, &destination)?;
            }
            Err(e)
        }
    }
}

/// The base environment, the active one and `default_activation_env` stay where they are.
fn check_source(ctx: &Context, source: &Path) -> Result<()> {
    if same_path(source, &ctx.root_prefix) {
        return Err(env_exception(
            "The 'base' environment cannot be renamed".into(),
        ));
    }
    if ctx
        .active_prefix()
        .is_some_and(|active| same_path(&active, source))
    {
        return Err(env_exception("Cannot rename the active environment".into()));
    }
    let default_env = ctx.config.default_activation_env.as_str();
    if ctx
        .resolve_env(default_env)
        .is_ok_and(|p| same_path(&p, source))
    {
        return Err(env_exception(
            "Cannot rename an environment if it is configured as `default_activation_env`.".into(),
        ));
    }
    Ok(())
}

/// A name becomes a prefix in the first writable envs dir; a path is taken as it is.
fn destination(ctx: &Context, destination: &str) -> Result<PathBuf> {
    if destination.contains('/') {
        return ctx.target_prefix(None, Some(Path::new(destination)));
    }
    ctx.prefix_for_name(destination)
}

/// Where an existing destination waits while the rename runs.
fn aside_path(destination: &Path) -> PathBuf {
    let name = destination
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    destination.with_file_name(format!(".{name}.taipan-rename-{}", std::process::id()))
}

async fn clone_and_remove(
    ctx: &Context,
    req: &RenameRequest,
    destination: &Path,
    reporter: &dyn Reporter,
) -> Result<()> {
    let request = CreateRequest {
        change: Change {
            prefix: destination.to_path_buf(),
            cmd: req.cmd.clone(),
            ..Change::default()
        },
        clone: Some(req.source.display().to_string()),
        no_default_packages: true,
    };
    match create(ctx, request, reporter).await? {
        Created::Packages(t) if matches!(t.done, super::Done::Applied(_)) => {}
        Created::Empty { .. } => {}
        Created::Packages(_) => {
            return Err(CondaError::new(ErrorKind::CondaSystemExit, "Exiting."))
        }
    }
    let lock = super::install::lock_env(&req.source, reporter).await?;
    super::remove_env(ctx, &req.source, lock).await
}

fn env_exception(message: String) -> CondaError {
    CondaError::new(ErrorKind::CondaEnvException, message)
}
