//! The merged, typed configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_yaml::Value;

use crate::source::{Source, SourceKind};
use crate::types::{ChannelPriority, PathConflict, SafetyChecks, SslVerify};

/// conda's `DEFAULT_CHANNEL_ALIAS`.
pub const DEFAULT_CHANNEL_ALIAS: &str = "https://conda.anaconda.org";
/// conda's `DEFAULT_CHANNELS` on Unix (what `defaults` expands to).
pub const DEFAULT_CHANNELS: &[&str] = &[
    "https://repo.anaconda.com/pkgs/main",
    "https://repo.anaconda.com/pkgs/r",
];

/// The effective configuration: every `.condarc` source merged with conda's rules.
///
/// Field names are conda's canonical parameter names; defaults are conda's. Channel names are
/// not resolved to URLs here (see `channel_alias`, `custom_channels`, `custom_multichannels`,
/// `default_channels`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// `channels` (alias `channel`): `-c` channels first, then configured ones. `local` is
    /// prepended when `use_local` is set. Default: empty.
    pub channels: Vec<String>,
    /// `default_channels`: what the `defaults` multichannel expands to.
    pub default_channels: Vec<String>,
    /// `channel_alias`: the URL prefix for bare channel names. Always has a scheme.
    pub channel_alias: String,
    /// `custom_channels`: channel name → base URL. Default `{pkgs/pro: https://repo.anaconda.com}`.
    pub custom_channels: BTreeMap<String, String>,
    /// `custom_multichannels`: name → list of channels (`defaults` overrides `default_channels`).
    pub custom_multichannels: BTreeMap<String, Vec<String>>,
    /// `channel_priority`.
    pub channel_priority: ChannelPriority,
    /// `allowlist_channels` (alias `whitelist_channels`): if non-empty, only these are allowed.
    pub allowlist_channels: Vec<String>,
    /// `denylist_channels`: channels that may not be used.
    pub denylist_channels: Vec<String>,
    /// `override_channels_enabled`: whether `--override-channels` is allowed.
    pub override_channels_enabled: bool,
    /// `use_local`: prepend the `local` (conda-bld) channel.
    pub use_local: bool,
    /// `repodata_fns`: repodata file names to try, in order.
    pub repodata_fns: Vec<String>,
    /// `local_repodata_ttl`: seconds to cache repodata; 1 (or `true`) = obey Cache-Control,
    /// 0 (or `false`) = always revalidate.
    pub local_repodata_ttl: u64,
    /// `show_channel_urls`: `None` = show channel names except for `defaults`.
    pub show_channel_urls: Option<bool>,
    /// `migrated_channel_aliases`: old channel aliases rewritten to `channel_alias`.
    pub migrated_channel_aliases: Vec<String>,
    /// `migrated_custom_channels`: old custom channel locations.
    pub migrated_custom_channels: BTreeMap<String, String>,
    /// `offline`: only `file://` channels and the package cache.
    pub offline: bool,
    /// `ssl_verify` (alias `verify_ssl`).
    pub ssl_verify: SslVerify,
    /// `client_ssl_cert` (alias `client_cert`).
    pub client_ssl_cert: Option<String>,
    /// `client_ssl_cert_key` (alias `client_cert_key`).
    pub client_ssl_cert_key: Option<String>,
    /// `proxy_servers`: scheme or `scheme://host` → proxy URL (entries set to null dropped).
    pub proxy_servers: BTreeMap<String, String>,
    /// `remote_connect_timeout_secs`.
    pub remote_connect_timeout_secs: f64,
    /// `remote_read_timeout_secs`.
    pub remote_read_timeout_secs: f64,
    /// `remote_max_retries`.
    pub remote_max_retries: u64,
    /// `remote_backoff_factor`.
    pub remote_backoff_factor: u64,
    /// `root_prefix` (alias `root_dir`), `~` expanded; `None` = the running installation.
    pub root_prefix: Option<PathBuf>,
    /// `pkgs_dirs` as configured (`$VAR` and `~` expanded); see [`Config::pkgs_dirs`].
    pub pkgs_dirs: Vec<PathBuf>,
    /// `envs_dirs` (alias `envs_path`) as configured (`$VAR` and `~` expanded); see
    /// [`Config::envs_dirs`].
    pub envs_dirs: Vec<PathBuf>,
    /// `pinned_packages`: specs added to every solve.
    pub pinned_packages: Vec<String>,
    /// `aggressive_update_packages`.
    pub aggressive_update_packages: Vec<String>,
    /// `create_default_packages`: added to `create` unless `--no-default-packages`.
    pub create_default_packages: Vec<String>,
    /// `disallowed_packages` (alias `disallow`).
    pub disallowed_packages: Vec<String>,
    /// `track_features`.
    pub track_features: Vec<String>,
    /// `auto_update_conda` (alias `self_update`).
    pub auto_update_conda: bool,
    /// `notify_outdated_conda`.
    pub notify_outdated_conda: bool,
    /// `add_pip_as_python_dependency`.
    pub add_pip_as_python_dependency: bool,
    /// `always_yes` (alias `yes`): `None` = not set (behaves like `false`).
    pub always_yes: Option<bool>,
    /// `always_copy` (alias `copy`).
    pub always_copy: bool,
    /// `always_softlink` (alias `softlink`).
    pub always_softlink: bool,
    /// `allow_softlinks`.
    pub allow_softlinks: bool,
    /// `safety_checks`.
    pub safety_checks: SafetyChecks,
    /// `extra_safety_checks`.
    pub extra_safety_checks: bool,
    /// `path_conflict`.
    pub path_conflict: PathConflict,
    /// `clobber`.
    pub clobber: bool,
    /// `rollback_enabled`.
    pub rollback_enabled: bool,
    /// `register_envs`: record new environments in `~/.conda/environments.txt`.
    pub register_envs: bool,
    /// `non_admin_enabled`.
    pub non_admin_enabled: bool,
    /// `protect_frozen_envs`.
    pub protect_frozen_envs: bool,
    /// `no_lock`.
    pub no_lock: bool,
    /// `solver` (alias `experimental_solver`).
    pub solver: String,
    /// `use_only_tar_bz2`: `None` = not set.
    pub use_only_tar_bz2: Option<bool>,
    /// `subdir`: `None` = the native platform.
    pub subdir: Option<String>,
    /// `subdirs`: empty = native platform and `noarch`.
    pub subdirs: Vec<String>,
    /// `default_threads` (0 = automatic).
    pub default_threads: u64,
    /// `repodata_threads` (0 = automatic).
    pub repodata_threads: u64,
    /// `fetch_threads` (0 = automatic, conda uses 5).
    pub fetch_threads: u64,
    /// `verify_threads` (0 = automatic, conda uses 1).
    pub verify_threads: u64,
    /// `execute_threads` (0 = automatic, conda uses 1).
    pub execute_threads: u64,
    /// `json`.
    pub json: bool,
    /// `quiet`.
    pub quiet: bool,
    /// `verbosity` (alias `verbose`).
    pub verbosity: u64,
    /// `auto_activate` (alias `auto_activate_base`).
    pub auto_activate: bool,
    /// `default_activation_env`.
    pub default_activation_env: String,
    /// `auto_stack`.
    pub auto_stack: u64,
    /// `changeps1`.
    pub changeps1: bool,
    /// `env_prompt`.
    pub env_prompt: String,
    /// `envvars_force_uppercase`.
    pub envvars_force_uppercase: bool,
    /// Other parameters conda knows that were set by some source (canonical name → merged
    /// value), e.g. `channel_settings`, `dry_run`, `conda_build`.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
    /// Every source read, lowest precedence first: each file found (even if empty), then
    /// `envvars` and `cmd_line` if they set anything.
    #[serde(skip)]
    pub sources: Vec<Source>,
}

