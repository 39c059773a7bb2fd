//! Turns configured channel strings (`conda-forge`, `defaults`, URLs, paths) into channels,
//! through `channel_alias`, `custom_channels` and `default_channels`, as conda does.

use crate::error::ErrorKind;
use std::path::Path;

use rattler_conda_types::{Channel, ChannelConfig, ChannelUrl};
use url::Url;

use crate::context::{absolute, expand_user, Context};
use crate::error::{CondaError, Result};

/// The channels a command uses, in priority order (`-c` first, then configured).
pub fn resolve(ctx: &Context) -> Result<Vec<Channel>> {
    resolve_for(ctx, &[])
}

/// [`resolve`] for a request: with no channel at all, conda's `NoChannelsConfiguredError`
/// names the requested packages.
pub fn resolve_for(ctx: &Context, packages: &[String]) -> Result<Vec<Channel>> {
    if ctx.config.channels.is_empty() && !ctx.config.use_local {
        return Err(no_channels(packages));
    }
    let mut names: Vec<&str> = Vec::new();
    // `use_local` / `--use-local`: the local conda-bld channel goes first, as in conda.
    if ctx.config.use_local {
        names.push("local");
    }
    names.extend(ctx.config.channels.iter().map(String::as_str));
    let mut out: Vec<Channel> = Vec::new();
    for name in names {
        for channel in resolve_one(ctx, name)? {
            if !out.iter().any(|c| c.base_url == channel.base_url) {
                out.push(channel);
            }
        }
    }
    check_allowed(ctx, &out)?;
    Ok(out)
}

/// conda's message, with the commands that fix it.
fn no_channels(packages: &[String]) -> CondaError {
    let packages = if packages.is_empty() {
        "the requested packages".to_string()
    } else {
        packages.join(", ")
    };
    CondaError::new(
        ErrorKind::NoChannelsConfiguredError,
        format!(
            "No channels are configured. Conda requires at least one channel to search for packages.\n\n\
             You have attempted to install: {packages}\n\n\
             To fix this issue, you may do one of the following:\n\n\
             \x20 1. Add a channel for this command:\n\
             \x20    conda install -c <your-channel> {packages}\n\n\
             \x20 2. Configure channels permanently:\n\
             \x20    conda config --append channels <your-channel>\n\n\
             \x20 3. Create or modify your .condarc file to include channels."
        ),
    )
}

/// `allowlist_channels` / `denylist_channels`: conda's `ChannelNotAllowed` / `ChannelDenied`.
fn check_allowed(ctx: &Context, channels: &[Channel]) -> Result<()> {
    let urls = |names: &[String]| -> Result<Vec<String>> {
        let mut out = Vec::new();
        for n in names {
            for c in resolve_one(ctx, n)? {
                out.push(c.base_url.as_str().trim_end_matches('/').to_string());
            }
        }
        Ok(out)
    };
    let allow = urls(&ctx.config.allowlist_channels)?;
    let deny = urls(&ctx.config.denylist_channels)?;
    for c in channels {
        let url = c.base_url.as_str().trim_end_matches('/').to_string();
        let warning = if deny.contains(&url) {
            "Channel included in denylist"
        } else if !allow.is_empty() && !allow.contains(&url) {
            "Channel not included in allowlist"
        } else {
            continue;
        };
        let kind = if deny.contains(&url) {
            ErrorKind::ChannelDenied
        } else {
            ErrorKind::ChannelNotAllowed
        };
        let name = c.name.clone().unwrap_or_default();
        return Err(CondaError::new(
            kind,
            format!("{warning}:\n  channel name: {name}\n  channel url: {url}\n"),
        )
        .with("channel_name", name)
        .with("channel_url", url)
        .with("warning", warning));
    }
    Ok(())
}

/// conda's `local` channel: the conda-bld directories that exist (`croot`, `bld_path`,
/// `<root>/conda-bld`, `~/conda-bld`).
fn local_channels(ctx: &Context) -> Vec<Channel> {
    let configured = ["croot", "bld_path"]
        .iter()
        .filter_map(|k| ctx.config.other.get(*k).and_then(|v| v.as_str()))
        .map(|p| absolute(&expand_user(Path::new(p), &ctx.home)));
    let mut dirs: Vec<std::path::PathBuf> = configured
        .chain([
            ctx.root_prefix.join("conda-bld"),
            ctx.home.join("conda-bld"),
        ])
        .filter(|d| d.is_dir())
        .collect();
    dirs.dedup();
    dirs.into_iter()
        .filter_map(|d| Url::from_directory_path(&d).ok())
        .map(|url| Channel {
            platforms: None,
            name: Some(url.as_str().trim_end_matches('/').to_string()),
            base_url: ChannelUrl::from(url),
        })
        .collect()
}

