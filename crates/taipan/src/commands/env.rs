//! `conda env list` (and `conda info --envs`).

use serde_json::json;
use taipan_env::error::ErrorKind;
use taipan_env::Result;

use super::helpers::Load;
use crate::cli::EnvListArgs;

/// Runs `conda env list`.
pub fn list(a: EnvListArgs) -> Result<u8> {
    let argv = super::helpers::argv();
    let ctx = Load::new(&argv, &a.output).context()?;
    crate::output::envs::print_envs(&ctx, a.output.is_json());
    Ok(0)
}

/// `conda env config vars list|set|unset`: `conda-meta/state`'s `env_vars`.
pub fn vars(cmd: crate::cli::VarsCommand, argv: &[String]) -> Result<u8> {
    use crate::cli::VarsCommand;
    let (a, kind) = match cmd {
        VarsCommand::List(a) => (a, 0),
        VarsCommand::Set(a) => (a, 1),
        VarsCommand::Unset(a) => (a, 2),
    };
    let ctx = Load {
        target: Some(&a.target),
        ..Load::new(argv, &a.output)
    }
    .context()?;
    let prefix = ctx.target_prefix(a.target.name.as_deref(), a.target.prefix.as_deref())?;
    ctx.require_env(&prefix, a.target.name.as_deref())?;
    let state_path = prefix.join("conda-meta/state");
    let mut state: serde_json::Value = std::fs::read_to_string(&state_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| json!({}));
    let mut vars = state
        .get("env_vars")
        .and_then(|v| v.as_object())
        .cloned()
        .unwrap_or_default();
    if kind == 0 {
        // conda hides variables `unset` marked (`***unset***`).
        vars.retain(|_, v| v.as_str() != Some(taipan_env::prefix::UNSET_VAR));
        if a.output.is_json() {
            println!(
                "{}",
                serde_json::to_string_pretty(&vars).unwrap_or_default()
            );
        } else {
            for (k, v) in &vars {
                println!("{k} = {}", v.as_str().unwrap_or_default());
            }
        }
        return Ok(0);
    }
    for item in &a.vars {
        if kind == 1 {
            let (k, v) = item.split_once('=').ok_or_else(|| {
                taipan_env::CondaError::argument(format!("'{item}' is not KEY=VALUE"))
            })?;
            let key = if ctx.config.envvars_force_uppercase {
                k.to_ascii_uppercase()
            } else {
                k.to_string()
            };
            if key == "PATH" {
                return Err(taipan_env::CondaError::new(
                    ErrorKind::CondaValueError,
                    "PATH is reserved: it cannot be set with `conda env config vars`.",
                ));
            }
            vars.insert(key, json!(v));
        } else {
            let key = if ctx.config.envvars_force_uppercase {
                item.to_ascii_uppercase()
            } else {
                item.clone()
            };
            // conda marks the variable `***unset***` (activation then leaves it out); a
            // variable that was not set stays absent.
            if let Some(v) = vars.get_mut(&key) {
                *v = json!(taipan_env::prefix::UNSET_VAR);
            }
        }
    }
    if let Some(obj) = state.as_object_mut() {
        obj.insert("env_vars".into(), serde_json::Value::Object(vars));
    }
    let text = serde_json::to_string_pretty(&state).unwrap_or_default();
    taipan_env::fsutil::write_atomic(&state_path, text.as_bytes())?;
    // conda says so only when the environment changed is the active one.
    let active = ctx
        .active_prefix()
        .is_some_and(|p| taipan_env::context::same_path(&p, &prefix));
    if active && !a.output.is_json() && !a.output.is_quiet() {
        println!("To make your changes take effect please reactivate your environment");
    }
    Ok(0)
}

/// `conda env create` is `conda create --file` with the file's name, channels and pip
/// section, without asking (conda 26 runs it as create with `yes`): its arguments.
pub fn create_args(a: crate::cli::EnvCreateArgs) -> crate::cli::CreateArgs {
    crate::cli::CreateArgs {
        solve: crate::cli::SolveArgs {
            file: a.file,
            dry_run: a.dry_run,
            yes: true,
            platform: a.platform,
            channels: a.channels,
            target: a.target,
            output: a.output,
            ..crate::cli::SolveArgs::default()
        },
        clone: None,
        no_default_packages: a.no_default_packages,
    }
}

/// What `conda env update` runs: a create when the environment does not exist, else an
/// install of the file without showing the plan, then conda's activation banner for `name`.
pub enum EnvUpdate {
    /// The environment is new.
    Create(crate::cli::CreateArgs),
    /// Into the existing environment.
    Install {
        /// The install's arguments.
        args: crate::cli::InstallArgs,
        /// For `conda activate <name>`; `None` with `-q`/`--json`.
        banner: Option<String>,
    },
}

/// `conda env update`: the file's packages installed into the environment (created if
/// it does not exist), then its pip section and variables; `--prune` drops what the file
/// does not ask for.
pub fn update(a: crate::cli::EnvUpdateArgs, argv: &[String]) -> Result<EnvUpdate> {
    let file = taipan_env::envfile::read(&a.file)?;
    let mut target = crate::settings::file_target(&a.target, std::slice::from_ref(&file));
    if target.name.is_none() && target.prefix.is_none() {
        match std::env::var("CONDA_DEFAULT_ENV").ok().filter(|s| !s.is_empty()) {
            Some(name) => target.name = Some(name),
            None => return Err(taipan_env::CondaError::new(ErrorKind::CondaEnvException, "Unable to determine environment\n\nPlease re-run this command with one of the following options:\n\n* Provide an environment name via --name or -n\n* Provide an environment path via --prefix or -p\n* Re-run this command inside an activated conda environment.\n")),
        }
    }
    let solve = crate::cli::SolveArgs {
        file: vec![a.file.clone()],
        yes: true,
        target,
        output: a.output.clone(),
        ..crate::cli::SolveArgs::default()
    };
    let ctx = Load {
        target: Some(&solve.target),
        ..Load::new(argv, &a.output)
    }
    .context()?;
    let prefix = ctx.target_prefix(solve.target.name.as_deref(), solve.target.prefix.as_deref())?;
    if !taipan_env::layout::is_conda_env(&prefix) {
        return Ok(EnvUpdate::Create(crate::cli::CreateArgs {
            solve,
            clone: None,
            no_default_packages: false,
        }));
    }
    let args = crate::cli::InstallArgs {
        solve,
        modify: crate::cli::ModifyArgs {
            prune: a.prune,
            ..crate::cli::ModifyArgs::default()
        },
        update_all: false,
        revision: None,
    };
    let quiet = args.solve.output.is_quiet() || args.solve.output.is_json();
    let banner = (!quiet).then(|| solve_name(&args.solve.target, &prefix));
    Ok(EnvUpdate::Install { args, banner })
}

/// `conda activate <x>`: the name given or read from the file, else the path.
fn solve_name(target: &crate::cli::Target, prefix: &std::path::Path) -> String {
    target
        .name
        .clone()
        .unwrap_or_else(|| prefix.display().to_string())
}

/// `conda env remove` is `conda remove --all`: its arguments.
pub fn remove_args(a: crate::cli::EnvRemoveArgs) -> crate::cli::RemoveArgs {
    crate::cli::RemoveArgs {
        names: Vec::new(),
        all: true,
        force: true,
        features: false,
        keep_env: false,
        override_frozen: a.override_frozen,
        dry_run: a.dry_run,
        yes: a.yes,
        channels: crate::cli::ChannelArgs::default(),
        target: a.target,
        output: a.output,
    }
}
