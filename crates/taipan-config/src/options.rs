//! Inputs to [`crate::Config::load`]: everything that would otherwise be read from the machine.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_yaml::Value;

use crate::types::{ChannelPriority, SslVerify};

/// The system configuration directories conda reads on Unix, lowest precedence first.
pub const DEFAULT_SYSTEM_DIRS: &[&str] = &["/etc/conda", "/var/lib/conda"];

/// What [`crate::Config::load`] reads. Nothing outside these fields is consulted except the
/// files they point to, so tests can run against temporary directories.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The root (base) prefix of the running installation: `$CONDA_ROOT` in the search path
    /// unless the `CONDA_ROOT` variable is set in `env`.
    pub root_prefix: PathBuf,
    /// The `-n/-p` target prefix; replaces `$CONDA_PREFIX` in the search path when given.
    pub target_prefix: Option<PathBuf>,
    /// The user's home directory (`~`); `None` skips all `~` locations.
    pub home: Option<PathBuf>,
    /// The environment variables (the CLI passes `std::env::vars()`): `CONDA_*` settings,
    /// `CONDA_PREFIX`, `CONDA_ROOT`, `CONDARC`, `XDG_CONFIG_HOME` and `$VAR` expansion.
    pub env: HashMap<String, String>,
    /// System configuration directories, lowest precedence first; each contributes
    /// `.condarc`, `condarc` and `condarc.d/`. Defaults to [`DEFAULT_SYSTEM_DIRS`].
    pub system_dirs: Vec<PathBuf>,
    /// Command-line flags, the highest-precedence source.
    pub cli: CliOverrides,
}

impl LoadOptions {
    /// Options for `root_prefix` with the given environment; `home` is taken from `HOME`,
    /// the system dirs are conda's defaults and there are no command-line overrides.
    pub fn new(root_prefix: impl Into<PathBuf>, env: HashMap<String, String>) -> Self {
        let home = env.get("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
        Self {
            root_prefix: root_prefix.into(),
            target_prefix: None,
            home,
            env,
            system_dirs: DEFAULT_SYSTEM_DIRS.iter().map(PathBuf::from).collect(),
            cli: CliOverrides::default(),
        }
    }
}

/// Configuration given on the command line. `None`/empty means "not given".
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    /// `-c/--channel`, in order; prepended to the configured channels.
    pub channels: Vec<String>,
    /// `--override-channels`: use only `channels` (requires at least one).
    pub override_channels: bool,
    /// `--use-local`.
    pub use_local: Option<bool>,
    /// `--strict-channel-priority` / `--no-channel-priority`.
    pub channel_priority: Option<ChannelPriority>,
    /// `--offline`.
    pub offline: Option<bool>,
    /// `-y/--yes`.
    pub always_yes: Option<bool>,
    /// `--copy`.
    pub always_copy: Option<bool>,
    /// `--json`.
    pub json: Option<bool>,
    /// `-q/--quiet`.
    pub quiet: Option<bool>,
    /// `-v` count.
    pub verbosity: Option<u64>,
    /// `--insecure` (→ [`SslVerify::Disabled`]).
    pub ssl_verify: Option<SslVerify>,
    /// `--repodata-fn`, in order (empty = not given).
    pub repodata_fns: Vec<String>,
    /// `--solver`.
    pub solver: Option<String>,
    /// `--show-channel-urls` / `--no-show-channel-urls`.
    pub show_channel_urls: Option<bool>,
    /// `-d/--dry-run`.
    pub dry_run: Option<bool>,
    /// Any other parameter set by a flag, as `(parameter name, value)`, e.g.
    /// `("ignore_pinned", true)` for `--no-pin`. Validated like a file value.
    pub other: Vec<(String, Value)>,
}

fn push_opt<T: Into<Value>>(out: &mut Vec<(String, Value)>, key: &str, v: Option<T>) {
    if let Some(v) = v {
        out.push((key.to_string(), v.into()));
    }
}

fn seq(items: &[String]) -> Value {
    Value::Sequence(items.iter().cloned().map(Value::String).collect())
}

impl CliOverrides {
    /// The overrides as `(parameter name, value)` pairs for the `cmd_line` source.
    pub(crate) fn pairs(&self) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        if !self.channels.is_empty() {
            out.push(("channels".to_string(), seq(&self.channels)));
        }
        push_opt(&mut out, "use_local", self.use_local);
        push_opt(
            &mut out,
            "channel_priority",
            self.channel_priority.map(|c| c.as_str()),
        );
        push_opt(&mut out, "offline", self.offline);
        push_opt(&mut out, "always_yes", self.always_yes);
        push_opt(&mut out, "always_copy", self.always_copy);
        push_opt(&mut out, "json", self.json);
        push_opt(&mut out, "quiet", self.quiet);
        push_opt(&mut out, "verbosity", self.verbosity);
        push_opt(
            &mut out,
            "ssl_verify",
            self.ssl_verify.as_ref().map(SslVerify::to_yaml),
        );
        if !self.repodata_fns.is_empty() {
            out.push(("repodata_fns".to_string(), seq(&self.repodata_fns)));
        }
        push_opt(&mut out, "solver", self.solver.clone());
        push_opt(&mut out, "show_channel_urls", self.show_channel_urls);
        push_opt(&mut out, "dry_run", self.dry_run);
        out.extend(self.other.iter().cloned());
        out
    }
}