/// Resolves one channel string; `defaults` may expand to several channels.
pub fn resolve_one(ctx: &Context, name: &str) -> Result<Vec<Channel>> {
    let name = name.trim();
    if name == "defaults" {
        let mut list = Vec::new();
        for url in &ctx.config.default_channels {
            list.extend(resolve_one(ctx, url)?);
        }
        return Ok(list);
    }
    if name == "local" && !ctx.config.custom_multichannels.contains_key("local") {
        return Ok(local_channels(ctx));
    }
    if let Some(list) = ctx.config.custom_multichannels.get(name) {
        let mut out = Vec::new();
        for item in list {
            out.extend(resolve_one(ctx, item)?);
        }
        return Ok(out);
    }
    let url = channel_url(ctx, name)?;
    let display = display_name(ctx, name, &url);
    Ok(vec![Channel {
        platforms: None,
        base_url: ChannelUrl::from(url),
        name: Some(display),
    }])
}

fn bad_channel(name: &str, why: impl std::fmt::Display) -> CondaError {
    CondaError::new(
        ErrorKind::ChannelError,
        format!("cannot use channel '{name}': {why}\n  Use a channel name (conda-forge), a URL (https://…, file:///…) or an absolute path."),
    )
}

fn channel_url(ctx: &Context, name: &str) -> Result<Url> {
    if name.contains("://") {
        return Url::parse(name.trim_end_matches('/')).map_err(|e| bad_channel(name, e));
    }
    if name.starts_with('/') || name.starts_with('.') || name.starts_with('~') {
        let path = absolute(&expand_user(Path::new(name), &ctx.home));
        return Url::from_directory_path(&path).map_err(|_| bad_channel(name, "not a valid path"));
    }
    let first = name.split('/').next().unwrap_or(name);
    if let Some(base) = ctx
        .config
        .custom_channels
        .get(name)
        .or_else(|| ctx.config.custom_channels.get(first))
    {
        let joined = format!("{}/{}", base.trim_end_matches('/'), name);
        return Url::parse(&joined).map_err(|e| bad_channel(name, e));
    }
    let alias = ctx.config.channel_alias.trim_end_matches('/');
    Url::parse(&format!("{alias}/{name}")).map_err(|e| bad_channel(name, e))
}

/// conda's canonical name: the bare name for alias/custom channels, `pkgs/main` style for
/// `default_channels`, the URL otherwise.
fn display_name(ctx: &Context, name: &str, url: &Url) -> String {
    if !name.contains("://") && !name.starts_with(['/', '.', '~']) {
        return name.to_string();
    }
    let text = url.as_str().trim_end_matches('/');
    for default in &ctx.config.default_channels {
        if default.trim_end_matches('/') == text {
            if let Ok(u) = Url::parse(default) {
                return u.path().trim_matches('/').to_string();
            }
        }
    }
    let alias = ctx.config.channel_alias.trim_end_matches('/');
    if let Some(rest) = text.strip_prefix(alias) {
        return rest.trim_matches('/').to_string();
    }
    text.to_string()
}

/// A rattler channel config built from ours, for parsing `channel::pkg` specs.
pub fn channel_config(ctx: &Context) -> ChannelConfig {
    let mut cfg = ChannelConfig::default_with_root_dir(std::env::current_dir().unwrap_or_default());
    if let Ok(url) = Url::parse(&ctx.config.channel_alias) {
        cfg.channel_alias = url;
    }
    cfg
}

/// The channel URL a record came from, as shown in "Current channels" lists.
pub fn subdir_urls(channels: &[Channel], subdir: &str) -> Vec<String> {
    let mut out = Vec::new();
    for c in channels {
        let base = c.base_url.as_str().trim_end_matches('/').to_string();
        out.push(format!("{base}/{subdir}"));
        out.push(format!("{base}/noarch"));
    }
    out
}
