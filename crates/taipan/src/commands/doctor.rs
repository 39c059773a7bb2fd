//! `conda doctor` (alias `conda check`): health checks, and `--fix`.

use std::io::{BufRead, Write};

use taipan_env::ops::doctor::{self, Answer, DoctorRequest, FixUi};
use taipan_env::reporter::Reporter;
use taipan_env::Result;

use super::helpers::{history_cmd, Load};
use crate::cli::DoctorArgs;
use crate::output::{doctor as render, reporter::CliReporter, Printer};

/// Runs `conda doctor`.
pub async fn run(a: DoctorArgs, argv: &[String]) -> Result<u8> {
    if a.list {
        print!("{}", render::list());
        return Ok(0);
    }
    let ctx = Load {
        target: Some(&a.target),
        yes: a.yes,
        ..Load::new(argv, &a.output)
    }
    .context()?;
    let printer = Printer::new(&a.output);
    let yes = crate::settings::yes(&ctx, a.yes);
    let req = DoctorRequest {
        prefix: ctx.target_prefix(a.target.name.as_deref(), a.target.prefix.as_deref())?,
        name: a.target.name.clone(),
        checks: a.checks.clone(),
        cmd: history_cmd(argv),
    };
    let reporter = CliReporter::new(printer, yes);
    let report = doctor::check(&ctx, &req, &reporter).await?;
    if !report.unknown.is_empty() {
        eprintln!(
            "WARNING: Unknown health check(s): {}",
            report.unknown.join(", ")
        );
    }
    let mut out = render::json(&report);
    if !printer.json {
        print!("{}", render::text(&report, a.output.verbose > 0));
    }
    if !a.fix {
        if printer.json {
            printer.json(&out);
        }
        return Ok(0);
    }
    let ui = Ui {
        printer,
        yes,
        dry_run: a.dry_run,
        reporter: &reporter,
    };
    let bar = "=".repeat(60);
    ui.say(&format!("\n{bar}\nRunning fixes...\n{bar}\n"));
    let fixable = report.findings.iter().any(|(name, _)| {
        doctor::CHECKS
            .iter()
            .any(|c| c.name == *name && c.fix.is_some())
    });
    if !fixable {
        ui.say("No health checks with fix capability are available.");
        if printer.json {
            printer.json(&out);
        }
        return Ok(0);
    }
    let mut code = 0;
    let mut fixes = serde_json::Map::new();
    for (name, result) in doctor::fix(&ctx, &req, &report, &ui).await {
        let value = match result {
            Ok(()) => serde_json::Value::Null,
            Err(e) => {
                code = 1;
                eprintln!(
                    "WARNING: Error running fix: {name} ({}: {})",
                    e.name(),
                    e.message.trim_end()
                );
                serde_json::json!(format!("{}: {}", e.name(), e.message.trim_end()))
            }
        };
        fixes.insert(name.to_string(), serde_json::json!({"error": value}));
    }
    if printer.json {
        if let Some(o) = out.as_object_mut() {
            o.insert("fixes".into(), fixes.into());
            // What the fixes left: the checks run again.
            let after = doctor::check(&ctx, &req, &reporter).await?;
            o.insert("after_fixes".into(), render::json(&after)["checks"].clone());
        }
        printer.json(&out);
    }
    Ok(code)
}

/// The fixes' messages and questions on the terminal (on stderr with `--json`).
struct Ui<'a> {
    printer: Printer,
    yes: bool,
    dry_run: bool,
    reporter: &'a CliReporter,
}

impl FixUi for Ui<'_> {
    fn say(&self, text: &str) {
        if self.printer.json {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }

    fn ask(&self, question: &str) -> Result<Answer> {
        if self.dry_run {
            eprintln!("WARNING: Dry run. Exiting.");
            return Ok(Answer::DryRun);
        }
        if self.yes {
            return Ok(Answer::Yes);
        }
        if self.printer.json {
            // Nothing to ask on: a JSON consumer passes --yes.
            return Ok(Answer::No);
        }
        print!("{question} (y/[n])? ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let answer = line.trim().to_ascii_lowercase();
        println!();
        if answer == "y" || answer == "yes" {
            Ok(Answer::Yes)
        } else {
            Ok(Answer::No)
        }
    }

    fn reporter(&self) -> &dyn Reporter {
        self.reporter
    }
}
