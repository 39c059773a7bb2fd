//! Small filesystem helpers: atomic writes.

use std::io::Write;
use std::path::Path;

use crate::error::Result;

/// Writes a file atomically: a temp file in the same directory, then a rename. Readers see
/// the old or the new content, never a partial file (no fsync: conda does not either, and it
/// would cost a disk flush per package record).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    // Temp files are created 0600; conda's metadata is world-readable (0644).
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The process's umask, read without changing it (`/proc/self/status`, Linux 4.7+); 022 when
/// it cannot be read. (`umask(2)` can only be read by setting it, which races with threads.)
pub fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// Gives a cache file the mode a plain `open(2)` would have (0666 minus the umask), so a
/// group-shared package cache (`umask 002`, setgid directory) is usable by every member.
/// Temp-file-then-rename writers (ours, rattler's) create 0600 files otherwise. Only the
/// owner can change a mode; a file someone else made is left alone.
pub fn follow_umask(path: &Path) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let want = 0o666 & !umask();
    if meta.uid() == me && meta.mode() & 0o777 != want {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(want));
    }
}
