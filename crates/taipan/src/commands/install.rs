//! `conda install`.

use taipan_env::Result;

use super::helpers::Load;
use crate::cli::InstallArgs;
use crate::output::{reporter::CliReporter, results, Printer};

/// Runs `conda install`.
pub async fn run(a: InstallArgs, argv: &[String]) -> Result<u8> {
    run_with(a, argv, true).await
}

/// `conda env update` installs as install does, without showing the plan (as conda).
pub async fn run_without_plan(a: InstallArgs, argv: &[String]) -> Result<u8> {
    run_with(a, argv, false).await
}

async fn run_with(a: InstallArgs, argv: &[String], show_plan: bool) -> Result<u8> {
    if let Some(revision) = a.revision {
        return run_revision(a, revision, argv).await;
    }
    let env_files = crate::settings::env_files(&a.solve)?;
    let ctx = Load {
        env_files: &env_files,
        ..Load::for_solve(argv, &a.solve)
    }
    .context()?;
    taipan_env::cache::sweep(&ctx);
    let request = crate::settings::install(&ctx, &a, argv, env_files)?;
    let printer = Printer::new(&a.solve.output);
    let reporter = CliReporter::new(printer, crate::settings::yes(&ctx, a.solve.yes))
        .showing_plan(show_plan)
        .channel_urls(ctx.config.show_channel_urls);
    let done = taipan_env::ops::install(&ctx, request, &reporter).await?;
    Ok(results::transacted(printer, &done))
}

/// `conda install --revision N`: no specs or files with it, as in conda.
async fn run_revision(a: InstallArgs, revision: i64, argv: &[String]) -> Result<u8> {
    if !a.solve.specs.is_empty() || !a.solve.file.is_empty() {
        return Err(taipan_env::CondaError::new(
            taipan_env::error::ErrorKind::CondaValueError,
            "too many arguments, must supply one of command line packages, --file or --revision",
        ));
    }
    let ctx = Load::for_solve(argv, &a.solve).context()?;
    taipan_env::cache::sweep(&ctx);
    let request = crate::settings::revision(&ctx, &a, revision, argv)?;
    let printer = Printer::new(&a.solve.output);
    let reporter = CliReporter::new(printer, crate::settings::yes(&ctx, a.solve.yes))
        .channel_urls(ctx.config.show_channel_urls);
    let done = taipan_env::ops::install_revision(&ctx, request, &reporter).await?;
    Ok(results::transacted(printer, &done))
}
