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

pub mod exec;
pub mod os;
pub mod packages;
pub mod shared;
pub mod source;
pub mod steps;
pub mod uninstall;
pub mod user;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use taipan_env::{CondaError, Result};

pub use steps::{Deployment, Report, Status, StepReport};

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

    /// Reads the marker of an installed prefix (`None` when absent or not installed).
    pub fn read(prefix: &Path) -> Option<Self> {
        if !prefix.join("conda-meta/history").is_file() {
            return None;
        }
        let text = std::fs::read_to_string(prefix.join(Self::FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes it into `prefix`.
    pub fn write(&self, prefix: &Path) -> Result<PathBuf> {
        let path = prefix.join(Self::FILE);
        let text =
            serde_json::to_string_pretty(self).map_err(|e| CondaError::generic(e.to_string()))?;
        std::fs::write(&path, text + "\n")?;
        Ok(path)
    }

    /// The marker's path in `prefix`.
    pub fn path(prefix: &Path) -> PathBuf {
        prefix.join(Self::FILE)
    }
}

/// Root is required for everything but a dry run.
pub fn require_root(action: &str) -> Result<()> {
    if user::is_root() {
        return Ok(());
    }
    Err(CondaError::new(
        "DeployError",
        format!(
            "taipan deploy{action} must run as root: it installs system packages and writes files for \
             the target user.\n  Run it with sudo: sudo taipan deploy{action} …  (or see the plan first: \
             taipan deploy{action} --dry-run)"
        ),
    ))
}
