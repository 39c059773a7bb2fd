//! Fetching repodata through rattler's gateway: `file://` and `http(s)://` channels, `.zst`
//! and sharded repodata, cached under `<pkgs>/cache` with ETag/Last-Modified revalidation.

use crate::error::ErrorKind;
use rattler_conda_types::{Channel, MatchSpec, PackageName, RepoDataRecord, Subdir};
use rattler_repodata_gateway::fetch::CacheAction;
use std::sync::Arc;

use rattler_repodata_gateway::{ChannelConfig, Gateway, Source, SourceConfig};

use crate::context::Context;
use crate::error::{CondaError, Result};

/// Records loaded for a solve: one bucket per channel and subdir, in channel priority order.
/// The records stay shared with the gateway (no copies); only the solution is cloned.
#[derive(Default)]
pub struct Index {
    /// Record buckets, channel-major, each in `in_name_order`.
    buckets: Vec<Vec<Arc<RepoDataRecord>>>,
    /// `exclude_newer`: records published after the cutoff are not offered.
    exclude: Option<rattler_solve::ExcludeNewer>,
}

impl Index {
    /// All records the solver may use, in priority order.
    pub fn iter(&self) -> impl Iterator<Item = &RepoDataRecord> {
        self.buckets
            .iter()
            .flat_map(|b| b.iter().map(|r| r.as_ref()))
            .filter(|r| self.offered(r))
    }

    /// The buckets as lists of references, for the solver.
    pub fn bucket_refs(&self) -> Vec<Vec<&RepoDataRecord>> {
        self.buckets
            .iter()
            .map(|b| {
                b.iter()
                    .map(|r| r.as_ref())
                    .filter(|r| self.offered(r))
                    .collect()
            })
            .collect()
    }

    fn offered(&self, r: &RepoDataRecord) -> bool {
        self.exclude.as_ref().is_none_or(|e| !e.is_excluded(r))
    }
}

/// A bucket's records with each name's records together and the names in alphabetical order.
/// The gateway appends a name's records as its fetch finishes, and fetches finish in an order
/// that varies from run to run (`crate::index` parses large names on another thread); the
/// solver must see one order, or a tie between equal candidates could go either way. A
/// name's own records keep the order its source gave them.
fn in_name_order<'a>(
    bucket: impl Iterator<Item = &'a Arc<RepoDataRecord>>,
) -> Vec<Arc<RepoDataRecord>> {
    let records: Vec<&Arc<RepoDataRecord>> = bucket.collect();
    let mut runs: Vec<&[&Arc<RepoDataRecord>]> = records
        .chunk_by(|a, b| a.package_record.name == b.package_record.name)
        .collect();
    runs.sort_by(|a, b| {
        a[0].package_record
            .name
            .as_normalized()
            .cmp(b[0].package_record.name.as_normalized())
    });
    runs.into_iter().flatten().map(|r| Arc::clone(r)).collect()
}

/// conda's `add_pip_as_python_dependency`: python 2/3 records depend on pip.
fn add_pip(record: &RepoDataRecord) -> Option<RepoDataRecord> {
    let p = &record.package_record;
    if p.name.as_normalized() != "python" {
        return None;
    }
    let major = p.version.as_major_minor().map(|(m, _)| m);
    if !matches!(major, Some(2) | Some(3))
        || p.depends
            .iter()
            .any(|d| crate::history::spec_name(d) == "pip")
    {
        return None;
    }
    let mut patched = record.clone();
    patched.package_record.depends.push("pip".to_string());
    Some(patched)
}

/// How the repodata cache is used: only the cache when offline; `local_repodata_ttl: 0`
/// fetches afresh every time; otherwise the server's `Cache-Control` decides how long a cached
/// copy stays fresh (conda's default, `local_repodata_ttl: 1`). Values above 1 also follow the
/// server: rattler's gateway takes no fixed lifetime.
fn cache_action(config: &taipan_config::Config) -> CacheAction {
    if config.offline || use_index_cache(config) {
        CacheAction::ForceCacheOnly
    } else if config.local_repodata_ttl == 0 {
        CacheAction::NoCache
    } else {
        CacheAction::CacheOrFetch
    }
}

