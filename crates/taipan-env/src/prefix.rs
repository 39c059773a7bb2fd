//! Reading an environment: installed records, history, pins.

use crate::error::ErrorKind;
use std::path::Path;

use rattler_conda_types::{MatchSpec, PrefixRecord};

use crate::context::Context;
use crate::error::{CondaError, Result};
use crate::solve::Installed;
use crate::spec::parse_spec;

/// Loads the installed records of a prefix (`conda-meta/*.json`).
pub fn records(prefix: &Path) -> Result<Vec<PrefixRecord>> {
    let meta = prefix.join("conda-meta");
    if !meta.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&meta)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let record = PrefixRecord::from_path(&path).map_err(|e| {
                CondaError::new(
                    ErrorKind::CorruptedEnvironmentError,
                    format!("cannot read {}: {e}\n  Fix or remove the file, then reinstall that package.", path.display()),
                )
            })?;
            out.push(record);
        }
    }
    out.sort_by(|a, b| {
        a.repodata_record
            .package_record
            .name
            .as_normalized()
            .cmp(b.repodata_record.package_record.name.as_normalized())
    });
    Ok(out)
}

/// Pins from `pinned_packages` and `<prefix>/conda-meta/pinned`.
pub fn pins(ctx: &Context, prefix: &Path) -> Result<Vec<MatchSpec>> {
    // `ignore_pinned` (conda's `--no-pin` as a setting).
    if ctx
        .config
        .other
        .get("ignore_pinned")
        .and_then(|v| v.as_bool())
        == Some(true)
    {
        return Ok(Vec::new());
    }
    let mut specs: Vec<String> = ctx.config.pinned_packages.clone();
    let pinned = prefix.join("conda-meta").join("pinned");
    if let Ok(text) = std::fs::read_to_string(&pinned) {
        specs.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                .filter(|l| !l.is_empty()),
        );
    }
    specs.iter().map(|s| parse_spec(s)).collect()
}

/// Everything the solver needs to know about the prefix as it is.
pub fn installed(ctx: &Context, prefix: &Path) -> Result<Installed> {
    let (revisions, warnings) = crate::history::read(prefix)?;
    Ok(Installed {
        records: records(prefix)?,
        history: crate::history::requested_specs(&revisions),
        pins: pins(ctx, prefix)?,
        warnings,
    })
}

/// The value conda's `env config vars unset` writes (`CONDA_ENV_VARS_UNSET_VAR`).
pub const UNSET_VAR: &str = "***unset***";

/// The variables `conda-meta/state` sets on activation (`env_vars`), in file order.
pub fn env_vars(prefix: &Path) -> serde_json::Map<String, serde_json::Value> {
    read_state(prefix)
        .get("env_vars")
        .and_then(|v| v.as_object())
        .cloned()
        .unwrap_or_default()
}

/// Replaces `conda-meta/state`'s `env_vars`, keeping its other keys; written atomically.
pub fn set_env_vars(prefix: &Path, vars: serde_json::Map<String, serde_json::Value>) -> Result<()> {
    let mut state = read_state(prefix);
    state.insert("env_vars".into(), serde_json::Value::Object(vars));
    let text = serde_json::to_string_pretty(&serde_json::Value::Object(state)).unwrap_or_default();
    crate::fsutil::write_atomic(&prefix.join("conda-meta").join("state"), text.as_bytes())
}

/// Adds variables (an environment file's `variables:`) to those already set.
pub fn add_env_vars(prefix: &Path, vars: &[(String, serde_json::Value)]) -> Result<()> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut all = env_vars(prefix);
    for (k, v) in vars {
        all.insert(k.clone(), v.clone());
    }
    set_env_vars(prefix, all)
}

fn read_state(prefix: &Path) -> serde_json::Map<String, serde_json::Value> {
    std::fs::read_to_string(prefix.join("conda-meta").join("state"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

/// CEP 22: an environment with `conda-meta/frozen` is not changed while
/// `protect_frozen_envs` is on, unless `--override-frozen`; conda's `EnvironmentIsFrozenError`
/// with the file's `message`.
pub fn check_not_frozen(ctx: &Context, prefix: &Path, override_frozen: bool) -> Result<()> {
    let frozen = prefix.join("conda-meta").join("frozen");
    if override_frozen || !ctx.config.protect_frozen_envs || !frozen.is_file() {
        return Ok(());
    }
    let reason = std::fs::read_to_string(&frozen)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_default();
    let mut text = format!(
        "Cannot modify '{}'. The environment is marked as frozen. ",
        prefix.display()
    );
    if !reason.is_empty() {
        let indented: Vec<String> = reason.lines().map(|l| format!("    {l}")).collect();
        text.push_str(&format!("Reason:\n\n{}\n\n", indented.join("\n")));
    }
    text.push_str(
        "You can bypass these protections with the `--override-frozen` flag, at your own risk.",
    );
    Err(CondaError::new(ErrorKind::EnvironmentIsFrozenError, text))
}

pub use crate::layout::{set_creation_time, CREATED_AT};

/// When the environment was created (conda 26's `PrefixData.created` on Linux: from
/// `conda-meta/created_at`), in Python's `isoformat()`; `None` when unknown.
pub fn created(prefix: &Path) -> Option<String> {
    let text = std::fs::read_to_string(prefix.join("conda-meta").join(CREATED_AT)).ok()?;
    let secs: f64 = text.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    let micros = (secs * 1e6).round() as i64;
    chrono::DateTime::from_timestamp_micros(micros).map(|t| isoformat(&t))
}

/// When the environment last changed (conda's `PrefixData.last_modified`: the modification
/// time of `conda-meta/history`), in Python's `isoformat()`.
pub fn last_modified(prefix: &Path) -> Option<String> {
    let modified = std::fs::metadata(prefix.join("conda-meta").join("history"))
        .and_then(|m| m.modified())
        .ok()?;
    let t: chrono::DateTime<chrono::Utc> = modified.into();
    let micros = t.timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros).map(|t| isoformat(&t))
}

/// Python's `datetime.isoformat()` of an aware UTC time (microseconds only when not zero).
fn isoformat(t: &chrono::DateTime<chrono::Utc>) -> String {
    if t.timestamp_subsec_micros() == 0 {
        t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn times_in_pythons_forms() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("conda-meta")).unwrap();
        assert_eq!(created(dir.path()), None);
        std::fs::write(
            dir.path().join("conda-meta/created_at"),
            "1796230814.145735",
        )
        .unwrap();
        assert_eq!(
            created(dir.path()).as_deref(),
            Some("2026-12-02T17:00:14.145735+00:00")
        );
        std::fs::write(dir.path().join("conda-meta/created_at"), "1796230814.0").unwrap();
        assert_eq!(
            created(dir.path()).as_deref(),
            Some("2026-12-02T17:00:14+00:00")
        );
    }
}
