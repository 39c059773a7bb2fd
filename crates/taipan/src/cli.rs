//! Command-line definitions, shared by the `conda` and `taipan` personalities.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod env_and_maintenance;
pub use env_and_maintenance::*;

/// The conda-compatible command line.
#[derive(Debug, Parser)]
#[command(
    name = "conda",
    disable_version_flag = true,
    about = "taipan: a fast, conda-compatible package and environment manager"
)]
pub struct Cli {
    /// Show the version and exit.
    #[arg(short = 'V', long = "version", global = false)]
    pub version: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands. `defer`: a subcommand's arguments are only built when it runs (or for help
/// and completion); building all of them on every start was a fifth of a small solve's
/// instructions (`taipan --version`: 1.84 M → 1.30 M). The argument structs below carry `//`
/// comments, not doc comments: once deferred, a struct's doc comment would replace the
/// command's description in `--help`.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a new conda environment from a list of specified packages.
    Create(CreateArgs),
    /// Install a list of packages into a specified conda environment.
    Install(InstallArgs),
    /// Update conda packages to the latest compatible version.
    #[command(alias = "upgrade")]
    Update(UpdateArgs),
    /// Remove a list of packages from a specified conda environment.
    #[command(alias = "uninstall")]
    Remove(RemoveArgs),
    /// List installed packages in a conda environment.
    List(ListArgs),
    /// Search for packages and display associated information.
    Search(SearchArgs),
    /// Display information about current conda install.
    Info(InfoArgs),
    /// Modify configuration values in .condarc.
    Config(ConfigArgs),
    /// Environment management (`conda env list`).
    #[command(subcommand)]
    Env(EnvCommand),
    /// Print shell completions for taipan/conda.
    Completion(CompletionArgs),
    /// Initialize conda for shell interaction (writes the block into shell rc files).
    Init(InitArgs),
    /// Run an executable in a conda environment.
    Run(RunArgs),
    /// Export a conda environment to a file (environment.yml, JSON, explicit, requirements).
    Export(ExportArgs),
    /// Compare packages between conda environments.
    Compare(CompareArgs),
    /// Rename an existing environment.
    Rename(RenameArgs),
    /// Activate an environment (needs the shell function from `conda init`).
    #[command(hide = true)]
    Activate(ShellOnlyArgs),
    /// Deactivate the active environment (needs the shell function from `conda init`).
    #[command(hide = true)]
    Deactivate(ShellOnlyArgs),
    /// Build distribution installers: `taipan installer build construct.yaml`.
    #[command(subcommand)]
    Installer(InstallerCommand),
    /// Deploy on a server: system packages, the installer, conda init and update, idempotently.
    Deploy(DeployArgs),
    /// taipan's shell files: `taipan shell install-files -p PREFIX`.
    #[command(subcommand)]
    Shell(ShellCommand),
    /// Remove unused packages and caches.
    Clean(CleanArgs),
    /// Retrieve latest channel notifications.
    Notices(NoticesArgs),
    /// List all available conda subcommands. Generally only used by tab-completion.
    Commands,
    /// Low-level package tools: which package owns a file, files no package owns.
    Package(PackageArgs),
    /// Display a health report for your environment.
    #[command(alias = "check")]
    Doctor(DoctorArgs),
}

// `taipan installer …`.
#[derive(Debug, Subcommand)]
pub enum InstallerCommand {
    /// Solve, fetch and verify the packages of a construct.yaml and write a self-extracting
    /// `<name>-<version>-Linux-x86_64.sh` (and its `.sha256`).
    Build {
        /// The installer spec (constructor's construct.yaml keys).
        #[arg(required_unless_present = "default", conflicts_with = "default")]
        spec: Option<PathBuf>,
        /// Build the default distribution embedded in taipan (`distribution/construct.yaml`,
        /// base = taipan packaged from the embedded binary), offline.
        #[arg(long = "default")]
        default: bool,
        /// Output directory.
        #[arg(short = 'o', long = "output-dir", default_value = ".")]
        output_dir: PathBuf,
        /// taipan binary to embed (default: this one). Ship a release build.
        #[arg(long = "taipan-binary")]
        taipan_binary: Option<PathBuf>,
        #[command(flatten)]
        output: Output,
    },
    /// Run by an installer's embedded binary after the header has checked and unpacked the
    /// payload: installs the environments offline and finishes the root prefix.
    #[command(hide = true)]
    Finish {
        /// The root prefix.
        #[arg(long)]
        prefix: PathBuf,
        /// The unpacked payload (removed at the end).
        #[arg(long)]
        payload: PathBuf,
        /// `-u`: append to the history of environments that exist.
        #[arg(long)]
        update: bool,
        /// `-k`: keep pkgs/.
        #[arg(long)]
        keep_pkgs: bool,
        /// `-s`: skip pre_install and post_install.
        #[arg(long)]
        skip_scripts: bool,
        /// Add the environments to ~/.conda/environments.txt.
        #[arg(long)]
        register_envs: bool,
    },
}

