//! Executing a transaction with conda's safety: everything is downloaded and verified before
//! the prefix is touched; unlinked and overwritten files are moved into a journal inside the
//! prefix; any failure (bad package, failing post-link script, Ctrl-C) puts every file back.
//! (An installer, whose payload was verified as a whole, links packages while later ones are
//! still being extracted: see [`Packages::Pending`].)

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rattler::install::{InstallOptions, PythonInfo, Transaction, TransactionOperation};
use rattler_conda_types::package::{IndexJson, LinkJson, PackageFile, PathsJson};
use rattler_conda_types::prefix::Prefix;
use rattler_conda_types::prefix_record::{Link, LinkType, PathsEntry};
use rattler_conda_types::{PackageName, PackageRecord, PrefixRecord, RepoDataRecord, Subdir};

use crate::error::{CondaError, Result};
use crate::fsutil::write_atomic;

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
            "KeyboardInterrupt",
            "Operation interrupted by the user.",
        ));
    }
    Ok(())
}

/// The unlink and link operations that take a prefix from its current to its desired state.
pub struct Plan {
    /// Target prefix.
    pub prefix: PathBuf,
    /// Records to unlink (removed, or replaced by another build).
    pub unlink: Vec<PrefixRecord>,
    /// Records to link, in dependency order.
    pub link: Vec<RepoDataRecord>,
    /// Records that stay.
    pub unchanged: Vec<PrefixRecord>,
    /// Python of the final environment, for noarch python packages.
    pub python_info: Option<PythonInfo>,
    /// Platform of the prefix.
    pub platform: Subdir,
}

impl Plan {
    /// Computes the operations between installed records and the desired set.
    pub fn new(
        prefix: &Path,
        installed: &[PrefixRecord],
        desired: Vec<RepoDataRecord>,
        reinstall: &HashSet<PackageName>,
        platform: Subdir,
    ) -> Result<Self> {
        let tx: Transaction<PrefixRecord, RepoDataRecord> = Transaction::from_current_and_desired(
            installed.to_vec(),
            desired,
            Some(reinstall),
            None,
            platform,
        )
        .map_err(|e| CondaError::generic(format!("cannot plan the transaction: {e}")))?;
        let mut unlink = Vec::new();
        let mut link = Vec::new();
        for op in &tx.operations {
            if let Some(old) = op.record_to_remove() {
                unlink.push(old.clone());
            }
            if let Some(new) = op.record_to_install() {
                link.push(new.clone());
            }
        }
        let link = PackageRecord::sort_topologically(link);
        Ok(Self {
            prefix: prefix.to_path_buf(),
            unlink,
            link,
            unchanged: tx.unchanged.clone(),
            python_info: tx.python_info.clone(),
            platform,
        })
    }

    /// A plan that only unlinks the given records.
    pub fn removal(
        prefix: &Path,
        installed: &[PrefixRecord],
        remove: Vec<PrefixRecord>,
        platform: Subdir,
    ) -> Self {
        let gone: HashSet<String> = remove.iter().map(|r| r.file_name()).collect();
        Self {
            prefix: prefix.to_path_buf(),
            unchanged: installed
                .iter()
                .filter(|r| !gone.contains(&r.file_name()))
                .cloned()
                .collect(),
            unlink: remove,
            link: Vec::new(),
            python_info: None,
            platform,
        }
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.unlink.is_empty() && self.link.is_empty()
    }

    /// Pairs old and new records by name, for the plan display.
    pub fn changes(&self) -> Vec<(Option<&PrefixRecord>, Option<&RepoDataRecord>)> {
        let mut out = Vec::new();
        let new_by_name: HashMap<&str, &RepoDataRecord> = self
            .link
            .iter()
            .map(|r| (r.package_record.name.as_normalized(), r))
            .collect();
        let mut seen = HashSet::new();
        for old in &self.unlink {
            let name = old.repodata_record.package_record.name.as_normalized();
            seen.insert(name);
            out.push((Some(old), new_by_name.get(name).copied()));
        }
        for new in &self.link {
            if !seen.contains(new.package_record.name.as_normalized()) {
                out.push((None, Some(new)));
            }
        }
        out
    }
}

/// Settings for linking.
#[derive(Debug, Clone, Default)]
pub struct LinkSettings {
    /// `always_copy` / `--copy`.
    pub always_copy: bool,
    /// `allow_softlinks`.
    pub allow_softlinks: bool,
    /// Requested spec per package name, recorded as `requested_spec`.
    pub requested: HashMap<String, String>,
    /// Value for `ROOT_PREFIX` in link scripts.
    pub root_prefix: PathBuf,
    /// Whether the prefix did not exist before (removed entirely on failure).
    pub created_prefix: bool,
    /// Whether the package cache and the prefix are on one file system (hard links work);
    /// see [`hardlinks_supported`].
    pub hardlinks: bool,
}

