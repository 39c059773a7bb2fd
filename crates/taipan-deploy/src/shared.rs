//! `--shared GROUP`: the installation readable by a group. Directories get g+rX and setgid
//! (new files inherit the group), files g+r (g+x where the owner may execute). The prefix stays
//! writable only by its owner, so conda puts each other user's environments and package cache
//! in `~/.conda` (conda's rule for a root prefix the user cannot write).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use taipan_env::error::ErrorKind;

use taipan_env::{CondaError, Result};

use crate::exec::Log;
use crate::user;

/// Applies group ownership and modes under `prefix`; returns whether anything changed.
pub fn share(prefix: &Path, group: &str, log: &mut Log) -> Result<bool> {
    let gid = user::group_id(group)?;
    let mut changed = 0usize;
    walk(prefix, gid, &mut changed)?;
    log.line(&format!(
        "shared {} with group {group} ({gid}): {changed} entries changed",
        prefix.display()
    ));
    Ok(changed > 0)
}

fn walk(path: &Path, gid: u32, changed: &mut usize) -> Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.gid() != gid {
        std::os::unix::fs::lchown(path, None, Some(gid)).map_err(|e| fail(path, e))?;
        *changed += 1;
    }
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let mode = meta.permissions().mode() & 0o7777;
    let wanted = if meta.is_dir() {
        mode | 0o2050
    } else if mode & 0o100 != 0 {
        mode | 0o050
    } else {
        mode | 0o040
    };
    if wanted != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))
            .map_err(|e| fail(path, e))?;
        *changed += 1;
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            walk(&entry?.path(), gid, changed)?;
        }
    }
    Ok(())
}

fn fail(path: &Path, e: std::io::Error) -> CondaError {
    CondaError::new(
        ErrorKind::DeployError,
        format!("cannot share {}: {e}", path.display()),
    )
}

/// The first directory above `prefix` that group members cannot enter (e.g. `/root`, 0700),
/// which would hide a shared install from them.
pub fn blocking_ancestor(prefix: &Path, gid: u32) -> Option<std::path::PathBuf> {
    prefix.ancestors().skip(1).find_map(|dir| {
        let meta = std::fs::metadata(dir).ok()?;
        let mode = meta.permissions().mode();
        let enterable = mode & 0o001 != 0 || (meta.gid() == gid && mode & 0o010 != 0);
        (!enterable).then(|| dir.to_path_buf())
    })
}
