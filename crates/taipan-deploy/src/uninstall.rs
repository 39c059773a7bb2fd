//! `taipan deploy --uninstall`: `conda init --reverse` for the user's shells, the prefix removed,
//! the user's environment registry pruned.

use std::path::Path;
use taipan_env::error::ErrorKind;

use taipan_env::{CondaError, Result};

/// Refuses to remove anything that is not a conda installation, or a directory users keep
/// other things in.
pub fn check_removable(prefix: &Path, home: &Path) -> Result<()> {
    if !prefix.exists() {
        return Ok(());
    }
    let protected = prefix == Path::new("/") || prefix == home || prefix.parent().is_none();
    if protected || !prefix.join("conda-meta/history").is_file() {
        return Err(CondaError::new(
            ErrorKind::DeployError,
            format!(
                "{} is not a conda installation (no conda-meta/history); taipan deploy --uninstall \
                 will not remove it.\n  Pass the installation's --prefix.",
                prefix.display()
            ),
        ));
    }
    Ok(())
}

/// Removes the prefix; `false` when it was already gone.
pub fn remove_prefix(prefix: &Path) -> Result<bool> {
    match std::fs::remove_dir_all(prefix) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(CondaError::new(
            ErrorKind::DeployError,
            format!("cannot remove {}: {e}", prefix.display()),
        )),
    }
}

/// Drops the prefix and its environments from `~/.conda/environments.txt`; returns how many
/// lines went.
pub fn unregister(prefix: &Path, home: &Path) -> Result<usize> {
    let file = home.join(".conda/environments.txt");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(0);
    };
    let inside = |line: &str| {
        let p = Path::new(line.trim());
        p == prefix || p.starts_with(prefix)
    };
    let kept: Vec<&str> = text.lines().filter(|l| !inside(l)).collect();
    let removed = text.lines().count() - kept.len();
    if removed > 0 {
        let mut out = kept.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        std::fs::write(&file, out)?;
    }
    Ok(removed)
}