/// The extracted packages a transaction links.
pub enum Packages<'a> {
    /// All in the cache already: record URL → extracted directory.
    Ready(&'a HashMap<url::Url, PathBuf>),
    /// Being extracted in the background (record URL → task); linking takes each package as
    /// it comes, so extraction and linking overlap. The cache directory (`pkgs_dir`) is
    /// where they land.
    Pending {
        tasks: std::sync::Mutex<HashMap<url::Url, tokio::task::JoinHandle<Result<PathBuf>>>>,
        pkgs_dir: PathBuf,
        /// Removes each package's extracted directory once it is linked (an installer that
        /// deletes its package cache anyway), alongside the linking of the others.
        discard: Option<Reaper>,
    },
}

/// A thread that deletes directories sent to it; [`Reaper::finish`] waits for it.
pub struct Reaper {
    sender: std::sync::Mutex<Option<std::sync::mpsc::Sender<PathBuf>>>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
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
            sender: std::sync::Mutex::new(Some(sender)),
            thread: std::sync::Mutex::new(Some(thread)),
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

impl Packages<'_> {
    /// The extracted directory of a package, waiting for its extraction if needed.
    async fn dir(&self, record: &RepoDataRecord) -> Result<PathBuf> {
        let missing =
            || CondaError::generic(format!("{} is not in the package cache", record.identifier));
        match self {
            Packages::Ready(map) => map.get(&record.url).cloned().ok_or_else(missing),
            Packages::Pending { tasks, .. } => {
                let task = tasks
                    .lock()
                    .map_err(|_| missing())?
                    .remove(&record.url)
                    .ok_or_else(missing)?;
                task.await.map_err(|e| {
                    CondaError::generic(format!("extracting {} failed: {e}", record.identifier))
                })?
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
    fn release(&self, dir: &Path) {
        if let Packages::Pending {
            discard: Some(reaper),
            ..
        } = self
        {
            reaper.send(dir);
        }
    }

    /// Stops extractions nobody will wait for (after a failure).
    fn abandon(&self) {
        if let Packages::Pending { tasks, .. } = self {
            if let Ok(tasks) = tasks.lock() {
                tasks.values().for_each(|t| t.abort());
            }
        }
    }

    /// conda's link-type rule: hard links when the cache and the prefix share a file system,
    /// else copies. Probed once, by hard-linking a file of a cached package (or a probe file
    /// in the cache directory) into the prefix.
    pub fn hardlinks_supported(&self, prefix: &Path) -> bool {
        let probe = prefix.join(format!(".taipan-link-test-{}", std::process::id()));
        let ok = match self {
            Packages::Ready(map) => {
                let Some(source) = map
                    .values()
                    .map(|d| d.join("info/index.json"))
                    .find(|p| p.is_file())
                else {
                    return true;
                };
                std::fs::hard_link(&source, &probe).is_ok()
            }
            Packages::Pending { pkgs_dir, .. } => {
                let source = pkgs_dir.join(format!(".taipan-link-test-{}", std::process::id()));
                let ok = std::fs::write(&source, b"").is_ok()
                    && std::fs::hard_link(&source, &probe).is_ok();
                let _ = std::fs::remove_file(&source);
                ok
            }
        };
        let _ = std::fs::remove_file(&probe);
        ok
    }
}

/// What a finished transaction reports.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Messages left by link scripts in `.messages.txt`.
    pub messages: Vec<String>,
    /// Warnings (failed pre-unlink scripts, …).
    pub warnings: Vec<String>,
}

/// Files moved aside during a transaction, so it can be undone.
struct Journal {
    prefix: PathBuf,
    dir: PathBuf,
    /// (original path, journal path) in the order they were moved.
    moved: Vec<(PathBuf, PathBuf)>,
    /// Paths created by linking, to delete on rollback.
    created: Vec<PathBuf>,
    /// The same paths, for lookups.
    created_set: HashSet<PathBuf>,
    /// conda-meta records written, to delete on rollback.
    records: Vec<PathBuf>,
    /// Directories that may be left empty.
    dirs: BTreeSet<PathBuf>,
    /// Records of noarch python packages linked here, whose sources get compiled.
    python_records: Vec<PathBuf>,
    /// Directories that did not exist when first looked at: nothing in them predates the
    /// transaction, so paths below them need no check (a fresh install skips one `lstat`
    /// per file this way).
    absent_dirs: HashSet<PathBuf>,
    /// Directories that did exist, so they are not looked at again.
    present_dirs: HashSet<PathBuf>,
    /// Paths this transaction links as symbolic links: one may make a directory appear
    /// where there was none (`lib64 -> lib`), so paths below them are always looked at.
    symlinks: HashSet<PathBuf>,
    counter: usize,
}

impl Journal {
    fn new(prefix: &Path) -> Result<Self> {
        let dir = prefix.join(format!(".taipan-rollback-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            prefix: prefix.to_path_buf(),
            dir,
            moved: Vec::new(),
            created: Vec::new(),
            created_set: HashSet::new(),
            records: Vec::new(),
            dirs: BTreeSet::new(),
            python_records: Vec::new(),
            absent_dirs: HashSet::new(),
            present_dirs: HashSet::new(),
            symlinks: HashSet::new(),
            counter: 0,
        })
    }

    /// Records a path this transaction is about to create.
    fn created(&mut self, path: PathBuf) {
        if self.created_set.insert(path.clone()) {
            self.created.push(path);
        }
    }

    /// Moves a path into the journal if it exists. A path this transaction created itself
    /// (two packages shipping the same file) is simply replaced: the later package wins, as in
    /// conda, and rollback removes it anyway.
    fn stash(&mut self, path: &Path) -> Result<()> {
        let created = self.created_set.contains(path);
        if !created && self.in_absent_dir(path) {
            return Ok(());
        }
        if std::fs::symlink_metadata(path).is_err() {
            return Ok(());
        }
        if created {
            return std::fs::remove_file(path).map_err(|e| {
                CondaError::generic(format!("cannot replace {}: {e}", path.display()))
            });
        }
        self.counter += 1;
        let dest = self.dir.join(self.counter.to_string());
        let original = self.restore_path(path);
        std::fs::rename(path, &dest).map_err(|e| {
            CondaError::generic(format!("cannot move {} aside: {e}", path.display()))
        })?;
        if let Some(parent) = original.parent() {
            self.dirs.insert(parent.to_path_buf());
        }
        self.moved.push((original, dest));
        Ok(())
    }

    /// Where a stashed file goes back on rollback. A path below a link this transaction
    /// creates (`lib/alias/x` with a new `lib/alias -> real`) is the file in the link's
    /// target: rollback removes the link before it restores files.
    fn restore_path(&self, path: &Path) -> PathBuf {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return path.to_path_buf();
        };
        if self.symlinks.is_empty() || !parent.ancestors().any(|a| self.symlinks.contains(a)) {
            return path.to_path_buf();
        }
        std::fs::canonicalize(parent).map_or_else(|_| path.to_path_buf(), |p| p.join(name))
    }

    /// Whether `path`'s directory did not exist before this transaction. If a directory
    /// cannot be looked up, no path below it can be either.
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
        self.absent_dirs.insert(parent.to_path_buf());
        true
    }