// `taipan deploy`: the classic Anaconda server procedure, as one idempotent command.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The installer (path or http(s) URL); default: build the default distribution.
    #[arg(long, value_name = "PATH|URL")]
    pub installer: Option<String>,
    /// The installer's expected sha256 (checked before anything is installed).
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Installation prefix (default: ~USER/<installer name lowercased>, /root/taipan3).
    #[arg(short = 'p', long)]
    pub prefix: Option<PathBuf>,
    /// Deploy for this user (home, owner, shell rc files); default root.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Shells to run `conda init` for (repeatable).
    #[arg(long = "shell", value_name = "SHELL", default_value = "bash")]
    pub shells: Vec<String>,
    /// Make the installation readable by GROUP (directories g+rX, setgid); users' own
    /// environments and package caches go to ~/.conda.
    #[arg(long, value_name = "GROUP")]
    pub shared: Option<String>,
    /// Skip `apt-get upgrade -y`.
    #[arg(long)]
    pub no_upgrade: bool,
    /// Skip `conda update --update-all -y`.
    #[arg(long)]
    pub no_update: bool,
    /// Print the plan and change nothing.
    #[arg(short = 'd', long)]
    pub dry_run: bool,
    /// Reverse `conda init` and remove the prefix (asks first, unless --yes).
    #[arg(long)]
    pub uninstall: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Where the log goes.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/var/log/taipan-deploy.log"
    )]
    pub log_file: PathBuf,
    /// The taipan binary the default distribution embeds (default: this one).
    #[arg(long, value_name = "PATH")]
    pub taipan_binary: Option<PathBuf>,
    #[command(flatten)]
    pub output: Output,
}

// `taipan shell …`.
#[derive(Debug, Subcommand)]
pub enum ShellCommand {
    /// (Re)write a root prefix's activation files (bin/activate, etc/profile.d/conda.sh, …).
    InstallFiles {
        /// The root prefix (default: the running installation's).
        #[arg(short = 'p', long = "prefix")]
        prefix: Option<PathBuf>,
        /// Only report what would change.
        #[arg(short = 'd', long = "dry-run")]
        dry_run: bool,
        #[command(flatten)]
        output: Output,
    },
}

// Arguments of commands only the shell function can run.
#[derive(Debug, Args, Clone)]
pub struct ShellOnlyArgs {
    /// Anything.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

// `conda init`.
#[derive(Debug, Args, Clone)]
pub struct InitArgs {
    /// Shells to initialize (bash, zsh, fish, tcsh); default bash.
    pub shells: Vec<String>,
    /// Initialize all supported shells.
    #[arg(long)]
    pub all: bool,
    /// Undo effects of the last conda init.
    #[arg(long)]
    pub reverse: bool,
    /// Only display what would have been done.
    #[arg(short = 'd', long = "dry-run")]
    pub dry_run: bool,
    /// Initialize conda for all users on the system (/etc/profile.d/conda.sh).
    #[arg(long, conflicts_with = "user")]
    pub system: bool,
    /// Initialize conda for the current user (default).
    #[arg(long)]
    pub user: bool,
    /// Only add the condabin/ directory to PATH.
    #[arg(long)]
    pub condabin: bool,
    #[command(flatten)]
    pub output: Output,
}

// `conda run`.
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: Target,
    /// Current working directory for the command.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Display the output for the subprocess stdout and stderr as it happens.
    #[arg(long = "live-stream")]
    pub live_stream: bool,
    /// Don't capture stdout/stderr (the command's output goes straight through).
    #[arg(long = "no-capture-output", short = 's', alias = "no-capture-outputs")]
    pub no_capture_output: bool,
    #[command(flatten)]
    pub output: Output,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

// `conda env …`.
#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// List the conda environments.
    List(EnvListArgs),
    /// Create an environment based on an environment definition file.
    Create(EnvCreateArgs),
    /// Update the current environment based on environment file.
    Update(EnvUpdateArgs),
    /// Export a given environment.
    Export(ExportArgs),
    /// Remove an environment.
    Remove(EnvRemoveArgs),
    /// Configure an environment.
    #[command(subcommand)]
    Config(EnvConfigCommand),
}

