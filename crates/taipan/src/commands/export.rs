//! `conda export` and `conda env export`.

use serde_json::json;
use taipan_env::error::ErrorKind;
use taipan_env::export::{self, ExportRequest, Format};
use taipan_env::{CondaError, Result};

use super::helpers::Load;
use crate::cli::{ChannelArgs, ExportArgs};
use crate::output::Printer;

/// Runs `conda export`.
pub fn run(a: ExportArgs) -> Result<u8> {
    let argv = super::helpers::argv();
    let channels = ChannelArgs {
        channel: a.channel.clone(),
        override_channels: a.override_channels,
        ..ChannelArgs::default()
    };
    let ctx = Load {
        target: Some(&a.target),
        channels: Some(&channels),
        ..Load::new(&argv, &a.output)
    }
    .context()?;
    check_platforms(&a.platform, ctx.subdir.as_str())?;
    let format = pick_format(&a)?;
    let prefix = ctx.target_prefix(a.target.name.as_deref(), a.target.prefix.as_deref())?;
    ctx.require_env(&prefix, a.target.name.as_deref())?;
    super::helpers::refuse_if_interrupted(&prefix)?;
    let env = export::environment(&ExportRequest {
        name: ctx.activate_name(&prefix),
        prefix,
        subdir: ctx.subdir.as_str().to_string(),
        channels: ctx.config.channels.clone(),
        from_history: a.from_history,
        no_builds: a.no_builds,
        ignore_channels: a.ignore_channels,
    })?;
    let text = export::render(&env, format)?;
    let warning = export::pip_warning(&env);
    let printer = Printer::new(&a.output);
    match &a.file {
        Some(file) => {
            taipan_env::fsutil::write_atomic(file, text.as_bytes())?;
            if printer.json {
                printer.json(&json!({"success": true, "file": file.display().to_string(), "format": format.name(), "warnings": warning.iter().collect::<Vec<_>>()}));
            } else if let (Some(w), false) = (&warning, printer.quiet) {
                eprintln!("CondaExportWarning: {w}");
            }
        }
        None => {
            if let (Some(w), false) = (&warning, printer.quiet || printer.json) {
                eprintln!("CondaExportWarning: {w}");
            }
            print!("{text}");
        }
    }
    Ok(0)
}

/// `--format` wins; else the file's name decides; else `--json` alone means JSON (conda's
/// old `env export --json`); else YAML.
fn pick_format(a: &ExportArgs) -> Result<Format> {
    if let Some(name) = &a.format {
        return Format::from_name(name).ok_or_else(|| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!("Unknown export format '{name}'."),
            )
        });
    }
    if let Some(file) = &a.file {
        return Format::detect(file);
    }
    Ok(if a.output.is_json() {
        Format::EnvironmentJson
    } else {
        Format::EnvironmentYaml
    })
}

/// Exporting for another platform needs a solve for it, which taipan does not do here.
fn check_platforms(platforms: &[String], subdir: &str) -> Result<()> {
    for p in platforms {
        if p.parse::<rattler_conda_types::Subdir>().is_err() {
            return Err(CondaError::new(
                ErrorKind::CondaValueError,
                format!("Could not find platform(s): {p}. Valid platforms include: linux-64, linux-aarch64, osx-64, osx-arm64, win-64, noarch, …"),
            ));
        }
        if p != subdir {
            return Err(CondaError::new(
                ErrorKind::CondaValueError,
                format!("taipan exports for this machine's platform ({subdir}) only, not {p}.\n  Run the export on a {p} machine, or use `--from-history` and create the environment there."),
            ));
        }
    }
    if platforms.len() > 1 {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            "Multiple platforms are not supported for this exporter",
        ));
    }
    Ok(())
}
