//! `conda shell.<shell> activate|deactivate|reactivate|hook` and `taipan shell install-files`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use taipan_env::error::ErrorKind;

use taipan_env::context::Context;
use taipan_env::{CondaError, Result};
use taipan_shell::activate::{self, Settings};
use taipan_shell::Shell;

use super::common::Load;
use crate::cli::Output;

/// The conda executable activation exports: the root's `bin/conda` if there is one.
pub fn conda_exe(ctx: &Context, argv: &[String]) -> PathBuf {
    let in_root = ctx.root_prefix.join("bin/conda");
    if in_root.exists() {
        return in_root;
    }
    super::common::exe_path(argv).unwrap_or_else(|| PathBuf::from("conda"))
}

fn settings(ctx: &Context, argv: &[String], shell: Shell) -> Settings {
    Settings {
        changeps1: ctx.config.changeps1,
        env_prompt: ctx.config.env_prompt.clone(),
        auto_stack: ctx.config.auto_stack,
        root_prefix: ctx.root_prefix.clone(),
        conda_exe: conda_exe(ctx, argv),
        envs_dirs: ctx.envs_dirs.clone(),
        script_ext: shell.script_extension(),
    }
}

/// Runs `shell.<shell>[+json] <command> [args]`; prints code for the shell to evaluate.
pub fn run(argv: &[String]) -> Result<u8> {
    let spec = argv[1].trim_start_matches("shell.");
    let (name, json) = match spec.strip_suffix("+json") {
        Some(n) => (n, true),
        None => (spec, false),
    };
    let shell = Shell::parse(name).ok_or_else(|| {
        CondaError::new(ErrorKind::CondaError, format!("{name} is not a supported shell. taipan supports posix, sh, ash, dash, bash, zsh, csh, tcsh, fish, xonsh and powershell."))
    })?;
    let output = Output::default();
    let ctx = Load::new(argv, &output).context()?;
    let s = settings(&ctx, argv, shell);
    let mut env: HashMap<String, String> = ctx.env.clone();
    if shell == Shell::Csh {
        // csh keeps its prompt in `$prompt`, which the dispatcher passes in; an exported PS1
        // belongs to some parent shell and must not become the csh prompt.
        match env.remove("__CONDA_CSH_PROMPT") {
            Some(prompt) => env.insert("PS1".into(), prompt),
            None => env.remove("PS1"),
        };
    }
    let rest = &argv[2..];
    let changes = match rest.first().map(String::as_str) {
        Some("hook") => {
            let auto = ctx
                .config
                .auto_activate
                .then(|| ctx.config.default_activation_env.clone());
            print!(
                "{}",
                taipan_shell::hook::hook(shell, &ctx.root_prefix, &s.conda_exe, auto.as_deref())
            );
            return Ok(0);
        }
        Some("activate") => {
            let (target, stack) = activate_args(&rest[1..], &ctx)?;
            let prefix = resolve(&ctx, &target)?;
            activate::activate(&env, &prefix, stack, &s)
        }
        Some("deactivate") => activate::deactivate(&env, &s),
        Some("reactivate") => activate::reactivate(&env, &s),
        _ => return Err(CondaError::argument(
            "'activate', 'deactivate', 'hook', 'commands', or 'reactivate' command must be given",
        )),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&taipan_shell::render::to_json(&changes))
                .unwrap_or_default()
        );
    } else {
        print!("{}", taipan_shell::render::render(shell, &changes));
    }
    Ok(0)
}

fn activate_args(args: &[String], ctx: &Context) -> Result<(String, bool)> {
    let mut stack = false;
    let mut target = None;
    for a in args {
        match a.as_str() {
            "--stack" => stack = true,
            "--no-stack" => stack = false,
            "--dev" => {}
            s if s.starts_with('-') => {
                return Err(CondaError::argument(format!("unrecognized arguments: {s}")))
            }
            s if target.is_none() => target = Some(s.to_string()),
            s => {
                return Err(CondaError::argument(format!(
                    "activate does not accept more than one argument: {s}"
                )))
            }
        }
    }
    Ok((
        target.unwrap_or_else(|| ctx.config.default_activation_env.clone()),
        stack,
    ))
}

/// An env name or path → a prefix that is an environment.
pub fn resolve(ctx: &Context, target: &str) -> Result<PathBuf> {
    if target.contains('/') {
        let path = taipan_env::context::absolute(&taipan_env::context::expand_user(
            Path::new(target),
            &ctx.home,
        ));
        if !path.join("conda-meta").is_dir() {
            return Err(CondaError::new(
                ErrorKind::EnvironmentLocationNotFound,
                format!("Not a conda environment: {}", path.display()),
            ));
        }
        return Ok(path);
    }
    if target == "base" || target == "root" {
        return Ok(ctx.root_prefix.clone());
    }
    ctx.envs_dirs
        .iter()
        .map(|d| d.join(target))
        .find(|p| p.join("conda-meta").is_dir())
        .ok_or_else(|| {
            CondaError::new(
                ErrorKind::EnvironmentNameNotFound,
                format!("Could not find conda environment: {target}\nYou can list all discoverable environments with `conda info --envs`."),
            )
        })
}

/// `taipan shell install-files -p PREFIX`: (re)writes the root prefix's activation files.
pub fn install_files(
    prefix: Option<PathBuf>,
    dry_run: bool,
    argv: &[String],
    output: &Output,
) -> Result<u8> {
    let ctx = Load::new(argv, output).context()?;
    let root = prefix
        .map(|p| taipan_env::context::absolute(&p))
        .unwrap_or(ctx.root_prefix.clone());
    let report = taipan_shell::files::install(&root, dry_run);
    super::init::print_report(&report, dry_run, output.json)
}
