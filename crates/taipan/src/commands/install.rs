//! `conda install`.

use std::collections::HashSet;
use taipan_env::error::ErrorKind;

use rattler_conda_types::match_spec::Matches;
use taipan_env::history::Entry;
use taipan_env::solve::{parse_spec, Kind};
use taipan_env::transaction::Plan;
use taipan_env::{CondaError, Result};

use super::common::{history_cmd, Load};
use super::transact::{self, carry_out, Options};
use crate::cli::InstallArgs;

/// Runs `conda install`.
pub async fn run(a: InstallArgs, argv: &[String]) -> Result<u8> {
    let s = &a.solve;
    let ctx = Load::for_solve(argv, s).context()?;
    // What killed downloads and extractions left in the cache goes first.
    taipan_env::cache::sweep(&ctx);
    let prefix = ctx.target_prefix(s.target.name.as_deref(), s.target.prefix.as_deref())?;
    ctx.require_env(&prefix, s.target.name.as_deref())?;
    let (file_specs, urls) = transact::read_files(&s.file)?;
    let texts: Vec<String> = s.specs.iter().chain(&file_specs).cloned().collect();
    if texts.is_empty() && urls.is_empty() && !a.update_all {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            "too few arguments, must supply command line package specs or --file\n\nExample: conda install -n myenv scipy",
        ));
    }
    let specs = texts
        .iter()
        .map(|t| parse_spec(t))
        .collect::<Result<Vec<_>>>()?;
    // Held until the transaction ends: what is solved against is what is changed.
    let mut lock = super::common::lock_env(&prefix).await?;
    let installed = taipan_env::prefix::records(&prefix)?;
    let mut entry = Entry {
        cmd: history_cmd(argv),
        update_specs: transact::spec_strings(&texts),
        ..Entry::default()
    };
    let opts = Options::for_solve(s, entry.update_specs.clone(), &specs);
    if a.modify.satisfied_skip_solve && !specs.is_empty() && all_satisfied(&specs, &installed) {
        return carry_out(
            &ctx,
            &Plan::new(
                &prefix,
                &installed,
                installed
                    .iter()
                    .map(|r| r.repodata_record.clone())
                    .collect(),
                &HashSet::new(),
                ctx.subdir,
            )?,
            entry,
            opts,
            Some(&mut lock),
        )
        .await;
    }
    let plan = if !urls.is_empty() {
        taipan_env::ops::explicit_plan(&ctx, &prefix, &installed, &urls).await?
    } else {
        let reinstall = if a.modify.force_reinstall {
            specs
                .iter()
                .filter_map(|s| s.name.as_exact().cloned())
                .collect()
        } else {
            HashSet::new()
        };
        let req = transact::request(specs, s, &a.modify, a.update_all, a.modify.update_specs);
        let solved = taipan_env::ops::solve_request(
            &ctx,
            &prefix,
            Kind::Install,
            req,
            reinstall,
            &transact::SolveSteps::new(&ctx, s.output.json || s.output.quiet),
        )
        .await?;
        for w in &solved.installed.warnings {
            eprintln!("WARNING: {w}");
        }
        entry.neutered_specs = solved.neutered;
        solved.plan
    };
    let code = carry_out(&ctx, &plan, entry, opts, Some(&mut lock)).await;
    lock.release().await;
    code
}

/// Every spec matches an installed record.
fn all_satisfied(
    specs: &[rattler_conda_types::MatchSpec],
    installed: &[rattler_conda_types::PrefixRecord],
) -> bool {
    specs
        .iter()
        .all(|s| installed.iter().any(|r| s.matches(&r.repodata_record)))
}
