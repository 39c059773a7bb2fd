//! Building the context from flags, logging, and the command line recorded in history.

use std::collections::HashMap;

use taipan_config::CliOverrides;
use taipan_env::context::{Context, ContextOptions};
use taipan_env::Result;

use crate::cli::{ChannelArgs, Output, Target};

type FilterHandle =
    tracing_subscriber::reload::Handle<tracing_subscriber::EnvFilter, tracing_subscriber::Registry>;

static FILTER: std::sync::OnceLock<FilterHandle> = std::sync::OnceLock::new();

fn log_filter(verbose: u8) -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::new(match verbose {
        0 => "error,taipan=warn,taipan_env=warn",
        1 => "warn,taipan=info,taipan_env=info",
        2 => "info,taipan=debug,taipan_env=debug",
        _ => "trace",
    })
}

/// Sets up `tracing` from `-v` flags (stderr).
pub fn init_logging(verbose: u8) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // Colour only on a terminal, and never with NO_COLOR set (https://no-color.org).
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let (filter, handle) = tracing_subscriber::reload::Layer::new(log_filter(verbose));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .without_time();
    if tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .try_init()
        .is_ok()
    {
        let _ = FILTER.set(handle);
    }
}

/// Raises the log level once the configuration is known (`verbosity`, `CONDA_VERBOSITY`).
fn raise_logging(verbose: u8) {
    if let Some(handle) = FILTER.get() {
        let _ = handle.reload(log_filter(verbose));
    }
}

/// The command line as text (bytes that are not UTF-8 shown as U+FFFD), for messages,
/// flag checks and history. clap parses the real arguments.
pub fn argv() -> Vec<String> {
    std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// The path the binary was started as, for root prefix detection (argv[0] as typed, not the
/// symlink target, so `PREFIX/bin/conda -> taipan` finds `PREFIX`).
pub fn exe_path(argv: &[String]) -> Option<std::path::PathBuf> {
    let first = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .or_else(|| argv.first().map(std::path::PathBuf::from))?;
    if first.as_os_str().as_encoded_bytes().contains(&b'/') {
        return Some(taipan_env::context::absolute(&first));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(&first))
        .find(|p| p.is_file())
}

/// Options to load a [`Context`].
pub struct Load<'a> {
    pub argv: &'a [String],
    pub output: &'a Output,
    pub target: Option<&'a Target>,
    pub channels: Option<&'a ChannelArgs>,
    pub yes: bool,
    pub copy: bool,
    pub strict: bool,
    pub no_priority: bool,
    pub platform: Option<String>,
    /// Environment files: their channels come after `-c`'s, before the configured ones
    /// (which `nodefaults` leaves out).
    pub env_files: &'a [taipan_env::envfile::EnvFile],
    /// `--clobber`, `--solver`, `--no-shortcuts` of create/install/update.
    pub solve_flags: Option<&'a crate::cli::SolveArgs>,
    /// `--show-channel-urls` / `--no-show-channel-urls`.
    pub channel_urls: Option<bool>,
}

impl<'a> Load<'a> {
    /// Defaults for a command with only output flags.
    pub fn new(argv: &'a [String], output: &'a Output) -> Self {
        Self {
            argv,
            output,
            target: None,
            channels: None,
            yes: false,
            copy: false,
            strict: false,
            no_priority: false,
            platform: None,
            env_files: &[],
            solve_flags: None,
            channel_urls: None,
        }
    }

    /// The flags create/install/update share (`-c`, `-y`, `--copy`, priority, `--platform`).
    pub fn for_solve(argv: &'a [String], s: &'a crate::cli::SolveArgs) -> Self {
        Self {
            target: Some(&s.target),
            channels: Some(&s.channels),
            yes: s.yes,
            copy: s.copy,
            strict: s.strict_channel_priority,
            no_priority: s.no_channel_priority,
            platform: s.platform.clone(),
            solve_flags: Some(s),
            channel_urls: s.channel_urls.value(),
            ..Self::new(argv, &s.output)
        }
    }