// `conda env config …`.
#[derive(Debug, Subcommand)]
pub enum EnvConfigCommand {
    /// Environment variables set on activation (conda-meta/state).
    #[command(subcommand)]
    Vars(VarsCommand),
}

// `conda env config vars …`.
#[derive(Debug, Subcommand)]
pub enum VarsCommand {
    /// List the variables (`KEY = VALUE`).
    List(VarsArgs),
    /// Set variables: `KEY=VALUE ...`.
    Set(VarsArgs),
    /// Unset variables: `KEY ...`.
    Unset(VarsArgs),
}

// Arguments of `conda env config vars`.
#[derive(Debug, Args, Clone)]
pub struct VarsArgs {
    /// `KEY=VALUE` for set, `KEY` for unset.
    pub vars: Vec<String>,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub output: Output,
}

// Output flags every command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct Output {
    /// Report all output as json.
    #[arg(long)]
    pub json: bool,
    /// Do not display progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// More output (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl Output {
    /// `--json`, or the `json` setting.
    pub fn is_json(&self) -> bool {
        self.json || crate::output::mode::config_json()
    }

    /// `-q`, or the `quiet` setting.
    pub fn is_quiet(&self) -> bool {
        self.quiet || crate::output::mode::config_quiet()
    }
}

// `-n` / `-p`.
#[derive(Debug, Args, Clone, Default)]
pub struct Target {
    /// Name of environment.
    #[arg(short = 'n', long = "name", conflicts_with = "prefix")]
    pub name: Option<String>,
    /// Full path to environment location (i.e. prefix).
    #[arg(short = 'p', long = "prefix")]
    pub prefix: Option<PathBuf>,
}

// Channel and network flags.
#[derive(Debug, Args, Clone, Default)]
pub struct ChannelArgs {
    /// Additional channel to search for packages (repeatable; searched first).
    #[arg(short = 'c', long = "channel")]
    pub channel: Vec<String>,
    /// Do not search default or .condarc channels. Requires --channel.
    #[arg(short = 'O', long = "override-channels")]
    pub override_channels: bool,
    /// Offline mode: use only file:// channels and the local cache.
    #[arg(long)]
    pub offline: bool,
    /// Use locally built packages (the conda-bld channel), searched first.
    #[arg(long = "use-local")]
    pub use_local: bool,
    /// Allow "insecure" SSL connections and transfers (ssl_verify off for this command).
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Use the cached channel index files even if they have expired (fetched if absent).
    #[arg(short = 'C', long = "use-index-cache")]
    pub use_index_cache: bool,
    /// The repodata file name on the server (repeatable).
    #[arg(long = "repodata-fn", value_name = "REPODATA_FNS")]
    pub repodata_fn: Vec<String>,
}

// `--show-channel-urls` (and conda's hidden `--no-show-channel-urls`).
#[derive(Debug, Args, Clone, Default)]
pub struct ChannelUrlArgs {
    /// Show channel urls. Overrides the value given by `conda config --show show_channel_urls`.
    #[arg(long = "show-channel-urls", overrides_with = "no_show_channel_urls")]
    pub show_channel_urls: bool,
    #[arg(long = "no-show-channel-urls", hide = true)]
    pub no_show_channel_urls: bool,
}

impl ChannelUrlArgs {
    /// The `show_channel_urls` the flags ask for, if any.
    pub fn value(&self) -> Option<bool> {
        if self.show_channel_urls {
            Some(true)
        } else if self.no_show_channel_urls {
            Some(false)
        } else {
            None
        }
    }
}

