//! The package cache (`pkgs/`): downloads in parallel with checksum verification, extraction,
//! `urls.txt`, and purging entries that turn out to be corrupt.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::stream::{self, StreamExt, TryStreamExt};
use rattler_cache::package_cache::{CacheKey, PackageCache};
use rattler_cache::validation::ValidationMode;
use rattler_conda_types::RepoDataRecord;

use crate::context::Context;
use crate::error::{CondaError, Result};

/// Progress callbacks for downloads.
pub trait Progress: Send + Sync {
    /// A package started downloading or validating.
    fn start(&self, _record: &RepoDataRecord) {}
    /// A package is in the cache.
    fn done(&self, _record: &RepoDataRecord) {}
}

/// No progress output.
pub struct Silent;
impl Progress for Silent {}

/// The process's package cache, opened on first use (see [`open`]).
#[derive(Clone, Default)]
pub struct Shared(Arc<std::sync::OnceLock<PackageCache>>);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared(PackageCache)")
    }
}

/// The layered cache: every `pkgs_dirs` entry is read, the first writable one written. One
/// instance per context, so entries are validated at most once per process.
pub fn open(ctx: &Context) -> Result<PackageCache> {
    if let Some(cache) = ctx.package_cache.0.get() {
        return Ok(cache.clone());
    }
    let cache = open_layers(ctx)?;
    Ok(ctx.package_cache.0.get_or_init(|| cache).clone())
}

fn open_layers(ctx: &Context) -> Result<PackageCache> {
    let writable = ctx.writable_pkgs_dir()?;
    let mut layers = vec![writable.clone()];
    layers.extend(
        ctx.pkgs_dirs
            .iter()
            .filter(|d| **d != writable && d.is_dir())
            .cloned(),
    );
    Ok(PackageCache::new_layered(
        layers,
        false,
        ValidationMode::Fast,
    ))
}

/// Makes sure every record is extracted in the cache; returns URL → extracted directory.
pub async fn fetch_all(
    ctx: &Context,
    records: &[RepoDataRecord],
    progress: Arc<dyn Progress>,
) -> Result<HashMap<url::Url, PathBuf>> {
    if records.is_empty() {
        return Ok(HashMap::new());
    }
    let cache = open(ctx)?;
    let client = crate::net::client(ctx)?;
    let policy = crate::net::retry_policy(ctx);
    let pkgs_dir = ctx.writable_pkgs_dir()?;
    let results: Vec<(url::Url, PathBuf)> = stream::iter(records.iter().cloned())
        .map(|record| {
            let cache = cache.clone();
            let client = client.clone();
            let progress = progress.clone();
            let pkgs_dir = pkgs_dir.clone();
            async move {
                progress.start(&record);
                let dir = fetch_url(&cache, &record, client, policy, &pkgs_dir).await?;
                progress.done(&record);
                Ok::<_, CondaError>((record.url.clone(), dir))
            }
        })
        .buffer_unordered(fetch_threads(ctx))
        .try_collect()
        .await?;
    record_urls(&pkgs_dir, records)?;
    Ok(results.into_iter().collect())
}

/// Starts extracting every record into the cache in the background (from an archive in a
/// package cache directory when there is one, as for an installer's payload, else from its
/// URL), at most `fetch_threads` at a time and in the records' order. The transaction takes
/// each package as its extraction finishes. `discard`: delete each extracted directory once
/// its package is linked.
pub fn fetch_in_background(
    ctx: &Context,
    records: &[RepoDataRecord],
    discard: bool,
) -> Result<crate::transaction::Packages<'static>> {
    let cache = open(ctx)?;
    let client = crate::net::client(ctx)?;
    let policy = crate::net::retry_policy(ctx);
    let pkgs_dir = ctx.writable_pkgs_dir()?;
    let permits = Arc::new(tokio::sync::Semaphore::new(fetch_threads(ctx)));
    let mut tasks = HashMap::new();
    for record in records.iter().cloned() {
        let local = local_archive(ctx, &record.identifier.to_string());
        let (cache, client, pkgs_dir, permits) = (
            cache.clone(),
            client.clone(),
            pkgs_dir.clone(),
            permits.clone(),
        );
        let url = record.url.clone();
        let task = tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            let Some(archive) = local else {
                return fetch_url(&cache, &record, client, policy, &pkgs_dir).await;
            };
            let key = CacheKey::from(&record.package_record);
            let sha256 = record.package_record.sha256;
            let url = record.url.clone();
            extract_local(
                &cache,
                key,
                archive.clone(),
                url,
                sha256,
                Some(record.clone()),
            )
            .await
            .map(|meta| meta.path().to_path_buf())
            .map_err(|e| damaged_archive(&pkgs_dir, &record, &archive, &e))
        });
        tasks.insert(url, task);
    }
    record_urls(&pkgs_dir, records)?;
    Ok(crate::transaction::Packages::Pending {
        tasks: std::sync::Mutex::new(tasks),
        pkgs_dir,
        discard: discard.then(crate::transaction::Reaper::start),
    })
}

/// Fetches a record's URL into the cache (with retries); returns the extracted directory.
async fn fetch_url(
    cache: &PackageCache,
    record: &RepoDataRecord,
    client: rattler_networking::LazyClient,
    policy: reqwest_retry::policies::ExponentialBackoff,
    pkgs_dir: &Path,
) -> Result<PathBuf> {
    cache
        .get_or_fetch_from_url_with_retry(
            CacheKey::from(&record.package_record),
            record.url.clone(),
            client,
            policy,
            None,
            None,
        )
        .await
        .map(|meta| meta.path().to_path_buf())
        .map_err(|e| fetch_error(pkgs_dir, record, &e))
}

