//! `conda clean`: tarballs, the index cache, unused extracted packages, temporary files and
//! log files of the writable package caches, or (`--force-pkgs-dirs`) the whole caches.
//!
//! Unlike conda, whether an extracted package is "unused" is decided from the environments'
//! records (`conda-meta/*.json` of every known environment: the registry, the envs
//! directories and the root prefix), not from link counts: a package an environment holds
//! by copy (`--copy`, `always_copy`) or by soft link is as much in use as a hard-linked one
//! (conda's link-count test removes those: conda issue 16614). And every entry is removed
//! only under its exclusive cache lock ([`crate::cache::lock`]), tried without waiting: an
//! entry another process is fetching or linking from is left alone, and said so.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::context::{pkgs_dir_writable, Context};
use crate::error::Result;

/// conda's temporary file extensions (`CONDA_TEMP_EXTENSIONS`).
pub const TEMP_EXTENSIONS: [&str; 2] = [".c~", ".trash"];
/// Package archive extensions.
const ARCHIVE_EXTENSIONS: [&str; 2] = [".conda", ".tar.bz2"];
/// An interrupted download's suffix.
const PARTIAL: &str = ".partial";
/// conda's log directory in a package cache (`CONDA_LOGS_DIR`).
const LOGS_DIR: &str = ".logs";

/// `conda clean`'s targets.
#[derive(Debug, Clone, Default)]
pub struct CleanRequest {
    /// `--all`: index cache, packages, tarballs, tempfiles (of the root prefix), logfiles.
    pub all: bool,
    /// `--index-cache`.
    pub index_cache: bool,
    /// `--packages`: extracted packages no environment uses.
    pub packages: bool,
    /// `--tarballs`.
    pub tarballs: bool,
    /// `--force-pkgs-dirs`: the whole writable package caches (alone: the other targets are
    /// parts of them).
    pub force_pkgs_dirs: bool,
    /// `--tempfiles [PATHS]`: `Some(empty)` is the root prefix.
    pub tempfiles: Option<Vec<PathBuf>>,
    /// `--logfiles`.
    pub logfiles: bool,
    /// `--dry-run`.
    pub dry_run: bool,
}

impl CleanRequest {
    /// Whether any removal target is given (conda's `ArgumentError` otherwise).
    pub fn has_target(&self) -> bool {
        self.all
            || self.index_cache
            || self.packages
            || self.tarballs
            || self.force_pkgs_dirs
            || self.tempfiles.is_some()
            || self.logfiles
    }
}

/// Package-like entries found in the caches (tarballs or extracted packages), with sizes.
#[derive(Debug, Clone, Default)]
pub struct Sized {
    /// Paths that could not be read (conda's `WARNING: <path>: <error>` lines).
    pub warnings: Vec<String>,
    /// Per package cache, the entries and their sizes in bytes (sorted by name).
    pub pkg_sizes: Vec<(PathBuf, Vec<(String, u64)>)>,
    /// Sum of the sizes.
    pub total_size: u64,
}

impl Sized {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.pkg_sizes.iter().all(|(_, e)| e.is_empty())
    }

    /// How many entries were found.
    pub fn count(&self) -> usize {
        self.pkg_sizes.iter().map(|(_, e)| e.len()).sum()
    }

    /// conda's JSON shape: `warnings`, `pkg_sizes`, `pkgs_dirs`, `total_size`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut sizes = serde_json::Map::new();
        let mut dirs = serde_json::Map::new();
        for (dir, entries) in &self.pkg_sizes {
            let key = dir.display().to_string();
            sizes.insert(
                key.clone(),
                serde_json::Value::Object(
                    entries
                        .iter()
                        .map(|(n, s)| (n.clone(), serde_json::json!(s)))
                        .collect(),
                ),
            );
            dirs.insert(
                key,
                serde_json::json!(entries.iter().map(|(n, _)| n).collect::<Vec<_>>()),
            );
        }
        serde_json::json!({
            "warnings": self.warnings,
            "pkg_sizes": sizes,
            "pkgs_dirs": dirs,
            "total_size": self.total_size,
        })
    }
}

/// One removal target, with what was found for it.
#[derive(Debug, Clone)]
pub enum Found {
    /// `--force-pkgs-dirs`: the caches.
    PkgsDirs(Vec<PathBuf>),
    /// `--tarballs`.
    Tarballs(Sized),
    /// `--index-cache`: the `cache` directories.
    IndexCache(Vec<PathBuf>),
    /// `--packages`: extracted packages no environment uses.
    Packages(Sized),
    /// `--tempfiles`.
    Tempfiles(Vec<PathBuf>),
    /// `--logfiles`.
    Logfiles(Vec<PathBuf>),
}

