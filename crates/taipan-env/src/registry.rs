//! `~/.conda/environments.txt`: the list of environments conda knows about.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::error::Result;

fn registry_path(home: &Path) -> PathBuf {
    home.join(".conda").join("environments.txt")
}

/// Whether a path is a conda environment (has `conda-meta/history` or a `conda-meta` dir).
pub fn is_conda_env(prefix: &Path) -> bool {
    prefix.join("conda-meta").join("history").is_file() || prefix.join("conda-meta").is_dir()
}

/// Reads the registry, dropping lines that are no longer environments.
pub fn registered(home: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(registry_path(home)) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(PathBuf::from)
        .filter(|p| is_conda_env(p))
        .collect()
}

/// Adds a prefix to the registry (unless `register_envs: false`).
pub fn register(ctx: &Context, prefix: &Path) -> Result<()> {
    if !ctx.config.register_envs {
        return Ok(());
    }
    let text = prefix.display().to_string();
    if text.contains("placehold_pl") || text.contains("skeleton_") {
        return Ok(());
    }
    let mut entries = registered(&ctx.home);
    if entries.iter().any(|p| p == prefix) {
        return Ok(());
    }
    entries.push(prefix.to_path_buf());
    write(&ctx.home, &entries)
}

/// Removes a prefix from the registry.
pub fn unregister(ctx: &Context, prefix: &Path) -> Result<()> {
    let path = registry_path(&ctx.home);
    if !path.exists() {
        return Ok(());
    }
    let entries: Vec<PathBuf> = registered(&ctx.home)
        .into_iter()
        .filter(|p| p != prefix)
        .collect();
    write(&ctx.home, &entries)
}

fn write(home: &Path, entries: &[PathBuf]) -> Result<()> {
    let path = registry_path(home);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let body: String = entries
        .iter()
        .map(|p| format!("{}\n", p.display()))
        .collect();
    crate::fsutil::write_atomic(&path, body.as_bytes())
}

/// All known environments: the registry ∪ children of envs dirs ∪ the root, sorted.
pub fn all_envs(ctx: &Context) -> Vec<PathBuf> {
    let mut envs = registered(&ctx.home);
    for dir in &ctx.envs_dirs {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in rd.flatten() {
            let p = entry.path();
            if p.join("conda-meta").join("history").is_file() {
                envs.push(p);
            }
        }
    }
    if is_conda_env(&ctx.root_prefix) {
        envs.push(ctx.root_prefix.clone());
    }
    envs.sort();
    envs.dedup();
    envs
}
