//! Fetching repodata through rattler's gateway: `file://` and `http(s)://` channels, `.zst`
//! and sharded repodata, cached under `<pkgs>/cache` with ETag/Last-Modified revalidation.

use std::sync::Arc;

use rattler_conda_types::{Channel, MatchSpec, RepoDataRecord, Subdir};
use rattler_repodata_gateway::fetch::CacheAction;
use rattler_repodata_gateway::{ChannelConfig, Gateway, SourceConfig};

use crate::context::Context;
use crate::error::{CondaError, Result};

/// Records loaded for a solve: one bucket per channel and subdir, in channel priority order.
pub struct Index {
    /// Record buckets, channel-major.
    pub buckets: Vec<Vec<RepoDataRecord>>,
}

impl Index {
    /// All records, in priority order.
    pub fn iter(&self) -> impl Iterator<Item = &RepoDataRecord> {
        self.buckets.iter().flatten()
    }
}

/// Builds the gateway for this context.
pub fn gateway(ctx: &Context) -> Result<Gateway> {
    let cache = ctx.writable_pkgs_dir()?.join("cache");
    let source = SourceConfig {
        cache_action: if ctx.config.offline {
            CacheAction::ForceCacheOnly
        } else {
            CacheAction::CacheOrFetch
        },
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
    let gateway = gateway(ctx)?;
    let platforms = if subdir == Subdir::NoArch {
        vec![Subdir::NoArch]
    } else {
        vec![subdir, Subdir::NoArch]
    };
    let output = gateway
        .query(channels.to_vec(), platforms, specs)
        .recursive(true)
        .execute()
        .await
        .map_err(|e| gateway_error(ctx, e))?;
    let buckets = output
        .repodata
        .iter()
        .map(|rd| {
            rd.iter_arc()
                .map(|r| RepoDataRecord::clone(Arc::as_ref(r)))
                .collect()
        })
        .collect();
    Ok(Index { buckets })
}

fn gateway_error(ctx: &Context, err: rattler_repodata_gateway::GatewayError) -> CondaError {
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
            "OfflineError",
            format!("{text}\n\nThe repodata is not in the local cache and offline mode is on.\nRun once without --offline (or `offline: false`) to fill the cache."),
        );
    }
    CondaError::new(
        "UnavailableInvalidChannel",
        format!("{text}\n\nCheck that the channel URL is right and reachable, and that it has a repodata.json for this platform."),
    )
}
