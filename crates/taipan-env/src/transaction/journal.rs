//! The transaction journal: a write-ahead log in the prefix, so that a transaction that
//! did not finish (an error, Ctrl-C, `kill -9`, a power cut) is rolled back to the old
//! state, or completed after its commit point, by the next command that takes the prefix's
//! lock.
//!
//! `PREFIX/.taipan-transaction/` holds `journal.jsonl`, one JSON object per line, and
//! `stash/`, where every file the transaction replaces or removes is moved (renamed, on the
//! same file system) instead of being deleted. Every line is written before the change it
//! describes; lines that move a user's file aside are synced to disk first:
//!
//! | line | meaning | rollback |
//! |---|---|---|
//! | `begin` | pid, command, whether the prefix and `conda-meta` existed, history's length | remove a created prefix; cut history back |
//! | `stash` | `stash/N` will hold the file from this path (its directory resolved) | move it back |
//! | `create` | these paths will be created | remove them |
//! | `mkdir` | these directories did not exist | remove them with what is below |
//! | `commit` | the new state is complete | — (the stash is deleted) |
//! | `undone` | rollback removed what was created | (restore the stash next) |
//!
//! Paths are relative to the prefix. After `commit` only clean-up is left, which recovery
//! finishes; before it, recovery undoes every step in reverse order. Rollback itself is
//! journaled (`undone`) and every step of it can be repeated, so a rollback that is killed
//! is finished by the next one. The journal's own file goes last.

use crate::error::ErrorKind;
use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::confine::Fence;
use crate::crashpoint;
use crate::error::{CondaError, Result};

pub use crate::layout::JOURNAL_DIR;
const LOG: &str = "journal.jsonl";
const STASH: &str = "stash";
const TMP: &str = "tmp";

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Line {
    Begin {
        pid: u32,
        cmd: String,
        prefix_created: bool,
        meta_created: bool,
        history_len: Option<u64>,
    },
    Stash {
        n: u64,
        path: String,
    },
    Create {
        paths: Vec<String>,
    },
    Mkdir {
        paths: Vec<String>,
    },
    Commit,
    /// Rollback removed what the transaction created; what follows restores the stash.
    Undone,
}

/// How a path to be replaced is treated when it is a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stash {
    /// A file a package links: a real directory in its way is an error.
    ForLink,
    /// A path an unlinked record lists: a directory is left alone (removed when empty).
    ForUnlink,
}

/// A transaction in progress: the log on disk and its mirror in memory.
pub(crate) struct Journal {
    prefix: PathBuf,
    dir: PathBuf,
    log: Option<std::fs::File>,
    pending: String,
    /// Confinement checks for every path moved, created or removed.
    pub fence: Fence,
    prefix_created: bool,
    meta_created: bool,
    history_len: Option<u64>,
    /// Whether rollback already removed what was created (`undone` was logged).
    undone: bool,
    /// (original path, stash path), in order.
    moved: Vec<(PathBuf, PathBuf)>,
    created: Vec<PathBuf>,
    created_set: HashSet<PathBuf>,
    mkdirs: Vec<PathBuf>,
    /// Directories that may be left empty by unlinking.
    dirs: BTreeSet<PathBuf>,
    /// Directories that did not exist when first looked at (and everything below them).
    absent_dirs: HashSet<PathBuf>,
    /// Directories that did exist.
    present_dirs: HashSet<PathBuf>,
    /// Paths this transaction links as symbolic links: one may make a directory appear
    /// where there was none (`lib64 -> lib`), so paths below them are always looked at.
    pub symlinks: HashSet<PathBuf>,
    /// Records of noarch python packages linked here, whose sources get compiled.
    pub python_records: Vec<PathBuf>,
    counter: u64,
}

