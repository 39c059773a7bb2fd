//! Errors raised while loading configuration.

use std::path::PathBuf;

/// Everything that can go wrong while loading the `.condarc` configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A configuration file could not be read from disk.
    #[error("cannot read configuration file {path}: {source}")]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A configuration file is not valid YAML (or not UTF-8).
    #[error(
        "invalid YAML in configuration file {path}, line {line}, column {column}: {message}\n  \
         fix or remove line {line} of {path}"
    )]
    InvalidYaml {
        /// The malformed file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the YAML parser reported.
        message: String,
    },

    /// A configuration file's top level is not a `key: value` mapping.
    #[error(
        "configuration file {path} must contain `key: value` lines, but line {line} starts a {found}\n  \
         fix or remove line {line} of {path}"
    )]
    NotAMapping {
        /// The malformed file.
        path: PathBuf,
        /// 1-based line where the document starts.
        line: usize,
        /// What was found instead of a mapping (e.g. "list").
        found: &'static str,
    },

    /// A known key in a configuration file has a value of the wrong type or an invalid value.
    #[error(
        "invalid value for '{key}' in configuration file {path}, line {line}: {reason}\n  \
         fix or remove line {line} of {path}"
    )]
    InvalidValue {
        /// The file holding the bad value.
        path: PathBuf,
        /// 1-based line of the key.
        line: usize,
        /// The key as written in the file.
        key: String,
        /// Why the value was rejected.
        reason: String,
    },

    /// A `CONDA_*` environment variable holds an invalid value.
    #[error(
        "invalid value for '{key}' in environment variable {var}: {reason}\n  fix or unset {var}"
    )]
    InvalidEnvVar {
        /// The environment variable, e.g. `CONDA_ALWAYS_YES`.
        var: String,
        /// The canonical parameter name it sets.
        key: String,
        /// Why the value was rejected.
        reason: String,
    },

    /// A command-line override holds an invalid value.
    #[error("invalid value for '{key}' on the command line: {reason}")]
    InvalidCliValue {
        /// The canonical parameter name.
        key: String,
        /// Why the value was rejected.
        reason: String,
    },

    /// One source sets the same parameter under several aliases (e.g. `channels` and `channel`).
    #[error(
        "Multiple aliased keys in {source_name}: {keys}\n  Must declare only one. Prefer '{name}'"
    )]
    MultipleKeys {
        /// The file path, `envvars` or `cmd_line`.
        source_name: String,
        /// The conflicting keys, comma separated.
        keys: String,
        /// The canonical parameter name.
        name: String,
    },

    /// `--override-channels` was given but `override_channels_enabled` is false.
    #[error("Overriding channels has been disabled.")]
    OverrideChannelsDisabled,

    /// `--override-channels` was given without any `-c/--channel`.
    #[error("At least one -c / --channel flag must be supplied when using --override-channels.")]
    OverrideChannelsWithoutChannel,
}
