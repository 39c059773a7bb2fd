//! `taipan deploy`: the classic Anaconda server procedure as one idempotent command.
//!
//! 1. preconditions (root, OS family from `/etc/os-release`, target user, prefix);
//! 2. system packages (apt-get / dnf / yum), with successor names where a release renamed one;
//! 3. the installer, placed in the user's home (0744, owned by them);
//! 4. `bash INSTALLER -b -f -p PREFIX`;
//! 5. `conda init` for the user's shells, then `conda update --update-all -y`;
//! 6. optional group sharing; 7. the installer removed, also when a step failed.
//!
//! A plan comes first ([`Deployment::plan`]); every step reports whether it changed something
//! or found it already done, so a second run changes nothing.

use taipan_env::error::ErrorKind;
pub mod exec;
pub mod os;
pub mod packages;
pub mod report;
pub mod shared;
pub mod source;
pub mod steps;
pub mod uninstall;
pub mod user;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use taipan_env::{CondaError, Result};

pub use report::{Report, Status, StepReport};
pub use steps::Deployment;

/// What the admin asked for (the `taipan deploy` flags).
#[derive(Debug, Clone)]
pub struct Options {
    /// `--installer PATH|URL`; `None` builds the default distribution.
    pub installer: Option<String>,
    /// `--sha256`: the installer's expected checksum.
    pub sha256: Option<String>,
    /// `--prefix`; default `~USER/<installer name lowercased>` (`/root/taipan3`).
    pub prefix: Option<PathBuf>,
    /// `--user`; default root.
    pub user: Option<String>,
    /// `--shell` (repeatable); default bash.
    pub shells: Vec<String>,
    /// `--shared GROUP`.
    pub shared: Option<String>,
    /// `apt-get upgrade -y` (off with `--no-upgrade`).
    pub upgrade: bool,
    /// `conda update --update-all -y` (off with `--no-update`).
    pub update: bool,
    /// `--dry-run`: plan only.
    pub dry_run: bool,
    /// `--uninstall`: reverse `conda init` and remove the prefix (the caller confirms first).
    pub uninstall: bool,
    /// `--log-file`; `None` means no log.
    pub log_file: Option<PathBuf>,
    /// The taipan binary the default distribution embeds.
    pub taipan_binary: PathBuf,
    /// The environment (for building the default distribution).
    pub env: HashMap<String, String>,
}

/// `PREFIX/.taipan-deploy.json`: what a deployment installed, so the next run can tell that
/// the installer step is already done.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Marker {
    /// Installer name (`# NAME:`).
    pub name: String,
    /// Installer version (`# VER:`).
    pub version: String,
    /// The installer's sha256 (none for the default distribution, which is rebuilt each time).
    pub sha256: Option<String>,
    /// For the default distribution: the taipan version it was built from.
    pub taipan: Option<String>,
}

impl Marker {
    const FILE: &'static str = ".taipan-deploy.json";

    /// The Ansible role's record (`sha256  file name`), so either tool recognises what the
    /// other installed.
    const ROLE_RECORD: &'static str = "conda-meta/taipan-deploy-installer.sha256";

    /// Reads the marker of an installed prefix (`None` when absent or not installed).
    pub fn read(prefix: &Path) -> Option<Self> {
        if !prefix.join("conda-meta/history").is_file() {
            return None;
        }
        if let Ok(text) = std::fs::read_to_string(prefix.join(Self::FILE)) {
            return serde_json::from_str(&text).ok();
        }
        let record = std::fs::read_to_string(prefix.join(Self::ROLE_RECORD)).ok()?;
        Some(Self {
            name: String::new(),
            version: String::new(),
            sha256: record.split_whitespace().next().map(str::to_owned),
            taipan: None,
        })
    }

    /// Whether `installed` (read from a prefix) is what this marker would install: the same
    /// installer file when both sha256s are known, else the same name, version and taipan.
    pub fn matches(&self, installed: &Marker) -> bool {
        if let (Some(a), Some(b)) = (&self.sha256, &installed.sha256) {
            return a.eq_ignore_ascii_case(b);
        }
        self.sha256.is_none()
            && self.name == installed.name
            && self.version == installed.version
            && self.taipan == installed.taipan
    }

    /// Writes it into `prefix`, with the role's record when the sha256 is known; returns the
    /// files written.
    pub fn write(&self, prefix: &Path, installer_name: &str) -> Result<Vec<PathBuf>> {
        let path = prefix.join(Self::FILE);
        let text =
            serde_json::to_string_pretty(self).map_err(|e| CondaError::generic(e.to_string()))?;
        std::fs::write(&path, text + "\n")?;
        let mut written = vec![path];
        if let Some(sha) = &self.sha256 {
            let record = prefix.join(Self::ROLE_RECORD);
            std::fs::write(&record, format!("{sha}  {installer_name}\n"))?;
            written.push(record);
        }
        Ok(written)
    }
}

/// Root is required for everything but a dry run.
pub fn require_root(action: &str) -> Result<()> {
    if user::is_root() {
        return Ok(());
    }
    Err(CondaError::new(
        ErrorKind::DeployError,
        format!(
            "taipan deploy{action} must run as root: it installs system packages and writes files for \
             the target user.\n  Run it with sudo: sudo taipan deploy{action} …  (or see the plan first: \
             taipan deploy{action} --dry-run)"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::Marker;

    fn marker(name: &str, sha: Option<&str>) -> Marker {
        Marker {
            name: name.into(),
            version: "1.0".into(),
            sha256: sha.map(str::to_owned),
            taipan: None,
        }
    }

    #[test]
    fn markers_match_by_checksum_first() {
        let role_record = marker("", Some("AB12"));
        assert!(marker("Demo3", Some("ab12")).matches(&role_record));
        assert!(!marker("Demo3", Some("cd34")).matches(&role_record));
        assert!(marker("Taipan3", None).matches(&marker("Taipan3", None)));
        assert!(!marker("Taipan3", None).matches(&marker("Other", None)));
        assert!(!marker("Taipan3", None).matches(&role_record));
    }
}
