//! `conda update` / `conda upgrade`.

use std::collections::HashSet;
use taipan_env::error::ErrorKind;

use taipan_env::history::Entry;
use taipan_env::solve::{parse_spec, Kind};
use taipan_env::{CondaError, Result};

use super::common::{history_cmd, Load};
use super::transact::{self, carry_out, Options};
use crate::cli::UpdateArgs;

/// Runs `conda update`.
pub async fn run(a: UpdateArgs, argv: &[String]) -> Result<u8> {
    let s = &a.solve;
    let ctx = Load::for_solve(argv, s).context()?;
    // What killed downloads and extractions left in the cache goes first.
    taipan_env::cache::sweep(&ctx);
    let prefix = ctx.target_prefix(s.target.name.as_deref(), s.target.prefix.as_deref())?;
    ctx.require_env(&prefix, s.target.name.as_deref())?;
    let (file_specs, urls) = transact::read_files(&s.file)?;
    if !urls.is_empty() {
        return Err(CondaError::new(ErrorKind::CondaValueError, "`conda update --file` cannot use an @EXPLICIT file; use `conda install --file` instead."));
    }
    let names: Vec<String> = s.specs.iter().chain(&file_specs).cloned().collect();
    if names.is_empty() && !a.all {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            "no package names supplied\n# Example: conda update -n myenv scipy",
        ));
    }
    let mut lock = super::common::lock_env(&prefix).await?;
    let installed = taipan_env::prefix::records(&prefix)?;
    check_names(&names, &installed, &prefix)?;
    let specs = names
        .iter()
        .map(|t| parse_spec(t))
        .collect::<Result<Vec<_>>>()?;
    let mut entry = Entry {
        cmd: history_cmd(argv),
        update_specs: transact::spec_strings(&names),
        ..Entry::default()
    };
    let opts = Options::for_solve(s, entry.update_specs.clone(), &specs);
    let req = transact::request(specs, s, &a.modify, a.all, true);
    let solved = taipan_env::ops::solve_request(
        &ctx,
        &prefix,
        Kind::Update,
        req,
        HashSet::new(),
        &transact::SolveSteps::new(&ctx, s.output.json || s.output.quiet),
    )
    .await?;
    for w in &solved.installed.warnings {
        eprintln!("WARNING: {w}");
    }
    entry.neutered_specs = solved.neutered;
    let code = carry_out(&ctx, &solved.plan, entry, opts, Some(&mut lock)).await;
    lock.release().await;
    code
}

/// `update` takes installed package names only.
fn check_names(
    names: &[String],
    installed: &[rattler_conda_types::PrefixRecord],
    prefix: &std::path::Path,
) -> Result<()> {
    for n in names {
        let name = taipan_env::history::spec_name(n);
        if name != n.trim().to_ascii_lowercase() {
            return Err(CondaError::new(
                ErrorKind::CondaValueError,
                format!("Invalid spec for 'conda update': {n}\nUse 'conda install' instead."),
            ));
        }
        if !installed
            .iter()
            .any(|r| r.repodata_record.package_record.name.as_normalized() == name)
        {
            return Err(CondaError::new(
                ErrorKind::PackageNotInstalledError,
                format!(
                    "Package is not installed in prefix.\n  prefix: {}\n  package name: {n}",
                    prefix.display()
                ),
            ));
        }
    }
    Ok(())
}
