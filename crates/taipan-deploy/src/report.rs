//! What a deployment reports: each step's status, the summary, and its text form.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::os::OsInfo;
use crate::packages::Manager;
use crate::source::Identity;

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Shown by `--dry-run`.
    Planned,
    /// A check that passed (preconditions).
    Checked,
    /// The step changed the system.
    Done,
    /// Nothing to do: the system already was as the step would leave it.
    AlreadyDone,
    /// Not performed, on request or for a reason given in the note.
    Skipped,
    /// The step failed; the error follows the report.
    Failed,
    /// Not reached because an earlier step failed.
    NotRun,
}

impl Status {
    pub(crate) fn text(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Checked => "checked",
            Self::Done => "done",
            Self::AlreadyDone => "already done",
            Self::Skipped => "skipped",
            Self::Failed => "FAILED",
            Self::NotRun => "not run",
        }
    }
}

/// One step in the report.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// `preconditions`, `system-packages`, `installer`, `install`, `init`, `update`, `shared`,
    /// `cleanup` (or the uninstall steps).
    pub name: &'static str,
    /// How it ended.
    pub status: Status,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// What it does / did.
    pub detail: String,
    /// Why it was skipped, or a warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The outcome of a step that ran.
pub(crate) struct Outcome {
    pub(crate) status: Status,
    pub(crate) detail: String,
    pub(crate) note: Option<String>,
}

impl Outcome {
    pub(crate) fn new(status: Status, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            note: None,
        }
    }

    pub(crate) fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// The final report, printed as text or `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Whether every step succeeded (or was skipped by design).
    pub success: bool,
    /// Whether this was only a plan.
    pub dry_run: bool,
    /// The system.
    pub os: OsInfo,
    /// Its package manager.
    pub package_manager: Manager,
    /// The target user.
    pub user: String,
    /// Their home.
    pub home: PathBuf,
    /// The installation prefix.
    pub prefix: PathBuf,
    /// Where the installer came from.
    pub installer: String,
    /// Installer name and version, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Identity>,
    /// Steps in order.
    pub steps: Vec<StepReport>,
    /// Package names replaced by successors.
    pub mapped_packages: BTreeMap<String, Vec<String>>,
    /// Package names neither the release nor a successor provides.
    pub unavailable_packages: Vec<String>,
    /// Versions: taipan (this binary) and `PREFIX/bin/conda --version`.
    pub versions: BTreeMap<String, String>,
    /// The log file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_file: Option<PathBuf>,
    /// The error that stopped the deployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The report as text.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let planned = report.steps.iter().all(|s| s.status == Status::Planned);
    let title = match (report.dry_run, planned) {
        (true, _) => "taipan deploy plan (dry run, nothing changed)",
        (false, true) => "taipan deploy plan",
        (false, false) => "taipan deploy summary",
    };
    out.push_str(&format!(
        "{title}: {} for {} in {}\n",
        report.os.pretty_name,
        report.user,
        report.prefix.display()
    ));
    for (i, s) in report.steps.iter().enumerate() {
        let time = if planned {
            String::new()
        } else {
            format!(" {:>7.1}s", s.duration_ms as f64 / 1000.0)
        };
        out.push_str(&format!(
            "  {}. {:<16} {:<13}{time}  {}\n",
            i + 1,
            s.name,
            s.status.text(),
            s.detail
        ));
        if let Some(note) = &s.note {
            out.push_str(&format!("     note: {note}\n"));
        }
    }
    for (old, new) in &report.mapped_packages {
        out.push_str(&format!(
            "  package renamed on this release: {old} -> {}\n",
            new.join(" ")
        ));
    }
    if !report.versions.is_empty() {
        let v: Vec<String> = report
            .versions
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        out.push_str(&format!("  versions: {}\n", v.join(", ")));
    }
    if let Some(log) = &report.log_file {
        out.push_str(&format!("  log: {}\n", log.display()));
    }
    out
}
