//! How an operation talks to its user. Operations call a [`Reporter`] at each step; the CLI
//! implements it (conda's text layout, `--json`, `-q`, progress bars on a terminal), and
//! installers and tests use [`Quiet`].

use rattler_conda_types::{Channel, RepoDataRecord};

use crate::error::Result;
use crate::transaction::{Plan, Recovered};

/// The specs a plan is shown with (`## Package Plan ##`).
#[derive(Debug, Clone, Default)]
pub struct PlanSpecs {
    /// `removed specs:`.
    pub removed: Vec<String>,
    /// `added / updated specs:`.
    pub updated: Vec<String>,
}

/// Receives what an operation has to say, in order. Every method has a silent default.
pub trait Reporter: Send + Sync {
    /// The channels and platform a solve reads (conda prints them first).
    fn channels(&self, _channels: &[Channel], _platform: &str) {}
    /// A phase starts: `Collecting package metadata (repodata.json)`, `Solving
    /// environment`, `Preparing transaction`, `Verifying transaction`, `Executing
    /// transaction`.
    fn phase(&self, _name: &str) {}
    /// The current phase ended.
    fn phase_done(&self, _ok: bool) {}
    /// The plan, before anything is done.
    fn plan(&self, _plan: &Plan, _fetch: &[&RepoDataRecord], _specs: &PlanSpecs) {}
    /// Whether to go on (conda's `Proceed ([y]/n)?`); `false` stops the operation.
    fn confirm(&self) -> Result<bool> {
        Ok(true)
    }
    /// `remove --all` is about to remove this environment (before it is confirmed).
    fn remove_env(&self, _prefix: &std::path::Path) {}
    /// `remove --all` of an environment that holds no packages.
    fn no_packages(&self, _prefix: &std::path::Path) {}
    /// `remove --all`, its packages unlinked: may the directory itself, with anything else in
    /// it, be deleted? (conda asks, default no.)
    fn confirm_delete(&self, _prefix: &std::path::Path) -> Result<bool> {
        Ok(true)
    }
    /// Whether an existing environment may be replaced (`create` over one).
    fn confirm_replace(&self, _prefix: &std::path::Path) -> Result<bool> {
        Ok(true)
    }
    /// Downloads begin (`count` packages are not in the cache yet).
    fn downloads(&self, _count: usize) {}
    /// A package starts downloading (or being checked in the cache).
    fn download_start(&self, _record: &RepoDataRecord) {}
    /// A package is in the cache.
    fn download_done(&self, _record: &RepoDataRecord) {}
    /// The packages' `info/prelink_messages` (file name, text): shown, then confirmed.
    fn prelink_messages(&self, _messages: &[(String, String)]) -> Result<bool> {
        Ok(true)
    }
    /// The prefix's lock found and finished an interrupted command.
    fn recovered(&self, _prefix: &std::path::Path, _what: &Recovered) {}
    /// A warning that does not stop the operation.
    fn warning(&self, _text: &str) {}
    /// A notice printed as it is (conda's "A newer version of conda exists").
    fn notice(&self, _text: &str) {}
    /// pip installed an environment file's `- pip:` section.
    fn pip_ran(&self, _run: &crate::pip::PipRun) {}
    /// pip failed; its standard error (conda shows it even with `--json`).
    fn pip_failed(&self, _stderr: &str) {}
}

/// Says nothing and agrees to everything.
pub struct Quiet;
impl Reporter for Quiet {}