    fn rollback(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        for path in self.created.iter().chain(&self.records).rev() {
            if std::fs::symlink_metadata(path).is_ok() {
                if let Err(e) = std::fs::remove_file(path) {
                    errors.push(format!("{}: {e}", path.display()));
                }
            }
            if let Some(parent) = path.parent() {
                self.dirs.insert(parent.to_path_buf());
            }
        }
        for (orig, stashed) in self.moved.iter().rev() {
            if let Some(parent) = orig.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            if let Err(e) = std::fs::rename(stashed, orig) {
                errors.push(format!("{}: {e}", orig.display()));
            }
        }
        self.remove_empty_dirs();
        let _ = std::fs::remove_dir_all(&self.dir);
        errors
    }

    fn commit(mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        self.remove_empty_dirs();
    }

    /// Removes directories left empty, deepest first, never the prefix itself.
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
            if d.file_name().is_some_and(|n| n == "conda-meta") {
                continue;
            }
            let _ = std::fs::remove_dir(&d);
        }
    }
}

/// Runs the plan against the extracted packages. On any failure the prefix is restored and
/// the error returned.
pub async fn execute(
    plan: &Plan,
    extracted: &Packages<'_>,
    settings: &LinkSettings,
    history: &crate::history::Entry,
) -> Result<Outcome> {
    let tag = plan.prefix.join("CACHEDIR.TAG");
    let had_tag = tag.exists();
    let prefix = Prefix::create(plan.prefix.clone()).map_err(|e| {
        CondaError::generic(format!("cannot create {}: {e}", plan.prefix.display()))
    })?;
    // rattler marks prefixes as caches for backup tools; conda environments are not caches.
    if !had_tag {
        let _ = std::fs::remove_file(&tag);
    }
    std::fs::create_dir_all(plan.prefix.join("conda-meta"))?;
    let _signals = InterruptGuard::install();
    let mut journal = Journal::new(&plan.prefix)?;
    let mut outcome = Outcome::default();
    let result = run_steps(
        plan,
        &prefix,
        extracted,
        settings,
        history,
        &mut journal,
        &mut outcome,
    )
    .await;
    match result {
        Ok(()) => {
            journal.commit();
            Ok(outcome)
        }
        Err(err) => {
            extracted.abandon();
            let errors = journal.rollback();
            if settings.created_prefix {
                let _ = std::fs::remove_dir_all(&plan.prefix);
            }
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
            "\n\nRolling back the transaction failed for:{}",
            crate::error::dashlist(errors)
        ));
    }
    err
}