/// What [`recover`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// The interrupted transaction was undone.
    RolledBack {
        /// Its command line.
        cmd: String,
        /// Its process.
        pid: u32,
    },
    /// A command that was creating the environment was killed before its first change was
    /// journaled: the empty `conda-meta` it left was removed.
    Abandoned,
    /// It had reached its commit point; its clean-up was finished.
    Completed {
        /// Its command line.
        cmd: String,
        /// Its process.
        pid: u32,
    },
}

impl Journal {
    /// Starts a transaction's journal. `prefix_created`/`meta_created`: whether the prefix
    /// and its `conda-meta` did not exist before this transaction (they are removed on
    /// rollback).
    pub fn begin(
        prefix: &Path,
        cmd: &str,
        prefix_created: bool,
        meta_created: bool,
    ) -> Result<Self> {
        let dir = prefix.join(JOURNAL_DIR);
        if dir.exists() {
            return Err(CondaError::new(
                ErrorKind::CorruptedEnvironmentError,
                format!(
                    "{} holds the journal of an unfinished transaction; it must be recovered first.",
                    dir.display()
                ),
            ));
        }
        let fence = Fence::new(prefix).map_err(|e| {
            CondaError::generic(format!("cannot resolve {}: {e}", prefix.display()))
        })?;
        std::fs::create_dir(&dir).map_err(|e| not_writable(prefix, e))?;
        std::fs::create_dir(dir.join(STASH))?;
        std::fs::create_dir(dir.join(TMP))?;
        let history_len = std::fs::metadata(prefix.join("conda-meta/history"))
            .ok()
            .map(|m| m.len());
        let log = std::fs::OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(dir.join(LOG))?;
        let mut journal = Self::empty(prefix, fence, Some(log));
        journal.prefix_created = prefix_created;
        journal.meta_created = meta_created;
        journal.history_len = history_len;
        journal.write(&Line::Begin {
            pid: std::process::id(),
            cmd: cmd.to_string(),
            prefix_created,
            meta_created,
            history_len,
        });
        journal.sync()?;
        let _ = std::fs::remove_file(prefix.join("conda-meta").join(CREATING));
        crashpoint::hit("journal-begun");
        Ok(journal)
    }

    fn empty(prefix: &Path, fence: Fence, log: Option<std::fs::File>) -> Self {
        Self {
            prefix: prefix.to_path_buf(),
            dir: prefix.join(JOURNAL_DIR),
            log,
            pending: String::new(),
            fence,
            prefix_created: false,
            meta_created: false,
            history_len: None,
            undone: false,
            moved: Vec::new(),
            created: Vec::new(),
            created_set: HashSet::new(),
            mkdirs: Vec::new(),
            dirs: BTreeSet::new(),
            absent_dirs: HashSet::new(),
            present_dirs: HashSet::new(),
            symlinks: HashSet::new(),
            python_records: Vec::new(),
            counter: 0,
        }
    }

    /// The directory for probes and temporary files (removed with the journal).
    pub fn scratch(&self) -> PathBuf {
        self.dir.join(TMP)
    }

    fn write(&mut self, line: &Line) {
        if let Ok(text) = serde_json::to_string(line) {
            self.pending.push_str(&text);
            self.pending.push('\n');
        }
    }

