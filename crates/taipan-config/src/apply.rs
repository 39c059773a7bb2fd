//! Moving merged values into the typed [`Config`] fields.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::expand::expand_user;
use crate::types::{ChannelPriority, PathConflict, SafetyChecks, SslVerify};
use crate::value::Norm;

impl Norm {
    fn bool(&self) -> Option<bool> {
        match self {
            Norm::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn opt_bool(&self) -> Option<Option<bool>> {
        match self {
            Norm::Null => Some(None),
            Norm::Bool(b) => Some(Some(*b)),
            _ => None,
        }
    }

    fn uint(&self) -> Option<u64> {
        match self {
            Norm::UInt(n) => Some(*n),
            _ => None,
        }
    }

    fn float(&self) -> Option<f64> {
        match self {
            Norm::Float(f) => Some(*f),
            _ => None,
        }
    }

    fn str(&self) -> Option<String> {
        match self {
            Norm::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn opt_str(&self) -> Option<Option<String>> {
        match self {
            Norm::Null => Some(None),
            Norm::Str(s) => Some(Some(s.clone())),
            _ => None,
        }
    }

    fn seq(&self) -> Option<Vec<String>> {
        match self {
            Norm::Seq(items) => Some(items.clone()),
            _ => None,
        }
    }

    /// A map of strings; null values are dropped.
    fn str_map(&self) -> Option<BTreeMap<String, String>> {
        let Norm::Map(entries) = self else {
            return None;
        };
        Some(
            entries
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.str()?)))
                .collect(),
        )
    }

    fn seq_map(&self) -> Option<BTreeMap<String, Vec<String>>> {
        let Norm::Map(entries) = self else {
            return None;
        };
        Some(
            entries
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.seq()?)))
                .collect(),
        )
    }

    fn ssl_verify(&self) -> Option<SslVerify> {
        match self {
            Norm::Bool(true) => Some(SslVerify::Enabled),
            Norm::Bool(false) => Some(SslVerify::Disabled),
            Norm::Str(s) if s == "truststore" => Some(SslVerify::Truststore),
            Norm::Str(s) => Some(SslVerify::CaPath(PathBuf::from(s))),
            _ => None,
        }
    }
}

macro_rules! set {
    ($field:expr, $value:expr) => {
        if let Some(v) = $value {
            $field = v;
        }
    };
}

fn paths(items: Option<Vec<String>>, home: Option<&Path>) -> Option<Vec<PathBuf>> {
    items.map(|v| v.iter().map(|p| expand_user(p, home)).collect())
}

/// Stores the merged `value` of parameter `name`; unmodelled parameters go to `other`.
pub(crate) fn apply(cfg: &mut Config, name: &str, value: Norm, home: Option<&Path>) {
    let handled = apply_channels(cfg, name, &value)
        || apply_network(cfg, name, &value)
        || apply_paths(cfg, name, &value, home)
        || apply_packages(cfg, name, &value)
        || apply_behaviour(cfg, name, &value)
        || apply_shell(cfg, name, &value);
    if !handled {
        cfg.other.insert(name.to_string(), value.to_yaml());
    }
}

fn apply_channels(cfg: &mut Config, name: &str, v: &Norm) -> bool {
    match name {
        "channels" => set!(cfg.channels, v.seq()),
        "default_channels" => set!(cfg.default_channels, v.seq()),
        "channel_alias" => set!(cfg.channel_alias, v.str()),
        "custom_channels" => set!(cfg.custom_channels, v.str_map()),
        "custom_multichannels" => set!(cfg.custom_multichannels, v.seq_map()),
        "channel_priority" => set!(
            cfg.channel_priority,
            v.str().and_then(|s| ChannelPriority::from_name(&s))
        ),
        "allowlist_channels" => set!(cfg.allowlist_channels, v.seq()),
        "denylist_channels" => set!(cfg.denylist_channels, v.seq()),
        "override_channels_enabled" => set!(cfg.override_channels_enabled, v.bool()),
        "use_local" => set!(cfg.use_local, v.bool()),
        "repodata_fns" => set!(cfg.repodata_fns, v.seq()),
        "local_repodata_ttl" => set!(cfg.local_repodata_ttl, v.uint()),
        "show_channel_urls" => set!(cfg.show_channel_urls, v.opt_bool()),
        "migrated_channel_aliases" => set!(cfg.migrated_channel_aliases, v.seq()),
        "migrated_custom_channels" => set!(cfg.migrated_custom_channels, v.str_map()),
        _ => return false,
    }
    true
}

