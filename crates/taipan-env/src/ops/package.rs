//! `conda package`: which package installed a file (`--which`), and the files of an
//! environment no package owns (`--untracked`, `--reset` removes them).

use std::path::{Path, PathBuf};

use crate::context::absolute;
use crate::dist::Dist;
use crate::error::{CondaError, ErrorKind, Result};

/// The environment a path is in: the nearest directory above it (or itself) with a
/// `conda-meta` directory. conda's `which_prefix`.
pub fn which_prefix(path: &Path) -> Option<PathBuf> {
    let mut cur = Some(path);
    while let Some(dir) = cur {
        if dir.join("conda-meta").is_dir() {
            return Some(dir.to_path_buf());
        }
        cur = dir.parent();
    }
    None
}

/// The packages of its environment that own `path` (relative paths are taken from the
/// current directory, as conda does; usually one package, none for a file no package owns).
pub fn which(path: &Path) -> Result<Vec<Dist>> {
    let path = absolute(path);
    let Some(prefix) = which_prefix(&path) else {
        return Err(CondaError::new(
            ErrorKind::CondaVerificationError,
            format!("could not determine conda prefix from: {}", path.display()),
        ));
    };
    let records = crate::prefix::records(&prefix)?;
    Ok(records
        .iter()
        .filter(|r| r.files.iter().any(|f| prefix.join(f) == path))
        .map(|r| Dist::of(&r.repodata_record))
        .collect())
}

/// The files of `prefix` no package owns (relative paths, sorted), as conda's `untracked`.
pub fn untracked(prefix: &Path) -> Result<Vec<PathBuf>> {
    let records = crate::prefix::records(prefix)?;
    Ok(super::clone::untracked(prefix, &records))
}

/// `--reset`: removes the untracked files, then the directories that became empty
/// (deepest first). Returns the removed files.
pub fn reset(prefix: &Path) -> Result<Vec<PathBuf>> {
    let files = untracked(prefix)?;
    let mut dirs = std::collections::BTreeSet::new();
    for f in &files {
        let path = prefix.join(f);
        std::fs::remove_file(&path)?;
        if let Some(parent) = path.parent() {
            dirs.insert(parent.to_path_buf());
        }
    }
    let mut dirs: Vec<PathBuf> = dirs.into_iter().collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.as_os_str().len()));
    for d in dirs {
        if d != prefix {
            let _ = std::fs::remove_dir(&d);
        }
    }
    Ok(files)
}
