//! Loading the configuration: the search path's files, `CONDA_*` variables and flags,
//! merged with conda's precedence rules into a [`Config`].

use crate::apply::apply;
use crate::config::{Config, Loaded};
use crate::error::ConfigError;
use crate::merge::{merge, Entry};
use crate::options::LoadOptions;
use crate::params::PARAMS;
use crate::search::{discover, search_path, SearchInputs};
use crate::source::{cli_source, env_source, load_file, RawSource, Source, SourceKind};
use crate::value::Norm;

/// Reads every source named by `opts`, lowest precedence first.
fn read_sources(
    opts: &LoadOptions,
    warnings: &mut Vec<String>,
) -> Result<Vec<RawSource>, ConfigError> {
    let search = search_path(&SearchInputs {
        system_dirs: &opts.system_dirs,
        root_prefix: &opts.root_prefix,
        target_prefix: opts.target_prefix.as_deref(),
        home: opts.home.as_deref(),
        env: &opts.env,
    });
    let mut sources = Vec::new();
    for file in discover(&search) {
        tracing::debug!(path = %file.display(), "reading configuration file");
        sources.push(load_file(&file, &opts.env, warnings)?);
    }
    sources.push(env_source(&opts.env)?);
    sources.push(cli_source(opts.cli.pairs(), &opts.env)?);
    Ok(sources)
}

/// Merges every parameter that some source sets; returns (canonical name, value).
fn merge_all(sources: &[RawSource]) -> Vec<(&'static str, Norm)> {
    let mut out = Vec::new();
    for param in PARAMS {
        let matches: Vec<&Entry> = sources
            .iter()
            .flat_map(|s| s.entries.iter())
            .filter(|(p, _)| p.name == param.name)
            .map(|(_, e)| e)
            .collect();
        if !matches.is_empty() {
            out.push((param.name, merge(param.kind, &matches)));
        }
    }
    out
}

fn public_sources(sources: &[RawSource]) -> Vec<Source> {
    sources
        .iter()
        .filter(|s| matches!(s.kind, SourceKind::File(_)) || !s.entries.is_empty())
        .map(RawSource::to_source)
        .collect()
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

/// One warning per parameter a file or variable sets that taipan does not act on.
fn warn_not_implemented(sources: &[RawSource], warnings: &mut Vec<String>) {
    for source in sources {
        if source.kind == SourceKind::CmdLine {
            continue;
        }
        for (param, entry) in &source.entries {
            if param.name == "channel_settings" {
                unsupported_channel_settings(&entry.value.to_yaml(), &source.kind, warnings);
            }
            if crate::NOT_IMPLEMENTED.contains(&param.name) {
                warnings.push(format!(
                    "WARNING: taipan does not implement '{}' (set in {}): it has no effect.",
                    param.name, source.kind
                ));
            }
        }
    }
}

/// `channel_settings` entries: taipan acts on `channel` and `exclude_newer`; any other
/// setting (conda's `auth` handler plugins) is warned about.
fn unsupported_channel_settings(
    value: &serde_yaml::Value,
    kind: &SourceKind,
    warnings: &mut Vec<String>,
) {
    let Some(items) = value.as_sequence() else {
        return;
    };
    for item in items.iter().filter_map(|i| i.as_mapping()) {
        for key in item.keys().filter_map(|k| k.as_str()) {
            if !matches!(key, "channel" | "exclude_newer" | "exclude-newer") {
                warnings.push(format!(
                    "WARNING: taipan does not implement channel_settings '{key}' (set in {kind}): it has no effect."
                ));
            }
        }
    }
}

impl Config {
    /// Loads the configuration: reads the search path, `CONDA_*` variables and the
    /// command-line overrides in `opts`, and merges them with conda's precedence rules.
    ///
    /// Fails on a file that cannot be read, is not valid YAML, or gives a known key a value
    /// of the wrong type; on an invalid `CONDA_*` value; and on `--override-channels` without
    /// `-c` or when `override_channels_enabled` is false.
    pub fn load(opts: &LoadOptions) -> Result<Loaded, ConfigError> {
        let mut warnings = Vec::new();
        let sources = read_sources(opts, &mut warnings)?;
        warn_not_implemented(&sources, &mut warnings);
        let mut config = Config::default();
        for (name, value) in merge_all(&sources) {
            apply(&mut config, name, value, opts.home.as_deref());
        }
        config.finish_channels(opts)?;
        config.sources = public_sources(&sources);
        Ok(Loaded { config, warnings })
    }

    /// Applies `use_local` and `--override-channels` to the merged channel list.
    fn finish_channels(&mut self, opts: &LoadOptions) -> Result<(), ConfigError> {
        let local = self.use_local.then(|| "local".to_string());
        if opts.cli.override_channels {
            if !self.override_channels_enabled {
                return Err(ConfigError::OverrideChannelsDisabled);
            }
            if opts.cli.channels.is_empty() {
                return Err(ConfigError::OverrideChannelsWithoutChannel);
            }
            let cli = opts.cli.channels.iter().cloned();
            self.channels = dedup(local.into_iter().chain(cli).collect());
        } else if let Some(local) = local {
            let rest = std::mem::take(&mut self.channels);
            self.channels = dedup(std::iter::once(local).chain(rest).collect());
        }
        Ok(())
    }
}
