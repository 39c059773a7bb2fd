//! Sharded repodata (CEP-16) through a persistent index, like `repodata.json` (`crate::index`).
//!
//! A sharded subdir is a shard index (`repodata_shards.msgpack.zst`: every package name with
//! the SHA-256 of its shard) and one shard per name (`<shards_base_url>/<sha256>.msgpack.zst`,
//! that name's records). rattler's shard client decodes the whole shard index into a hash map
//! on every run (for 50 000 names, a quarter of a warm ×100 run: each hash goes through an
//! untagged visitor) and builds each record's URL by parsing it again. Here the shard index
//! is decoded once per version of it, into a sorted table kept in
//! `<pkgs>/cache/taipan-index/<key>.shards` that a run maps and binary-searches; a name's
//! shard is read from `<pkgs>/cache/shards-v1/<sha256>.msgpack` (the directory rattler's
//! client fills, so either reader reuses the other's downloads) or downloaded, checked
//! against its hash, and cached.
//!
//! Table layout (little endian): magic `TPSHD001`, entry count `u32`, names length `u32`,
//! metadata length `u32`; then 40-byte entries sorted by name (`name_off u32, name_len u32,
//! sha256 [u8; 32]`); then the names; then the metadata as JSON ([`Meta`]: where the index
//! came from, its validators, and the base URLs it declares).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rattler_conda_types::{
    Channel, PackageName, PackageRecord, RepoDataRecord, Shard, Subdir, UrlOrPath,
};
use rattler_repodata_gateway::fetch::CacheAction;
use rattler_repodata_gateway::{GatewayError, RepoDataSource, ShardHashMismatchError};
use serde::{Deserialize, Serialize};

use crate::remote::Remote;

const MAGIC: &[u8; 8] = b"TPSHD001";
const HEADER: usize = 8 + 4 + 4 + 4;
const ENTRY: usize = 40;
/// The shard index's file name in a subdir.
const INDEX_FILE: &str = "repodata_shards.msgpack.zst";
/// Decoded shards, shared with rattler's shard client.
const SHARDS_DIR: &str = "shards-v1";
/// Shards downloaded at once.
const PARALLEL: usize = 32;
/// Largest decoded shard index or shard accepted (a zstd bomb stops here).
const MAX_DECODED: u64 = 2 << 30;
/// Shards of at least this many bytes (about eight records) are decoded on the parsing pool,
/// as `crate::index` does with large names.
const PARSE_ON_POOL_BYTES: usize = 4096;

/// Where a cached shard index came from and what it declares.
#[derive(Serialize, Deserialize)]
struct Meta {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    cache_control: Option<String>,
    base_url: String,
    shards_base_url: String,
}

/// One subdir's shard index, mapped.
pub(crate) struct ShardIndex {
    table: memmap2::Mmap,
    meta: Meta,
    /// Where a record's package file is (`info.base_url`, ending in `/`).
    package_base: url::Url,
    /// Where the shards are (`info.shards_base_url`, ending in `/`).
    shards_base: url::Url,
}

impl ShardIndex {
    fn from_table(table: memmap2::Mmap, index_url: &url::Url) -> Option<Self> {
        if table.len() < HEADER || &table[0..8] != MAGIC {
            return None;
        }
        let count = u32_at(&table, 8)? as usize;
        let names_len = u32_at(&table, 12)? as usize;
        let meta_len = u32_at(&table, 16)? as usize;
        let meta_at = HEADER + count * ENTRY + names_len;
        if table.len() != meta_at + meta_len {
            return None;
        }
        let meta: Meta = serde_json::from_slice(&table[meta_at..]).ok()?;
        if meta.url != index_url.as_str() {
            return None;
        }
        // Relative to the subdir, as in rattler's client (an empty `base_url` is the subdir).
        let subdir = index_url.join("./").ok()?;
        let package_base = with_slash(subdir.join(&meta.base_url).ok()?);
        let shards_base = with_slash(subdir.join(&meta.shards_base_url).ok()?);
        Some(Self {
            table,
            meta,
            package_base,
            shards_base,
        })
    }

    fn count(&self) -> usize {
        u32_at(&self.table, 8).unwrap_or(0) as usize
    }

