//! Locks on package cache entries, shared between processes: a transaction links from an
//! entry while holding it shared, and an entry is only extracted, replaced or purged by a
//! process holding it exclusively. So concurrent commands on one cache wait for each other
//! per entry, and none deletes an entry another one is linking from.
//!
//! The lock is `flock(2)` on `<pkgs_dir>/<name>-<version>-<build>.lock`, the file rattler's
//! cache keeps an entry's revision in (a lock on it does not disturb that).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest wait for another process's hold on one entry.
const PATIENCE: Duration = Duration::from_secs(600);

/// A held lock on one cache entry (nothing is held for a cache directory this user cannot
/// write: nobody else changes it through taipan).
#[derive(Debug)]
pub struct EntryLock {
    file: Option<Arc<File>>,
    path: PathBuf,
    exclusive: bool,
}

impl EntryLock {
    /// The lock file of an entry directory.
    pub fn path_for(entry_dir: &Path) -> PathBuf {
        let mut p = entry_dir.as_os_str().to_owned();
        p.push(".lock");
        PathBuf::from(p)
    }

    fn open(path: &Path) -> Option<Arc<File>> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .or_else(|_| File::open(path))
            .ok()
            .map(Arc::new)
    }

    /// Waits for a shared hold on the entry.
    pub async fn shared(entry_dir: &Path) -> std::io::Result<Self> {
        let path = Self::path_for(entry_dir);
        let mut lock = Self {
            file: Self::open(&path),
            path,
            exclusive: false,
        };
        lock.wait(false).await?;
        Ok(lock)
    }

    /// A shared hold on an entry that `usable` accepts (returned with what `usable` gave),
    /// or else an exclusive hold to make the entry. Never waits for the exclusive hold while
    /// holding the shared one: two processes upgrading one entry would each wait for the
    /// other forever (`flock` cannot upgrade atomically). So the shared hold is let go, the
    /// exclusive one is tried, and if another process holds the entry the whole look starts
    /// again: that process is making it, or using it, and its result will be usable.
    pub async fn usable_or_exclusive<T, F, Fut>(
        entry_dir: &Path,
        usable: F,
    ) -> std::io::Result<(Self, Option<T>)>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let mut wait = Wait::new(Self::path_for(entry_dir));
        let mut first = true;
        loop {
            let shared = Self::shared(entry_dir).await?;
            if let Some(found) = usable().await {
                return Ok((shared, Some(found)));
            }
            if std::mem::take(&mut first) {
                let name = entry_dir.file_name().unwrap_or_default().to_string_lossy();
                let held = crate::crashpoint::pause("entry-missing", &name);
                if !held.is_zero() {
                    tokio::time::sleep(held).await;
                }
            }
            drop(shared);
            let mut lock = Self {
                file: Self::open(&wait.path),
                path: wait.path.clone(),
                exclusive: false,
            };
            if lock.try_exclusive() {
                return Ok((lock, None));
            }
            wait.pause().await?;
        }
    }

    /// Turns an exclusive hold back into a shared one.
    pub async fn downgrade(&mut self) -> std::io::Result<()> {
        if self.exclusive {
            self.wait(false).await?;
            self.exclusive = false;
        }
        Ok(())
    }

    /// Tries to turn the hold exclusive without waiting. A failed attempt may lose the
    /// shared hold too (flock converts by unlocking first): only for an entry that is being
    /// given up.
    pub fn try_exclusive(&mut self) -> bool {
        let Some(file) = self.file.clone() else {
            return true;
        };
        let ok = file.try_lock().is_ok();
        self.exclusive = ok;
        ok
    }

    /// Whether the hold is exclusive (or there is no lock file to hold).
    pub fn is_exclusive(&self) -> bool {
        self.exclusive || self.file.is_none()
    }

    async fn wait(&mut self, exclusive: bool) -> std::io::Result<()> {
        let Some(file) = self.file.clone() else {
            return Ok(());
        };
        let mut wait = Wait::new(self.path.clone());
        loop {
            let attempt = if exclusive {
                file.try_lock()
            } else {
                file.try_lock_shared()
            };
            match attempt {
                Ok(()) => return Ok(()),
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
                Err(std::fs::TryLockError::WouldBlock) => wait.pause().await?,
            }
        }
    }
}

