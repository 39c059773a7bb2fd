//! Remote channels (`https://`, `http://`) through the persistent index.
//!
//! rattler's gateway keeps a remote subdir's `repodata.json` in `<pkgs>/cache/<key>.json`
//! (revalidated with ETag / Last-Modified, downloaded as `.zst` when the server has it), and
//! then scans the whole file on every run to find each package's records: 1.5–3 s and
//! 300 MB for a conda-forge-sized subdir. Here the same download step is used
//! (`rattler_repodata_gateway::fetch::fetch_repo_data`), and the cached file is read through
//! the index local channels use (`crate::index`): built once per version of the file, then
//! a warm run maps the file and parses only the records the solve reaches.
//!
//! Channels that serve sharded repodata (CEP-16) are read through `crate::shards`, which
//! fetches only the shards a request reaches. Whether a channel is sharded is asked once (a
//! `HEAD` of its shard index) and remembered for a day in `<pkgs>/cache/taipan-index/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::join_all;
use rattler_conda_types::{Channel, Subdir};
use rattler_networking::LazyClient;
use rattler_repodata_gateway::fetch::{
    fetch_repo_data, CacheAction, FetchRepoDataError, FetchRepoDataOptions,
};
use rattler_repodata_gateway::GatewayError;

use crate::index::{LocalChannel, SubdirIndex};

/// How long a channel's "sharded or not" answer is trusted.
const KIND_TTL: Duration = Duration::from_secs(24 * 3600);

/// How a remote channel is read.
pub(crate) enum Kind {
    /// Sharded repodata: through `crate::shards`.
    Sharded,
    /// A `repodata.json` (or `.zst`): through the index.
    Plain,
}

/// What the fetches need.
pub(crate) struct Remote<'a> {
    pub client: &'a LazyClient,
    pub cache_dir: &'a Path,
    pub cache_action: CacheAction,
    pub zstd: bool,
    pub shards: bool,
}

