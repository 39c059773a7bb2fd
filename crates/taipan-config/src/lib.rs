//! conda's `.condarc` configuration, read side.
//!
//! [`Config::load`] reads conda's configuration search path (system directories, the root
//! prefix, XDG and home locations, the target prefix and `$CONDARC`), then `CONDA_*`
//! environment variables, then command-line overrides, and merges them with conda's rules:
//!
//! * scalars: the highest-precedence source wins, unless a lower source marks the key
//!   `#!final` (the first such source wins);
//! * sequences: concatenated highest precedence first, de-duplicated keeping the first
//!   occurrence; items marked `#!top` / `#!bottom` move to the top / bottom; a key marked
//!   `#!final` hides all higher sources;
//! * maps: merged key-wise, higher precedence wins per key.
//!
//! Everything that touches the machine comes in through [`LoadOptions`], so the loader can be
//! tested against temporary directories.
//!
//! ```no_run
//! use taipan_config::{Config, LoadOptions};
//!
//! let mut opts = LoadOptions::new("/opt/conda", std::env::vars().collect());
//! opts.cli.channels = vec!["conda-forge".into()];
//! let loaded = Config::load(&opts)?;
//! for warning in &loaded.warnings {
//!     eprintln!("{warning}");
//! }
//! println!("channels: {:?}", loaded.config.channels);
//! # Ok::<(), taipan_config::ConfigError>(())
//! ```

#![warn(missing_docs)]

mod apply;
mod config;
pub mod describe;
mod edit;
mod edit_error;
mod error;
mod expand;
mod load;
mod merge;
mod options;
mod params;
pub mod rcfile;
mod render;
mod scan;
mod search;
pub mod show;
mod source;
mod types;

pub use describe::ParamType;
pub use rcfile::{EditError, RcFile};
/// The YAML value type `.condarc` contents are read into.
pub use serde_yaml::Value as YamlValue;
mod typify;
mod value;

pub use config::{root_writable, Config, Loaded, DEFAULT_CHANNELS, DEFAULT_CHANNEL_ALIAS};
pub use error::ConfigError;
pub use options::{CliOverrides, LoadOptions, DEFAULT_SYSTEM_DIRS};
pub use source::{Source, SourceKind};
pub use types::{ChannelPriority, PathConflict, SafetyChecks, SslVerify};

/// conda parameters taipan reads but does not act on. Setting one in a file or a `CONDA_*`
/// variable warns `taipan does not implement 'KEY'`, so no setting is silently ignored. A
/// parameter leaves this list when taipan gives it conda's effect.
pub const NOT_IMPLEMENTED: &[&str] = &[
    "add_anaconda_token",
    "allow_conda_downgrades",
    "allow_cycles",
    "allow_non_channel_urls",
    "anaconda_upload",
    "console",
    "debug",
    "default_python",
    "default_threads",
    "deps_modifier",
    "dev",
    "enable_private_envs",
    "environment_specifier",
    "error_upload_url",
    "execute_threads",
    "experimental",
    "export_platforms",
    "fetch_threads",
    "force",
    "force_32bit",
    "force_remove",
    "migrated_channel_aliases",
    "no_lock",
    "no_plugins",
    "non_admin_enabled",
    "number_channel_notices",
    "plugins",
    "preview",
    "report_errors",
    "reporters",
    "repodata_threads",
    "rollback_enabled",
    "sat_solver",
    "separate_format_cache",
    "shortcuts",
    "signing_metadata_url_base",
    "solver_ignore_timestamps",
    "target_prefix_override",
    "trace",
    "unsatisfiable_hints",
    "unsatisfiable_hints_check_depth",
    "update_modifier",
    "use_only_tar_bz2",
    "verify_threads",
];

/// Whether `key` is a parameter conda knows (canonical name or alias).
pub fn is_known_key(key: &str) -> bool {
    params::lookup(key).is_some()
}

/// The canonical name of the parameter `key` names (itself, or the name an alias stands for).
pub fn canonical_name(key: &str) -> Option<&'static str> {
    params::lookup(key).map(|p| p.name)
}