    /// Writes the lines logged so far (the changes they describe come after).
    pub fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if let Some(log) = &mut self.log {
            log.write_all(self.pending.as_bytes())
                .map_err(|e| journal_error(&self.dir, e))?;
        }
        self.pending.clear();
        Ok(())
    }

    /// Writes the lines logged so far and waits until they are on disk.
    fn sync(&mut self) -> Result<()> {
        self.flush()?;
        if let Some(log) = &self.log {
            log.sync_data().map_err(|e| journal_error(&self.dir, e))?;
        }
        Ok(())
    }

    fn rel(&self, path: &Path) -> Result<String> {
        let rel = path.strip_prefix(&self.prefix).map_err(|_| {
            CondaError::generic(format!(
                "{} is outside the prefix {}",
                path.display(),
                self.prefix.display()
            ))
        })?;
        rel.to_str().map(str::to_string).ok_or_else(|| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!(
                    "the path {} is not valid UTF-8; conda environments can only hold UTF-8 paths",
                    path.display()
                ),
            )
        })
    }

    /// Logs and prepares the paths a package is about to link: what exists there is moved
    /// aside, the paths and the directories that will appear are logged. Written before
    /// anything is linked.
    pub fn before_link(
        &mut self,
        targets: &[PathBuf],
        directories: &HashSet<PathBuf>,
    ) -> Result<()> {
        let tops_before = self.mkdirs.len();
        self.stash_all(targets, Stash::ForLink, directories)?;
        let mut new: Vec<PathBuf> = Vec::new();
        for t in targets {
            if !self.created_set.contains(t) {
                new.push(t.clone());
            }
        }
        let tops: Vec<String> = self.mkdirs[tops_before..]
            .iter()
            .map(|d| self.rel(d))
            .collect::<Result<_>>()?;
        if !tops.is_empty() {
            self.write(&Line::Mkdir { paths: tops });
        }
        if !new.is_empty() {
            let rels = new
                .iter()
                .map(|p| self.rel(p))
                .collect::<Result<Vec<_>>>()?;
            self.write(&Line::Create { paths: rels });
            for p in new {
                self.created_set.insert(p.clone());
                self.created.push(p);
            }
        }
        self.flush()
    }

    /// Moves existing paths into the stash, after logging (and syncing) where each came
    /// from. A path this transaction created itself (two packages shipping one file) is
    /// replaced: the later package wins, as in conda, and rollback removes it anyway.
    pub fn stash_all(
        &mut self,
        paths: &[PathBuf],
        mode: Stash,
        directories: &HashSet<PathBuf>,
    ) -> Result<()> {
        let mut todo = Vec::new();
        for path in paths {
            if self.created_set.contains(path) {
                if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_dir()) {
                    std::fs::remove_file(path).map_err(|e| {
                        CondaError::generic(format!("cannot replace {}: {e}", path.display()))
                    })?;
                }
                continue;
            }
            if self.in_absent_dir(path) {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(path) else {
                continue;
            };
            if meta.is_dir() {
                if mode == Stash::ForUnlink || directories.contains(path) {
                    self.dirs.insert(path.clone());
                    continue;
                }
                return Err(CondaError::new(
                    ErrorKind::LinkError,
                    format!(
                        "cannot link {}: a directory is in the way.\n  Remove or rename that directory, then run the command again.",
                        path.display()
                    ),
                ));
            }
            if !self.fence.parent_inside(path) {
                return Err(outside(path));
            }
            let original = self.fence.resolved(path).ok_or_else(|| outside(path))?;
            self.counter += 1;
            let n = self.counter;
            let line = Line::Stash {
                n,
                path: self.rel(&original)?,
            };
            self.write(&line);
            todo.push((
                path.clone(),
                original,
                self.dir.join(STASH).join(n.to_string()),
            ));
        }
        if todo.is_empty() {
            return Ok(());
        }
        self.sync()?;
        crashpoint::hit("stash-logged");
        for (path, original, stashed) in todo {
            std::fs::rename(&path, &stashed).map_err(|e| {
                CondaError::generic(format!("cannot move {} aside: {e}", path.display()))
            })?;
            if let Some(parent) = original.parent() {
                self.dirs.insert(parent.to_path_buf());
            }
            self.moved.push((original, stashed));
        }
        crashpoint::hit("stashed");
        Ok(())
    }

    /// Whether `path`'s directory did not exist before this transaction (nothing there
    /// predates it, so it needs no look). The topmost missing directory is logged, so
    /// rollback removes what was created below it.
    fn in_absent_dir(&mut self, path: &Path) -> bool {
        let Some(parent) = path.parent() else {
            return false;
        };
        if self.present_dirs.contains(parent) {
            return false;
        }
        if !self.symlinks.is_empty() && parent.ancestors().any(|a| self.symlinks.contains(a)) {
            return false;
        }
        if parent.ancestors().any(|a| self.absent_dirs.contains(a)) {
            return true;
        }
        if std::fs::symlink_metadata(parent).is_ok() {
            self.present_dirs.insert(parent.to_path_buf());
            return false;
        }
        let mut top = parent;
        while let Some(up) = top.parent() {
            if up == self.prefix || std::fs::symlink_metadata(up).is_ok() {
                break;
            }
            top = up;
        }
        self.absent_dirs.insert(top.to_path_buf());
        self.mkdirs.push(top.to_path_buf());
        true
    }

    /// Writes a file of the transaction (a conda-meta record) atomically: a temporary file
    /// in the journal, renamed into place. Its path must have been logged as created.
    pub fn write_file(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        self.counter += 1;
        let tmp = self.dir.join(TMP).join(format!("{}.tmp", self.counter));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        drop(file);
        std::fs::rename(&tmp, path)
            .map_err(|e| CondaError::generic(format!("cannot write {}: {e}", path.display())))?;
        Ok(())
    }

    /// The commit point: the new state is complete. The stash and the journal are removed
    /// afterwards (recovery finishes that if it is interrupted).
    pub fn commit(mut self) -> Result<()> {
        self.write(&Line::Commit);
        self.sync()?;
        crashpoint::hit("committed");
        self.finish();
        Ok(())
    }

    /// Clean-up after the commit point: the old files go, directories left empty by
    /// unlinking go, then the journal. Every step can be repeated.
    fn finish(&mut self) {
        let _ = std::fs::remove_dir_all(self.dir.join(STASH));
        crashpoint::hit("stash-removed");
        self.remove_empty_dirs();
        self.remove_journal();
    }

    /// Removes the journal directory, its log last: until then a recovery can resume.
    fn remove_journal(&mut self) {
        self.log = None;
        let _ = std::fs::remove_dir_all(self.dir.join(STASH));
        let _ = std::fs::remove_dir_all(self.dir.join(TMP));
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// Undoes every step, newest first; can be repeated after an interruption. Returns what
    /// could not be undone (the journal is then kept).
    pub fn rollback(&mut self) -> Vec<String> {
        let _ = self.flush();
        let mut errors = Vec::new();
        if !self.undone {
            self.remove_created(&mut errors);
            if !errors.is_empty() {
                return errors;
            }
            // From here on a path that exists is a restored one: never remove it again.
            self.write(&Line::Undone);
            if let Err(e) = self.sync() {
                errors.push(e.message);
                return errors;
            }
            self.undone = true;
        }
        crashpoint::hit("rollback-removed");
        self.restore_stash(&mut errors);
        crashpoint::hit("rollback-restored");
        self.restore_history(&mut errors);
        if errors.is_empty() {
            self.remove_new_dirs();
        }
        errors
    }

    fn remove_created(&mut self, errors: &mut Vec<String>) {
        for path in self.created.iter().rev() {
            let Ok(meta) = std::fs::symlink_metadata(path) else {
                continue;
            };
            if !self.fence.parent_inside(path) {
                errors.push(format!(
                    "{}: not removed, it resolves outside the prefix",
                    path.display()
                ));
                continue;
            }
            let removed = if meta.is_dir() {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            };
            if let Err(e) = removed {
                errors.push(format!("{}: {e}", path.display()));
            }
        }
        for dir in self.mkdirs.iter().rev() {
            if !self.fence.parent_inside(dir) {
                continue;
            }
            match std::fs::remove_dir_all(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    errors.push(format!("{}: {e}", dir.display()))
                }
                _ => {}
            }
        }
    }

    fn restore_stash(&mut self, errors: &mut Vec<String>) {
        for (original, stashed) in self.moved.iter().rev() {
            if std::fs::symlink_metadata(stashed).is_err() {
                continue;
            }
            if let Some(parent) = original.parent() {
                if !self.fence.dir_inside(parent) {
                    errors.push(format!(
                        "{}: not restored, its directory resolves outside the prefix",
                        original.display()
                    ));
                    continue;
                }
                let _ = std::fs::create_dir_all(parent);
            }
            if let Err(e) = std::fs::rename(stashed, original) {
                errors.push(format!("{}: {e}", original.display()));
            }
        }
    }

    /// After a rollback: a prefix or `conda-meta` the transaction created goes (everything
    /// but the journal first), then the journal.
    fn remove_new_dirs(&mut self) {
        if self.prefix_created {
            if let Ok(entries) = std::fs::read_dir(&self.prefix) {
                for entry in entries.flatten() {
                    if entry.file_name() != JOURNAL_DIR {
                        let path = entry.path();
                        let _ = if path.is_dir() && !path.is_symlink() {
                            std::fs::remove_dir_all(&path)
                        } else {
                            std::fs::remove_file(&path)
                        };
                    }
                }
            }
        } else if self.meta_created {
            let _ = std::fs::remove_dir_all(self.prefix.join("conda-meta"));
        }
        self.remove_journal();
        if self.prefix_created {
            let _ = std::fs::remove_dir(&self.prefix);
        }
    }

    fn restore_history(&self, errors: &mut Vec<String>) {
        let path = self.prefix.join("conda-meta/history");
        let Ok(meta) = std::fs::metadata(&path) else {
            return;
        };
        let result = match self.history_len {
            Some(len) if meta.len() > len => std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_len(len)),
            Some(_) => Ok(()),
            None => std::fs::remove_file(&path),
        };
        if let Err(e) = result {
            errors.push(format!("{}: {e}", path.display()));
        }
    }

    /// Removes directories left empty by unlinking, deepest first, never the prefix itself
    /// or `conda-meta`.
    fn remove_empty_dirs(&mut self) {
        let mut dirs: Vec<PathBuf> = Vec::new();
        for d in &self.dirs {
            let mut cur = d.clone();
            while cur.starts_with(&self.prefix) && cur != self.prefix {
                dirs.push(cur.clone());
                if !cur.pop() {
                    break;
                }
            }
        }
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        dirs.dedup();
        for d in dirs {
            if d.file_name().is_some_and(|n| n == "conda-meta") || !self.fence.parent_inside(&d) {
                continue;
            }
            let _ = std::fs::remove_dir(&d);
        }
    }
}

