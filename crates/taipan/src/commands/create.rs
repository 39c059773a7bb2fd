//! `conda create` (and `conda env create`, which is create with `--file`).

use taipan_env::{CondaError, Result};

use super::helpers::Load;
use crate::cli::CreateArgs;
use crate::output::{reporter::CliReporter, results, Printer};

/// Runs `conda create`.
pub async fn run(mut a: CreateArgs, argv: &[String]) -> Result<u8> {
    let env_files = crate::settings::env_files(&a.solve)?;
    a.solve.target = crate::settings::file_target(&a.solve.target, &env_files);
    let s = &a.solve;
    if s.target.name.is_none() && s.target.prefix.is_none() {
        return Err(CondaError::argument(if env_files.is_empty() {
            "one of the arguments -n/--name -p/--prefix is required"
        } else {
            "The environment file(s) do not specify a name or prefix. Please provide one via -n/--name or -p/--prefix."
        }));
    }
    let ctx = Load {
        env_files: &env_files,
        ..Load::for_solve(argv, s)
    }
    .context()?;
    taipan_env::cache::sweep(&ctx);
    let request = crate::settings::create(&ctx, &a, argv, env_files)?;
    let prefix = request.change.prefix.clone();
    let printer = Printer::new(&s.output);
    let reporter = CliReporter::new(printer, crate::settings::yes(&ctx, s.yes))
        .channel_urls(ctx.config.show_channel_urls);
    let created = taipan_env::ops::create(&ctx, request, &reporter).await?;
    let name = ctx.activate_name(&prefix);
    Ok(results::created(printer, &created, &prefix, &name))
}
