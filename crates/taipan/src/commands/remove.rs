//! `conda remove` / `conda uninstall`.

use taipan_env::error::ErrorKind;
use taipan_env::history::Entry;
use taipan_env::transaction::Plan;
use taipan_env::{CondaError, Result};

use super::common::{history_cmd, Load};
use super::transact::{carry_out, Options};
use crate::cli::RemoveArgs;

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
    let prefix = ctx.target_prefix(a.target.name.as_deref(), a.target.prefix.as_deref())?;
    taipan_env::registry::finish_removals(&ctx);
    ctx.require_env(&prefix, a.target.name.as_deref())?;
    if a.all {
        return remove_env(&ctx, &prefix, &a).await;
    }
    if a.names.is_empty() {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            "no package names supplied,\n       try \"conda remove -h\" for more details",
        ));
    }
    let names: Vec<String> = a
        .names
        .iter()
        .map(|n| taipan_env::history::spec_name(n))
        .collect();
    let mut lock = super::common::lock_env(&prefix).await?;
    let installed = taipan_env::prefix::installed(&ctx, &prefix)?;
    for w in &installed.warnings {
        eprintln!("WARNING: {w}");
    }
    let removed = taipan_env::solve::removal(&installed, &names, a.force)?;
    if taipan_env::context::same_path(&prefix, &ctx.root_prefix) {
        refuse_removing_conda(&removed)?;
    }
    let plan = Plan::removal(&prefix, &installed.records, removed, ctx.subdir);
    let entry = Entry {
        cmd: history_cmd(argv),
        remove_specs: names.clone(),
        ..Entry::default()
    };
    let opts = Options {
        json: a.output.json,
        quiet: a.output.quiet,
        yes: a.yes,
        dry_run: a.dry_run,
        download_only: false,
        removed_specs: names,
        updated_specs: Vec::new(),
        requested: Default::default(),
    };
    let code = carry_out(&ctx, &plan, entry, opts, Some(&mut lock)).await;
    lock.release().await;
    code
}

fn refuse_removing_conda(removed: &[rattler_conda_types::PrefixRecord]) -> Result<()> {
    if removed
        .iter()
        .any(|r| r.repodata_record.package_record.name.as_normalized() == "conda")
    {
        return Err(CondaError::new(
            ErrorKind::RemoveError,
            "This operation will remove conda without replacing it with\nanother version of conda.",
        ));
    }
    Ok(())
}

async fn remove_env(
    ctx: &taipan_env::context::Context,
    prefix: &std::path::Path,
    a: &RemoveArgs,
) -> Result<u8> {
    if taipan_env::context::same_path(prefix, &ctx.root_prefix) {
        return Err(CondaError::new(
            ErrorKind::CondaEnvironmentError,
            "cannot remove root environment, add -n NAME or -p PREFIX option",
        ));
    }
    if ctx
        .active_prefix()
        .is_some_and(|p| taipan_env::context::same_path(&p, prefix))
    {
        return Err(CondaError::new(
            ErrorKind::CondaEnvironmentError,
            "Cannot remove current environment. Deactivate and run conda remove again",
        ));
    }
    if a.dry_run {
        if !a.output.json {
            println!(
                "\nRemove all packages in environment {}:\n",
                prefix.display()
            );
            eprintln!("\nDryRunExit: Dry run. Exiting.\n");
        }
        return Ok(0);
    }
    if !a.output.json && !a.output.quiet {
        println!(
            "\nRemove all packages in environment {}:\n",
            prefix.display()
        );
    }
    if !crate::output::confirm(
        a.yes || ctx.config.always_yes.unwrap_or(false),
        a.output.json,
    )? {
        return Ok(0);
    }
    let lock = super::common::lock_env(prefix).await?;
    taipan_env::ops::remove_env(ctx, prefix, lock).await?;
    if a.output.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"success": true, "prefix": prefix.display().to_string()})
            )
            .unwrap_or_default()
        );
    }
    Ok(0)
}
