//! `conda create`.

use taipan_env::{CondaError, Result};

use super::helpers::Load;
use crate::cli::CreateArgs;
use crate::output::{reporter::CliReporter, results, Printer};

/// Runs `conda create`.
pub async fn run(a: CreateArgs, argv: &[String]) -> Result<u8> {
    let s = &a.solve;
    if s.target.name.is_none() && s.target.prefix.is_none() {
        return Err(CondaError::argument(
            "one of the arguments -n/--name -p/--prefix is required",
        ));
    }
    let ctx = Load::for_solve(argv, s).context()?;
    taipan_env::cache::sweep(&ctx);
    let request = crate::settings::create(&ctx, &a, argv)?;
    let prefix = request.change.prefix.clone();
    let printer = Printer::new(&s.output);
    let reporter = CliReporter::new(printer, crate::settings::yes(&ctx, s.yes));
    let created = taipan_env::ops::create(&ctx, request, &reporter).await?;
    let name = ctx.activate_name(&prefix);
    Ok(results::created(printer, &created, &prefix, &name))
}