/// `--use-index-cache` / `use_index_cache`: the cached index even if it has expired.
fn use_index_cache(config: &taipan_config::Config) -> bool {
    config
        .other
        .get("use_index_cache")
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Channels opened for reading the way a solve reads them: local, plain remote and sharded
/// channels through taipan's persistent indexes; other URL schemes through the gateway.
pub struct Opened {
    pub gateway: Gateway,
    pub sources: Vec<Source>,
}

impl Opened {
    /// Every package name the opened channels have for `platforms`.
    pub async fn names(&self, ctx: &Context, platforms: &[Subdir]) -> Result<Vec<PackageName>> {
        let mut out = std::collections::BTreeSet::new();
        for source in &self.sources {
            match source {
                Source::Custom(custom) => {
                    for platform in platforms {
                        out.extend(
                            custom
                                .package_names(*platform)
                                .into_iter()
                                .filter_map(|n| PackageName::try_from(n).ok()),
                        );
                    }
                }
                Source::Channel(channel) => {
                    let names = self
                        .gateway
                        .names(vec![channel.clone()], platforms.to_vec())
                        .execute()
                        .await
                        .map_err(|e| gateway_error(ctx, e))?;
                    out.extend(names);
                }
                // taipan opens no other kind of source.
                _ => {}
            }
        }
        Ok(out.into_iter().collect())
    }
}

/// Opens `channels` for `platforms` with this context's cache policy (`conda search`).
pub async fn open(ctx: &Context, channels: &[Channel], platforms: &[Subdir]) -> Result<Opened> {
    let action = cache_action(&ctx.config);
    let gateway = gateway_with(ctx, action)?;
    check_repodata_fns(&ctx.config)?;
    let sources = sources(ctx, action, channels, platforms).await?;
    Ok(Opened { gateway, sources })
}

fn flag(ctx: &Context, key: &str) -> Option<bool> {
    ctx.config.other.get(key).and_then(|v| v.as_bool())
}

fn gateway_with(ctx: &Context, action: CacheAction) -> Result<Gateway> {
    let cache = ctx.writable_pkgs_dir()?.join("cache");
    let source = SourceConfig {
        cache_action: action,
        // `repodata_use_zst: false` / `repodata_use_shards: false`: plain repodata.json.
        zstd_enabled: flag(ctx, "repodata_use_zst").unwrap_or(true),
        sharded_enabled: flag(ctx, "repodata_use_shards").unwrap_or(true),
        ..SourceConfig::default()
    };
    Ok(Gateway::builder()
        .with_client(crate::net::client(ctx)?)
        .with_cache_dir(cache)
        .with_channel_config(ChannelConfig {
            default: source,
            per_channel: Default::default(),
        })
        .finish())
}

/// Loads every record the specs can reach (recursively) from the channels.
pub async fn query(
    ctx: &Context,
    channels: &[Channel],
    subdir: Subdir,
    specs: Vec<MatchSpec>,
) -> Result<Index> {
    let action = cache_action(&ctx.config);
    let first = query_with(ctx, action, channels, subdir, specs.clone()).await;
    match first {
        // `--use-index-cache` with nothing cached yet: fetched, as conda does.
        Err(_) if use_index_cache(&ctx.config) && !ctx.config.offline => {
            query_with(ctx, CacheAction::CacheOrFetch, channels, subdir, specs).await
        }
        other => other,
    }
}

async fn query_with(
    ctx: &Context,
    action: CacheAction,
    channels: &[Channel],
    subdir: Subdir,
    specs: Vec<MatchSpec>,
) -> Result<Index> {
    let gateway = gateway_with(ctx, action)?;
    check_repodata_fns(&ctx.config)?;
    let platforms = if subdir == Subdir::NoArch {
        vec![Subdir::NoArch]
    } else {
        vec![subdir, Subdir::NoArch]
    };
    let mut specs = specs;
    if ctx.config.add_pip_as_python_dependency {
        // The patch adds `pip` to python's depends after discovery has read them, so ask for
        // pip's records explicitly.
        if let Ok(pip) = crate::spec::parse_spec("pip") {
            specs.push(pip);
        }
    }
    let sources = sources(ctx, action, channels, &platforms).await?;
    let mut query = gateway.query(sources, platforms, specs).recursive(true);
    if ctx.config.add_pip_as_python_dependency {
        query = query.with_record_patch(add_pip);
    }
    let exclude = crate::cutoff::policy(&ctx.config.other, channels)?;
    let output = query.execute().await.map_err(|e| gateway_error(ctx, e))?;
    Ok(Index {
        buckets: output
            .repodata
            .iter()
            .map(|bucket| in_name_order(bucket.iter_arc()))
            .collect(),
        exclude,
    })
}

/// `repodata_fns` / `--repodata-fn`: conda tries each name in turn and ends with
/// `repodata.json`; taipan always reads the complete `repodata.json` (what conda falls back
/// to; `current_repodata.json` is a subset of it). Other names are refused, not ignored.
fn check_repodata_fns(config: &taipan_config::Config) -> Result<()> {
    let other: Vec<&String> = config
        .repodata_fns
        .iter()
        .filter(|f| !matches!(f.as_str(), "repodata.json" | "current_repodata.json"))
        .collect();
    if other.is_empty() {
        return Ok(());
    }
    Err(CondaError::new(
        ErrorKind::CondaValueError,
        format!(
            "taipan reads a channel's repodata.json (and its .zst and sharded forms) only; cannot use {}.\n  Drop --repodata-fn / repodata_fns, or publish the index as repodata.json.",
            other.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ),
    ))
}

/// The sources of a query, in channel order: local channels, plain remote ones and sharded
/// ones through taipan's persistent indexes (`crate::index`, `crate::shards`).
///
/// Offline, conda treats a remote channel with nothing cached as empty (the seed's
/// `update --update-all --offline` on an air-gapped server succeeds): such channels are left
/// out. Online, a channel that cannot be read is an error.
async fn sources(
    ctx: &Context,
    action: CacheAction,
    channels: &[Channel],
    platforms: &[Subdir],
) -> Result<Vec<Source>> {
    let cache = ctx.writable_pkgs_dir()?.join("cache");
    let client = crate::net::client(ctx)?;
    let remote = crate::remote::Remote {
        client: &client,
        cache_dir: &cache,
        cache_action: action,
        zstd: flag(ctx, "repodata_use_zst").unwrap_or(true),
        shards: flag(ctx, "repodata_use_shards").unwrap_or(true),
    };
    let mut out = Vec::new();
    for c in channels {
        if c.base_url.url().scheme() == "file" {
            if let Some(local) = crate::index::LocalChannel::new(c.clone(), cache.clone()) {
                out.push(Source::Custom(Arc::new(local)));
                continue;
            }
        }
        if !matches!(c.base_url.url().scheme(), "http" | "https") {
            out.push(Source::Channel(c.clone()));
            continue;
        }
        let native = platforms.first().copied().unwrap_or(Subdir::NoArch);
        match remote.kind(c, native).await {
            crate::remote::Kind::Sharded => match remote.open_sharded(c, platforms).await {
                Ok(sharded) => out.push(Source::Custom(Arc::new(sharded))),
                // Offline with no shard index cached: a cached repodata.json, if any.
                Err(e) if ctx.config.offline => match remote.open(c, platforms).await {
                    Ok(indexed) => out.push(Source::Custom(Arc::new(indexed))),
                    Err(_) => tracing::info!(
                        "offline: {} has no usable cache ({e}); treated as empty",
                        c.base_url
                    ),
                },
                Err(e) => return Err(gateway_error(ctx, e)),
            },
            crate::remote::Kind::Plain => match remote.open(c, platforms).await {
                Ok(indexed) => out.push(Source::Custom(Arc::new(indexed))),
                Err(e) if ctx.config.offline => tracing::info!(
                    "offline: {} has no usable cache ({e}); treated as empty",
                    c.base_url
                ),
                Err(e) => {
                    return Err(gateway_error(
                        ctx,
                        rattler_repodata_gateway::GatewayError::FetchRepoDataError(e),
                    ))
                }
            },
        }
    }
    Ok(out)
}

/// A gateway failure as conda's error, with every cause and what to do next.
pub(crate) fn gateway_error(
    ctx: &Context,
    err: rattler_repodata_gateway::GatewayError,
) -> CondaError {
    use std::error::Error as _;
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(&format!("\n  caused by: {s_text}"));
        }
        source = s.source();
    }
    if ctx.config.offline {
        return CondaError::new(
            ErrorKind::OfflineError,
            format!("{text}\n\nThe repodata is not in the local cache and offline mode is on.\nRun once without --offline (or `offline: false`) to fill the cache."),
        );
    }
    let advice = if matches!(
        err,
        rattler_repodata_gateway::GatewayError::ShardHashMismatch(_)
    ) {
        // Nothing was cached from it: the next run downloads it again.
        "The channel served a shard that does not match its shard index (a mirror caught mid-update, or damaged in transit). Nothing was installed and the shard was not cached; run the command again, and if it persists, tell the channel's maintainers or set `repodata_use_shards: false`."
    } else {
        "Check that the channel URL is right and reachable, and that it has a repodata.json for this platform."
    };
    CondaError::new(
        ErrorKind::UnavailableInvalidChannel,
        format!("{text}\n\n{advice}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rattler_conda_types::{PackageRecord, Version};
    use std::str::FromStr;

    fn record(name: &str, version: &str) -> Arc<RepoDataRecord> {
        let package_record = PackageRecord::new(
            PackageName::from_str(name).unwrap(),
            Version::from_str(version).unwrap(),
            "0".parse().unwrap(),
        );
        let file_name = format!("{name}-{version}-0.conda");
        Arc::new(RepoDataRecord {
            package_record,
            identifier: file_name.parse().unwrap(),
            url: url::Url::parse(&format!("https://c.example/noarch/{file_name}")).unwrap(),
            channel: Some("https://c.example".into()),
        })
    }

    fn files(records: &[Arc<RepoDataRecord>]) -> Vec<String> {
        records.iter().map(|r| r.identifier.to_string()).collect()
    }

    /// Whatever order the fetches finished in, the solver sees the names in one order, and
    /// each name's records in the order their source gave them.
    #[test]
    fn records_come_out_grouped_by_name_in_one_order() {
        let one_run = [
            record("zlib", "2"),
            record("zlib", "1"),
            record("python", "3"),
            record("numpy", "1"),
            record("numpy", "2"),
        ];
        let another_run = [
            record("numpy", "1"),
            record("numpy", "2"),
            record("zlib", "2"),
            record("zlib", "1"),
            record("python", "3"),
        ];
        let expected = [
            "numpy-1-0.conda",
            "numpy-2-0.conda",
            "python-3-0.conda",
            "zlib-2-0.conda",
            "zlib-1-0.conda",
        ];
        assert_eq!(files(&in_name_order(one_run.iter())), expected);
        assert_eq!(files(&in_name_order(another_run.iter())), expected);
    }
}