    fn entry(&self, i: usize) -> Option<(&str, &[u8])> {
        let e = self
            .table
            .get(HEADER + i * ENTRY..HEADER + (i + 1) * ENTRY)?;
        let off = u32::from_le_bytes(e[0..4].try_into().ok()?) as usize;
        let len = u32::from_le_bytes(e[4..8].try_into().ok()?) as usize;
        let names = HEADER + self.count() * ENTRY;
        let name = std::str::from_utf8(self.table.get(names + off..names + off + len)?).ok()?;
        Some((name, &e[8..40]))
    }

    /// The SHA-256 of `name`'s shard, if the subdir has the name.
    fn shard_of(&self, name: &str) -> Option<[u8; 32]> {
        let (mut lo, mut hi) = (0, self.count());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let (n, hash) = self.entry(mid)?;
            match n.cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return hash.try_into().ok(),
            }
        }
        None
    }

    fn names(&self) -> Vec<String> {
        (0..self.count())
            .filter_map(|i| self.entry(i).map(|(n, _)| n.to_string()))
            .collect()
    }

    /// Whether the server allowed using this copy without asking (`Cache-Control: max-age`),
    /// counted from when it was last fetched or confirmed.
    fn fresh(&self, path: &Path) -> bool {
        let Some(max_age) = self
            .meta
            .cache_control
            .as_deref()
            .and_then(crate::remote::max_age)
        else {
            return false;
        };
        let age = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .unwrap_or(Duration::MAX);
        age < max_age
    }
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn with_slash(mut url: url::Url) -> url::Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

impl Remote<'_> {
    /// Opens every platform of a sharded `channel`: each shard index fetched, revalidated
    /// or taken from the cache, as the cache action allows.
    pub(crate) async fn open_sharded(
        &self,
        channel: &Channel,
        platforms: &[Subdir],
    ) -> Result<ShardedChannel, GatewayError> {
        let fetched =
            futures::future::join_all(platforms.iter().map(|p| self.shard_index(channel, *p)))
                .await;
        let mut subdirs = HashMap::new();
        for (platform, index) in platforms.iter().zip(fetched) {
            let index = index?;
            // A platform the channel does not have is empty, except noarch, as in the gateway.
            if index.is_none() && *platform == Subdir::NoArch {
                return Err(GatewayError::Generic(format!(
                    "{} has no {INDEX_FILE} for noarch",
                    channel.platform_url(*platform)
                )));
            }
            subdirs.insert(*platform, index.map(Arc::new));
        }
        Ok(ShardedChannel {
            channel: channel.clone(),
            subdirs,
            client: self.client.clone(),
            shards_dir: self.cache_dir.join(SHARDS_DIR),
            cache_action: self.cache_action,
            permits: Arc::new(tokio::sync::Semaphore::new(PARALLEL)),
        })
    }

    /// A platform's shard index (`None`: the server has none for it).
    async fn shard_index(
        &self,
        channel: &Channel,
        platform: Subdir,
    ) -> Result<Option<ShardIndex>, GatewayError> {
        let url = channel
            .platform_url(platform)
            .join(INDEX_FILE)
            .map_err(|e| GatewayError::Generic(format!("bad channel URL: {e}")))?;
        let path = self
            .cache_dir
            .join("taipan-index")
            .join(format!("{}.shards", crate::remote::key(url.as_str())));
        let cached = (self.cache_action != CacheAction::NoCache)
            .then(|| map_table(&path, &url))
            .flatten();
        match (self.cache_action, cached) {
            (CacheAction::ForceCacheOnly | CacheAction::UseCacheOnly, Some(index)) => {
                Ok(Some(index))
            }
            (CacheAction::ForceCacheOnly | CacheAction::UseCacheOnly, None) => {
                Err(GatewayError::ShardedIndexNotCached(redacted(&url)))
            }
            (_, Some(index)) if index.fresh(&path) => Ok(Some(index)),
            (_, cached) => self.fetch_index(&url, &path, cached).await,
        }
    }

    /// Asks the server for the shard index, conditionally when a copy is cached; a 304 keeps
    /// the copy (and restarts its `max-age`), a new one replaces it.
    async fn fetch_index(
        &self,
        url: &url::Url,
        path: &Path,
        cached: Option<ShardIndex>,
    ) -> Result<Option<ShardIndex>, GatewayError> {
        let mut request = self.client.client().get(url.clone());
        if let Some(c) = &cached {
            if let Some(etag) = &c.meta.etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(modified) = &c.meta.last_modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
            }
        }
        let response = request.send().await?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            if let Some(c) = cached {
                touch(path);
                return Ok(Some(c));
            }
        }
        // As rattler's client: 404 and 501 mean the subdir has no sharded index.
        if status == reqwest::StatusCode::NOT_FOUND
            || status == reqwest::StatusCode::NOT_IMPLEMENTED
        {
            return Ok(None);
        }
        let response = response
            .error_for_status()
            .map_err(reqwest_middleware::Error::from)?;
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        let etag = header(reqwest::header::ETAG);
        let last_modified = header(reqwest::header::LAST_MODIFIED);
        let cache_control = header(reqwest::header::CACHE_CONTROL);
        let body = response
            .bytes()
            .await
            .map_err(reqwest_middleware::Error::from)?;
        let decoded = decompress(&body, url)?;
        let parsed = parse_index(&decoded).map_err(|e| {
            GatewayError::Generic(format!(
                "the shard index at {} is malformed: {e}",
                redacted(url)
            ))
        })?;
        let meta = Meta {
            url: url.to_string(),
            etag,
            last_modified,
            cache_control,
            base_url: parsed.info.base_url,
            shards_base_url: parsed.info.shards_base_url,
        };
        let table = encode(parsed.shards, &meta);
        crate::index::write_cache_file(path, &table);
        let mapped = crate::index::memory(&table)
            .map_err(|e| GatewayError::IoError("cannot map the shard index".into(), e))?;
        ShardIndex::from_table(mapped, url)
            .map(Some)
            .ok_or_else(|| GatewayError::Generic(format!("bad base URL in {}", redacted(url))))
    }
}

