//! The extracted packages a transaction links, held in the package cache until it ends.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rattler_conda_types::RepoDataRecord;

use crate::cache::{Entry, Fetched};
use crate::error::{CondaError, Result};

/// A fetch task of the background mode: the entry and its safety warnings.
pub type FetchTask = tokio::task::JoinHandle<Result<(Entry, Vec<String>)>>;

/// The extracted packages a transaction links.
#[allow(clippy::large_enum_variant)] // one per transaction
pub enum Packages<'a> {
    /// All in the cache already.
    Ready(&'a Fetched),
    /// Being fetched in the background (record URL → task); linking takes each package as
    /// it comes, so extraction and linking overlap.
    Pending {
        tasks: Mutex<HashMap<url::Url, FetchTask>>,
        /// Entries taken from finished tasks: held until the transaction ends.
        done: Mutex<HashMap<url::Url, Entry>>,
        /// Safety warnings of the finished tasks.
        warnings: Mutex<Vec<String>>,
        /// The cache directory they land in.
        pkgs_dir: PathBuf,
        /// Removes each package's extracted directory once it is linked (an installer that
        /// deletes its package cache anyway), alongside the linking of the others.
        discard: Option<Reaper>,
    },
}

impl Packages<'_> {
    /// Packages fetched by `tasks` into `pkgs_dir`.
    pub fn pending(
        tasks: HashMap<url::Url, FetchTask>,
        pkgs_dir: PathBuf,
        discard: bool,
    ) -> Packages<'static> {
        Packages::Pending {
            tasks: Mutex::new(tasks),
            done: Mutex::default(),
            warnings: Mutex::default(),
            pkgs_dir,
            discard: discard.then(Reaper::start),
        }
    }

    /// The extracted directory of a package, waiting for its extraction if needed.
    pub(crate) async fn dir(&self, record: &RepoDataRecord) -> Result<PathBuf> {
        let missing =
            || CondaError::generic(format!("{} is not in the package cache", record.identifier));
        match self {
            Packages::Ready(fetched) => fetched
                .dir(&record.url)
                .map(Path::to_path_buf)
                .ok_or_else(missing),
            Packages::Pending {
                tasks,
                done,
                warnings,
                ..
            } => {
                let task = tasks
                    .lock()
                    .map_err(|_| missing())?
                    .remove(&record.url)
                    .ok_or_else(missing)?;
                let (entry, w) = task.await.map_err(|e| {
                    CondaError::generic(format!("extracting {} failed: {e}", record.identifier))
                })??;
                let dir = entry.dir.clone();
                if let Ok(mut all) = warnings.lock() {
                    all.extend(w);
                }
                if let Ok(mut done) = done.lock() {
                    done.insert(record.url.clone(), entry);
                }
                Ok(dir)
            }
        }
    }

    /// The safety warnings of every package fetched so far.
    pub fn warnings(&self) -> Vec<String> {
        match self {
            Packages::Ready(fetched) => fetched.warnings.clone(),
            Packages::Pending { warnings, .. } => {
                warnings.lock().map(|w| w.clone()).unwrap_or_default()
            }
        }
    }

    /// Removes a package's cache entry after it proved unusable.
    pub(crate) fn purge(&self, record: &RepoDataRecord) {
        match self {
            Packages::Ready(fetched) => {
                if let Some(entry) = fetched.entries.get(&record.url) {
                    entry.purge();
                }
            }
            Packages::Pending { done, .. } => {
                if let Some(entry) = done.lock().ok().as_ref().and_then(|d| d.get(&record.url)) {
                    entry.purge();
                }
            }
        }
    }

    /// Waits until the deletions of `discard` are done.
    pub fn finish(&self) {
        if let Packages::Pending {
            discard: Some(reaper),
            ..
        } = self
        {
            reaper.finish();
        }
    }

    /// A package is linked: its extracted directory may go (see `discard`).
    pub(crate) fn release(&self, dir: &Path) {
        if let Packages::Pending {
            discard: Some(reaper),
            ..
        } = self
        {
            reaper.send(dir);
        }
    }

    /// Stops fetches nobody will wait for (after a failure).
    pub(crate) fn abandon(&self) {
        if let Packages::Pending { tasks, .. } = self {
            if let Ok(tasks) = tasks.lock() {
                tasks.values().for_each(|t| t.abort());
            }
        }
    }

    /// conda's link-type rule: hard links when the cache and the prefix share a file system,
    /// else copies. Probed once, by hard-linking a file of the cache (an extracted package's
    /// `info/index.json`, or `urls.txt`) into `probe_dir` (inside the prefix).
    pub fn hardlinks_supported(&self, probe_dir: &Path) -> bool {
        let source = match self {
            Packages::Ready(fetched) => fetched
                .entries
                .values()
                .map(|e| e.dir.join("info/index.json"))
                .find(|p| p.is_file()),
            Packages::Pending { pkgs_dir, .. } => Some(pkgs_dir.join("urls.txt")),
        };
        let Some(source) = source else {
            return true;
        };
        let probe = probe_dir.join("link-test");
        let ok = std::fs::hard_link(&source, &probe).is_ok();
        let _ = std::fs::remove_file(&probe);
        ok
    }
}

/// A thread that deletes directories sent to it; [`Reaper::finish`] waits for it.
pub struct Reaper {
    sender: Mutex<Option<std::sync::mpsc::Sender<PathBuf>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Reaper {
    /// Starts the thread.
    pub fn start() -> Self {
        let (sender, receiver) = std::sync::mpsc::channel::<PathBuf>();
        let thread = std::thread::spawn(move || {
            for dir in receiver {
                let _ = std::fs::remove_dir_all(&dir);
            }
        });
        Self {
            sender: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
        }
    }

    fn send(&self, dir: &Path) {
        if let Ok(Some(sender)) = self.sender.lock().as_deref() {
            let _ = sender.send(dir.to_path_buf());
        }
    }

    /// Waits until everything sent so far is deleted.
    pub fn finish(&self) {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        self.finish();
    }
}
