//! Everything the CLI prints, in conda's layouts, behind one [`Printer`]: human text,
//! `--json`, or nothing (`-q`).
//!
//! - [`plan`]: the package plan and the JSON `actions`.
//! - [`reporter`]: the [`Reporter`](taipan_env::reporter::Reporter) operations talk to.
//! - [`results`]: how a command's result is shown (`DryRunExit`, the JSON summary, …).
//! - [`envs`], [`init`]: the environment list, `conda init`'s report.
//! - [`prompt`]: questions and `<phase>: done` lines.
//! - [`mode`]: the `json`/`quiet` settings that act like the flags.

pub mod clean;
pub mod doctor;
pub mod envs;
pub mod init;
pub mod mode;
pub mod plan;
pub mod prompt;
pub mod reporter;
pub mod results;

use taipan_env::CondaError;

use crate::cli::Output;

/// How a command prints: conda's text, `--json`, or `-q`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Printer {
    /// `--json`: one JSON document on stdout.
    pub json: bool,
    /// `-q`: no progress or plan text.
    pub quiet: bool,
}

impl Printer {
    /// From a command's output flags.
    pub fn new(output: &Output) -> Self {
        Self {
            json: output.is_json(),
            quiet: output.is_quiet(),
        }
    }

    /// Whether human text (plans, progress) is printed.
    pub fn text(&self) -> bool {
        !self.json && !self.quiet
    }

    /// Prints a JSON document (pretty, as conda does).
    pub fn json<T: serde::Serialize + ?Sized>(&self, value: &T) {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    }
}

/// Prints an error as conda does: JSON on stdout with `--json` (then a blank line, as conda
/// prints it), else `\nName: message\n` on stderr.
pub fn print_error(err: &CondaError, json: bool) {
    if json {
        println!(
            "{}\n",
            serde_json::to_string_pretty(&err.to_json()).unwrap_or_default()
        );
    } else {
        eprintln!("\n{}: {}\n", err.name(), err.message.trim_end());
    }
}
