//! `conda init`'s report: one line a file (`modified`, `no change`, `needs sudo`).

use std::path::PathBuf;

use taipan_env::Result;
use taipan_shell::files::Outcome;

/// conda's report: `"%-14s%s"` per path, then the closing line.
pub fn print_report(report: &[(PathBuf, Outcome)], dry_run: bool, json: bool) -> Result<u8> {
    let needs_sudo = report.iter().any(|(_, o)| *o == Outcome::NeedsSudo);
    let changed = report.iter().any(|(_, o)| *o == Outcome::Modified);
    if json {
        let items: Vec<_> = report
            .iter()
            .map(|(p, o)| serde_json::json!({"path": p, "result": o.as_str()}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"success": !needs_sudo, "actions": items})
            )
            .unwrap_or_default()
        );
    } else {
        for (p, o) in report {
            println!("{:<14}{}", o.as_str(), p.display());
        }
        match (changed, dry_run) {
            (true, false) => println!("\n==> For changes to take effect, close and re-open your current shell. <==\n"),
            (true, true) => println!("\n==> DRY RUN: The above changes would have been made. NO ACTUAL CHANGES WERE MADE. <==\n"),
            (false, false) => println!("No action taken."),
            (false, true) => println!("DRY RUN: No action would have been taken."),
        }
    }
    if needs_sudo {
        eprintln!("Operation failed.");
        return Ok(1);
    }
    Ok(0)
}
