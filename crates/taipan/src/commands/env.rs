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
    crate::output::envs::print_envs(&ctx, a.output.json);
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
        if a.output.json {
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
            vars.remove(&key);
        }
    }
    if let Some(obj) = state.as_object_mut() {
        obj.insert("env_vars".into(), serde_json::Value::Object(vars));
    }
    let text = serde_json::to_string_pretty(&state).unwrap_or_default();
    taipan_env::fsutil::write_atomic(&state_path, text.as_bytes())?;
    if !a.output.json && !a.output.quiet {
        println!("To make your changes take effect please reactivate your environment");
    }
    Ok(0)
}