// Flags of create/install/update.
#[derive(Debug, Args, Clone, Default)]
pub struct SolveArgs {
    /// Packages to install or update.
    pub specs: Vec<String>,
    /// Read package versions from the given file (repeatable; `@EXPLICIT` files supported).
    #[arg(long = "file")]
    pub file: Vec<PathBuf>,
    /// Only display what would have been done.
    #[arg(short = 'd', long = "dry-run")]
    pub dry_run: bool,
    /// Solve and populate the package cache, but do not link anything.
    #[arg(long = "download-only")]
    pub download_only: bool,
    /// Sets any confirmation values to 'yes' automatically.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Install all packages using copies instead of hard- or soft-linking.
    #[arg(long)]
    pub copy: bool,
    /// Do not take pinned packages into account.
    #[arg(long = "no-pin")]
    pub no_pin: bool,
    /// Channel priority takes precedence over package version (strict).
    #[arg(long = "strict-channel-priority")]
    pub strict_channel_priority: bool,
    /// Package version takes precedence over channel priority (disabled).
    #[arg(
        long = "no-channel-priority",
        conflicts_with = "strict_channel_priority"
    )]
    pub no_channel_priority: bool,
    /// Do not install, update, remove, or change dependencies.
    #[arg(long = "no-deps")]
    pub no_deps: bool,
    /// Only install dependencies.
    #[arg(long = "only-deps", conflicts_with = "no_deps")]
    pub only_deps: bool,
    /// Solve for another platform (subdir), e.g. linux-aarch64, osx-arm64, win-64.
    #[arg(long = "platform", alias = "subdir")]
    pub platform: Option<String>,
    /// The solver (conda: classic, libmamba, rattler). taipan has one solver, resolvo;
    /// the name is accepted and noted at -v.
    #[arg(long = "solver", value_name = "SOLVER")]
    pub solver: Option<String>,
    /// Don't install start menu shortcuts (there are none on Linux; accepted).
    #[arg(long = "no-shortcuts")]
    pub no_shortcuts: bool,
    /// Allow clobbering (overwriting) of overlapping file paths within packages
    /// (path_conflict: clobber for this command).
    #[arg(long)]
    pub clobber: bool,
    /// Leave out packages published after this: a duration back from now (7d, 3d12h, P1W,
    /// seconds), a date (2026-04-01, through its end, UTC) or a time (2026-04-01T12:00:00Z).
    #[arg(long = "exclude-newer", value_name = "DURATION_OR_DATE")]
    pub exclude_newer: Option<String>,
    #[command(flatten)]
    pub channel_urls: ChannelUrlArgs,
    #[command(flatten)]
    pub channels: ChannelArgs,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub output: Output,
}

// `conda create`.
#[derive(Debug, Args, Clone)]
pub struct CreateArgs {
    #[command(flatten)]
    pub solve: SolveArgs,
    /// Create a new environment as a copy of an existing local environment.
    #[arg(long)]
    pub clone: Option<String>,
    /// Ignore create_default_packages in the .condarc file.
    #[arg(long = "no-default-packages")]
    pub no_default_packages: bool,
}

// Flags shared by install and update.
#[derive(Debug, Args, Clone, Default)]
pub struct ModifyArgs {
    /// Do not update or change already-installed dependencies.
    #[arg(long = "freeze-installed", alias = "no-update-deps")]
    pub freeze_installed: bool,
    /// Update dependencies that have available updates.
    #[arg(long = "update-deps")]
    pub update_deps: bool,
    /// Exit early and do not run the solver if the requested specs are satisfied.
    #[arg(short = 'S', long = "satisfied-skip-solve")]
    pub satisfied_skip_solve: bool,
    /// Update based on provided specifications.
    #[arg(long = "update-specs")]
    pub update_specs: bool,
    /// Ensure that any user-requested package is reinstalled.
    #[arg(long = "force-reinstall")]
    pub force_reinstall: bool,
    /// Remove packages that history no longer asks for.
    #[arg(long)]
    pub prune: bool,
    /// Change an environment marked frozen (CEP 22), at your own risk.
    #[arg(long = "override-frozen")]
    pub override_frozen: bool,
}

// `conda install`.
#[derive(Debug, Args, Clone)]
pub struct InstallArgs {
    #[command(flatten)]
    pub solve: SolveArgs,
    #[command(flatten)]
    pub modify: ModifyArgs,
    /// Update all installed packages in the environment (`--all` is update's flag: conda's
    /// install rejects it).
    #[arg(long = "update-all")]
    pub update_all: bool,
    /// Revert to the specified REVISION.
    #[arg(long, value_name = "REVISION", allow_negative_numbers = true)]
    pub revision: Option<i64>,
}

// `conda update`.
#[derive(Debug, Args, Clone)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub solve: SolveArgs,
    #[command(flatten)]
    pub modify: ModifyArgs,
    /// Update all installed packages in the environment.
    #[arg(long = "all", alias = "update-all")]
    pub all: bool,
}

// `conda remove`.
#[derive(Debug, Args, Clone)]
pub struct RemoveArgs {
    /// Package names to remove from the environment.
    pub names: Vec<String>,
    /// Remove all packages, i.e., the entire environment.
    #[arg(long)]
    pub all: bool,
    /// Forces removal of a package without removing packages that depend on it.
    #[arg(long, alias = "force-remove")]
    pub force: bool,
    /// Remove the packages that track these features (the names are features).
    #[arg(long)]
    pub features: bool,
    /// Used with --all: delete all packages but keep the environment.
    #[arg(long = "keep-env", requires = "all")]
    pub keep_env: bool,
    /// Change an environment marked frozen (CEP 22), at your own risk.
    #[arg(long = "override-frozen")]
    pub override_frozen: bool,
    /// Only display what would have been done.
    #[arg(short = 'd', long = "dry-run")]
    pub dry_run: bool,
    /// Sets any confirmation values to 'yes' automatically.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    #[command(flatten)]
    pub channels: ChannelArgs,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub output: Output,
}

