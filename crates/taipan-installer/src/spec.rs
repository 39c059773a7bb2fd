//! `construct.yaml`, the constructor-compatible installer spec (the keys that matter).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use taipan_env::error::ErrorKind;

use serde::Deserialize;
use taipan_env::{CondaError, Result};

/// An installer spec.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Installer name, e.g. `Anaconda3`.
    pub name: String,
    /// Installer version.
    pub version: String,
    /// Channels, in priority order.
    #[serde(default)]
    pub channels: Vec<String>,
    /// Specs of the base environment.
    #[serde(default)]
    pub specs: Vec<String>,
    /// Specs recorded as user-requested in the base's history (default: `specs`).
    #[serde(default)]
    pub user_requested_specs: Option<Vec<String>>,
    /// License shown (and accepted) at install time.
    #[serde(default)]
    pub license_file: Option<PathBuf>,
    /// Default prefix (default `${HOME:-/opt}/<name lowercased>`).
    #[serde(default)]
    pub default_prefix: Option<String>,
    /// Output file name (default `<name>-<version>-Linux-x86_64.sh`).
    #[serde(default)]
    pub installer_filename: Option<String>,
    /// Keep `pkgs/` after install (as `-k`).
    #[serde(default)]
    pub keep_pkgs: bool,
    /// Offer `conda init` (`true`, `false` or `condabin`).
    #[serde(default = "yes")]
    pub initialize_conda: serde_yaml::Value,
    /// Default answer to the init question.
    #[serde(default)]
    pub initialize_by_default: bool,
    /// Register the base in `~/.conda/environments.txt`.
    #[serde(default = "yes_bool")]
    pub register_envs: bool,
    /// Written as `<prefix>/.condarc`.
    #[serde(default)]
    pub condarc: Option<serde_yaml::Value>,
    /// Extra environments: name → { specs, channels, user_requested_specs }.
    #[serde(default)]
    pub extra_envs: BTreeMap<String, ExtraEnv>,
    /// Script run before the packages are installed.
    #[serde(default)]
    pub pre_install: Option<PathBuf>,
    /// Script run after installation.
    #[serde(default)]
    pub post_install: Option<PathBuf>,
    /// Requirements checked on the target machine, e.g. `__glibc>=2.17`.
    #[serde(default)]
    pub virtual_specs: Vec<String>,
    /// Text shown first in interactive mode.
    #[serde(default)]
    pub welcome_text: Option<String>,
    /// Text shown at the end (default `installation finished.`).
    #[serde(default)]
    pub conclusion_text: Option<String>,
    /// Platform; only linux-64 is built.
    #[serde(default)]
    pub installer_type: Option<String>,
}

fn yes() -> serde_yaml::Value {
    serde_yaml::Value::Bool(true)
}
fn yes_bool() -> bool {
    true
}

/// An extra environment of the installer (`extra_envs.NAME`), installed as `PREFIX/envs/NAME`.
#[derive(Debug, Clone, Deserialize)]
pub struct ExtraEnv {
    /// Specs.
    #[serde(default)]
    pub specs: Vec<String>,
    /// Channels; absent means the installer's `channels` (constructor's inheritance rule).
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// Specs recorded as user-requested in the env's history (default: this env's `specs`;
    /// constructor does not inherit the global value here).
    #[serde(default)]
    pub user_requested_specs: Option<Vec<String>>,
    /// Every other key, refused by [`ExtraEnv::check`] with its name.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_yaml::Value>,
}

/// constructor's `extra_envs` sub-keys taipan does not implement.
const UNSUPPORTED_ENV_KEYS: &[&str] = &[
    "environment",
    "environment_file",
    "channels_remap",
    "exclude",
    "menu_packages",
];

impl ExtraEnv {
    /// Refuses what cannot be built as asked: unknown or unsupported keys, no specs, an
    /// empty channel list, a name that is not a plain directory name.
    fn check(&self, file: &Path, name: &str) -> Result<()> {
        let fail = |what: String| {
            Err(CondaError::new(
                ErrorKind::InvalidSpecError,
                format!("{}: extra_envs.{name}: {what}", file.display()),
            ))
        };
        if let Some(key) = self.other.keys().next() {
            return if UNSUPPORTED_ENV_KEYS.contains(&key.as_str()) {
                fail(format!("`{key}` is not supported by taipan yet; remove it and list the packages under `specs`."))
            } else {
                fail(format!("unknown key `{key}`; the keys are `specs`, `channels` and `user_requested_specs`."))
            };
        }
        if name.is_empty()
            || name == "base"
            || name.starts_with('.')
            || name.contains(['/', ' ', '\\', ':', '#'])
        {
            return fail("is not a valid environment name; use letters, digits, `-`, `_` or `.` (and not `base`).".into());
        }
        if self.specs.is_empty() {
            return fail("`specs` is empty; list the packages of this environment.".into());
        }
        if self.channels.as_ref().is_some_and(Vec::is_empty) {
            return fail("`channels` is empty; list its channels, or remove the key to use the installer's `channels`.".into());
        }
        Ok(())
    }
}

impl Spec {
    /// Reads a spec; relative paths in it are relative to the spec's directory.
    pub fn load(path: &Path) -> Result<(Self, PathBuf)> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CondaError::new(
                ErrorKind::CondaFileIOError,
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        let spec: Spec = serde_yaml::from_str(&text).map_err(|e| {
            let at = e.location().map(|l| format!(", line {}", l.line())).unwrap_or_default();
            CondaError::new(ErrorKind::InvalidSpecError, format!("{}{at}: {e}\n  Fix the installer spec (construct.yaml keys: name, version, channels, specs, …).", path.display()))
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut spec = spec;
        resolve_relative(&mut spec.channels, &dir);
        for (name, env) in &mut spec.extra_envs {
            env.check(path, name)?;
            if let Some(channels) = &mut env.channels {
                resolve_relative(channels, &dir);
            }
        }
        if spec.specs.is_empty() {
            return Err(CondaError::new(
                ErrorKind::InvalidSpecError,
                format!(
                    "{}: `specs` is empty; list the packages of the base environment.",
                    path.display()
                ),
            ));
        }
        Ok((spec, dir))
    }

    /// The channels of an extra environment (its own, else the installer's).
    pub fn env_channels<'a>(&'a self, env: &'a ExtraEnv) -> &'a [String] {
        env.channels.as_deref().unwrap_or(&self.channels)
    }

    /// The minimum glibc from `virtual_specs` (`__glibc>=2.17`).
    pub fn min_glibc(&self) -> Option<String> {
        self.virtual_specs.iter().find_map(|v| {
            let rest = v.trim().strip_prefix("__glibc")?.trim();
            let version = rest.trim_start_matches(">=").trim_start_matches('=').trim();
            (!version.is_empty()).then(|| version.to_string())
        })
    }

    /// `initialize_conda` as a mode: `None` (no init offered), `Some(false)` full, `Some(true)` condabin.
    pub fn init_mode(&self) -> Option<bool> {
        match &self.initialize_conda {
            serde_yaml::Value::Bool(false) => None,
            serde_yaml::Value::String(s) if s == "condabin" => Some(true),
            _ => Some(false),
        }
    }
}

/// `./channel` in a spec means next to the spec, wherever the build runs from.
fn resolve_relative(channels: &mut [String], dir: &Path) {
    for c in channels {
        if c.starts_with("./") || c.starts_with("../") {
            let abs = std::fs::canonicalize(dir.join(&c)).unwrap_or_else(|_| dir.join(&c));
            *c = abs.display().to_string();
        }
    }
}