/// The result of [`Config::load`].
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The merged configuration.
    pub config: Config,
    /// Non-fatal problems (e.g. `Unknown key: 'k' (in /path/.condarc, line 3)`), for the
    /// caller to print.
    pub warnings: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Default for Config {
    fn default() -> Self {
        Self {
            channels: Vec::new(),
            default_channels: strings(DEFAULT_CHANNELS),
            channel_alias: DEFAULT_CHANNEL_ALIAS.to_string(),
            custom_channels: BTreeMap::from([(
                "pkgs/pro".to_string(),
                "https://repo.anaconda.com".to_string(),
            )]),
            custom_multichannels: BTreeMap::new(),
            channel_priority: ChannelPriority::Flexible,
            allowlist_channels: Vec::new(),
            denylist_channels: Vec::new(),
            override_channels_enabled: true,
            use_local: false,
            repodata_fns: strings(&["current_repodata.json", "repodata.json"]),
            local_repodata_ttl: 1,
            show_channel_urls: None,
            migrated_channel_aliases: Vec::new(),
            migrated_custom_channels: BTreeMap::new(),
            offline: false,
            ssl_verify: SslVerify::Enabled,
            client_ssl_cert: None,
            client_ssl_cert_key: None,
            proxy_servers: BTreeMap::new(),
            remote_connect_timeout_secs: 9.15,
            remote_read_timeout_secs: 60.0,
            remote_max_retries: 3,
            remote_backoff_factor: 1,
            root_prefix: None,
            pkgs_dirs: Vec::new(),
            envs_dirs: Vec::new(),
            pinned_packages: Vec::new(),
            aggressive_update_packages: strings(&["ca-certificates", "certifi", "openssl"]),
            create_default_packages: Vec::new(),
            disallowed_packages: Vec::new(),
            track_features: Vec::new(),
            auto_update_conda: true,
            notify_outdated_conda: true,
            add_pip_as_python_dependency: true,
            always_yes: None,
            always_copy: false,
            always_softlink: false,
            allow_softlinks: false,
            safety_checks: SafetyChecks::Warn,
            extra_safety_checks: false,
            path_conflict: PathConflict::Clobber,
            clobber: false,
            rollback_enabled: true,
            register_envs: true,
            non_admin_enabled: true,
            protect_frozen_envs: true,
            no_lock: false,
            solver: "libmamba".to_string(),
            use_only_tar_bz2: None,
            subdir: None,
            subdirs: Vec::new(),
            default_threads: 0,
            repodata_threads: 0,
            fetch_threads: 0,
            verify_threads: 0,
            execute_threads: 0,
            json: false,
            quiet: false,
            verbosity: 0,
            auto_activate: true,
            default_activation_env: "base".to_string(),
            auto_stack: 0,
            changeps1: true,
            env_prompt: "({default_env}) ".to_string(),
            envvars_force_uppercase: true,
            other: BTreeMap::new(),
            sources: Vec::new(),
        }
    }
}

