//! How a command's result is shown once its operation returned: conda's closing lines,
//! `DryRunExit`, or the JSON summary.

use std::path::Path;

use rattler_conda_types::RepoDataRecord;
use serde_json::json;
use taipan_env::ops::{Created, Done, Removed, Transacted};
use taipan_env::transaction::{Outcome, Plan};

use super::plan::Actions;
use super::Printer;

/// The JSON summary of a plan, in conda 26's order: success, actions, prefix, then the flag
/// (`dry_run`, `download_only`) of a command that stopped before linking.
struct Summary<'a> {
    actions: Actions<'a>,
    prefix: String,
    flag: Option<&'a str>,
}

impl serde::Serialize for Summary<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("success", &true)?;
        m.serialize_entry("actions", &self.actions)?;
        m.serialize_entry("prefix", &self.prefix)?;
        if let Some(flag) = self.flag {
            m.serialize_entry(flag, &true)?;
        }
        m.end()
    }
}

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
        let actions = Actions {
            plan,
            fetch,
            pip: t.pip.as_ref().map(|p| p.installed.as_slice()),
        };
        printer.json(&Summary {
            actions,
            prefix: plan.prefix.display().to_string(),
            flag: None,
        });
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
        let actions = Actions {
            plan,
            fetch,
            pip: None,
        };
        printer.json(&Summary {
            actions,
            prefix: plan.prefix.display().to_string(),
            flag: Some(flag),
        });
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
