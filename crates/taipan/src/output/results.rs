//! How a command's result is shown once its operation returned: conda's closing lines,
//! `DryRunExit`, or the JSON summary.

use std::path::Path;

use rattler_conda_types::RepoDataRecord;
use serde_json::json;
use taipan_env::ops::{Created, Done, Removed, Transacted};
use taipan_env::transaction::{Outcome, Plan};

use super::plan::actions_json;
use super::Printer;

/// The end of create, install, update and remove of packages. Returns the exit code.
pub fn transacted(printer: Printer, t: &Transacted) -> u8 {
    let fetch: Vec<&RepoDataRecord> = t.fetch.iter().collect();
    match &t.done {
        Done::Nothing => nothing_to_do(printer, t),
        Done::DryRun => stopped_early(printer, &t.plan, &fetch, "dry_run"),
        Done::DownloadOnly => stopped_early(printer, &t.plan, &fetch, "download_only"),
        Done::Declined => {
            if !printer.json {
                println!("\nExiting.\n");
            }
        }
        Done::Applied(outcome) => applied(printer, t, &fetch, outcome),
    }
    0
}

fn applied(printer: Printer, t: &Transacted, fetch: &[&RepoDataRecord], outcome: &Outcome) {
    let plan = &t.plan;
    for w in &outcome.warnings {
        if w.starts_with("SafetyError:") {
            eprintln!("{w}");
        } else {
            eprintln!("WARNING: {w}");
        }
    }
    for m in &outcome.messages {
        if printer.json {
            eprint!("{m}");
        } else {
            print!("{m}");
        }
    }
    if printer.json {
        let mut actions = actions_json(plan, fetch);
        if let (Some(pip), Some(obj)) = (&t.pip, actions.as_object_mut()) {
            obj.insert("PIP".into(), json!(pip.installed));
        }
        printer.json(&json!({
            "actions": actions,
            "prefix": plan.prefix.display().to_string(),
            "success": true,
        }));
    }
}

fn nothing_to_do(printer: Printer, t: &Transacted) {
    if let (true, Some(pip)) = (printer.json, &t.pip) {
        // conda reports pip's part as the only action.
        printer.json(&json!({"actions": {"PIP": pip.installed}, "prefix": t.plan.prefix.display().to_string(), "success": true}));
        return;
    }
    if printer.json {
        printer.json(
            &json!({"message": "All requested packages already installed.", "success": true}),
        );
    } else {
        println!("\n# All requested packages already installed.\n");
    }
}

/// A command that stops before linking (`--dry-run`, `--download-only`): the plan as JSON
/// with `flag: true`, or conda's `DryRunExit` line.
fn stopped_early(printer: Printer, plan: &Plan, fetch: &[&RepoDataRecord], flag: &str) {
    if printer.json {
        // Sorted keys, as conda prints them.
        let value: std::collections::BTreeMap<&str, serde_json::Value> = [
            ("actions", actions_json(plan, fetch)),
            (flag, json!(true)),
            ("prefix", json!(plan.prefix.display().to_string())),
            ("success", json!(true)),
        ]
        .into_iter()
        .collect();
        printer.json(&serde_json::to_value(value).unwrap_or_default());
    } else {
        eprintln!("\nDryRunExit: Dry run. Exiting.\n");
    }
}

/// The end of `create`: the result, then how to activate the new environment.
pub fn created(printer: Printer, created: &Created, prefix: &Path, name: &str) -> u8 {
    match created {
        Created::Empty { dry_run: true } => {
            if printer.json {
                printer.json(&json!({"actions": {"FETCH": [], "PREFIX": prefix.display().to_string()}, "dry_run": true, "prefix": prefix.display().to_string(), "success": true}));
            } else {
                eprintln!("\nDryRunExit: Dry run. Exiting.\n");
            }
        }
        Created::Empty { dry_run: false } => {
            if printer.json {
                printer.json(&json!({"actions": {"PREFIX": prefix.display().to_string()}, "prefix": prefix.display().to_string(), "success": true}));
            } else if !printer.quiet {
                println!(
                    "\n## Package Plan ##\n\n  environment location: {}\n\n",
                    prefix.display()
                );
                activate_hint(name);
            }
        }
        Created::Packages(t) => {
            transacted(printer, t);
            if printer.text() && matches!(t.done, Done::Applied(_) | Done::Nothing) {
                activate_hint(name);
            }
        }
    }
    0
}

/// conda's banner after create and `env update`.
pub fn activate_hint(name: &str) {
    println!("#\n# To activate this environment, use\n#\n#     $ conda activate {name}\n#\n# To deactivate an active environment, use\n#\n#     $ conda deactivate\n");
}

/// The end of `remove`.
pub fn removed(printer: Printer, removed: &Removed, prefix: &Path) -> u8 {
    match removed {
        Removed::Packages(t) => return transacted(printer, t),
        Removed::EnvDryRun(records) => {
            if printer.json {
                printer.json(&json!({
                    "actions": unlink_all(records, prefix),
                    "dry_run": true,
                    "prefix": prefix.display().to_string(),
                    "success": true,
                }));
            } else {
                println!(
                    "\nRemove all packages in environment {}:\n",
                    prefix.display()
                );
                eprintln!("\nDryRunExit: Dry run. Exiting.\n");
            }
        }
        Removed::EnvDeclined => {}
        Removed::Env(records) => {
            if printer.json {
                printer.json(&json!({
                    "actions": unlink_all(records, prefix),
                    "prefix": prefix.display().to_string(),
                    "success": true,
                }));
            }
        }
    }
    0
}

/// conda's `actions` for a whole environment removed: every package in `UNLINK`.
fn unlink_all(records: &[rattler_conda_types::PrefixRecord], prefix: &Path) -> serde_json::Value {
    let unlink: Vec<serde_json::Value> = records
        .iter()
        .map(|r| super::plan::action_item(&r.repodata_record))
        .collect();
    json!({"FETCH": [], "PREFIX": prefix.display().to_string(), "UNLINK": unlink})
}
