//! `conda install`.

use taipan_env::Result;

use super::helpers::Load;
use crate::cli::InstallArgs;
use crate::output::{reporter::CliReporter, results, Printer};

/// Runs `conda install`.
pub async fn run(a: InstallArgs, argv: &[String]) -> Result<u8> {
    let ctx = Load::for_solve(argv, &a.solve).context()?;
    taipan_env::cache::sweep(&ctx);
    let request = crate::settings::install(&ctx, &a, argv)?;
    let printer = Printer::new(&a.solve.output);
    let reporter = CliReporter::new(printer, crate::settings::yes(&ctx, a.solve.yes));
    let done = taipan_env::ops::install(&ctx, request, &reporter).await?;
    Ok(results::transacted(printer, &done))
}