fn outside(path: &Path) -> CondaError {
    CondaError::new(
        ErrorKind::CondaVerificationError,
        format!(
            "refusing to change {}: its directory is a link that leads outside the environment.",
            path.display()
        ),
    )
}

fn not_writable(prefix: &Path, e: std::io::Error) -> CondaError {
    CondaError::new(
        ErrorKind::EnvironmentNotWritableError,
        format!(
            "The current user does not have write permissions to the target environment.\n  environment location: {}\n  ({e})",
            prefix.display()
        ),
    )
}

fn journal_error(dir: &Path, e: std::io::Error) -> CondaError {
    CondaError::new(
        ErrorKind::CondaError,
        format!(
            "cannot write the transaction journal in {}: {e}\n  Free some space on that file system and run the command again.",
            dir.display()
        ),
    )
}

/// Marks a `conda-meta` a `create` has just made, until its journal (or its history)
/// says what it is: a create killed before that left only this.
pub const CREATING: &str = ".taipan-creating";

/// Whether a prefix holds the journal of an unfinished transaction, or what a command
/// creating it left before its journal began.
pub fn pending(prefix: &Path) -> bool {
    prefix.join(JOURNAL_DIR).exists() || abandoned(prefix)
}

/// A `conda-meta` marked as being created that holds no history and no record: the start
/// of a `create` that was killed before it journaled anything.
pub fn abandoned(prefix: &Path) -> bool {
    let meta = prefix.join("conda-meta");
    if !meta.join(CREATING).exists() || meta.join("history").exists() {
        return false;
    }
    let Ok(entries) = std::fs::read_dir(&meta) else {
        return false;
    };
    !entries
        .flatten()
        .any(|e| e.path().extension().is_some_and(|x| x == "json"))
}