/// Waiting for another process's hold on one entry: growing pauses, a warning after 10 s,
/// an error after [`PATIENCE`].
struct Wait {
    path: PathBuf,
    start: Instant,
    pause: Duration,
    warned: bool,
}

impl Wait {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            start: Instant::now(),
            pause: Duration::from_millis(5),
            warned: false,
        }
    }

    async fn pause(&mut self) -> std::io::Result<()> {
        let waited = self.start.elapsed();
        if waited > PATIENCE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "another process has held {} for more than {} s",
                    self.path.display(),
                    PATIENCE.as_secs()
                ),
            ));
        }
        if !self.warned && waited > Duration::from_secs(10) {
            tracing::warn!(
                "waiting for another conda process to finish with {}",
                self.path.display()
            );
            self.warned = true;
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(Duration::from_millis(200));
        Ok(())
    }
}

impl Drop for EntryLock {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            let _ = file.unlock();
        }
    }
}

/// Removes what a killed extraction or download of this entry left in `pkgs_dir`: rattler's
/// `.<entry>XXXXXX` temporary directories and a `<file>.partial` download. Only called under
/// the entry's exclusive lock, so no other process is writing them.
pub fn remove_leftovers(pkgs_dir: &Path, entry: &str, file_name: &str) {
    let _ = std::fs::remove_file(super::download::partial_path(&pkgs_dir.join(file_name)));
    let Ok(dir) = std::fs::read_dir(pkgs_dir) else {
        return;
    };
    let prefix = format!(".{entry}");
    for item in dir.flatten() {
        let name = item.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        // tempfile's default: six random alphanumeric characters.
        if rest.len() == 6 && rest.chars().all(|c| c.is_ascii_alphanumeric()) {
            let _ = std::fs::remove_dir_all(item.path());
        }
    }
}

/// Removes what killed downloads and extractions left anywhere in `pkgs_dir` (temporary
/// directories, `.partial` files), for every entry no other process holds. Entries are
/// recognised by their lock file, which exists before any of their temporary files.
pub fn sweep(pkgs_dir: &Path) {
    let Ok(dir) = std::fs::read_dir(pkgs_dir) else {
        return;
    };
    for item in dir.flatten() {
        let name = item.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(entry) = leftover_entry(name) else {
            continue;
        };
        let lock_path = pkgs_dir.join(format!("{entry}.lock"));
        let Ok(file) = std::fs::OpenOptions::new().write(true).open(&lock_path) else {
            continue;
        };
        if file.try_lock().is_err() {
            continue;
        }
        let path = item.path();
        if path.is_dir() {
            let _ = std::fs::remove_dir_all(&path);
        } else {
            let _ = std::fs::remove_file(&path);
        }
        let _ = file.unlock();
    }
}

/// The entry a leftover belongs to: `.<entry>XXXXXX` (a temporary directory) or
/// `<entry>.conda.partial` / `<entry>.tar.bz2.partial` (a download).
fn leftover_entry(name: &str) -> Option<&str> {
    if let Some(file) = name.strip_suffix(".partial") {
        return file
            .strip_suffix(".conda")
            .or_else(|| file.strip_suffix(".tar.bz2"));
    }
    let rest = name.strip_prefix('.')?;
    let cut = rest.len().checked_sub(6)?;
    let (entry, random) = (rest.get(..cut)?, rest.get(cut..)?);
    (!entry.is_empty() && random.chars().all(|c| c.is_ascii_alphanumeric())).then_some(entry)
}