fn fetch_threads(ctx: &Context) -> usize {
    if ctx.config.fetch_threads == 0 {
        5
    } else {
        ctx.config.fetch_threads as usize
    }
}

fn damaged_archive(
    pkgs_dir: &Path,
    record: &RepoDataRecord,
    archive: &Path,
    err: &dyn std::error::Error,
) -> CondaError {
    purge(pkgs_dir, record);
    CondaError::new(
        "CondaVerificationError",
        format!(
            "cannot extract {}\n  {}\nThe package file is damaged or unreadable; the cache entry was removed. Get an intact copy of the package.",
            archive.display(),
            crate::transaction::error_chain(err)
        ),
    )
}

fn fetch_error(
    pkgs_dir: &std::path::Path,
    record: &RepoDataRecord,
    err: &dyn std::error::Error,
) -> CondaError {
    purge(pkgs_dir, record);
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let st = s.to_string();
        if !text.contains(&st) {
            text.push_str(&format!("\n  caused by: {st}"));
        }
        source = s.source();
    }
    CondaError::new(
        "CondaHTTPError",
        format!(
            "Could not fetch or extract {} from {}\n  {text}\nThe cache entry was removed; check the channel and run the command again.",
            record.identifier, record.url
        ),
    )
    .with("url", record.url.to_string())
}

/// Removes a package's cache entries (extracted dir and archive).
pub fn purge(pkgs_dir: &std::path::Path, record: &RepoDataRecord) {
    let r = &record.package_record;
    let dir = pkgs_dir.join(format!(
        "{}-{}-{}",
        r.name.as_normalized(),
        r.version,
        r.build
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(pkgs_dir.join(record.identifier.to_string()));
}

/// Appends downloaded URLs to `urls.txt`, as conda does.
fn record_urls(pkgs_dir: &std::path::Path, records: &[RepoDataRecord]) -> Result<()> {
    use std::io::Write;
    let path = pkgs_dir.join("urls.txt");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    for r in records {
        let url = r.url.to_string();
        if !existing.lines().any(|l| l == url) {
            writeln!(file, "{url}")?;
        }
    }
    Ok(())
}

/// An archive of this file name already in a package cache directory (an installer's
/// `pkgs/`, or one copied there): like conda, use it instead of downloading the URL again.
pub(crate) fn local_archive(ctx: &Context, file_name: &str) -> Option<PathBuf> {
    ctx.pkgs_dirs
        .iter()
        .map(|d| d.join(file_name))
        .find(|p| p.is_file())
}

/// Extracts a local archive into the cache, checking it against the `@EXPLICIT` sha256, and
/// writes `info/repodata_record.json` (as conda does on extraction) so the installed record
/// names `url` and its channel, not the local file: the `known` record when there is one
/// (it keeps the channel's repodata patches), else one made from `info/index.json`.
pub(crate) async fn extract_local(
    cache: &rattler_cache::package_cache::PackageCache,
    key: rattler_cache::package_cache::CacheKey,
    archive: PathBuf,
    url: url::Url,
    sha256: Option<rattler_digest::Sha256Hash>,
    known: Option<RepoDataRecord>,
) -> std::result::Result<
    rattler_cache::package_cache::CacheMetadata,
    rattler_cache::package_cache::PackageCacheError,
> {
    let fetch = move |dest: PathBuf| {
        let archive = archive.clone();
        let url = url.clone();
        let known = known.clone();
        async move {
            let done = rattler_package_streaming::tokio::fs::extract(&archive, &dest)
                .await
                .map_err(std::io::Error::other)?;
            if sha256.is_some_and(|s| s != done.sha256) {
                return Err(std::io::Error::other(format!(
                    "{} does not match the sha256 it is listed with",
                    archive.display()
                )));
            }
            match known {
                Some(record) => {
                    let json = serde_json::to_vec_pretty(&record).map_err(std::io::Error::other)?;
                    std::fs::write(dest.join("info/repodata_record.json"), json)?;
                }
                None => write_repodata_record(&dest, &url, &done).map_err(std::io::Error::other)?,
            }
            Ok(Some(done.sha256))
        }
    };
    cache.get_or_fetch(key, fetch, None).await
}

fn write_repodata_record(
    dir: &Path,
    url: &url::Url,
    archive: &rattler_package_streaming::ExtractResult,
) -> Result<()> {
    let index = crate::transaction::read_index_json(dir)?;
    let record = rattler_conda_types::PackageRecord::from_index_json(
        index,
        Some(archive.total_size),
        Some(archive.sha256),
        Some(archive.md5),
    )
    .map_err(|e| CondaError::generic(format!("{url}: {e}")))?;
    let file_name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("");
    let record = RepoDataRecord {
        package_record: record,
        identifier: file_name
            .parse()
            .map_err(|_| CondaError::generic(format!("{url}: not a package file name")))?,
        url: url.clone(),
        channel: url.as_str().rsplitn(3, '/').nth(2).map(str::to_string),
    };
    let json = serde_json::to_vec_pretty(&record)
        .map_err(|e| CondaError::generic(format!("{url}: {e}")))?;
    std::fs::write(dir.join("info/repodata_record.json"), json)?;
    Ok(())
}
