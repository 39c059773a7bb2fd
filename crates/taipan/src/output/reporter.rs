//! The CLI's [`Reporter`]: conda's text on stdout (unless `--json` or `-q`), questions
//! unless `-y`, progress bars on a terminal, warnings on stderr.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rattler_conda_types::{Channel, RepoDataRecord};
use taipan_env::reporter::{PlanSpecs, Reporter};
use taipan_env::transaction::{Plan, Recovered};
use taipan_env::Result;

use super::prompt::{confirm, confirm_remove, Step};
use super::Printer;

/// The reporter of create, install, update and remove.
pub struct CliReporter {
    printer: Printer,
    /// `-y` / `always_yes`.
    yes: bool,
    step: Mutex<Option<Step>>,
    bars: Option<Bars>,
    /// Print the plan (`env update` does not).
    show_plan: bool,
    /// `show_channel_urls` / `--show-channel-urls`: the download table's channel column.
    channel_urls: Option<bool>,
}

impl CliReporter {
    /// For a command printing with `printer`; `yes`: do not ask.
    pub fn new(printer: Printer, yes: bool) -> Self {
        use std::io::IsTerminal;
        let bars = (printer.text() && std::io::stderr().is_terminal()).then(|| Bars {
            multi: MultiProgress::new(),
            bars: Mutex::default(),
        });
        Self {
            printer,
            yes,
            step: Mutex::default(),
            bars,
            show_plan: true,
            channel_urls: None,
        }
    }

    /// How the plan shows channels (`show_channel_urls`: `None` hides `defaults` only).
    pub fn channel_urls(mut self, show: Option<bool>) -> Self {
        self.channel_urls = show;
        self
    }

    /// Whether the plan is printed before it is carried out (`env update` does not).
    pub fn showing_plan(mut self, show: bool) -> Self {
        self.show_plan = show;
        self
    }
}

impl Reporter for CliReporter {
    fn channels(&self, channels: &[Channel], platform: &str) {
        if self.printer.json || self.printer.quiet {
            return;
        }
        println!("Channels:");
        for c in channels {
            println!(" - {}", c.name());
        }
        println!("Platform: {platform}");
    }

    fn phase(&self, name: &str) {
        if let Ok(mut step) = self.step.lock() {
            *step = Some(Step::start(name, self.printer.text()));
        }
    }

    fn phase_done(&self, ok: bool) {
        if let Some(step) = self.step.lock().ok().and_then(|mut s| s.take()) {
            step.finish(ok);
        }
    }

    /// conda prints pip's command line and output after it ran.
    fn pip_ran(&self, run: &taipan_env::pip::PipRun) {
        if self.printer.text() {
            let quoted: Vec<String> = run.args.iter().map(|a| format!("'{a}'")).collect();
            println!(
                "Ran pip subprocess with arguments:\n[{}]\nPip subprocess output:\n{}",
                quoted.join(", "),
                run.stdout
            );
        }
    }

    fn pip_failed(&self, stderr: &str) {
        eprintln!("Pip subprocess error:\n{stderr}\n");
    }

    fn plan(&self, plan: &Plan, fetch: &[&RepoDataRecord], specs: &PlanSpecs) {
        if self.printer.text() && self.show_plan {
            super::plan::print_plan(
                plan,
                &specs.removed,
                &specs.updated,
                fetch,
                self.channel_urls,
            );
        }
    }

    fn confirm(&self) -> Result<bool> {
        confirm(self.yes, self.printer.json)
    }

    fn remove_env(&self, prefix: &Path) {
        if self.printer.text() {
            println!(
                "\nRemove all packages in environment {}:\n",
                prefix.display()
            );
        }
    }

    fn no_packages(&self, prefix: &Path) {
        if self.printer.text() {
            println!(
                "No packages found in {}. Continuing environment removal",
                prefix.display()
            );
        }
    }

    fn confirm_delete(&self, prefix: &Path) -> Result<bool> {
        if self.yes || self.printer.json {
            return Ok(true);
        }
        super::prompt::confirm_delete(prefix)
    }

    fn confirm_replace(&self, prefix: &Path) -> Result<bool> {
        if self.yes || self.printer.json {
            return Ok(true);
        }
        println!(
            "WARNING: A conda environment already exists at '{}'\n",
            prefix.display()
        );
        confirm_remove()
    }

    fn downloads(&self, count: usize) {
        if self.printer.text() && count > 0 {
            println!("\nDownloading and Extracting Packages:\n");
        }
    }

    fn download_start(&self, record: &RepoDataRecord) {
        if let Some(bars) = &self.bars {
            bars.start(record);
        }
    }

    fn download_done(&self, record: &RepoDataRecord) {
        if let Some(bars) = &self.bars {
            bars.done(record);
        }
    }

    fn prelink_messages(&self, messages: &[(String, String)]) -> Result<bool> {
        if messages.is_empty() {
            return Ok(true);
        }
        println!("\n\nThe following PRELINK MESSAGES are INCLUDED:\n\n");
        for (name, text) in messages {
            println!("  File {name}:\n");
            for line in text.lines() {
                println!("  {line}");
            }
            println!();
        }
        if !confirm(self.yes || self.printer.json, false)? {
            println!("\nExiting.\n");
            return Ok(false);
        }
        Ok(true)
    }

    fn recovered(&self, prefix: &Path, what: &Recovered) {
        crate::commands::helpers::report_recovery(prefix, Some(what));
    }

    fn warning(&self, text: &str) {
        eprintln!("WARNING: {text}");
    }

    fn notice(&self, text: &str) {
        if self.printer.text() {
            eprintln!("{text}");
        }
    }
}

/// A spinner per package being downloaded.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    fn start(&self, record: &RepoDataRecord) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(record.identifier.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(record.identifier.to_string(), bar);
        }
    }

    fn done(&self, record: &RepoDataRecord) {
        if let Ok(mut bars) = self.bars.lock() {
            if let Some(bar) = bars.remove(&record.identifier.to_string()) {
                bar.finish_with_message(format!("{} done", record.identifier));
            }
        }
    }
}
