//! `conda update` / `conda upgrade`.

use taipan_env::Result;

use super::helpers::Load;
use crate::cli::UpdateArgs;
use crate::output::{reporter::CliReporter, results, Printer};

/// Runs `conda update`.
pub async fn run(a: UpdateArgs, argv: &[String]) -> Result<u8> {
    let ctx = Load::for_solve(argv, &a.solve).context()?;
    taipan_env::cache::sweep(&ctx);
    let request = crate::settings::update(&ctx, &a, argv)?;
    let printer = Printer::new(&a.solve.output);
    let reporter = CliReporter::new(printer, crate::settings::yes(&ctx, a.solve.yes))
        .channel_urls(ctx.config.show_channel_urls);
    let done = taipan_env::ops::update(&ctx, request, &reporter).await?;
    Ok(results::transacted(printer, &done))
}
