//! `conda rename`.

use taipan_env::ops::rename::{rename, RenameRequest, Renamed};
use taipan_env::Result;

use super::helpers::{history_cmd, Load};
use crate::cli::RenameArgs;
use crate::output::{reporter::CliReporter, Printer};

/// Runs `conda rename`.
pub async fn run(a: RenameArgs, argv: &[String]) -> Result<u8> {
    let ctx = Load {
        target: Some(&a.target),
        ..Load::new(argv, &a.output)
    }
    .context()?;
    let source = ctx.target_prefix(a.target.name.as_deref(), a.target.prefix.as_deref())?;
    ctx.require_env(&source, a.target.name.as_deref())?;
    let printer = Printer::new(&a.output);
    let reporter = CliReporter::new(printer, true);
    let request = RenameRequest {
        source,
        destination: a.destination.clone(),
        dry_run: a.dry_run,
        yes: a.yes || a.force,
        cmd: history_cmd(argv),
    };
    match rename(&ctx, request, &reporter).await? {
        Renamed::DryRun(lines) => {
            for l in lines {
                println!("{l}");
            }
        }
        Renamed::Done(prefix) => {
            if printer.json {
                printer.json(
                    &serde_json::json!({"success": true, "prefix": prefix.display().to_string()}),
                );
            }
        }
    }
    Ok(0)
}