impl Found {
    /// conda's name for the target in its messages (`tarball(s)`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Found::PkgsDirs(_) => "package cache(s)",
            Found::Tarballs(_) => "tarball(s)",
            Found::IndexCache(_) => "index cache(s)",
            Found::Packages(_) => "package(s)",
            Found::Tempfiles(_) => "tempfile(s)",
            Found::Logfiles(_) => "logfile(s)",
        }
    }

    /// Whether there is nothing to remove.
    pub fn is_empty(&self) -> bool {
        match self {
            Found::Tarballs(s) | Found::Packages(s) => s.is_empty(),
            Found::PkgsDirs(v)
            | Found::IndexCache(v)
            | Found::Tempfiles(v)
            | Found::Logfiles(v) => v.is_empty(),
        }
    }

    /// The JSON key and value conda reports for the target.
    pub fn to_json(&self) -> (&'static str, serde_json::Value) {
        let paths = |v: &[PathBuf]| {
            serde_json::json!(v
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>())
        };
        match self {
            Found::PkgsDirs(v) => ("pkgs_dirs", paths(v)),
            Found::Tarballs(s) => ("tarballs", s.to_json()),
            Found::IndexCache(v) => ("index_cache", serde_json::json!({"files": paths(v)})),
            Found::Packages(s) => ("packages", s.to_json()),
            Found::Tempfiles(v) => ("tempfiles", paths(v)),
            Found::Logfiles(v) => ("logfiles", paths(v)),
        }
    }
}

/// How `conda clean` talks to the user.
pub trait CleanReporter {
    /// Shows what was found for one target (or that there is nothing).
    fn found(&self, found: &Found);
    /// Asks before removing; false stops the command.
    fn confirm(&self) -> Result<bool>;
    /// A path was removed.
    fn removed(&self, _path: &Path) {}
    /// A path was left: another process holds it, or it could not be removed.
    fn not_removed(&self, _path: &Path, _why: &NotRemoved) {}
}

/// Why a path was left in place.
#[derive(Debug)]
pub enum NotRemoved {
    /// Another process is fetching or linking this cache entry.
    InUse,
    /// Another process started using the package meanwhile (an environment now records it).
    NowUsed,
    /// Removing it failed.
    Failed(std::io::Error),
}

/// How `conda clean` ended.
#[derive(Debug, Clone)]
pub enum Cleaned {
    /// Every target was handled (or only shown, with `--dry-run`): what was found, in order.
    Done(Vec<Found>),
    /// The user declined at a prompt.
    Declined,
}

/// Runs `conda clean`. The caller checks [`CleanRequest::has_target`].
pub fn clean(ctx: &Context, req: &CleanRequest, reporter: &dyn CleanReporter) -> Result<Cleaned> {
    let dirs = writable_pkgs_dirs(ctx);
    let mut done = Vec::new();
    if req.force_pkgs_dirs {
        let found = Found::PkgsDirs(dirs.clone());
        if !handle(ctx, req, &found, reporter)? {
            return Ok(Cleaned::Declined);
        }
        done.push(found);
        return Ok(Cleaned::Done(done));
    }
    let mut targets: Vec<Box<dyn Fn() -> Found>> = Vec::new();
    if req.tarballs || req.all {
        targets.push(Box::new(|| Found::Tarballs(find_tarballs(&dirs))));
    }
    if req.index_cache || req.all {
        targets.push(Box::new(|| Found::IndexCache(find_index_cache(&dirs))));
    }
    if req.packages || req.all {
        targets.push(Box::new(|| Found::Packages(find_packages(ctx, &dirs))));
    }
    if req.tempfiles.is_some() || req.all {
        let paths = match &req.tempfiles {
            Some(p) if !p.is_empty() => p.clone(),
            _ => vec![ctx.root_prefix.clone()],
        };
        targets.push(Box::new(move || Found::Tempfiles(find_tempfiles(&paths))));
    }
    if req.logfiles || req.all {
        targets.push(Box::new(|| Found::Logfiles(find_logfiles(&dirs))));
    }
    for target in targets {
        let found = target();
        if !handle(ctx, req, &found, reporter)? {
            return Ok(Cleaned::Declined);
        }
        done.push(found);
    }
    Ok(Cleaned::Done(done))
}