// `conda list`.
#[derive(Debug, Args, Clone)]
pub struct ListArgs {
    /// List only packages matching this regular expression.
    pub regex: Option<String>,
    /// Only search for full names, i.e., ^<regex>$.
    #[arg(short = 'f', long = "full-name")]
    pub full_name: bool,
    /// List explicitly all installed conda packages with URL.
    #[arg(long)]
    pub explicit: bool,
    /// Add MD5 hashsum when using --explicit.
    #[arg(long, requires = "explicit")]
    pub md5: bool,
    /// Add SHA256 hashsum when using --explicit.
    #[arg(long, requires = "explicit", conflicts_with = "md5")]
    pub sha256: bool,
    /// Output explicit, machine-readable requirement strings.
    #[arg(short = 'e', long)]
    pub export: bool,
    /// List the revision history.
    #[arg(short = 'r', long)]
    pub revisions: bool,
    /// Comma-separated list of fields to print (see `conda list --help`'s valid values).
    #[arg(long = "fields", value_delimiter = ',')]
    pub fields: Vec<String>,
    /// List installed packages in reverse order.
    #[arg(long)]
    pub reverse: bool,
    /// Output canonical names of packages only.
    #[arg(short = 'c', long)]
    pub canonical: bool,
    /// Show package and environment sizes.
    #[arg(long)]
    pub size: bool,
    /// Do not include pip-only installed packages.
    #[arg(long = "no-pip")]
    pub no_pip: bool,
    /// In explicit mode, leave authentication details in package URLs.
    #[arg(long)]
    pub auth: bool,
    #[command(flatten)]
    pub channel_urls: ChannelUrlArgs,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub output: Output,
}

// `conda search`.
#[derive(Debug, Args, Clone)]
pub struct SearchArgs {
    /// Package specification to search for (e.g. `numpy`, `numpy>=1.20`, `*py*`).
    pub spec: Option<String>,
    /// Provide detailed information about each package.
    #[arg(short = 'i', long)]
    pub info: bool,
    /// Search the given platform (subdir), e.g. linux-64, osx-arm64, win-64.
    #[arg(long = "platform", alias = "subdir")]
    pub platform: Option<String>,
    /// Search all of the current user's environments.
    #[arg(long)]
    pub envs: bool,
    /// Do not search for '*NAME*' when NAME itself finds nothing.
    #[arg(long = "skip-flexible-search")]
    pub skip_flexible_search: bool,
    #[command(flatten)]
    pub channels: ChannelArgs,
    #[command(flatten)]
    pub output: Output,
}

// `conda info`.
#[derive(Debug, Args, Clone)]
pub struct InfoArgs {
    /// List all known conda environments.
    #[arg(short = 'e', long)]
    pub envs: bool,
    /// Display base environment path.
    #[arg(long)]
    pub base: bool,
    /// Show all information (the details, the environments and the system).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// List environment variables and where this conda lives.
    #[arg(short = 's', long)]
    pub system: bool,
    /// Display list of channels with tokens exposed.
    #[arg(long = "unsafe-channels")]
    pub unsafe_channels: bool,
    #[command(flatten)]
    pub output: Output,
}

// `conda env list`.
#[derive(Debug, Args, Clone)]
pub struct EnvListArgs {
    #[command(flatten)]
    pub output: Output,
}

// Completion script generation.
#[derive(Debug, Args, Clone)]
pub struct CompletionArgs {
    /// Shell to generate completions for.
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Building a deferred subcommand keeps the description its variant gives it (a doc
    /// comment on its argument struct would replace it).
    #[test]
    fn deferred_subcommands_keep_their_descriptions() {
        let before: Vec<(String, Option<String>)> = Cli::command()
            .get_subcommands()
            .map(|s| {
                (
                    s.get_name().to_string(),
                    s.get_about().map(|a| a.to_string()),
                )
            })
            .collect();
        let mut built = Cli::command();
        built.build();
        for (name, about) in before {
            let after = built
                .find_subcommand(&name)
                .and_then(|s| s.get_about())
                .map(|a| a.to_string());
            assert_eq!(
                after, about,
                "`{name} --help` describes the command differently"
            );
        }
    }
}