/// Removes what a `create` killed before its first journaled change left: the marked
/// `conda-meta`, and the prefix if nothing else is in it. Held under the prefix's lock.
fn abandoned_create(prefix: &Path) -> bool {
    if !abandoned(prefix) {
        let _ = std::fs::remove_file(prefix.join("conda-meta").join(CREATING));
        return false;
    }
    let _ = std::fs::remove_dir_all(prefix.join("conda-meta"));
    // Only if empty: never anything of the user's.
    let _ = std::fs::remove_dir(prefix);
    true
}

/// Finishes an interrupted transaction of `prefix`: rolled back to the old state, or
/// completed if it had reached its commit point. Call it holding the prefix's lock,
/// before reading the prefix. `None`: there was none.
pub fn recover(prefix: &Path) -> Result<Option<Recovered>> {
    if !prefix.join(JOURNAL_DIR).exists() {
        return Ok(abandoned_create(prefix).then_some(Recovered::Abandoned));
    }
    recover_journal(prefix)
}

/// [`recover`] for a command that creates the prefix: a marked `conda-meta` is its own
/// (or one it takes over), only a journal needs recovery.
pub fn recover_journal(prefix: &Path) -> Result<Option<Recovered>> {
    let dir = prefix.join(JOURNAL_DIR);
    if !dir.exists() {
        return Ok(None);
    }
    let text = std::fs::read(dir.join(LOG)).unwrap_or_default();
    let lines: Vec<Line> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        // A line cut short by a power cut is the last one; its change never happened.
        .map_while(|l| serde_json::from_slice(l).ok())
        .collect();
    let fence = Fence::new(prefix)
        .map_err(|e| CondaError::generic(format!("cannot resolve {}: {e}", prefix.display())))?;
    let mut journal = Journal::empty(prefix, fence, None);
    let mut begun = None;
    let mut committed = false;
    for line in lines {
        match line {
            Line::Begin {
                pid,
                cmd,
                prefix_created,
                meta_created,
                history_len,
            } => {
                journal.prefix_created = prefix_created;
                journal.meta_created = meta_created;
                journal.history_len = history_len;
                begun = Some((cmd, pid));
            }
            Line::Stash { n, path } => {
                let original = prefix.join(&path);
                if let Some(parent) = original.parent() {
                    journal.dirs.insert(parent.to_path_buf());
                }
                journal
                    .moved
                    .push((original, dir.join(STASH).join(n.to_string())));
            }
            Line::Create { paths } => {
                journal.created.extend(paths.iter().map(|p| prefix.join(p)));
            }
            Line::Mkdir { paths } => {
                journal.mkdirs.extend(paths.iter().map(|p| prefix.join(p)));
            }
            Line::Commit => committed = true,
            Line::Undone => journal.undone = true,
        }
    }
    let Some((cmd, pid)) = begun else {
        // Killed before the journal's first line: nothing was changed.
        journal.remove_journal();
        return Ok(None);
    };
    if committed {
        journal.finish();
        return Ok(Some(Recovered::Completed { cmd, pid }));
    }
    let errors = journal.rollback();
    if !errors.is_empty() {
        return Err(CondaError::new(
            ErrorKind::CorruptedEnvironmentError,
            format!(
                "The environment at {} was left half-changed by an interrupted command ({cmd}), and rolling it back failed for:{}\n  The journal is kept in {}; fix the cause (permissions, disk space) and run the command again.",
                prefix.display(),
                crate::error::dashlist(errors),
                dir.display()
            ),
        ));
    }
    Ok(Some(Recovered::RolledBack { cmd, pid }))
}

#[cfg(test)]
mod tests;