async fn run_steps(
    plan: &Plan,
    prefix: &Prefix,
    extracted: &Packages<'_>,
    settings: &LinkSettings,
    history: &crate::history::Entry,
    journal: &mut Journal,
    outcome: &mut Outcome,
) -> Result<()> {
    for record in &plan.unlink {
        check_interrupt()?;
        unlink_one(plan, record, settings, journal, outcome)?;
    }
    link_all(plan, prefix, extracted, settings, journal, outcome).await?;
    check_interrupt()?;
    compile_pyc(plan, journal);
    check_interrupt()?;
    crate::history::append(&plan.prefix, history)
}

/// conda compiles the sources of noarch python packages with the environment's python
/// (`python -Wi -m compileall -q -l -i LIST -j 0`) and records the `.pyc` files as `pyc_file`.
/// Failures are only logged, as in conda.
fn compile_pyc(plan: &Plan, journal: &mut Journal) {
    let Some(py) = &plan.python_info else { return };
    let python = plan.prefix.join(&py.path);
    if journal.python_records.is_empty() || !python.exists() {
        return;
    }
    let mut records: Vec<(PathBuf, PrefixRecord)> = journal
        .python_records
        .iter()
        .filter_map(|p| PrefixRecord::from_path(p).ok().map(|r| (p.clone(), r)))
        .collect();
    let sources: Vec<PathBuf> = records
        .iter()
        .flat_map(|(_, r)| r.paths_data.paths.iter())
        .map(|e| e.relative_path.clone())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "py") && p.starts_with(&py.site_packages_path)
        })
        .collect();
    if sources.is_empty() {
        return;
    }
    let list: String = sources
        .iter()
        .map(|p| format!("{}\n", plan.prefix.join(p).display()))
        .collect();
    let Ok(mut listfile) = tempfile::NamedTempFile::new() else {
        return;
    };
    if std::io::Write::write_all(&mut listfile, list.as_bytes()).is_err() {
        return;
    }
    let status = Command::new(&python)
        .args(["-Wi", "-m", "compileall", "-q", "-l", "-i"])
        .arg(listfile.path())
        .args(["-j", "0"])
        .current_dir(&plan.prefix)
        .output();
    if let Err(e) = &status {
        tracing::warn!("cannot compile .py files with {}: {e}", python.display());
        return;
    }
    let tag = format!("cpython-{}{}", py.short_version.0, py.short_version.1);
    for (path, record) in &mut records {
        add_pyc_entries(plan, record, &tag, journal);
        if let Ok(json) = serde_json::to_vec(record) {
            let _ = write_atomic(path, &json);
        }
    }
}

fn add_pyc_entries(plan: &Plan, record: &mut PrefixRecord, tag: &str, journal: &mut Journal) {
    let sources: Vec<PathBuf> = record
        .paths_data
        .paths
        .iter()
        .map(|e| e.relative_path.clone())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    for src in sources {
        let (Some(dir), Some(stem)) = (src.parent(), src.file_stem()) else {
            continue;
        };
        let pyc = dir
            .join("__pycache__")
            .join(format!("{}.{tag}.pyc", stem.to_string_lossy()));
        let Ok(meta) = std::fs::metadata(plan.prefix.join(&pyc)) else {
            continue;
        };
        journal.created(plan.prefix.join(&pyc));
        record.files.push(pyc.clone());
        record.paths_data.paths.push(PathsEntry {
            relative_path: pyc,
            original_path: None,
            path_type: rattler_conda_types::prefix_record::PathType::PycFile,
            no_link: false,
            sha256: None,
            sha256_in_prefix: None,
            size_in_bytes: Some(meta.len()),
            file_mode: None,
            prefix_placeholder: None,
        });
    }
}

