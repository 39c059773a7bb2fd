//! Executing a transaction with conda's safety, and more: everything is downloaded and
//! verified before the prefix is touched; every path a package names is checked to stay
//! inside the prefix; every change is journaled before it is made, so any failure (a bad
//! package, a failing post-link script, Ctrl-C) is undone at once and an interruption
//! (`kill -9`, a power cut) is undone by the next command.
//!
//! - [`plan`]: which records are unlinked and linked.
//! - [`packages`]: the extracted packages, held in the cache while they are linked.
//! - [`journal`]: the write-ahead log, rollback and recovery.
//! - `link`, `unlink`: the steps, with the confinement checks.
//! - `scripts`, `pyc`: link scripts and `.pyc` compilation.

use crate::error::ErrorKind;
pub mod journal;
mod link;
pub mod packages;
pub mod plan;
mod pyc;
mod scripts;
mod unlink;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rattler::install::TransactionOperation;
use rattler_conda_types::package::{IndexJson, PackageFile};
use rattler_conda_types::prefix::Prefix;
use rattler_conda_types::{PrefixRecord, RepoDataRecord};

use crate::crashpoint;
use crate::error::{CondaError, Result};
use journal::Journal;
pub use journal::{recover, Recovered};
pub use packages::{Packages, Reaper};
pub use plan::Plan;

static INTERRUPTED: std::sync::LazyLock<Arc<AtomicBool>> =
    std::sync::LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// While a transaction runs, SIGINT/SIGTERM only set a flag (from the signal handler itself,
/// so a thread blocked in a link script cannot miss it); the executor checks it between steps
/// and rolls back. Outside transactions the signals keep their default effect.
struct InterruptGuard(Vec<signal_hook::SigId>);

impl InterruptGuard {
    fn install() -> Self {
        INTERRUPTED.store(false, Ordering::SeqCst);
        let ids = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM]
            .into_iter()
            .filter_map(|sig| signal_hook::flag::register(sig, Arc::clone(&INTERRUPTED)).ok())
            .collect();
        Self(ids)
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        for id in self.0.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

fn check_interrupt() -> Result<()> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Err(CondaError::new(
            ErrorKind::KeyboardInterrupt,
            "Operation interrupted by the user.",
        ));
    }
    Ok(())
}

/// Settings for linking.
#[derive(Debug, Clone, Default)]
pub struct LinkSettings {
    /// `always_copy` / `--copy`.
    pub always_copy: bool,
    /// `always_softlink`: files (those the prefix does not change) are symbolic links into
    /// the package cache.
    pub always_softlink: bool,
    /// `allow_softlinks`.
    pub allow_softlinks: bool,
    /// Requested spec per package name, recorded as `requested_spec`.
    pub requested: HashMap<String, String>,
    /// Value for `ROOT_PREFIX` in link scripts.
    pub root_prefix: PathBuf,
    /// `envs_dirs`, for the activation link scripts run in.
    pub envs_dirs: Vec<PathBuf>,
    /// The `conda` link scripts see as `CONDA_EXE`.
    pub conda_exe: PathBuf,
    /// Whether the prefix directory did not exist before (removed entirely on failure).
    pub created_prefix: bool,
    /// Whether `conda-meta` did not exist before (removed on failure).
    pub created_meta: bool,
    /// Whether the package cache and the prefix are on one file system (hard links work);
    /// probed by [`execute`] with [`Packages::hardlinks_supported`].
    pub hardlinks: bool,
    /// The command line, for the journal.
    pub cmd: String,
    /// `path_conflict` (`clobber` when `--clobber` or `clobber: true`): what a path two
    /// packages ship, or one an installed package owns, does.
    pub path_conflict: taipan_config::PathConflict,
}

/// What a finished transaction reports.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Messages left by link scripts in `.messages.txt`.
    pub messages: Vec<String>,
    /// Warnings (failed pre-unlink scripts, safety checks, …).
    pub warnings: Vec<String>,
}