fn map_table(path: &Path, url: &url::Url) -> Option<ShardIndex> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: tables are written to a temp file and renamed into place, never modified.
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    ShardIndex::from_table(map, url)
}

/// Restarts a cached copy's `max-age` after the server confirmed it (304). Failing (a cache
/// another user owns) only means asking again next time.
fn touch(path: &Path) {
    if let Ok(file) = std::fs::File::options().append(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

fn redacted(url: &url::Url) -> url::Url {
    use rattler_redaction::Redact;
    url.clone().redact()
}

/// Decompresses a zstd body, refusing one that grows past [`MAX_DECODED`].
fn decompress(body: &[u8], url: &url::Url) -> Result<Vec<u8>, GatewayError> {
    let bad = |e: std::io::Error| {
        GatewayError::IoError(
            format!(
                "failed to decode zstd data from '{}' ({} bytes received); the server may have sent invalid or truncated data",
                redacted(url),
                body.len()
            ),
            e,
        )
    };
    if body.is_empty() {
        return Err(bad(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "empty response",
        )));
    }
    let decoder = zstd::stream::read::Decoder::with_buffer(body).map_err(bad)?;
    let mut out = Vec::new();
    decoder
        .take(MAX_DECODED + 1)
        .read_to_end(&mut out)
        .map_err(bad)?;
    if out.len() as u64 > MAX_DECODED {
        return Err(bad(std::io::Error::other("decoded data too large")));
    }
    Ok(out)
}

/// The parts of a shard index read here.
#[derive(Deserialize)]
struct RawIndex<'a> {
    info: RawInfo,
    #[serde(borrow)]
    shards: Entries<'a>,
}

#[derive(Deserialize)]
struct RawInfo {
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    shards_base_url: String,
}

/// The `shards` map as a list (no hash map of 50 000 names is built).
struct Entries<'a>(Vec<(&'a str, [u8; 32])>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of package names to shard hashes")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(name) = map.next_key::<&'de str>()? {
                    let hash: Hash = map.next_value()?;
                    out.push((name, hash.0));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A SHA-256 as the index gives it: raw bytes (CEP-16), or hex text.