fn unlink_one(
    plan: &Plan,
    record: &PrefixRecord,
    settings: &LinkSettings,
    journal: &mut Journal,
    outcome: &mut Outcome,
) -> Result<()> {
    let name = record
        .repodata_record
        .package_record
        .name
        .as_normalized()
        .to_string();
    let script = plan.prefix.join(format!("bin/.{name}-pre-unlink.sh"));
    if script.is_file() {
        if let Err(e) = run_script(
            &script,
            &plan.prefix,
            &record.repodata_record.package_record,
            settings,
            None,
        ) {
            outcome.warnings.push(format!(
                "pre-unlink script failed for package {}: {}",
                record.repodata_record.identifier, e.message
            ));
        }
        collect_messages(&plan.prefix, outcome);
    }
    for entry in &record.paths_data.paths {
        journal.stash(&plan.prefix.join(&entry.relative_path))?;
    }
    for file in &record.files {
        journal.stash(&plan.prefix.join(file))?;
    }
    journal.stash(&plan.prefix.join("conda-meta").join(record.file_name()))
}

/// A package ready to link: its paths checked, what it will overwrite stashed.
struct Prepared<'a> {
    record: &'a RepoDataRecord,
    dir: PathBuf,
    paths_json: PathsJson,
}

/// Links every package of the plan. Packages without link scripts whose paths do not overlap
/// are linked concurrently, up to [`PACKAGES_AT_ONCE`] in flight while the next ones are
/// prepared; a package with a pre-/post-link script, or one sharing a path with a package in
/// flight, first waits for all of them. So scripts run in dependency order after everything
/// before them is linked, and a shared path ends up with the package linked last, as with
/// conda's serial execution. Every link started is awaited, also after a failure, so a
/// rollback sees all files that were created.
async fn link_all(
    plan: &Plan,
    prefix: &Prefix,
    extracted: &Packages<'_>,
    settings: &LinkSettings,
    journal: &mut Journal,
    outcome: &mut Outcome,
) -> Result<()> {
    let mut links = InFlight::default();
    let result = link_each(
        plan, prefix, extracted, settings, journal, outcome, &mut links,
    )
    .await;
    let drained = links.drain(plan, extracted, settings, journal).await;
    let result = result.and(drained);
    if result.is_err() {
        // File operations inside a failed package may still be landing.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    result
}

async fn link_each<'a>(
    plan: &'a Plan,
    prefix: &Prefix,
    extracted: &Packages<'_>,
    settings: &LinkSettings,
    journal: &mut Journal,
    outcome: &mut Outcome,
    links: &mut InFlight<'a>,
) -> Result<()> {
    for record in &plan.link {
        check_interrupt()?;
        let dir = extracted.dir(record).await?;
        let (targets, paths_json) =
            target_paths(plan, &dir, record).inspect_err(|_| purge_extracted(&dir))?;
        let name = record.package_record.name.as_normalized();
        let scripted = dir.join(format!("bin/.{name}-pre-link.sh")).is_file()
            || dir.join(format!("bin/.{name}-post-link.sh")).is_file();
        if scripted || targets.iter().any(|t| links.paths.contains(t)) {
            links.drain(plan, extracted, settings, journal).await?;
            check_interrupt()?;
        }
        // `targets` starts with the entries of `paths.json`, in order.
        for (t, entry) in targets.iter().zip(&paths_json.paths) {
            if entry.path_type == rattler_conda_types::package::PathType::SoftLink {
                journal.symlinks.insert(plan.prefix.join(t));
            }
        }
        for t in &targets {
            journal.stash(&plan.prefix.join(t))?;
        }
        run_pre_link(plan, record, &dir, settings, outcome)?;
        for t in &targets {
            journal.created(plan.prefix.join(t));
        }
        let prepared = Prepared {
            record,
            dir,
            paths_json,
        };
        links.start(prepared, targets, plan, prefix, settings);
        if scripted {
            links.drain(plan, extracted, settings, journal).await?;
            run_post_link(plan, record, settings, outcome)?;
        } else if links.queue.len() > PACKAGES_AT_ONCE {
            links
                .finish_oldest(plan, extracted, settings, journal)
                .await?;
        }
    }
    Ok(())
}

fn run_pre_link(
    plan: &Plan,
    record: &RepoDataRecord,
    dir: &Path,
    settings: &LinkSettings,
    outcome: &mut Outcome,
) -> Result<()> {
    let script = dir.join(format!(
        "bin/.{}-pre-link.sh",
        record.package_record.name.as_normalized()
    ));
    run_link_script(
        plan,
        record,
        &script,
        "pre-link",
        Some(dir),
        settings,
        outcome,
    )
}

fn run_post_link(
    plan: &Plan,
    record: &RepoDataRecord,
    settings: &LinkSettings,
    outcome: &mut Outcome,
) -> Result<()> {
    let script = plan.prefix.join(format!(
        "bin/.{}-post-link.sh",
        record.package_record.name.as_normalized()
    ));
    run_link_script(plan, record, &script, "post-link", None, settings, outcome)
}