impl Config {
    /// A parameter kept in `other` as a list of strings: a YAML sequence, or one
    /// comma-separated string (a `CONDA_*` variable). Empty when unset.
    pub fn other_strings(&self, key: &str) -> Vec<String> {
        match self.other.get(key) {
            Some(Value::Sequence(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(|s| s.trim().to_string()))
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The user configuration file, `~/.condarc` (what `conda config` writes by default).
    pub fn user_rc_path(home: &Path) -> PathBuf {
        home.join(".condarc")
    }

    /// The system configuration file, `<root>/.condarc` (what `conda config --system` writes).
    pub fn sys_rc_path(root: &Path) -> PathBuf {
        root.join(".condarc")
    }

    /// The configuration files that set at least one known key, in precedence order
    /// (conda info's "populated config files").
    pub fn config_files(&self) -> Vec<&Path> {
        self.sources
            .iter()
            .filter(|s| !s.values.is_empty())
            .filter_map(|s| match &s.kind {
                SourceKind::File(path) => Some(path.as_path()),
                _ => None,
            })
            .collect()
    }

    /// The package cache directories, per conda: the configured `pkgs_dirs` if any, else
    /// `<root>/pkgs` then `~/.conda/pkgs`. Duplicates are removed. The first writable one is
    /// used for writing (not decided here).
    pub fn pkgs_dirs(&self, root: &Path, home: &Path) -> Vec<PathBuf> {
        let dirs = if self.pkgs_dirs.is_empty() {
            vec![root.join("pkgs"), home.join(".conda").join("pkgs")]
        } else {
            self.pkgs_dirs.clone()
        };
        dedup_paths(dirs)
    }

    /// The environment directories, per conda: the configured `envs_dirs` first, then
    /// `<root>/envs`, `~/.conda/envs` when the root prefix is writable, or `~/.conda/envs`,
    /// `<root>/envs` when it is not. Duplicates are removed.
    pub fn envs_dirs(&self, root: &Path, home: &Path, root_writable: bool) -> Vec<PathBuf> {
        let root_envs = root.join("envs");
        let user_envs = home.join(".conda").join("envs");
        let fixed = if root_writable {
            [root_envs, user_envs]
        } else {
            [user_envs, root_envs]
        };
        dedup_paths(self.envs_dirs.iter().cloned().chain(fixed).collect())
    }
}

fn dedup_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen = std::collections::HashSet::new();
    paths
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

/// Whether the root prefix is writable, as conda decides it: `<root>/conda-meta/history`
/// exists and can be opened for appending.
pub fn root_writable(root: &Path) -> bool {
    let history = root.join("conda-meta").join("history");
    history.is_file()
        && std::fs::OpenOptions::new()
            .append(true)
            .open(&history)
            .is_ok()
}