fn apply_network(cfg: &mut Config, name: &str, v: &Norm) -> bool {
    match name {
        "offline" => set!(cfg.offline, v.bool()),
        "ssl_verify" => set!(cfg.ssl_verify, v.ssl_verify()),
        "client_ssl_cert" => set!(cfg.client_ssl_cert, v.opt_str()),
        "client_ssl_cert_key" => set!(cfg.client_ssl_cert_key, v.opt_str()),
        "proxy_servers" => set!(cfg.proxy_servers, v.str_map()),
        "remote_connect_timeout_secs" => set!(cfg.remote_connect_timeout_secs, v.float()),
        "remote_read_timeout_secs" => set!(cfg.remote_read_timeout_secs, v.float()),
        "remote_max_retries" => set!(cfg.remote_max_retries, v.uint()),
        "remote_backoff_factor" => set!(cfg.remote_backoff_factor, v.uint()),
        _ => return false,
    }
    true
}

fn apply_paths(cfg: &mut Config, name: &str, v: &Norm, home: Option<&Path>) -> bool {
    match name {
        "root_prefix" => {
            cfg.root_prefix = v
                .str()
                .filter(|s| !s.is_empty())
                .map(|s| expand_user(&s, home));
        }
        "pkgs_dirs" => set!(cfg.pkgs_dirs, paths(v.seq(), home)),
        "envs_dirs" => set!(cfg.envs_dirs, paths(v.seq(), home)),
        _ => return false,
    }
    true
}

fn apply_packages(cfg: &mut Config, name: &str, v: &Norm) -> bool {
    match name {
        "pinned_packages" => set!(cfg.pinned_packages, v.seq()),
        "aggressive_update_packages" => set!(cfg.aggressive_update_packages, v.seq()),
        "create_default_packages" => set!(cfg.create_default_packages, v.seq()),
        "disallowed_packages" => set!(cfg.disallowed_packages, v.seq()),
        "track_features" => set!(cfg.track_features, v.seq()),
        "auto_update_conda" => set!(cfg.auto_update_conda, v.bool()),
        "notify_outdated_conda" => set!(cfg.notify_outdated_conda, v.bool()),
        "add_pip_as_python_dependency" => set!(cfg.add_pip_as_python_dependency, v.bool()),
        "solver" => set!(cfg.solver, v.str()),
        "use_only_tar_bz2" => set!(cfg.use_only_tar_bz2, v.opt_bool()),
        "subdir" => cfg.subdir = v.str().filter(|s| !s.is_empty()),
        "subdirs" => set!(cfg.subdirs, v.seq()),
        "default_threads" => set!(cfg.default_threads, v.uint()),
        "repodata_threads" => set!(cfg.repodata_threads, v.uint()),
        "fetch_threads" => set!(cfg.fetch_threads, v.uint()),
        "verify_threads" => set!(cfg.verify_threads, v.uint()),
        "execute_threads" => set!(cfg.execute_threads, v.uint()),
        _ => return false,
    }
    true
}

fn apply_behaviour(cfg: &mut Config, name: &str, v: &Norm) -> bool {
    match name {
        "always_yes" => set!(cfg.always_yes, v.opt_bool()),
        "always_copy" => set!(cfg.always_copy, v.bool()),
        "always_softlink" => set!(cfg.always_softlink, v.bool()),
        "allow_softlinks" => set!(cfg.allow_softlinks, v.bool()),
        "safety_checks" => set!(
            cfg.safety_checks,
            v.str().and_then(|s| SafetyChecks::from_name(&s))
        ),
        "extra_safety_checks" => set!(cfg.extra_safety_checks, v.bool()),
        "path_conflict" => set!(
            cfg.path_conflict,
            v.str().and_then(|s| PathConflict::from_name(&s))
        ),
        "clobber" => set!(cfg.clobber, v.bool()),
        "rollback_enabled" => set!(cfg.rollback_enabled, v.bool()),
        "register_envs" => set!(cfg.register_envs, v.bool()),
        "non_admin_enabled" => set!(cfg.non_admin_enabled, v.bool()),
        "protect_frozen_envs" => set!(cfg.protect_frozen_envs, v.bool()),
        "no_lock" => set!(cfg.no_lock, v.bool()),
        "json" => set!(cfg.json, v.bool()),
        "quiet" => set!(cfg.quiet, v.bool()),
        "verbosity" => set!(cfg.verbosity, v.uint()),
        _ => return false,
    }
    true
}

fn apply_shell(cfg: &mut Config, name: &str, v: &Norm) -> bool {
    match name {
        "auto_activate" => set!(cfg.auto_activate, v.bool()),
        "default_activation_env" => set!(cfg.default_activation_env, v.str()),
        "auto_stack" => set!(cfg.auto_stack, v.uint()),
        "changeps1" => set!(cfg.changeps1, v.bool()),
        "env_prompt" => set!(cfg.env_prompt, v.str()),
        "envvars_force_uppercase" => set!(cfg.envvars_force_uppercase, v.bool()),
        _ => return false,
    }
    true
}
