//! Arguments of the environment-file, export, config and maintenance commands (`env
//! create/update/remove`, `export`, `compare`, `rename`, `config`, `clean`, `doctor`,
//! `notices`, `package`).

use std::path::PathBuf;

use clap::Args;

use super::{ChannelArgs, Output, Target};

// `conda env create`.
#[derive(Debug, Args, Clone)]
pub struct EnvCreateArgs {
    /// Environment definition file(s) (default: environment.yml).
    #[arg(short = 'f', long = "file", num_args = 1.., default_value = "environment.yml")]
    pub file: Vec<PathBuf>,
    /// Only display what would have been done.
    #[arg(short = 'd', long = "dry-run")]
    pub dry_run: bool,
    /// Sets any confirmation values to 'yes' automatically (the default for env create).
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Remove an existing environment first (older conda; env create replaces one anyway).
    #[arg(long, hide = true)]
    pub force: bool,
    /// Ignore create_default_packages in the .condarc file.
    #[arg(long = "no-default-packages")]
    pub no_default_packages: bool,
    /// Solve for another platform (subdir).
    #[arg(long = "platform", alias = "subdir")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub channels: ChannelArgs,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub output: Output,
}

// `conda env update`.
#[derive(Debug, Args, Clone)]
pub struct EnvUpdateArgs {
    /// Environment definition (default: environment.yml).
    #[arg(short = 'f', long = "file", default_value = "environment.yml")]
    pub file: PathBuf,
    /// Remove installed packages not defined in the environment file.
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub output: Output,
}

// `conda env remove`.
#[derive(Debug, Args, Clone)]
pub struct EnvRemoveArgs {
    /// Remove an environment marked frozen (CEP 22), at your own risk.
    #[arg(long = "override-frozen")]
    pub override_frozen: bool,
    /// Only display what would have been done.
    #[arg(short = 'd', long = "dry-run")]
    pub dry_run: bool,
    /// Sets any confirmation values to 'yes' automatically.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub output: Output,
}

// `conda export` and `conda env export`.
#[derive(Debug, Args, Clone)]
pub struct ExportArgs {
    /// Additional channel to include in the export.
    #[arg(short = 'c', long = "channel")]
    pub channel: Vec<String>,
    /// Do not include .condarc channels.
    #[arg(short = 'O', long = "override-channels")]
    pub override_channels: bool,
    /// Target platform(s) for export (only this machine's platform is supported).
    #[arg(long = "platform", alias = "subdir")]
    pub platform: Vec<String>,
    /// Override the platforms specified in the condarc.
    #[arg(long = "override-platforms")]
    pub override_platforms: bool,
    /// File name or path for the exported environment (format detected from the name).
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// Output format: environment-yaml, environment-json, explicit, requirements (or an alias).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(taipan_env::export::FORMAT_NAMES))]
    pub format: Option<String>,
    /// Remove build specification from dependencies.
    #[arg(long = "no-builds")]
    pub no_builds: bool,
    /// Do not include channel names with package names.
    #[arg(long = "ignore-channels")]
    pub ignore_channels: bool,
    /// Build environment spec from explicit specs in history.
    #[arg(long = "from-history")]
    pub from_history: bool,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub output: Output,
}

// `conda compare`.
#[derive(Debug, Args, Clone)]
pub struct CompareArgs {
    /// Path to the environment file that is to be compared against.
    pub file: PathBuf,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub output: Output,
}

// `conda rename`.
#[derive(Debug, Args, Clone)]
pub struct RenameArgs {
    /// New name for the conda environment.
    pub destination: String,
    /// Only display what would have been done.
    #[arg(short = 'd', long = "dry-run")]
    pub dry_run: bool,
    /// Sets any confirmation values to 'yes' automatically (replaces an existing destination).
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Older conda's name for --yes.
    #[arg(long, hide = true)]
    pub force: bool,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub output: Output,
}