impl Remote<'_> {
    /// Whether `channel` serves sharded repodata (always `Plain` with shards off).
    pub(crate) async fn kind(&self, channel: &Channel, platform: Subdir) -> Kind {
        if !self.shards {
            return Kind::Plain;
        }
        let marker = self
            .cache_dir
            .join("taipan-index")
            .join(format!("{}.kind", key(channel.base_url.url().as_str())));
        // Offline, an old answer is still the best one there is.
        let ttl = if self.cache_action == CacheAction::ForceCacheOnly {
            Duration::MAX
        } else {
            KIND_TTL
        };
        if let Some(kind) = read_marker(&marker, ttl) {
            return kind;
        }
        if self.cache_action == CacheAction::ForceCacheOnly {
            // Offline and never asked: a cached shard index is used if there is one (the
            // caller then tries a cached repodata.json).
            return Kind::Sharded;
        }
        let url = channel
            .platform_url(platform)
            .join("repodata_shards.msgpack.zst");
        let Ok(url) = url else {
            return Kind::Sharded;
        };
        match self.client.client().head(url).send().await {
            Ok(r) if r.status().is_success() => {
                write_marker(&marker, "sharded");
                Kind::Sharded
            }
            Ok(r) if r.status().is_client_error() => {
                write_marker(&marker, "plain");
                Kind::Plain
            }
            // Unreachable or a server error: fetching the shard index reports it.
            _ => Kind::Sharded,
        }
    }

    /// Fetches (or revalidates) every platform of `channel` and opens each through the index.
    pub(crate) async fn open(
        &self,
        channel: &Channel,
        platforms: &[Subdir],
    ) -> Result<LocalChannel, FetchRepoDataError> {
        let opened = join_all(platforms.iter().map(|p| self.open_subdir(channel, *p))).await;
        let mut subdirs = HashMap::new();
        for (platform, result) in platforms.iter().zip(opened) {
            match result {
                Ok(index) => {
                    subdirs.insert(*platform, Some(index));
                }
                // A platform the channel does not have is empty, except noarch, as in the
                // gateway.
                Err(FetchRepoDataError::NotFound(_)) if *platform != Subdir::NoArch => {
                    subdirs.insert(*platform, None);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(LocalChannel::preloaded(channel.clone(), subdirs))
    }

    async fn open_subdir(
        &self,
        channel: &Channel,
        platform: Subdir,
    ) -> Result<Arc<SubdirIndex>, FetchRepoDataError> {
        let url = channel.base_url.url().clone();
        if let Some(json) = self.reusable(channel, platform).await {
            let cache_dir = self.cache_dir.to_path_buf();
            let opened = tokio::task::spawn_blocking(move || {
                crate::index::open(&json, &cache_dir, &url, platform)
            })
            .await
            .map_err(|_| FetchRepoDataError::Cancelled)?;
            if let Ok(index) = opened {
                return Ok(Arc::new(index));
            }
        }
        self.fetch_and_open(channel, platform).await
    }

    /// The cached copy of a subdir's repodata, when it can be used without downloading or
    /// hashing it: its state file (conda's `.info.json` format) still describes it (size and
    /// mtime), and the server allowed reuse (`Cache-Control: max-age`), or the run is offline
    /// (`--offline`, `--use-index-cache`), or the server confirms it has not changed (a
    /// conditional `HEAD` answered 304). rattler's own check hashes the whole file first
    /// (0.6 s for a conda-forge-sized one); anything unusual here goes that way instead.
    async fn reusable(&self, channel: &Channel, platform: Subdir) -> Option<PathBuf> {
        if self.cache_action == CacheAction::NoCache {
            return None;
        }
        let subdir_url = channel.platform_url(platform);
        let marker = self.marker(&subdir_url);
        let json = self
            .cache_dir
            .join(std::fs::read_to_string(&marker).ok()?.trim());
        let state: CacheState =
            serde_json::from_slice(&std::fs::read(json.with_extension("info.json")).ok()?).ok()?;
        let meta = std::fs::metadata(&json).ok()?;
        let mtime_ns = meta
            .modified()
            .ok()?
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()?
            .as_nanos();
        let same_file = meta.len() == state.size && mtime_ns == state.mtime_ns;
        if !same_file || !state.url.as_str().starts_with(subdir_url.as_str()) {
            return None;
        }
        if matches!(
            self.cache_action,
            CacheAction::ForceCacheOnly | CacheAction::UseCacheOnly
        ) {
            return Some(json);
        }
        let age = SystemTime::now()
            .duration_since(meta.modified().ok()?)
            .unwrap_or_default();
        if state.max_age().is_some_and(|max| age < max) {
            return Some(json);
        }
        let mut request = self.client.client().head(state.url.clone());
        if let Some(etag) = &state.etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &state.last_modified {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
        }
        let response = request.send().await.ok()?;
        (response.status() == reqwest::StatusCode::NOT_MODIFIED).then_some(json)
    }

    fn marker(&self, subdir_url: &url::Url) -> PathBuf {
        self.cache_dir
            .join("taipan-index")
            .join(format!("{}.cached", key(subdir_url.as_str())))
    }

    async fn fetch_and_open(
        &self,
        channel: &Channel,
        platform: Subdir,
    ) -> Result<Arc<SubdirIndex>, FetchRepoDataError> {
        let cached = fetch_repo_data(
            channel.platform_url(platform),
            self.client.clone(),
            self.cache_dir.to_path_buf(),
            FetchRepoDataOptions {
                cache_action: self.cache_action,
                zstd_enabled: self.zstd,
                ..FetchRepoDataOptions::default()
            },
            None,
        )
        .await?;
        let json = cached.repo_data_json_path.clone();
        if let Some(name) = json.file_name() {
            write_marker(
                &self.marker(&channel.platform_url(platform)),
                &name.to_string_lossy(),
            );
        }
        for path in [
            json.clone(),
            json.with_extension("info.json"),
            json.with_extension("lock"),
        ] {
            crate::fsutil::follow_umask(&path);
        }
        let cache_dir = self.cache_dir.to_path_buf();
        let url = channel.base_url.url().clone();
        // Opened while the cache entry is locked: a concurrent refresh replaces the file only
        // after this map is made (it renames a new file in; the map keeps the old one).
        let index = tokio::task::spawn_blocking(move || {
            let opened = crate::index::open(&json, &cache_dir, &url, platform);
            drop(cached);
            opened
        })
        .await
        .map_err(|_| FetchRepoDataError::Cancelled)?;
        index.map(Arc::new).map_err(gateway_to_fetch)
    }
}

/// The fields of the gateway's `<key>.info.json` (conda's cache state format) used here.
#[derive(serde::Deserialize)]
struct CacheState {
    url: url::Url,
    etag: Option<String>,
    #[serde(rename = "mod")]
    last_modified: Option<String>,
    cache_control: Option<String>,
    mtime_ns: u128,
    size: u64,
}

impl CacheState {
    /// `max-age` of the server's `Cache-Control`, unless it demands revalidation.
    fn max_age(&self) -> Option<Duration> {
        max_age(self.cache_control.as_deref()?)
    }
}

/// `max-age` of a `Cache-Control` value, unless it demands revalidation.
pub(crate) fn max_age(cache_control: &str) -> Option<Duration> {
    let cc = cache_control.to_ascii_lowercase();
    if cc.contains("no-cache") || cc.contains("no-store") {
        return None;
    }
    cc.split(',')
        .filter_map(|d| d.trim().strip_prefix("max-age="))
        .find_map(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn gateway_to_fetch(e: GatewayError) -> FetchRepoDataError {
    FetchRepoDataError::IoError(std::io::Error::other(e.to_string()))
}

/// A short, stable file name for a URL.
pub(crate) fn key(url: &str) -> String {
    let digest = rattler_digest::compute_bytes_digest::<rattler_digest::Sha256>(url.as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn read_marker(path: &PathBuf, ttl: Duration) -> Option<Kind> {
    let meta = std::fs::metadata(path).ok()?;
    let age = SystemTime::now()
        .duration_since(meta.modified().ok()?)
        .unwrap_or_default();
    if age > ttl {
        return None;
    }
    match std::fs::read_to_string(path).ok()?.trim() {
        "sharded" => Some(Kind::Sharded),
        "plain" => Some(Kind::Plain),
        _ => None,
    }
}

fn write_marker(path: &Path, kind: &str) {
    // A cache: failing to write it only costs the next run a request.
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if crate::fsutil::write_atomic(path, kind.as_bytes()).is_ok() {
        crate::fsutil::follow_umask(path);
    }
}