    /// Loads the context.
    pub fn context(&self) -> Result<Context> {
        init_logging(self.output.verbose);
        let env: HashMap<String, String> = std::env::vars().collect();
        let mut cli = CliOverrides::default();
        if let Some(c) = self.channels {
            cli.channels = c.channel.clone();
            cli.override_channels = c.override_channels;
        }
        for f in self.env_files {
            for ch in &f.channels {
                if !cli.channels.contains(ch) {
                    cli.channels.push(ch.clone());
                }
            }
            cli.override_channels |= f.nodefaults;
        }
        if let Some(c) = self.channels {
            network_flags(c, &mut cli);
        }
        if let Some(s) = self.solve_flags {
            solve_flags(s, &mut cli);
        }
        if self.yes {
            cli.always_yes = Some(true);
        }
        cli.show_channel_urls = self.channel_urls;
        if self.copy {
            cli.always_copy = Some(true);
        }
        if self.strict {
            cli.channel_priority = Some(taipan_config::ChannelPriority::Strict);
        }
        if self.no_priority {
            cli.channel_priority = Some(taipan_config::ChannelPriority::Disabled);
        }
        if self.output.is_json() {
            cli.json = Some(true);
        }
        if self.output.is_quiet() {
            cli.quiet = Some(true);
        }
        let opts = ContextOptions {
            exe: exe_path(self.argv),
            env,
            cli,
            prefix: self.target.and_then(|t| t.prefix.clone()),
            name: self.target.and_then(|t| t.name.clone()),
            platform: self.platform.clone(),
        };
        let ctx = Context::load(&opts);
        // `verbosity` (`CONDA_VERBOSITY`, .condarc) counts like -v.
        let verbose = ctx
            .as_ref()
            .map(|c| c.config.verbosity.min(u8::MAX as u64) as u8)
            .unwrap_or(0);
        if verbose > self.output.verbose {
            raise_logging(verbose);
        }
        let ctx = ctx?;
        crate::output::mode::adopt_config(&ctx.config);
        if !self.output.is_json() {
            for w in &ctx.warnings {
                eprintln!("{w}");
            }
        }
        Ok(ctx)
    }
}

/// `--offline`, `--use-local`, `--insecure`, `--use-index-cache`, `--repodata-fn`.
fn network_flags(c: &ChannelArgs, cli: &mut CliOverrides) {
    if c.offline {
        cli.offline = Some(true);
    }
    if c.use_local {
        cli.use_local = Some(true);
    }
    if c.insecure {
        cli.ssl_verify = Some(taipan_config::SslVerify::Disabled);
    }
    if c.use_index_cache {
        cli.other.push(("use_index_cache".into(), true.into()));
    }
    cli.repodata_fns = c.repodata_fn.clone();
}

/// `--clobber`, `--solver`, `--no-shortcuts`.
fn solve_flags(s: &crate::cli::SolveArgs, cli: &mut CliOverrides) {
    if s.clobber {
        cli.other.push(("clobber".into(), true.into()));
    }
    if let Some(cutoff) = &s.exclude_newer {
        cli.other
            .push(("exclude_newer".into(), cutoff.as_str().into()));
    }
    if let Some(solver) = &s.solver {
        // taipan has one solver; conda's names are accepted so scripts keep working.
        tracing::info!("--solver {solver}: taipan always solves with resolvo");
        cli.solver = Some(solver.clone());
    }
    if s.no_shortcuts {
        tracing::info!("--no-shortcuts: taipan makes no menu shortcuts on Linux");
    }
}

/// The command line as conda records it in history (`conda install numpy`).
pub fn history_cmd(argv: &[String]) -> String {
    let mut parts: Vec<String> = argv.to_vec();
    if let Some(first) = parts.first_mut() {
        let name = std::path::Path::new(first.as_str())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name != "conda" {
            *first = name;
        }
    }
    parts.join(" ")
}

/// The warning for a recovered interrupted transaction.
pub fn report_recovery(
    prefix: &std::path::Path,
    recovered: Option<&taipan_env::transaction::Recovered>,
) {
    use taipan_env::transaction::Recovered;
    match recovered {
        Some(Recovered::RolledBack { cmd, pid }) => eprintln!(
            "WARNING: The environment at {} was left half-changed by an interrupted command\n  ({cmd}, process {pid}); its changes were rolled back.",
            prefix.display()
        ),
        Some(Recovered::Completed { cmd, pid }) => eprintln!(
            "WARNING: The environment at {} was left by an interrupted command\n  ({cmd}, process {pid}) after its changes were complete; its clean-up was finished.",
            prefix.display()
        ),
        Some(Recovered::Abandoned) => eprintln!(
            "WARNING: A command creating {} was interrupted before it changed anything; what it left was removed.",
            prefix.display()
        ),
        None => {}
    }
}

/// Read-only commands refuse an environment left half-changed by an interrupted command.
pub fn refuse_if_interrupted(prefix: &std::path::Path) -> Result<()> {
    if taipan_env::prefix_lock::needs_recovery(prefix) {
        return Err(taipan_env::prefix_lock::recovery_needed_error(prefix));
    }
    Ok(())
}
