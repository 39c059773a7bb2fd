//! `conda shell.<shell> activate|deactivate|reactivate|hook` and `taipan shell install-files`.

use std::collections::HashMap;
use std::path::PathBuf;
use taipan_env::error::ErrorKind;

use taipan_env::context::Context;
use taipan_env::{CondaError, Result};
use taipan_shell::activate::{self, Settings};
use taipan_shell::Shell;

use super::helpers::Load;
use crate::cli::Output;

fn settings(ctx: &Context, shell: Shell) -> Settings {
    Settings {
        changeps1: ctx.config.changeps1,
        env_prompt: ctx.config.env_prompt.clone(),
        auto_stack: ctx.config.auto_stack,
        root_prefix: ctx.root_prefix.clone(),
        conda_exe: ctx.conda_exe(),
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
    let s = settings(&ctx, shell);
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
            let prefix = ctx.resolve_env(&target)?;
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
    crate::output::init::print_report(&report, dry_run, output.is_json())
}
