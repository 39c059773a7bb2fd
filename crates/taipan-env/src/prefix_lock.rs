//! The per-prefix lock (`conda-meta/.guard`): one command at a time changes an
//! environment, and the first thing a command does with the lock is to finish whatever an
//! interrupted command left (see [`crate::transaction::journal`]). Commands that change a
//! prefix take it before they read it, so what they solve against is what they change.

use crate::error::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::{CondaError, Result};
use crate::transaction::Recovered;

/// A held prefix lock.
pub struct PrefixLock {
    /// `conda-meta/.guard`, locked with `flock(2)` as rattler's prefix guard does, and
    /// holding its state (`"installing"` while a transaction runs, then `"ready"`).
    guard: std::fs::File,
    prefix: PathBuf,
    /// What an interrupted transaction left and was finished when the lock was taken.
    pub recovered: Option<Recovered>,
    /// Whether the prefix directory did not exist before the lock was taken.
    pub created_prefix: bool,
    /// Whether its `conda-meta` did not exist before the lock was taken.
    pub created_meta: bool,
}

impl PrefixLock {
    /// The locked prefix.
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// Marks a transaction as running in the guard file (for other tools reading it).
    pub async fn begin(&mut self) -> Result<()> {
        self.set_state("installing")
            .map_err(|e| lock_error(&self.prefix, e))
    }

    fn set_state(&mut self, state: &str) -> std::io::Result<()> {
        use std::io::{Seek, Write};
        self.guard.seek(std::io::SeekFrom::Start(0))?;
        let bytes = format!("\"{state}\"");
        self.guard.write_all(bytes.as_bytes())?;
        self.guard.set_len(bytes.len() as u64)
    }

    /// Releases the lock (dropping it does the same).
    pub async fn release(self) {}
}

impl Drop for PrefixLock {
    fn drop(&mut self) {
        // The guard file says the prefix is usable again; the lock goes with the file.
        let _ = self.set_state("ready");
    }
}

/// Takes the lock of an existing environment, waiting for other commands, and recovers an
/// interrupted transaction. A prefix this user cannot write is `EnvironmentNotWritableError`.
pub async fn lock(prefix: &Path) -> Result<PrefixLock> {
    if !crate::context::prefix_writable(prefix) {
        return Err(not_writable(prefix, None));
    }
    let lock = take(prefix, false, false, false).await?;
    if !crate::layout::is_conda_env(prefix) {
        // Recovery undid the interrupted creation of this environment.
        return Err(CondaError::new(
            ErrorKind::EnvironmentLocationNotFound,
            format!(
                "Not a conda environment: {}\n  A command creating it was interrupted; what it had done was rolled back.",
                prefix.display()
            ),
        ));
    }
    Ok(lock)
}

/// Takes the lock of a prefix a command is about to create (its `conda-meta` is created
/// for the lock); remembers what did not exist, for rollback.
pub async fn lock_new(prefix: &Path) -> Result<PrefixLock> {
    // What a create killed before its journal began left is taken over as its own.
    let leftover = crate::transaction::journal::abandoned(prefix);
    let only_meta = leftover
        && std::fs::read_dir(prefix)
            .is_ok_and(|d| d.flatten().all(|e| e.file_name() == "conda-meta"));
    let created_prefix = !prefix.exists() || only_meta;
    let created_meta = !prefix.join("conda-meta").is_dir() || leftover;
    if !crate::context::dir_writable(prefix) {
        return Err(not_writable(prefix, None));
    }
    std::fs::create_dir_all(prefix.join("conda-meta"))
        .map_err(|e| not_writable(prefix, Some(e)))?;
    if created_meta {
        // Until the journal begins (or the history is written), this marks the new
        // `conda-meta` as the start of a create: if it is killed, recovery removes it.
        std::fs::write(
            prefix
                .join("conda-meta")
                .join(crate::transaction::journal::CREATING),
            b"",
        )
        .map_err(|e| not_writable(prefix, Some(e)))?;
    }
    let lock = take(prefix, created_prefix, created_meta, true).await;
    crate::crashpoint::hit("locked-new");
    if lock.is_err() && created_prefix {
        let _ = std::fs::remove_dir_all(prefix);
    }
    lock
}

