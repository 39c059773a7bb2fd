//! Names and facts of a prefix's layout that many modules share.

use std::path::Path;

/// The directory in a prefix that holds the journal of a transaction in progress.
pub const JOURNAL_DIR: &str = ".taipan-transaction";

/// Whether a path is a conda environment (has `conda-meta/history` or a `conda-meta` dir).
pub fn is_conda_env(prefix: &Path) -> bool {
    prefix.join("conda-meta").join("history").is_file() || prefix.join("conda-meta").is_dir()
}
