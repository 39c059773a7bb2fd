//! Building the context from flags, logging, and the command line recorded in history.

use std::collections::HashMap;

use taipan_config::CliOverrides;
use taipan_env::context::{Context, ContextOptions};
use taipan_env::Result;

use crate::cli::{ChannelArgs, Output, Target};

/// Sets up `tracing` from `-v` flags (stderr).
pub fn init_logging(output: &Output) {
    let level = match output.verbose {
        0 => "error,taipan=warn,taipan_env=warn",
        1 => "warn,taipan=info,taipan_env=info",
        2 => "info,taipan=debug,taipan_env=debug",
        _ => "trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .without_time()
        .try_init();
}

/// The path the binary was started as, for root prefix detection (argv[0] as typed, not the
/// symlink target, so `PREFIX/bin/conda -> taipan` finds `PREFIX`).
pub fn exe_path(argv: &[String]) -> Option<std::path::PathBuf> {
    let first = argv.first()?;
    if first.contains('/') {
        return Some(taipan_env::context::absolute(std::path::Path::new(first)));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(first))
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
            ..Self::new(argv, &s.output)
        }
    }

    /// Loads the context.
    pub fn context(&self) -> Result<Context> {
        init_logging(self.output);
        let env: HashMap<String, String> = std::env::vars().collect();
        let mut cli = CliOverrides::default();
        if let Some(c) = self.channels {
            cli.channels = c.channel.clone();
            cli.override_channels = c.override_channels;
            if c.offline {
                cli.offline = Some(true);
            }
        }
        if self.yes {
            cli.always_yes = Some(true);
        }
        if self.copy {
            cli.always_copy = Some(true);
        }
        if self.strict {
            cli.channel_priority = Some(taipan_config::ChannelPriority::Strict);
        }
        if self.no_priority {
            cli.channel_priority = Some(taipan_config::ChannelPriority::Disabled);
        }
        if self.output.json {
            cli.json = Some(true);
        }
        if self.output.quiet {
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
        let ctx = Context::load(&opts)?;
        if !self.output.json {
            for w in &ctx.warnings {
                eprintln!("{w}");
            }
        }
        Ok(ctx)
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
