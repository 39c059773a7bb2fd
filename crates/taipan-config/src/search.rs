//! conda's configuration search path and file discovery.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::expand::expand_user;

/// Basenames that are always read.
const CONDARC_FILENAMES: &[&str] = &[".condarc", "condarc"];
/// Extensions that are read (files in the search path and in `condarc.d/` directories).
const YAML_EXTENSIONS: &[&str] = &["yml", "yaml"];

/// Inputs for computing the search path.
pub(crate) struct SearchInputs<'a> {
    pub system_dirs: &'a [PathBuf],
    pub root_prefix: &'a Path,
    pub target_prefix: Option<&'a Path>,
    pub home: Option<&'a Path>,
    pub env: &'a HashMap<String, String>,
}

fn condarc_triple(dir: &Path) -> [PathBuf; 3] {
    [
        dir.join(".condarc"),
        dir.join("condarc"),
        dir.join("condarc.d"),
    ]
}

fn env_path(env: &HashMap<String, String>, name: &str) -> Option<PathBuf> {
    env.get(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The search path, lowest precedence first. Entries whose variable is unset are left out.
pub(crate) fn search_path(inp: &SearchInputs<'_>) -> Vec<PathBuf> {
    // `conda config --file F --show` reads that one file (set by the CLI, not by users).
    if let Some(only) = inp.env.get("TAIPAN_CONDARC_ONLY") {
        return vec![PathBuf::from(only)];
    }
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in inp.system_dirs {
        out.extend(condarc_triple(dir));
    }
    let root = env_path(inp.env, "CONDA_ROOT").unwrap_or_else(|| inp.root_prefix.to_path_buf());
    out.extend(condarc_triple(&root));
    if let Some(xdg) = env_path(inp.env, "XDG_CONFIG_HOME") {
        out.extend(condarc_triple(&xdg.join("conda")));
    }
    if let Some(home) = inp.home {
        out.extend(condarc_triple(&home.join(".config").join("conda")));
        out.extend(condarc_triple(&home.join(".conda")));
        out.push(home.join(".condarc"));
    }
    let prefix = inp
        .target_prefix
        .map(Path::to_path_buf)
        .or_else(|| env_path(inp.env, "CONDA_PREFIX"));
    if let Some(prefix) = prefix {
        out.extend(condarc_triple(&prefix));
    }
    if let Some(condarc) = inp.env.get("CONDARC").filter(|v| !v.is_empty()) {
        out.push(expand_user(condarc, inp.home));
    }
    out
}

fn has_yaml_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| YAML_EXTENSIONS.contains(&e))
}

fn is_condarc_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| CONDARC_FILENAMES.contains(&n))
}

/// The YAML files of a `condarc.d`-style directory, in name order.
fn dir_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && has_yaml_extension(p))
        .collect();
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    files
}

/// Expands the search path into the files to read, lowest precedence first: existing files
/// named `.condarc`/`condarc`/`*.yml`/`*.yaml`, and the YAML files of existing directories.
/// Each path is listed once (its first occurrence).
pub(crate) fn discover(search: &[PathBuf]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in search {
        let Ok(meta) = std::fs::metadata(entry) else {
            continue;
        };
        if meta.is_file() && (is_condarc_name(entry) || has_yaml_extension(entry)) {
            files.push(entry.clone());
        } else if meta.is_dir() {
            files.extend(dir_files(entry));
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.clone()));
    files
}
