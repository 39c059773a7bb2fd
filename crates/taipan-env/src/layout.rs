//! Names and facts of a prefix's layout that many modules share.

use std::path::Path;

/// The directory in a prefix that holds the journal of a transaction in progress.
pub const JOURNAL_DIR: &str = ".taipan-transaction";

/// Whether a path is a conda environment (has `conda-meta/history` or a `conda-meta` dir).
pub fn is_conda_env(prefix: &Path) -> bool {
    prefix.join("conda-meta").join("history").is_file() || prefix.join("conda-meta").is_dir()
}

/// `conda-meta/created_at`, which conda writes (seconds since the epoch, as Python prints a
/// float) before an environment's first history entry, and reads as its creation time.
pub const CREATED_AT: &str = "created_at";

/// Writes `conda-meta/created_at` as conda's `PrefixData.set_creation_time` does, unless
/// it is there. A failure to write it is not an error (conda reads a missing one as unknown).
pub fn set_creation_time(prefix: &Path) {
    let path = prefix.join("conda-meta").join(CREATED_AT);
    if path.exists() {
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
    let _ = std::fs::write(path, python_float(now));
}

/// A float as Python's `str()` prints it (shortest round-trip form, `.0` for whole numbers).
fn python_float(x: f64) -> String {
    let s = format!("{x}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::python_float;

    #[test]
    fn floats_as_python_prints_them() {
        assert_eq!(python_float(1796230814.145735), "1796230814.145735");
        assert_eq!(python_float(5.0), "5.0");
    }
}