/// Runs one link script if the package has it; a failure is a `LinkError` naming the package.
fn run_link_script(
    plan: &Plan,
    record: &RepoDataRecord,
    script: &Path,
    kind: &str,
    source_dir: Option<&Path>,
    settings: &LinkSettings,
    outcome: &mut Outcome,
) -> Result<()> {
    if !script.is_file() {
        return Ok(());
    }
    run_script(
        script,
        &plan.prefix,
        &record.package_record,
        settings,
        source_dir,
    )
    .map_err(|e| link_error(record, kind, e))?;
    collect_messages(&plan.prefix, outcome);
    Ok(())
}

/// Packages linked at once; each package's files are linked concurrently as well.
const PACKAGES_AT_ONCE: usize = 8;

/// The result of linking one package: the paths it created, or the error's text.
type LinkResult = std::result::Result<Vec<PathsEntry>, String>;

/// Links running on the blocking pool, oldest first, and the prefix paths they create.
#[derive(Default)]
struct InFlight<'a> {
    queue: std::collections::VecDeque<(
        Prepared<'a>,
        Vec<PathBuf>,
        tokio::sync::oneshot::Receiver<LinkResult>,
    )>,
    paths: HashSet<PathBuf>,
}

impl<'a> InFlight<'a> {
    /// Starts linking a prepared package (`targets`: its prefix-relative paths).
    fn start(
        &mut self,
        p: Prepared<'a>,
        targets: Vec<PathBuf>,
        plan: &Plan,
        prefix: &Prefix,
        settings: &LinkSettings,
    ) {
        let options = InstallOptions {
            python_info: plan.python_info.clone(),
            platform: Some(plan.platform),
            // Link support is decided once per transaction (see `LinkSettings::hardlinks`);
            // leaving these unset makes rattler probe with test files for every package.
            allow_hard_links: Some(settings.hardlinks && !settings.always_copy),
            allow_ref_links: Some(false),
            allow_symbolic_links: Some(true),
            // Read once already (for the journal); rattler would read it again otherwise.
            paths_json: Some(p.paths_json.clone()),
            ..InstallOptions::default()
        };
        let dir = p.dir.clone();
        let prefix = prefix.clone();
        // The synchronous linker spreads a package's files over rayon; the async one would
        // start a blocking task per file. It runs on a rayon worker, so its parallel loop
        // stays on the pool instead of handing work over from a blocking thread and waiting
        // for it (a few thread switches per package). A fresh clobber registry per package:
        // it never sees another package's files, so nothing goes to `__clobbers__` (conda
        // has no such directory; the package linked last wins).
        let (sender, task) = tokio::sync::oneshot::channel();
        rayon::spawn(move || {
            let linked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rattler::install::link_package_sync(&dir, &prefix, Default::default(), options)
            }));
            let result = match linked {
                Ok(Ok((paths, _link_type))) => Ok(paths),
                Ok(Err(e)) => Err(error_chain(&e)),
                Err(_) => Err("the linking task panicked".to_string()),
            };
            let _ = sender.send(result);
        });
        self.paths.extend(targets.iter().cloned());
        self.queue.push_back((p, targets, task));
    }

    /// Waits for the oldest link and records its package (conda-meta, journal).
    async fn finish_oldest(
        &mut self,
        plan: &Plan,
        extracted: &Packages<'_>,
        settings: &LinkSettings,
        journal: &mut Journal,
    ) -> Result<()> {
        let Some((p, targets, task)) = self.queue.pop_front() else {
            return Ok(());
        };
        for t in &targets {
            self.paths.remove(t);
        }
        let result = match task.await {
            Ok(r) => r,
            Err(_) => Err("the linking task ended without a result".to_string()),
        };
        match result {
            Ok(paths) => {
                for e in &paths {
                    journal.created(plan.prefix.join(&e.relative_path));
                }
                write_record(plan, p.record, &p.dir, paths, settings, journal)?;
                extracted.release(&p.dir);
                Ok(())
            }
            Err(e) => {
                purge_extracted(&p.dir);
                Err(CondaError::new(
                    "LinkError",
                    format!(
                        "An error occurred while installing package '{}'.\n  {}",
                        p.record.identifier, e
                    ),
                ))
            }
        }
    }

    /// Waits for every link in flight, in order; the first error is returned after all
    /// of them ended.
    async fn drain(
        &mut self,
        plan: &Plan,
        extracted: &Packages<'_>,
        settings: &LinkSettings,
        journal: &mut Journal,
    ) -> Result<()> {
        let mut first_error = None;
        while !self.queue.is_empty() {
            if let Err(e) = self.finish_oldest(plan, extracted, settings, journal).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// An error with all its causes, `: `-separated.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

fn link_error(record: &RepoDataRecord, kind: &str, err: CondaError) -> CondaError {
    CondaError::new(
        "LinkError",
        format!(
            "{kind} script failed for package {}\n{}",
            record.identifier, err.message
        ),
    )
}

/// Every path the package will occupy in the prefix (so clobbered files can be stashed).
fn target_paths(
    plan: &Plan,
    package_dir: &Path,
    record: &RepoDataRecord,
) -> Result<(Vec<PathBuf>, PathsJson)> {
    let paths = PathsJson::from_package_directory_with_deprecated_fallback(package_dir).map_err(|e| {
        CondaError::new(
            "CondaVerificationError",
            format!("The package for {} located at {}\nappears to be corrupted: cannot read info/paths.json: {e}", record.identifier, package_dir.display()),
        )
    })?;
    let is_python = record.package_record.noarch.is_python();
    let mut out = Vec::new();
    for entry in &paths.paths {
        check_entry(package_dir, record, entry)?;
    }
    for entry in &paths.paths {
        let rel = match (&plan.python_info, is_python) {
            (Some(py), true) => py
                .get_python_noarch_target_path(&entry.relative_path)
                .into_owned(),
            _ => entry.relative_path.clone(),
        };
        out.push(rel);
    }
    if is_python {
        if let Ok(link) = LinkJson::from_package_directory(package_dir) {
            if let rattler_conda_types::package::NoArchLinks::Python(py) = link.noarch {
                for ep in py.entry_points {
                    out.push(PathBuf::from("bin").join(&ep.command));
                }
            }
        }
    }
    Ok((out, paths))
}

/// A `softlink` entry must be a symlink in the extracted package; a package whose archive
/// stores it as something else (a known broken zlib build does) is refused before linking.
fn check_entry(
    package_dir: &Path,
    record: &RepoDataRecord,
    entry: &rattler_conda_types::package::PathsEntry,
) -> Result<()> {
    use rattler_conda_types::package::PathType;
    if entry.path_type != PathType::SoftLink {
        return Ok(());
    }
    let source = package_dir.join(&entry.relative_path);
    let is_link = std::fs::symlink_metadata(&source)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    let target_ok = std::fs::read_link(&source)
        .map(|t| !t.as_os_str().is_empty())
        .unwrap_or(false);
    if is_link && target_ok {
        return Ok(());
    }
    Err(CondaError::new(
        "CondaVerificationError",
        format!(
            "The package for {} located at {}\nappears to be corrupted. The path '{}'\nis declared as a symbolic link in info/paths.json, but the archive does not contain a valid link there.\nGet an intact copy of the package (the cache entry was removed).",
            record.identifier,
            package_dir.display(),
            entry.relative_path.display()
        ),
    ))
}

fn write_record(
    plan: &Plan,
    record: &RepoDataRecord,
    package_dir: &Path,
    paths: Vec<PathsEntry>,
    settings: &LinkSettings,
    journal: &mut Journal,
) -> Result<()> {
    let name = record.package_record.name.as_normalized().to_string();
    let requested = settings.requested.get(&name).cloned();
    // conda records the channel as the full URL of the subdir the package came from.
    let mut record = record.clone();
    if let Some(channel) = &record.channel {
        let base = channel.trim_end_matches('/');
        let subdir = format!("/{}", record.package_record.subdir);
        if !base.ends_with(&subdir) {
            record.channel = Some(format!("{base}{subdir}"));
        }
    }
    let record = &record;
    let tarball = package_dir
        .with_extension("")
        .parent()
        .map(|p| p.join(record.identifier.to_string()));
    let prefix_record = PrefixRecord {
        package_tarball_full_path: tarball.filter(|p| p.exists()),
        extracted_package_dir: Some(package_dir.to_path_buf()),
        link: Some(Link {
            source: package_dir.to_path_buf(),
            link_type: Some(if settings.always_copy {
                LinkType::Copy
            } else {
                LinkType::HardLink
            }),
        }),
        #[allow(deprecated)]
        requested_spec: requested.clone(),
        requested_specs: requested.into_iter().collect(),
        ..PrefixRecord::from_repodata_record(record.clone(), paths)
    };
    let path = plan
        .prefix
        .join("conda-meta")
        .join(prefix_record.file_name());
    let json = serde_json::to_vec(&prefix_record)
        .map_err(|e| CondaError::generic(format!("cannot serialise {}: {e}", path.display())))?;
    journal.records.push(path.clone());
    if record.package_record.noarch.is_python() {
        journal.python_records.push(path.clone());
    }
    write_atomic(&path, &json)
}

/// Removes a package's extracted cache directory after it proved unusable.
fn purge_extracted(package_dir: &Path) {
    let _ = std::fs::remove_dir_all(package_dir);
}

/// How a link script is started.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ScriptMode {
    /// `bash -x script` (pre-link).
    Plain,
    /// Sourced inside the activated environment (post-link, pre-unlink), as conda does:
    /// `CONDA_PREFIX`, `PATH` and the env's `etc/conda/activate.d/*.sh` are in effect.
    Activated,
}

/// Runs a link script as conda does, with `PREFIX`, `ROOT_PREFIX`, `PKG_NAME`,
/// `PKG_VERSION`, `PKG_BUILDNUM`, the script's dir first on `PATH`, cwd = script dir
/// (and `SOURCE_DIR` for pre-link).
fn run_script(
    script: &Path,
    prefix: &Path,
    record: &PackageRecord,
    settings: &LinkSettings,
    source_dir: Option<&Path>,
) -> Result<()> {
    let mode = if source_dir.is_some() {
        ScriptMode::Plain
    } else {
        ScriptMode::Activated
    };
    let dir = script.parent().unwrap_or(prefix);
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let wrapper = match mode {
        ScriptMode::Plain => None,
        ScriptMode::Activated => Some(activation_wrapper(prefix, script)?),
    };
    let mut cmd = Command::new("bash");
    match &wrapper {
        Some(w) => cmd.arg(w.path()),
        None => cmd.arg("-x").arg(script),
    };
    cmd.current_dir(dir)
        .env("PREFIX", prefix)
        .env("ROOT_PREFIX", &settings.root_prefix)
        .env("PKG_NAME", record.name.as_normalized())
        .env("PKG_VERSION", record.version.to_string())
        .env("PKG_BUILDNUM", record.build_number.to_string())
        .env("PATH", path);
    if let Some(src) = source_dir {
        cmd.env("SOURCE_DIR", src);
    }
    let out = cmd
        .output()
        .map_err(|e| CondaError::generic(format!("cannot run {}: {e}", script.display())))?;
    if out.status.success() {
        return Ok(());
    }
    let messages = std::fs::read_to_string(prefix.join(".messages.txt")).unwrap_or_default();
    let _ = std::fs::remove_file(prefix.join(".messages.txt"));
    Err(CondaError::generic(format!(
        "location of failed script: {}\n==> script messages <==\n{}\n==> script output <==\nstdout: {}\nstderr: {}\nreturn code: {}",
        script.display(),
        if messages.is_empty() { "<None>".to_string() } else { messages },
        String::from_utf8_lossy(&out.stdout).trim_end(),
        String::from_utf8_lossy(&out.stderr).trim_end(),
        out.status.code().unwrap_or(-1)
    )))
}

/// A temporary bash script that activates `prefix` and sources `script`.
fn activation_wrapper(prefix: &Path, script: &Path) -> Result<tempfile::NamedTempFile> {
    let q = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "'\"'\"'"));
    let name = prefix
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut body = format!(
        "export CONDA_PREFIX={p}\nexport CONDA_SHLVL=1\nexport CONDA_DEFAULT_ENV={n}\nexport PATH={bin}:\"$PATH\"\n",
        p = q(prefix),
        n = q(Path::new(&name)),
        bin = q(&prefix.join("bin")),
    );
    let mut activate: Vec<PathBuf> = std::fs::read_dir(prefix.join("etc/conda/activate.d"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "sh"))
                .collect()
        })
        .unwrap_or_default();
    activate.sort();
    for a in activate {
        body.push_str(&format!(". {}\n", q(&a)));
    }
    body.push_str(&format!("set -x\n. {}\n", q(script)));
    let mut file = tempfile::Builder::new()
        .prefix("conda-link-script")
        .suffix(".sh")
        .tempfile()?;
    std::io::Write::write_all(&mut file, body.as_bytes())?;
    Ok(file)
}

fn collect_messages(prefix: &Path, outcome: &mut Outcome) {
    let path = prefix.join(".messages.txt");
    if let Ok(text) = std::fs::read_to_string(&path) {
        if !text.trim().is_empty() {
            outcome.messages.push(text);
        }
        let _ = std::fs::remove_file(&path);
    }
}

/// Reads the index.json of an extracted package (for `@EXPLICIT` installs).
pub fn read_index_json(dir: &Path) -> Result<IndexJson> {
    IndexJson::from_package_directory(dir).map_err(|e| {
        CondaError::new(
            "CondaVerificationError",
            format!("{}: cannot read info/index.json: {e}", dir.display()),
        )
    })
}

/// Keeps the type alias in use for callers that match on operations.
pub type Operation = TransactionOperation<PrefixRecord, RepoDataRecord>;
