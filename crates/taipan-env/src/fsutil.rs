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
