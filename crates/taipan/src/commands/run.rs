//! `conda run`: a command inside an activated environment, its exit code passed through.

use std::io::Write;
use std::process::Command;
use taipan_env::error::ErrorKind;

use taipan_env::{CondaError, Result};

use super::helpers::Load;
use crate::cli::RunArgs;

/// Runs `conda run`.
pub fn run(a: RunArgs, argv: &[String]) -> Result<u8> {
    if a.command.is_empty() {
        return Err(CondaError::argument(
            "No command specified. Usage: conda run [-n ENV | -p PREFIX] COMMAND [ARGS...]",
        ));
    }
    let ctx = Load {
        target: Some(&a.target),
        ..Load::new(argv, &a.output)
    }
    .context()?;
    let prefix = match (&a.target.name, &a.target.prefix) {
        (Some(n), _) => ctx.resolve_env(n).or_else(|e| match e.kind {
            // conda 26's `run -n` names the prefix it looked for, as other commands do.
            ErrorKind::EnvironmentNameNotFound => Err(taipan_env::context::location_not_found(
                &ctx.prefix_for_name(n)?,
            )),
            _ => Err(e),
        })?,
        (None, Some(p)) => {
            ctx.resolve_env(&taipan_env::context::absolute(p).display().to_string())?
        }
        (None, None) => ctx.target_prefix(None, None)?,
    };
    if let Some(cwd) = &a.cwd {
        if !cwd.is_dir() {
            return Err(CondaError::new(
                ErrorKind::CondaError,
                format!("--cwd: {} is not a directory", cwd.display()),
            ));
        }
    }
    let script = wrapper(&ctx, &prefix, &a.command)?;
    let mut cmd = Command::new("bash");
    cmd.arg(script.path());
    if let Some(cwd) = &a.cwd {
        cmd.current_dir(cwd);
    }
    let code = if a.no_capture_output || a.live_stream {
        cmd.status()
            .map_err(|e| CondaError::generic(format!("cannot start bash: {e}")))?
            .code()
    } else {
        let out = cmd
            .output()
            .map_err(|e| CondaError::generic(format!("cannot start bash: {e}")))?;
        let _ = std::io::stdout().write_all(&out.stdout);
        let _ = std::io::stderr().write_all(&out.stderr);
        out.status.code()
    };
    let code = code.unwrap_or(1);
    if code != 0 {
        tracing::error!(
            "`conda run {}` failed. (See above for error)",
            a.command.join(" ")
        );
    }
    Ok(code.clamp(0, 255) as u8)
}

/// A bash script: activate the env (package activate.d scripts included), run the command,
/// run the deactivate.d scripts, exit with the command's code.
fn wrapper(
    ctx: &taipan_env::context::Context,
    prefix: &std::path::Path,
    command: &[String],
) -> Result<tempfile::NamedTempFile> {
    let settings = taipan_shell::activate::Settings {
        changeps1: false,
        env_prompt: String::new(),
        auto_stack: 0,
        root_prefix: ctx.root_prefix.clone(),
        conda_exe: ctx.conda_exe(),
        envs_dirs: ctx.envs_dirs.clone(),
        script_ext: "sh",
    };
    let body = taipan_shell::wrap::run_script(&ctx.env, prefix, &settings, command);
    let mut file = tempfile::Builder::new()
        .prefix("conda-run")
        .suffix(".sh")
        .tempfile()?;
    file.write_all(body.as_bytes())?;
    Ok(file)
}