/// Shows one target, asks, removes. False when declined.
fn handle(
    ctx: &Context,
    req: &CleanRequest,
    found: &Found,
    reporter: &dyn CleanReporter,
) -> Result<bool> {
    reporter.found(found);
    if found.is_empty() || req.dry_run {
        return Ok(true);
    }
    if !reporter.confirm()? {
        return Ok(false);
    }
    match found {
        Found::PkgsDirs(dirs) => {
            for dir in dirs {
                remove_pkgs_dir(dir, reporter);
            }
        }
        Found::Tarballs(s) => {
            for (dir, entries) in &s.pkg_sizes {
                for (name, _) in entries {
                    let entry = entry_of(name).unwrap_or(name);
                    let Some(_lock) = try_lock(dir, entry) else {
                        reporter.not_removed(&dir.join(name), &NotRemoved::InUse);
                        continue;
                    };
                    remove(&dir.join(name), reporter);
                }
            }
        }
        Found::Packages(s) => {
            // Every candidate is locked first; then the environments are read again, so a
            // package an install linked meanwhile (its records are written before it lets
            // the entry go) is kept.
            let mut held = Vec::new();
            for (dir, entries) in &s.pkg_sizes {
                for (name, _) in entries {
                    match try_lock(dir, name) {
                        Some(lock) => held.push((dir.join(name), lock)),
                        None => reporter.not_removed(&dir.join(name), &NotRemoved::InUse),
                    }
                }
            }
            let used = used_packages(ctx);
            for (path, _lock) in &held {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                if name.is_some_and(|n| used.contains(&n)) {
                    reporter.not_removed(path, &NotRemoved::NowUsed);
                    continue;
                }
                remove(path, reporter);
            }
        }
        Found::IndexCache(v) | Found::Tempfiles(v) | Found::Logfiles(v) => {
            for path in v {
                remove(path, reporter);
            }
        }
    }
    Ok(true)
}

/// The package caches conda cleans: the writable ones that exist.
fn writable_pkgs_dirs(ctx: &Context) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in &ctx.pkgs_dirs {
        if dir.is_dir() && pkgs_dir_writable(dir) && !out.contains(dir) {
            out.push(dir.clone());
        }
    }
    out
}

/// The entries of a directory, sorted by name (files and directories, not following links).
fn sorted_entries(dir: &Path) -> Vec<(String, std::fs::FileType)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, std::fs::FileType)> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            Some((name, e.file_type().ok()?))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The cache entry an archive belongs to: `zlib-1.2-0.conda(.partial)` → `zlib-1.2-0`.
fn entry_of(file: &str) -> Option<&str> {
    let file = file.strip_suffix(PARTIAL).unwrap_or(file);
    ARCHIVE_EXTENSIONS
        .iter()
        .find_map(|ext| file.strip_suffix(ext))
}

fn lstat_size(path: &Path, warnings: &mut Vec<String>) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(m) => m.len(),
        Err(e) => {
            warnings.push(format!("WARNING: {}: {e}", path.display()));
            0
        }
    }
}

fn find_tarballs(dirs: &[PathBuf]) -> Sized {
    let mut out = Sized::default();
    for dir in dirs {
        let mut entries = Vec::new();
        for (name, kind) in sorted_entries(dir) {
            if kind.is_dir() || entry_of(&name).is_none() {
                continue;
            }
            let size = lstat_size(&dir.join(&name), &mut out.warnings);
            out.total_size += size;
            entries.push((name, size));
        }
        if !entries.is_empty() {
            out.pkg_sizes.push((dir.clone(), entries));
        }
    }
    out
}

fn find_index_cache(dirs: &[PathBuf]) -> Vec<PathBuf> {
    dirs.iter()
        .map(|d| d.join("cache"))
        .filter(|p| p.is_dir())
        .collect()
}

/// Total size of the files below `dir` (not following links).
fn tree_size(dir: &Path, warnings: &mut Vec<String>) -> u64 {
    let mut total = 0;
    for (name, kind) in sorted_entries(dir) {
        let path = dir.join(&name);
        if kind.is_dir() {
            total += tree_size(&path, warnings);
        } else {
            total += lstat_size(&path, warnings);
        }
    }
    total
}

fn find_packages(ctx: &Context, dirs: &[PathBuf]) -> Sized {
    let used = used_packages(ctx);
    let mut out = Sized::default();
    for dir in dirs {
        let mut entries = Vec::new();
        for (name, kind) in sorted_entries(dir) {
            let path = dir.join(&name);
            if !kind.is_dir() || !path.join("info").is_dir() || used.contains(&name) {
                continue;
            }
            let size = tree_size(&path, &mut out.warnings);
            out.total_size += size;
            entries.push((name, size));
        }
        if !entries.is_empty() {
            out.pkg_sizes.push((dir.clone(), entries));
        }
    }
    out
}