async fn take(
    prefix: &Path,
    created_prefix: bool,
    created_meta: bool,
    creating: bool,
) -> Result<PrefixLock> {
    let path = prefix.join("conda-meta").join(".guard");
    let guard = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| lock_error(prefix, e))?;
    let guard = wait_for(guard, prefix).await?;
    // The command that held the lock may have removed the environment (`remove --all`
    // moves it away) or replaced it: then the file locked is not the one at the path.
    if !same_file(&guard, &path) {
        return Err(CondaError::new(
            ErrorKind::EnvironmentLocationNotFound,
            format!(
                "Not a conda environment: {}\n  Another conda command removed or replaced it while this one was waiting for it.",
                prefix.display()
            ),
        ));
    }
    let recovered = if creating {
        crate::transaction::journal::recover_journal(prefix)?
    } else {
        crate::transaction::recover(prefix)?
    };
    Ok(PrefixLock {
        guard,
        prefix: prefix.to_path_buf(),
        recovered,
        created_prefix,
        created_meta,
    })
}

/// Waits for the exclusive lock, telling the user when another command holds it.
async fn wait_for(file: std::fs::File, prefix: &Path) -> Result<std::fs::File> {
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(std::fs::TryLockError::Error(e)) => return Err(lock_error(prefix, e)),
        Err(std::fs::TryLockError::WouldBlock) => {}
    }
    tracing::warn!(
        "waiting for another conda command to finish with {}",
        prefix.display()
    );
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| CondaError::generic(format!("cannot lock {}: {e}", prefix.display())))?
        .map_err(|e| lock_error(prefix, e))
}

fn same_file(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn lock_error(prefix: &Path, e: std::io::Error) -> CondaError {
    if e.kind() == std::io::ErrorKind::PermissionDenied || e.raw_os_error() == Some(libc::EROFS) {
        return not_writable(prefix, Some(e));
    }
    CondaError::generic(format!("cannot lock {}: {e}", prefix.display()))
}

/// conda's `EnvironmentNotWritableError`.
pub fn not_writable(prefix: &Path, e: Option<std::io::Error>) -> CondaError {
    // SAFETY: geteuid/getegid cannot fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let cause = e.map(|e| format!("\n  ({e})")).unwrap_or_default();
    CondaError::new(
        ErrorKind::EnvironmentNotWritableError,
        format!(
            "The current user does not have write permissions to the target environment.\n  environment location: {}\n  uid: {uid}\n  gid: {gid}{cause}\n",
            prefix.display()
        ),
    )
    .with("environment_location", prefix.display().to_string())
    .with("uid", uid)
    .with("gid", gid)
}

/// Whether a prefix holds an interrupted transaction that no command is running (its lock
/// is free): read-only commands refuse to show such a mixed state.
pub fn needs_recovery(prefix: &Path) -> bool {
    if !crate::transaction::journal::pending(prefix) {
        return false;
    }
    let Ok(file) = std::fs::File::open(prefix.join("conda-meta").join(".guard")) else {
        return true;
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            true
        }
        // A command holds the lock: it is running the transaction (or recovering it).
        Err(_) => false,
    }
}

/// conda's `CorruptedEnvironmentError` for a prefix that [`needs_recovery`].
pub fn recovery_needed_error(prefix: &Path) -> CondaError {
    CondaError::new(
        ErrorKind::CorruptedEnvironmentError,
        format!(
            "The target environment has been corrupted. Corrupted environments most commonly occur when the conda process is force-terminated while in an unlink-link transaction.\n  environment location: {}\nIts changes were journaled: the next conda command that changes this environment (install, update, remove) rolls the interrupted one back first.",
            prefix.display()
        ),
    )
    .with("environment_location", prefix.display().to_string())
}
