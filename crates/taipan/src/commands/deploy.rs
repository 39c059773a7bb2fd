//! `taipan deploy`: plan, confirm (for --uninstall), carry out, report.

use std::io::{BufRead, IsTerminal, Write};
use taipan_env::error::ErrorKind;

use taipan_deploy::{Deployment, Options};
use taipan_env::{CondaError, Result};

use super::helpers;
use crate::cli::DeployArgs;

/// Runs the deployment (or its plan); exit 0 on success, 1 when a step failed.
pub async fn run(a: DeployArgs) -> Result<u8> {
    helpers::init_logging(a.output.verbose);
    let json = a.output.is_json();
    let quiet = a.output.is_quiet() || json;
    let opts = Options {
        installer: a.installer.clone(),
        sha256: a.sha256.clone(),
        prefix: a.prefix.clone(),
        user: a.user.clone(),
        shells: a.shells.clone(),
        shared: a.shared.clone(),
        upgrade: !a.no_upgrade,
        update: !a.no_update,
        dry_run: a.dry_run,
        uninstall: a.uninstall,
        log_file: Some(a.log_file.clone()),
        taipan_binary: match &a.taipan_binary {
            Some(b) => b.clone(),
            None => std::env::current_exe()?,
        },
        env: std::env::vars().collect(),
    };
    let progress: Box<dyn FnMut(&str)> = if quiet {
        Box::new(|_| {})
    } else {
        Box::new(|line| eprintln!("taipan deploy: {line}"))
    };
    let mut deployment = Deployment::prepare(opts, progress)?;
    let plan = deployment.plan();
    if a.dry_run {
        print(&plan, json);
        return Ok(0);
    }
    if !json {
        // The steps are shown as they run and summed up at the end (`--dry-run` shows the
        // whole plan).
        println!(
            "taipan deploy: {} for {} in {}",
            plan.os.pretty_name,
            plan.user,
            plan.prefix.display()
        );
    }
    if a.uninstall && !a.yes {
        confirm(&plan.prefix)?;
    }
    let report = deployment.run().await;
    print(&report, json);
    if let Some(error) = &report.error {
        if !json {
            eprintln!("\n{error}\n");
        }
        return Ok(1);
    }
    Ok(0)
}

fn print(report: &taipan_deploy::Report, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(report).unwrap_or_default()
        );
    } else {
        print!("{}", taipan_deploy::report::render(report));
    }
}

/// Asks before removing an installation; without a terminal, --yes is required.
fn confirm(prefix: &std::path::Path) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CondaError::new(
            ErrorKind::DeployError,
            format!(
                "taipan deploy --uninstall would remove {} and everything in it; pass --yes to confirm when not at a terminal.",
                prefix.display()
            ),
        ));
    }
    eprint!("Remove {} and everything in it? [y/N] ", prefix.display());
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        return Ok(());
    }
    Err(CondaError::new(
        ErrorKind::CondaSystemExit,
        "Exiting: nothing was removed.",
    ))
}
