//! `conda clean`.

use serde_json::{Map, Value};
use taipan_env::ops::clean::{clean, CleanRequest, Cleaned};
use taipan_env::{CondaError, Result};

use super::helpers::Load;
use crate::cli::CleanArgs;
use crate::output::clean::CleanCli;
use crate::output::Printer;

/// Runs `conda clean`.
pub fn run(a: CleanArgs, argv: &[String]) -> Result<u8> {
    let ctx = Load {
        yes: a.yes,
        ..Load::new(argv, &a.output)
    }
    .context()?;
    let request = CleanRequest {
        all: a.all,
        index_cache: a.index_cache,
        packages: a.packages,
        tarballs: a.tarballs,
        force_pkgs_dirs: a.force_pkgs_dirs,
        tempfiles: a.tempfiles.clone(),
        logfiles: a.logfiles,
        dry_run: a.dry_run,
    };
    if !request.has_target() {
        return Err(CondaError::argument(
            "At least one removal target must be given. See 'conda clean --help'.",
        ));
    }
    let printer = Printer::new(&a.output);
    let cli = CleanCli {
        printer,
        verbose: a.output.verbose > 0,
        yes: crate::settings::yes(&ctx, a.yes),
    };
    match clean(&ctx, &request, &cli)? {
        Cleaned::Declined => {
            eprintln!("\nCondaSystemExit: Exiting.\n");
        }
        Cleaned::Done(found) => {
            if printer.json {
                let mut out = Map::new();
                out.insert("success".into(), Value::Bool(true));
                for f in &found {
                    let (key, value) = f.to_json();
                    out.insert(key.into(), value);
                }
                printer.json(&Value::Object(out));
            }
            if a.dry_run && !printer.json {
                eprintln!("\nDryRunExit: Dry run. Exiting.\n");
            }
        }
    }
    Ok(0)
}