// `conda config`.
#[derive(Debug, Args, Clone)]
#[command(group(clap::ArgGroup::new("location").args(["system", "env", "file", "name", "prefix"])))]
#[command(group(clap::ArgGroup::new("subcommand").args(["show", "show_sources", "validate", "describe", "write_default"])))]
#[command(group(clap::ArgGroup::new("modifier").args(["get", "append", "prepend", "set", "remove", "clear", "remove_key", "stdin"])))]
pub struct ConfigArgs {
    /// Write to the system .condarc file (the root prefix's).
    #[arg(long)]
    pub system: bool,
    /// Write to the active conda environment .condarc file.
    #[arg(long)]
    pub env: bool,
    /// Write to the given file.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Name of environment.
    #[arg(short = 'n', long = "name")]
    pub name: Option<String>,
    /// Full path to environment location (i.e. prefix).
    #[arg(short = 'p', long = "prefix")]
    pub prefix: Option<PathBuf>,
    /// Display configuration values as calculated and compiled.
    #[arg(long, num_args = 0.., value_name = "SHOW")]
    pub show: Option<Vec<String>>,
    /// Display all identified configuration sources.
    #[arg(long)]
    pub show_sources: bool,
    /// Validate all configuration sources.
    #[arg(long)]
    pub validate: bool,
    /// Describe given configuration parameters.
    #[arg(long, num_args = 0.., value_name = "DESCRIBE")]
    pub describe: Option<Vec<String>>,
    /// Write the default configuration to a file.
    #[arg(long)]
    pub write_default: bool,
    /// Get a configuration value.
    #[arg(long, num_args = 0.., value_name = "KEY")]
    pub get: Option<Vec<String>>,
    /// Add one configuration value to the end of a list key.
    #[arg(long, num_args = 2, value_names = ["KEY", "VALUE"], action = clap::ArgAction::Append)]
    pub append: Vec<String>,
    /// Add one configuration value to the beginning of a list key.
    #[arg(long, visible_alias = "add", num_args = 2, value_names = ["KEY", "VALUE"], action = clap::ArgAction::Append)]
    pub prepend: Vec<String>,
    /// Set a boolean or string key.
    #[arg(long, num_args = 2, value_names = ["KEY", "VALUE"], action = clap::ArgAction::Append)]
    pub set: Vec<String>,
    /// Remove a configuration value from a list key. This removes all instances of the value.
    #[arg(long, num_args = 2, value_names = ["KEY", "VALUE"], action = clap::ArgAction::Append)]
    pub remove: Vec<String>,
    /// Clear all values from a list key.
    #[arg(long, value_name = "KEY", action = clap::ArgAction::Append)]
    pub clear: Vec<String>,
    /// Remove a configuration key (and all its values).
    #[arg(long, value_name = "KEY", action = clap::ArgAction::Append)]
    pub remove_key: Vec<String>,
    /// Apply configuration information given in yaml format piped through stdin.
    #[arg(long)]
    pub stdin: bool,
    #[command(flatten)]
    pub output: Output,
}

// `conda clean`.
#[derive(Debug, Args, Clone)]
pub struct CleanArgs {
    /// Remove index cache, unused cache packages, tarballs, tempfiles, and logfiles.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Remove index cache.
    #[arg(short = 'i', long = "index-cache")]
    pub index_cache: bool,
    /// Remove unused packages from writable package caches (packages no known environment
    /// records, whether it linked them by hard link, soft link or copy).
    #[arg(short = 'p', long)]
    pub packages: bool,
    /// Remove cached package tarballs.
    #[arg(short = 't', long)]
    pub tarballs: bool,
    /// Remove *all* writable package caches. This option is not included with the --all flag.
    #[arg(short = 'f', long = "force-pkgs-dirs")]
    pub force_pkgs_dirs: bool,
    /// Remove temporary files that could not be deleted earlier due to being in-use. The
    /// argument is a path (or list of paths) to the environment(s) where the tempfiles should
    /// be found and removed (default: the root prefix).
    #[arg(short = 'c', long, num_args = 0.., value_name = "TEMPFILES")]
    pub tempfiles: Option<Vec<PathBuf>>,
    /// Remove log files.
    #[arg(short = 'l', long)]
    pub logfiles: bool,
    /// Only display what would have been done.
    #[arg(short = 'd', long = "dry-run")]
    pub dry_run: bool,
    /// Sets any confirmation values to 'yes' automatically.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    #[command(flatten)]
    pub output: Output,
}

// `conda doctor` / `conda check`.
#[derive(Debug, Args, Clone)]
pub struct DoctorArgs {
    /// Health check names to run (default: all). Use --list to see available checks.
    #[arg(value_name = "NAME")]
    pub checks: Vec<String>,
    /// List all available health checks and their fix capabilities.
    #[arg(long)]
    pub list: bool,
    /// Fix issues found by health checks.
    #[arg(long, alias = "heal")]
    pub fix: bool,
    /// Only display what would have been done.
    #[arg(short = 'd', long = "dry-run")]
    pub dry_run: bool,
    /// Sets any confirmation values to 'yes' automatically.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub output: Output,
}

// `conda notices`.
#[derive(Debug, Args, Clone)]
pub struct NoticesArgs {
    #[command(flatten)]
    pub channels: ChannelArgs,
    #[command(flatten)]
    pub output: Output,
}

// `conda package`.
#[derive(Debug, Args, Clone)]
pub struct PackageArgs {
    /// Given some file's PATH, print which conda package the file came from.
    #[arg(short = 'w', long, num_args = 1.., value_name = "PATH")]
    pub which: Option<Vec<PathBuf>>,
    /// Remove all untracked files and exit.
    #[arg(short = 'r', long)]
    pub reset: bool,
    /// Display all untracked files and exit.
    #[arg(short = 'u', long)]
    pub untracked: bool,
    /// Designate package name of the package being created (not supported).
    #[arg(long = "pkg-name", hide = true)]
    pub pkg_name: Option<String>,
    /// Designate package version of the package being created (not supported).
    #[arg(long = "pkg-version", hide = true)]
    pub pkg_version: Option<String>,
    /// Designate package build number of the package being created (not supported).
    #[arg(long = "pkg-build", hide = true)]
    pub pkg_build: Option<String>,
    #[command(flatten)]
    pub target: Target,
    /// More output.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}
