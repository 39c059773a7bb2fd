//! `conda remove` / `conda uninstall`.

use taipan_env::Result;

use super::helpers::Load;
use crate::cli::RemoveArgs;
use crate::output::{reporter::CliReporter, results, Printer};

/// Runs `conda remove`.
pub async fn run(a: RemoveArgs, argv: &[String]) -> Result<u8> {
    let ctx = Load {
        target: Some(&a.target),
        channels: Some(&a.channels),
        yes: a.yes,
        ..Load::new(argv, &a.output)
    }
    .context()?;
    taipan_env::cache::sweep(&ctx);
    let request = crate::settings::remove(&ctx, &a, argv)?;
    let prefix = request.prefix.clone();
    let printer = Printer::new(&a.output);
    let reporter = CliReporter::new(printer, crate::settings::yes(&ctx, a.yes))
        .channel_urls(ctx.config.show_channel_urls);
    let removed = taipan_env::ops::remove(&ctx, request, &reporter).await?;
    Ok(results::removed(printer, &removed, &prefix))
}