/// The package directory names (`name-version-build`) any known environment was linked
/// from, by hard link, soft link or copy, read from its records: `extracted_package_dir`,
/// `fn`, `url`, and the record's own file name. A record that cannot be read still counts
/// by its file name, so a damaged environment keeps its packages too.
pub fn used_packages(ctx: &Context) -> HashSet<String> {
    let mut used = HashSet::new();
    for prefix in crate::registry::all_envs(ctx) {
        let Ok(rd) = std::fs::read_dir(prefix.join("conda-meta")) else {
            continue;
        };
        for entry in rd.flatten() {
            let path = entry.path();
            let Some(stem) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            used.insert(stem.to_string());
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(record) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let last = |key: &str| {
                record
                    .get(key)
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.trim_end_matches('/').rsplit('/').next())
                    .map(str::to_string)
            };
            if let Some(dir) = last("extracted_package_dir") {
                used.insert(dir);
            }
            for key in ["fn", "url", "package_tarball_full_path"] {
                if let Some(file) = last(key) {
                    if let Some(entry) = entry_of(&file) {
                        used.insert(entry.to_string());
                    }
                }
            }
        }
    }
    used
}

/// conda's tempfiles: files ending in `.c~` or `.trash` anywhere below the paths (as
/// given: relative paths stay relative), each directory's files before its subdirectories.
fn find_tempfiles(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut sorted: Vec<&PathBuf> = paths.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut out = Vec::new();
    for path in sorted {
        walk_tempfiles(path, &mut out);
    }
    out
}

fn walk_tempfiles(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = sorted_entries(dir);
    for (name, kind) in &entries {
        if !kind.is_dir() && TEMP_EXTENSIONS.iter().any(|e| name.ends_with(e)) {
            out.push(dir.join(name));
        }
    }
    for (name, kind) in &entries {
        if kind.is_dir() {
            walk_tempfiles(&dir.join(name), out);
        }
    }
}

fn find_logfiles(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in dirs {
        let logs = dir.join(LOGS_DIR);
        for (name, kind) in sorted_entries(&logs) {
            if !kind.is_dir() {
                out.push(logs.join(name));
            }
        }
    }
    out
}

/// The exclusive lock of a cache entry, if no other process holds it. The lock file is
/// created if missing, so a process that starts on the entry meanwhile waits for it.
fn try_lock(pkgs_dir: &Path, entry: &str) -> Option<File> {
    let path = crate::cache::lock::EntryLock::path_for(&pkgs_dir.join(entry));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .ok()?;
    file.try_lock().ok()?;
    Some(file)
}

fn remove(path: &Path, reporter: &dyn CleanReporter) {
    let result = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => reporter.removed(path),
        Err(e) => reporter.not_removed(path, &NotRemoved::Failed(e)),
    }
}

/// `--force-pkgs-dirs`: the whole cache, entry by entry under each entry's lock; an entry
/// another process holds stays (with its lock file), and so does the directory then.
fn remove_pkgs_dir(dir: &Path, reporter: &dyn CleanReporter) {
    let entries = sorted_entries(dir);
    let mut names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    let mut kept = false;
    // Entries: every lock file, extracted directory and archive names one.
    let mut keys: Vec<String> = Vec::new();
    for (name, kind) in &entries {
        let key = if let Some(k) = name.strip_suffix(".lock") {
            Some(k)
        } else if kind.is_dir() {
            dir.join(name)
                .join("info")
                .is_dir()
                .then_some(name.as_str())
        } else {
            entry_of(name)
        };
        if let Some(k) = key {
            if !keys.iter().any(|x| x == k) {
                keys.push(k.to_string());
            }
        }
    }
    let mut locks = Vec::new();
    for key in &keys {
        let members = [
            key.clone(),
            format!("{key}.lock"),
            format!("{key}.conda"),
            format!("{key}.tar.bz2"),
            format!("{key}.conda{PARTIAL}"),
            format!("{key}.tar.bz2{PARTIAL}"),
        ];
        match try_lock(dir, key) {
            Some(lock) => locks.push(lock),
            None => {
                kept = true;
                reporter.not_removed(&dir.join(key), &NotRemoved::InUse);
                names.retain(|n| !members.iter().any(|m| m == n));
            }
        }
    }
    if kept {
        for name in names {
            remove(&dir.join(name), reporter);
        }
    } else {
        remove(dir, reporter);
    }
    drop(locks);
}
