//! `~/.conda/environments.txt`: the list of environments conda knows about.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::error::Result;
pub use crate::layout::is_conda_env;

fn registry_path(home: &Path) -> PathBuf {
    home.join(".conda").join("environments.txt")
}

/// Every line of the registry, environment or not.
fn listed(home: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(registry_path(home)) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// Reads the registry, dropping lines that are no longer environments.
pub fn registered(home: &Path) -> Vec<PathBuf> {
    listed(home)
        .into_iter()
        .filter(|p| is_conda_env(p))
        .collect()
}

/// Where `remove --all` moves an environment before deleting it: beside it, hidden.
pub fn trash_path(prefix: &Path) -> Option<PathBuf> {
    let name = prefix.file_name()?.to_str()?;
    Some(prefix.with_file_name(format!(".{name}.conda-removing")))
}

/// `~/.conda/taipan-removing.txt`: environments whose removal started and has not ended.
fn removals_path(home: &Path) -> PathBuf {
    home.join(".conda").join("taipan-removing.txt")
}

/// Notes that the removal of `prefix` starts, so that it is finished even if it is killed
/// (an environment outside the envs directories and not registered is found this way).
pub fn removal_started(ctx: &Context, prefix: &Path) -> Result<()> {
    use std::io::Write;
    let path = removals_path(&ctx.home);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    file.write_all(format!("{}\n", prefix.display()).as_bytes())?;
    file.sync_data()?;
    Ok(())
}

/// Notes that the removal of `prefix` ended.
pub fn removal_ended(ctx: &Context, prefix: &Path) {
    let path = removals_path(&ctx.home);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let rest: String = text
        .lines()
        .filter(|l| Path::new(l) != prefix)
        .map(|l| format!("{l}\n"))
        .collect();
    if rest.is_empty() {
        let _ = std::fs::remove_file(&path);
    } else {
        let _ = crate::fsutil::write_atomic(&path, rest.as_bytes());
    }
}

/// Finishes removals that were interrupted: environments moved aside but not yet deleted
/// (noted when they started, or found beside registered paths and in the envs
/// directories), then unregistered.
pub fn finish_removals(ctx: &Context) {
    let started: Vec<PathBuf> = std::fs::read_to_string(removals_path(&ctx.home))
        .map(|t| t.lines().map(PathBuf::from).collect())
        .unwrap_or_default();
    let mut candidates = listed(&ctx.home);
    candidates.extend(started.iter().cloned());
    for dir in &ctx.envs_dirs {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in rd.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(env) = name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(".conda-removing"))
            {
                candidates.push(dir.join(env));
            }
        }
    }
    let mut gone = Vec::new();
    for prefix in candidates {
        let Some(trash) = trash_path(&prefix) else {
            continue;
        };
        if std::fs::symlink_metadata(&trash).is_ok() {
            let _ = std::fs::remove_dir_all(&trash);
        }
        if !prefix.exists() {
            gone.push(prefix);
        }
    }
    if !gone.is_empty() && listed(&ctx.home).iter().any(|p| gone.contains(p)) {
        let keep: Vec<PathBuf> = listed(&ctx.home)
            .into_iter()
            .filter(|p| !gone.contains(p))
            .collect();
        let _ = write(&ctx.home, &keep);
    }
    for prefix in started {
        let trash = trash_path(&prefix);
        if trash.is_none_or(|t| std::fs::symlink_metadata(t).is_err()) {
            removal_ended(ctx, &prefix);
        }
    }
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

/// Every path listed in the registry, environment or not (for `conda doctor`).
pub fn listed_paths(home: &Path) -> Vec<PathBuf> {
    listed(home)
}

/// Rewrites the registry without the entries that are no longer environments.
pub fn drop_stale(ctx: &Context) -> Result<()> {
    let path = registry_path(&ctx.home);
    if !path.exists() {
        return Ok(());
    }
    write(&ctx.home, &registered(&ctx.home))
}
