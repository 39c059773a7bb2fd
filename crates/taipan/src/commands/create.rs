//! `conda create`.

use std::collections::HashSet;
use taipan_env::error::ErrorKind;

use taipan_env::history::Entry;
use taipan_env::solve::{parse_spec, Kind, Request};
use taipan_env::transaction::Plan;
use taipan_env::{CondaError, Result};

use super::common::{history_cmd, Load};
use super::transact::{self, carry_out, Options};
use crate::cli::CreateArgs;

/// Runs `conda create`.
pub async fn run(a: CreateArgs, argv: &[String]) -> Result<u8> {
    let s = &a.solve;
    if s.target.name.is_none() && s.target.prefix.is_none() {
        return Err(CondaError::argument(
            "one of the arguments -n/--name -p/--prefix is required",
        ));
    }
    let ctx = Load::for_solve(argv, s).context()?;
    // What killed downloads and extractions left in the cache goes first.
    taipan_env::cache::sweep(&ctx);
    let prefix = ctx.target_prefix(s.target.name.as_deref(), s.target.prefix.as_deref())?;
    if taipan_env::context::same_path(&prefix, &ctx.root_prefix)
        && taipan_env::registry::is_conda_env(&prefix)
    {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            "The target prefix is the base prefix. Aborting.",
        ));
    }
    taipan_env::registry::finish_removals(&ctx);
    check_existing(
        &ctx,
        &prefix,
        s.dry_run,
        s.yes || ctx.config.always_yes.unwrap_or(false) || s.output.json,
    )
    .await?;
    if !s.dry_run && !taipan_env::context::dir_writable(&prefix) {
        return Err(taipan_env::prefix_lock::not_writable(&prefix, None));
    }
    let (file_specs, urls) = transact::read_files(&s.file)?;
    let mut texts: Vec<String> = s.specs.iter().chain(&file_specs).cloned().collect();
    if !a.no_default_packages && a.clone.is_none() && !texts.is_empty() {
        texts.extend(ctx.config.create_default_packages.iter().cloned());
    }
    let specs = texts
        .iter()
        .map(|t| parse_spec(t))
        .collect::<Result<Vec<_>>>()?;
    let entry = Entry {
        cmd: history_cmd(argv),
        update_specs: transact::spec_strings(&texts),
        ..Entry::default()
    };
    let opts = Options::for_solve(s, entry.update_specs.clone(), &specs);
    let plan = if let Some(source) = &a.clone {
        let src = clone_source(&ctx, source)?;
        let records: Vec<_> = taipan_env::prefix::records(&src)?
            .into_iter()
            .map(|r| r.repodata_record)
            .collect();
        Plan::new(&prefix, &[], records, &HashSet::new(), ctx.subdir)?
    } else if !urls.is_empty() {
        let (records, _held) = taipan_env::ops::explicit_records(&ctx, &urls).await?;
        Plan::new(&prefix, &[], records, &HashSet::new(), ctx.subdir)?
    } else if specs.is_empty() {
        return create_empty(&ctx, &prefix, &entry, &opts).await;
    } else {
        let req = Request {
            specs: specs.clone(),
            no_deps: s.no_deps,
            only_deps: s.only_deps,
            no_pin: s.no_pin,
            ..Request::default()
        };
        taipan_env::ops::solve_request(
            &ctx,
            &prefix,
            Kind::Create,
            req,
            HashSet::new(),
            &transact::SolveSteps::new(&ctx, s.output.json || s.output.quiet),
        )
        .await?
        .plan
    };
    let code = carry_out(&ctx, &plan, entry, opts, None).await?;
    if code == 0
        && !s.dry_run
        && !s.download_only
        && taipan_env::context::same_path(&prefix, &ctx.root_prefix)
    {
        root_files(&prefix)?;
    }
    if !s.output.json && !s.output.quiet && !s.dry_run && !s.download_only {
        print_activate_hint(&ctx.activate_name(&prefix));
    }
    Ok(code)
}

/// A root prefix carries `bin/conda` and the activation files (Part 2 of the distribution).
fn root_files(root: &std::path::Path) -> Result<()> {
    let conda = root.join("bin/conda");
    if !conda.exists() {
        let exe = std::env::current_exe()?;
        std::fs::create_dir_all(root.join("bin"))?;
        std::os::unix::fs::symlink(exe, &conda)?;
    }
    taipan_shell::files::install(root, false);
    Ok(())
}

fn clone_source(ctx: &taipan_env::context::Context, source: &str) -> Result<std::path::PathBuf> {
    let path = if source.contains('/') {
        taipan_env::context::absolute(std::path::Path::new(source))
    } else {
        ctx.prefix_for_name(source)?
    };
    if !taipan_env::registry::is_conda_env(&path) {
        return Err(CondaError::new(
            ErrorKind::EnvironmentLocationNotFound,
            format!("Not a conda environment: {}", path.display()),
        ));
    }
    Ok(path)
}

/// An existing environment is replaced only with confirmation (`-y`); `--dry-run` refuses.
/// It is removed as `remove --all` removes it.
async fn check_existing(
    ctx: &taipan_env::context::Context,
    prefix: &std::path::Path,
    dry_run: bool,
    yes: bool,
) -> Result<()> {
    if !taipan_env::registry::is_conda_env(prefix) {
        if prefix.exists()
            && std::fs::read_dir(prefix)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
        {
            return Err(CondaError::new(
                ErrorKind::CondaValueError,
                format!("The target directory exists but is not a conda environment: {}\n  Choose another name or path, or empty that directory first.", prefix.display()),
            ));
        }
        return Ok(());
    }
    if dry_run {
        return Err(CondaError::new(
            ErrorKind::CondaValueError,
            "Cannot `create --dry-run` with an existing conda environment",
        ));
    }
    if !yes {
        println!(
            "WARNING: A conda environment already exists at '{}'\n",
            prefix.display()
        );
        if !crate::output::confirm_remove()? {
            return Err(CondaError::new(ErrorKind::CondaSystemExit, "Exiting."));
        }
    }
    let lock = super::common::lock_env(prefix).await?;
    taipan_env::ops::remove_env(ctx, prefix, lock).await
}

async fn create_empty(
    ctx: &taipan_env::context::Context,
    prefix: &std::path::Path,
    entry: &Entry,
    opts: &Options,
) -> Result<u8> {
    if opts.dry_run {
        if opts.json {
            let v = serde_json::json!({"actions": {"FETCH": [], "PREFIX": prefix.display().to_string()}, "dry_run": true, "prefix": prefix.display().to_string(), "success": true});
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        } else {
            eprintln!("\nDryRunExit: Dry run. Exiting.\n");
        }
        return Ok(0);
    }
    taipan_env::ops::create_empty(ctx, prefix, entry).await?;
    if opts.json {
        let v = serde_json::json!({"actions": {"PREFIX": prefix.display().to_string()}, "prefix": prefix.display().to_string(), "success": true});
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else if !opts.quiet {
        println!(
            "\n## Package Plan ##\n\n  environment location: {}\n\n",
            prefix.display()
        );
        print_activate_hint(&ctx.activate_name(prefix));
    }
    Ok(0)
}

fn print_activate_hint(name: &str) {
    println!("#\n# To activate this environment, use\n#\n#     $ conda activate {name}\n#\n# To deactivate an active environment, use\n#\n#     $ conda deactivate\n");
}
