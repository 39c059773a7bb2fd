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
            "success": true,
            "actions": actions,
            "prefix": plan.prefix.display().to_string(),
        }));
    }
}

fn nothing_to_do(printer: Printer, t: &Transacted) {
    if let (true, Some(pip)) = (printer.json, &t.pip) {
        // conda reports pip's part as the only action.
        printer.json(&json!({"success": true, "actions": {"PIP": pip.installed}, "prefix": t.plan.prefix.display().to_string()}));
        return;
    }
    if printer.json {
        printer.json(
            &json!({"success": true, "message": "All requested packages already installed."}),
        );
    } else {
        println!("\n# All requested packages already installed.\n");
    }
}

/// A command that stops before linking (`--dry-run`, `--download-only`): the plan as JSON
/// with `flag: true`, or conda's `DryRunExit` line.
fn stopped_early(printer: Printer, plan: &Plan, fetch: &[&RepoDataRecord], flag: &str) {
    if printer.json {
        // conda 26's order: success, actions, prefix, then the flag.
        let mut value = serde_json::Map::new();
        value.insert("success".into(), json!(true));
        value.insert("actions".into(), actions_json(plan, fetch));
        value.insert("prefix".into(), json!(plan.prefix.display().to_string()));
        value.insert(flag.into(), json!(true));
        printer.json(&serde_json::Value::Object(value));
    } else {
        eprintln!("\nDryRunExit: Dry run. Exiting.\n");
    }
}

/// The end of `create`: the result, then how to activate the new environment.
pub fn created(printer: Printer, created: &Created, prefix: &Path, name: &str) -> u8 {
    match created {
        Created::Empty { dry_run: true } => {
            if printer.json {
                printer.json(&json!({"success": true, "actions": {"FETCH": [], "PREFIX": prefix.display().to_string()}, "prefix": prefix.display().to_string(), "dry_run": true}));
            } else {
                eprintln!("\nDryRunExit: Dry run. Exiting.\n");
            }
        }
        Created::Empty { dry_run: false } => {
            if printer.json {
                printer.json(&json!({"success": true, "actions": {"PREFIX": prefix.display().to_string()}, "prefix": prefix.display().to_string()}));
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
                    "success": true,
                    "actions": unlink_all(records, prefix),
                    "prefix": prefix.display().to_string(),
                    "dry_run": true,
                }));
            } else {
                eprintln!("\nDryRunExit: Dry run. Exiting.\n");
            }
        }
        // conda's answer to "no" at its second question: the packages are gone, the
        // directory stays; exit 0.
        Removed::EnvKept => eprintln!("\nCondaSystemExit: Exiting.\n"),
        Removed::Env(records) => {
            if printer.json {
                printer.json(&json!({
                    "success": true,
                    "actions": unlink_all(records, prefix),
                    "prefix": prefix.display().to_string(),
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
