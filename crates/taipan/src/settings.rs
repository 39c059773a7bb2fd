//! Flags and configuration resolved once into the requests taipan-env's operations take
//! (uv's `settings.rs`): commands only parse, call, render.

use taipan_env::context::Context;
use taipan_env::ops::{Change, CreateRequest, InstallRequest, RemoveRequest};
use taipan_env::solve::Request;
use taipan_env::Result;

use taipan_env::envfile::{self, EnvFile};

use crate::cli::{CreateArgs, InstallArgs, ModifyArgs, RemoveArgs, SolveArgs, Target, UpdateArgs};
use crate::commands::helpers::history_cmd;

/// Whether to go on without asking: `-y`, `always_yes`, or `--json` (nothing to ask on).
pub fn yes(ctx: &Context, yes_flag: bool) -> bool {
    yes_flag || ctx.config.always_yes.unwrap_or(false)
}

/// The `--file`s that are environment files (`.yml`), read once: their channels, name and
/// prefix are needed before the configuration is loaded. Unknown keys are warned about.
pub fn env_files(s: &SolveArgs) -> Result<Vec<EnvFile>> {
    let files = s
        .file
        .iter()
        .filter(|f| envfile::is_env_file(f))
        .map(|f| envfile::read(f))
        .collect::<Result<Vec<_>>>()?;
    if !s.output.is_json() {
        for w in files.iter().flat_map(|f| &f.warnings) {
            println!("{w}");
        }
    }
    Ok(files)
}

/// `-n`/`-p` as given, else the first environment file's `name:` (or `prefix:`).
pub fn file_target(target: &Target, files: &[EnvFile]) -> Target {
    if target.name.is_some() || target.prefix.is_some() {
        return target.clone();
    }
    let first = files.first();
    Target {
        name: first.and_then(|f| f.name.clone()),
        prefix: first
            .filter(|f| f.name.is_none())
            .and_then(|f| f.prefix.clone()),
    }
}

/// The target, specs and flags create, install and update share.
fn change(
    ctx: &Context,
    s: &SolveArgs,
    m: Option<&ModifyArgs>,
    update_all: bool,
    argv: &[String],
    env_files: Vec<EnvFile>,
) -> Result<Change> {
    let prefix = ctx.target_prefix(s.target.name.as_deref(), s.target.prefix.as_deref())?;
    let m = m.cloned().unwrap_or_default();
    Ok(Change {
        prefix,
        name: s.target.name.clone(),
        specs: s.specs.clone(),
        files: s
            .file
            .iter()
            .filter(|f| !envfile::is_env_file(f))
            .cloned()
            .collect(),
        env_files,
        cmd: history_cmd(argv),
        // `dry_run` / `download_only` may also be set in .condarc, as in conda.
        dry_run: s.dry_run || other_bool(ctx, "dry_run"),
        download_only: s.download_only || other_bool(ctx, "download_only"),
        override_frozen: m.override_frozen,
        solve: Request {
            update_all,
            freeze_installed: m.freeze_installed,
            update_deps: m.update_deps,
            update_specs: m.update_specs,
            no_pin: s.no_pin,
            prune: m.prune,
            no_deps: s.no_deps,
            only_deps: s.only_deps,
            ..Request::default()
        },
    })
}

/// `conda create`.
pub fn create(
    ctx: &Context,
    a: &CreateArgs,
    argv: &[String],
    env_files: Vec<EnvFile>,
) -> Result<CreateRequest> {
    Ok(CreateRequest {
        change: change(ctx, &a.solve, None, false, argv, env_files)?,
        clone: a.clone.clone(),
        no_default_packages: a.no_default_packages,
    })
}

/// `conda install`.
pub fn install(
    ctx: &Context,
    a: &InstallArgs,
    argv: &[String],
    env_files: Vec<EnvFile>,
) -> Result<InstallRequest> {
    Ok(InstallRequest {
        change: change(
            ctx,
            &a.solve,
            Some(&a.modify),
            a.update_all,
            argv,
            env_files,
        )?,
        satisfied_skip_solve: a.modify.satisfied_skip_solve,
        force_reinstall: a.modify.force_reinstall || other_bool(ctx, "force_reinstall"),
    })
}

/// `conda update`.
pub fn update(ctx: &Context, a: &UpdateArgs, argv: &[String]) -> Result<InstallRequest> {
    let env_files = env_files(&a.solve)?;
    Ok(InstallRequest {
        change: change(ctx, &a.solve, Some(&a.modify), a.all, argv, env_files)?,
        satisfied_skip_solve: a.modify.satisfied_skip_solve,
        force_reinstall: a.modify.force_reinstall || other_bool(ctx, "force_reinstall"),
    })
}

/// `conda remove`.
pub fn remove(ctx: &Context, a: &RemoveArgs, argv: &[String]) -> Result<RemoveRequest> {
    Ok(RemoveRequest {
        prefix: ctx.target_prefix(a.target.name.as_deref(), a.target.prefix.as_deref())?,
        name: a.target.name.clone(),
        names: if a.features {
            // conda: `MatchSpec(track_features=NAME)` per name.
            a.names
                .iter()
                .map(|f| format!("*[track_features={f}]"))
                .collect()
        } else {
            a.names.clone()
        },
        all: a.all,
        force: a.force,
        dry_run: a.dry_run || other_bool(ctx, "dry_run"),
        override_frozen: a.override_frozen,
        keep_env: a.keep_env,
        cmd: history_cmd(argv),
    })
}

/// A boolean conda parameter taipan reads from the configuration's other keys.
fn other_bool(ctx: &Context, key: &str) -> bool {
    ctx.config
        .other
        .get(key)
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// `conda install --revision N`.
pub fn revision(
    ctx: &Context,
    a: &InstallArgs,
    revision: i64,
    argv: &[String],
) -> Result<taipan_env::ops::RevisionRequest> {
    let t = &a.solve.target;
    Ok(taipan_env::ops::RevisionRequest {
        prefix: ctx.target_prefix(t.name.as_deref(), t.prefix.as_deref())?,
        name: t.name.clone(),
        revision,
        cmd: history_cmd(argv),
        dry_run: a.solve.dry_run,
        download_only: a.solve.download_only,
    })
}