/// Runs the plan against the extracted packages. On any failure the prefix is restored and
/// the error returned. Call it holding the prefix's lock. `after_history` runs once the
/// history is written, before the commit point (registering the environment).
pub async fn execute(
    plan: &Plan,
    extracted: &Packages<'_>,
    settings: &LinkSettings,
    history: &crate::history::Entry,
    after_history: &dyn Fn() -> Result<()>,
) -> Result<Outcome> {
    let tag = plan.prefix.join("CACHEDIR.TAG");
    let had_tag = tag.exists();
    let had_history = plan.prefix.join("conda-meta/history").exists();
    let prefix = Prefix::create(plan.prefix.clone()).map_err(|e| {
        CondaError::generic(format!("cannot create {}: {e}", plan.prefix.display()))
    })?;
    // rattler's `Prefix::create` makes an empty history; conda stamps `created_at` before
    // the first history entry of an environment.
    if !had_history {
        crate::prefix::set_creation_time(&plan.prefix);
    }
    // rattler marks prefixes as caches for backup tools; conda environments are not caches.
    if !had_tag {
        let _ = std::fs::remove_file(&tag);
    }
    let _signals = InterruptGuard::install();
    let mut journal = Journal::begin(
        &plan.prefix,
        &settings.cmd,
        settings.created_prefix,
        settings.created_meta,
    )?;
    let mut outcome = Outcome {
        warnings: extracted.warnings(),
        ..Outcome::default()
    };
    // The probe file lives in the journal's scratch directory, which goes with it.
    let settings = &LinkSettings {
        hardlinks: extracted.hardlinks_supported(&journal.scratch()),
        ..settings.clone()
    };
    if !settings.hardlinks && settings.allow_softlinks && !settings.always_copy {
        outcome.warnings.push(format!(
            "allow_softlinks: the package cache and {} are on different file systems; taipan copies files instead of soft-linking them",
            plan.prefix.display()
        ));
    }
    let result = run_steps(
        plan,
        &prefix,
        extracted,
        settings,
        history,
        &mut journal,
        &mut outcome,
        after_history,
    )
    .await;
    match result {
        Ok(()) => {
            journal.commit()?;
            Ok(outcome)
        }
        Err(err) => {
            extracted.abandon();
            let errors = journal.rollback();
            Err(with_rollback_note(err, errors))
        }
    }
}

fn with_rollback_note(mut err: CondaError, errors: Vec<String>) -> CondaError {
    if errors.is_empty() {
        err.message
            .push_str("\n\nAll changes from this transaction have been rolled back.");
    } else {
        err.message.push_str(&format!(
            "\n\nRolling back the transaction failed for:{}\nThe journal of the transaction is kept; the next conda command on this environment tries again.",
            crate::error::dashlist(errors)
        ));
    }
    err
}

#[allow(clippy::too_many_arguments)]
async fn run_steps(
    plan: &Plan,
    prefix: &Prefix,
    extracted: &Packages<'_>,
    settings: &LinkSettings,
    history: &crate::history::Entry,
    journal: &mut Journal,
    outcome: &mut Outcome,
    after_history: &dyn Fn() -> Result<()>,
) -> Result<()> {
    for record in &plan.unlink {
        check_interrupt()?;
        unlink::unlink_one(plan, record, settings, journal, outcome)?;
    }
    link::link_all(plan, prefix, extracted, settings, journal, outcome).await?;
    check_interrupt()?;
    pyc::compile(plan, journal)?;
    check_interrupt()?;
    crate::history::append(&plan.prefix, history)?;
    crashpoint::hit("history");
    after_history()?;
    check_interrupt()
}

/// An error with all its causes, `: `-separated.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let st = s.to_string();
        if !text.contains(&st) {
            text.push_str(&format!(": {st}"));
        }
        source = s.source();
    }
    text
}

/// Reads the index.json of an extracted package (for `@EXPLICIT` installs).
pub fn read_index_json(dir: &Path) -> Result<IndexJson> {
    IndexJson::from_package_directory(dir).map_err(|e| {
        CondaError::new(
            ErrorKind::CondaVerificationError,
            format!("{}: cannot read info/index.json: {e}", dir.display()),
        )
    })
}

/// Keeps the type alias in use for callers that match on operations.
pub type Operation = TransactionOperation<PrefixRecord, RepoDataRecord>;
