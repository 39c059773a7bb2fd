//! `create --clone` (and `rename`, which clones then removes): the source's packages are
//! linked anew into the destination, so files with the prefix in them are right there;
//! files no package owns (pip installs, the user's own) are copied as conda copies them,
//! with the old prefix replaced by the new one in text files.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rattler_conda_types::PrefixRecord;

use crate::error::Result;

/// Top-level names conda never treats as part of an environment's own files.
const IGNORED_TOP: [&str; 12] = [
    "pkgs",
    "envs",
    "conda-bld",
    "conda-meta",
    ".conda_lock",
    "users",
    "LICENSE.txt",
    "info",
    "conda-recipes",
    ".index",
    ".unionfs",
    ".nonadmin",
];

/// `bin/` entries that belong to a root prefix's conda, not to the environment.
const IGNORED_BIN: [&str; 3] = ["conda", "activate", "deactivate"];

/// The files of `prefix` that no record owns (relative paths), as conda's `untracked`.
pub fn untracked(prefix: &Path, records: &[PrefixRecord]) -> Vec<PathBuf> {
    let owned: HashSet<&Path> = records
        .iter()
        .flat_map(|r| r.files.iter().map(PathBuf::as_path))
        .collect();
    let mut out = Vec::new();
    let Ok(top) = std::fs::read_dir(prefix) else {
        return out;
    };
    for entry in top.flatten() {
        let name = entry.file_name();
        if IGNORED_TOP.contains(&name.to_string_lossy().as_ref()) {
            continue;
        }
        walk(prefix, &PathBuf::from(&name), &mut out);
    }
    out.retain(|p| !owned.contains(p.as_path()) && keep(p, &owned));
    out.sort();
    out
}

fn keep(path: &Path, owned: &HashSet<&Path>) -> bool {
    let text = path.to_string_lossy();
    if text.ends_with('~') {
        return false;
    }
    if let Some(source) = text.strip_suffix(".pyc") {
        if owned.contains(Path::new(&format!("{source}.py"))) && !text.contains("__pycache__") {
            return false;
        }
    }
    if let Ok(rest) = path.strip_prefix("bin") {
        if IGNORED_BIN.contains(&rest.to_string_lossy().as_ref()) {
            return false;
        }
    }
    true
}

/// Files and symlinks under `rel` (symlinks to directories are not followed).
fn walk(prefix: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    let full = prefix.join(rel);
    let Ok(meta) = std::fs::symlink_metadata(&full) else {
        return;
    };
    if !meta.is_dir() {
        out.push(rel.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(&full) else {
        return;
    };
    for entry in entries.flatten() {
        walk(prefix, &rel.join(entry.file_name()), out);
    }
}

/// Copies `files` from `src` to `dst`: symlinks as symlinks, UTF-8 text with `src`'s path
/// replaced by `dst`'s, anything else byte for byte; modes kept. `conda-meta/state` (the
/// environment's variables) comes along too, which conda's clone leaves behind.
pub fn copy_untracked(src: &Path, dst: &Path, files: &[PathBuf]) -> Result<()> {
    let (from, to) = (src.to_string_lossy(), dst.to_string_lossy());
    for rel in files {
        let (s, d) = (src.join(rel), dst.join(rel));
        if let Some(parent) = d.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let meta = std::fs::symlink_metadata(&s)?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&s)?;
            let _ = std::fs::remove_file(&d);
            std::os::unix::fs::symlink(target, &d)?;
            continue;
        }
        let data = std::fs::read(&s)?;
        let data = match String::from_utf8(data) {
            Ok(text) => text.replace(from.as_ref(), to.as_ref()).into_bytes(),
            Err(e) => e.into_bytes(),
        };
        std::fs::write(&d, data)?;
        std::fs::set_permissions(&d, meta.permissions())?;
    }
    let state = src.join("conda-meta").join("state");
    if state.is_file() {
        std::fs::copy(&state, dst.join("conda-meta").join("state"))?;
    }
    Ok(())
}