struct Hash([u8; 32]);

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Hash;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a SHA-256 (32 bytes or 64 hex digits)")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Hash, E> {
                v.try_into()
                    .map(Hash)
                    .map_err(|_| E::invalid_length(v.len(), &self))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Hash, E> {
                let mut out = [0u8; 32];
                if v.len() != 64 {
                    return Err(E::invalid_length(v.len(), &self));
                }
                for (i, o) in out.iter_mut().enumerate() {
                    *o = u8::from_str_radix(v.get(2 * i..2 * i + 2).unwrap_or("x"), 16)
                        .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))?;
                }
                Ok(Hash(out))
            }
        }
        d.deserialize_any(V)
    }
}

fn parse_index(decoded: &[u8]) -> Result<RawIndex<'_>, rmp_serde::decode::Error> {
    rmp_serde::from_slice(decoded)
}

/// The table file for a shard index's entries.
fn encode(entries: Entries<'_>, meta: &Meta) -> Vec<u8> {
    let mut entries = entries.0;
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries.dedup_by(|a, b| a.0 == b.0);
    let meta = serde_json::to_vec(meta).unwrap_or_default();
    let names_len: usize = entries.iter().map(|e| e.0.len()).sum();
    let mut out = Vec::with_capacity(HEADER + entries.len() * ENTRY + names_len + meta.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    out.extend_from_slice(&(names_len as u32).to_le_bytes());
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    let mut off = 0u32;
    for (name, hash) in &entries {
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(hash);
        off += name.len() as u32;
    }
    for (name, _) in &entries {
        out.extend_from_slice(name.as_bytes());
    }
    out.extend_from_slice(&meta);
    out
}

/// A sharded remote channel whose shard indexes are open.
pub struct ShardedChannel {
    channel: Channel,
    subdirs: HashMap<Subdir, Option<Arc<ShardIndex>>>,
    client: rattler_networking::LazyClient,
    shards_dir: PathBuf,
    cache_action: CacheAction,
    permits: Arc<tokio::sync::Semaphore>,
}

impl ShardedChannel {
    fn cache_only(&self) -> bool {
        matches!(
            self.cache_action,
            CacheAction::ForceCacheOnly | CacheAction::UseCacheOnly
        )
    }

    /// The decoded shard `hash`: from the cache (unless `refetch`), or downloaded, checked
    /// and cached. Also says whether it came from the cache.
    async fn shard(
        &self,
        index: &ShardIndex,
        hash: &[u8; 32],
        name: &str,
        refetch: bool,
    ) -> Result<(Vec<u8>, bool), GatewayError> {
        let hex = crate::hex(hash);
        let path = self.shards_dir.join(format!("{hex}.msgpack"));
        if self.cache_action != CacheAction::NoCache && !refetch {
            match std::fs::read(&path) {
                Ok(bytes) => return Ok((bytes, true)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(GatewayError::IoError(
                        format!("cannot read {}", path.display()),
                        e,
                    ))
                }
            }
        }
        if self.cache_only() {
            return Err(GatewayError::ShardNotCached(name.to_string()));
        }
        let url = index
            .shards_base
            .join(&format!("{hex}.msgpack.zst"))
            .map_err(|e| GatewayError::Generic(format!("bad shard URL: {e}")))?;
        let body = {
            let _permit = self.permits.acquire().await;
            self.client
                .client()
                .get(url.clone())
                .header(reqwest::header::CACHE_CONTROL, "no-store")
                .send()
                .await?
                .error_for_status()
                .map_err(reqwest_middleware::Error::from)?
                .bytes()
                .await
                .map_err(reqwest_middleware::Error::from)?
        };
        // Shards are cached by hash in a directory every channel shares: a shard that does
        // not match the hash its index lists is refused before it is read or cached.
        let actual = rattler_digest::compute_bytes_digest::<rattler_digest::Sha256>(&body);
        if actual.as_slice() != hash {
            return Err(GatewayError::ShardHashMismatch(Box::new(
                ShardHashMismatchError {
                    url: redacted(&url),
                    expected: (*hash).into(),
                    actual,
                },
            )));
        }
        let decoded = decompress(&body, &url)?;
        if std::fs::create_dir_all(&self.shards_dir).is_ok() {
            crate::index::write_cache_file(&path, &decoded);
        }
        Ok((decoded, false))
    }
}

#[async_trait::async_trait]
impl RepoDataSource for ShardedChannel {
    async fn fetch_package_records(
        &self,
        platform: Subdir,
        name: &PackageName,
    ) -> Result<Vec<Arc<RepoDataRecord>>, GatewayError> {
        let Some(Some(index)) = self.subdirs.get(&platform) else {
            return Ok(Vec::new());
        };
        let Some(hash) = index.shard_of(name.as_normalized()) else {
            return Ok(Vec::new());
        };
        // As the gateway names a record's channel: its URL without a token.
        let channel = redacted(self.channel.base_url.url()).to_string();
        let read = |bytes: Vec<u8>| {
            let (name, channel) = (name.as_normalized().to_string(), channel.clone());
            let base = index.package_base.clone();
            async move {
                if bytes.len() < PARSE_ON_POOL_BYTES {
                    return records(&bytes, &name, &channel, &base);
                }
                crate::index::on_pool(move || records(&bytes, &name, &channel, &base)).await
            }
        };
        let (bytes, cached) = self.shard(index, &hash, name.as_source(), false).await?;
        match read(bytes).await {
            // A cached shard that does not parse (damaged on disk) is fetched again, when the
            // run may download.
            Err(e) if cached && !self.cache_only() => {
                tracing::warn!("{e}; fetching the shard again");
                let (bytes, _) = self.shard(index, &hash, name.as_source(), true).await?;
                read(bytes).await
            }
            other => other,
        }
    }

    fn package_names(&self, platform: Subdir) -> Vec<String> {
        self.subdirs
            .get(&platform)
            .and_then(|s| s.as_ref())
            .map(|s| s.names())
            .unwrap_or_default()
    }
}

/// `name`'s records in a decoded shard, as rattler's shard client gives them: removed files
/// left out, a file listed both in a legacy map and under `v3` described by its `v3` entry,
/// and records of other names (an alias shard) ignored.
fn records(
    shard: &[u8],
    name: &str,
    channel: &str,
    base: &url::Url,
) -> Result<Vec<Arc<RepoDataRecord>>, GatewayError> {
    let Shard {
        packages,
        conda_packages,
        v3,
        removed,
    } = rmp_serde::from_slice(shard)
        .map_err(|e| GatewayError::Generic(format!("malformed shard for '{name}': {e}")))?;
    let in_v3: std::collections::HashSet<String> =
        v3.records().map(|(id, _)| id.to_file_name()).collect();
    let legacy = packages
        .into_iter()
        .chain(conda_packages)
        .filter(|(id, _)| in_v3.is_empty() || !in_v3.contains(&id.to_file_name()))
        .map(|(id, record)| (id, record, None));
    let mut out = Vec::new();
    for (identifier, package_record, url) in legacy.chain(v3.into_records_with_url()) {
        if package_record.name.as_normalized() != name || removed.contains(&identifier) {
            continue;
        }
        let url = match url {
            Some(UrlOrPath::Url(url)) => url,
            Some(UrlOrPath::Path(path)) => package_url(base, path.as_str())?,
            None => package_url(base, &identifier.to_file_name())?,
        };
        out.push(Arc::new(record(package_record, identifier, url, channel)));
    }
    Ok(out)
}

fn record(
    package_record: PackageRecord,
    identifier: rattler_conda_types::package::DistArchiveIdentifier,
    url: url::Url,
    channel: &str,
) -> RepoDataRecord {
    RepoDataRecord {
        package_record,
        identifier,
        url,
        channel: Some(channel.to_string()),
    }
}

/// A package file's URL: the base with the path appended, as rattler's client forms it
/// (`base` + `path`, parsed), without parsing when the name is plain.
fn package_url(base: &url::Url, path: &str) -> Result<url::Url, GatewayError> {
    match crate::index::append_plain(base, path) {
        Some(url) => Ok(url),
        None => url::Url::parse(&format!("{base}{path}")).map_err(|e| {
            GatewayError::Generic(format!("invalid package URL for '{path}' in shard: {e}"))
        }),
    }
}
