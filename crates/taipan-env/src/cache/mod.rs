//! The package cache (`pkgs/`): archives fetched and verified against the channel's
//! checksums, unpacked with conda's safety checks, `urls.txt`, and per-entry locks so that
//! concurrent commands share one cache safely.
//!
//! - [`download`]: a verified local copy of an archive (sha256, md5 and size).
//! - [`extract`]: unpacking it member by member, bounded by what it declares.
//! - [`lock`]: shared and exclusive holds on one entry, across processes.
//!
//! rattler's [`PackageCache`] keeps the entries (validation, revisions, the temporary
//! directory an entry is unpacked into before it is renamed into place).

use crate::error::ErrorKind;
pub mod download;
pub mod extract;
pub mod lock;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::stream::{self, StreamExt, TryStreamExt};
use rattler_cache::package_cache::{CacheKey, PackageCache};
use rattler_cache::validation::ValidationMode;
use rattler_conda_types::RepoDataRecord;

use crate::context::Context;
use crate::error::{CondaError, Result};
use download::Expected;
use extract::{Checks, Safety};
use lock::EntryLock;

/// The layered cache: every `pkgs_dirs` entry is read, the first writable one written. One
/// instance per context, so entries are validated at most once per process.
pub fn open(ctx: &Context) -> Result<PackageCache> {
    if let Some(cache) = ctx.package_cache.get() {
        return Ok(cache.clone());
    }
    let cache = open_layers(ctx)?;
    Ok(ctx.package_cache.get_or_init(|| cache).clone())
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

/// Removes what interrupted downloads and extractions left in the writable cache.
/// (Only an existing cache is looked at: nothing is created.)
pub fn sweep(ctx: &Context) {
    let writable = ctx
        .pkgs_dirs
        .iter()
        .find(|d| d.is_dir() && crate::context::pkgs_dir_writable(d));
    if let Some(dir) = writable {
        lock::sweep(dir);
    }
}

/// A package unpacked in the cache, held shared for as long as this lives: no other
/// process replaces or purges it meanwhile.
#[derive(Debug)]
pub struct Entry {
    /// The extracted package.
    pub dir: PathBuf,
    lock: Mutex<EntryLock>,
    /// The archive kept next to it (a download), removed with it on purge.
    archive: Option<PathBuf>,
}

impl Entry {
    /// Removes the entry after it proved unusable (a damaged or hostile package), if no
    /// other process is using it; otherwise the next one to take it exclusively checks it.
    pub fn purge(&self) {
        let Ok(mut lock) = self.lock.lock() else {
            return;
        };
        if !lock.try_exclusive() {
            tracing::info!(
                "{} is in use by another process; not removed",
                self.dir.display()
            );
            return;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(archive) = &self.archive {
            let _ = std::fs::remove_file(archive);
        }
    }
}

/// The packages of a transaction in the cache: record URL → entry, and the warnings
/// `safety_checks: warn` gave while unpacking them.
#[derive(Debug, Default)]
pub struct Fetched {
    /// The entries, by record URL.
    pub entries: HashMap<url::Url, Entry>,
    /// `SafetyError` warnings.
    pub warnings: Vec<String>,
}

impl Fetched {
    /// The extracted directory of a record.
    pub fn dir(&self, url: &url::Url) -> Option<&Path> {
        self.entries.get(url).map(|e| e.dir.as_path())
    }
}

/// One thing to get into the cache.
#[derive(Clone)]
pub(crate) struct Item {
    /// rattler's key (name, version, build, sha256).
    pub key: CacheKey,
    /// `<name>-<version>-<build>`: the entry's directory name.
    pub entry: String,
    pub url: url::Url,
    pub expected: Expected,
    /// The record to store as `info/repodata_record.json` (none for `@EXPLICIT` URLs:
    /// one is made from `info/index.json`).
    pub record: Option<RepoDataRecord>,
}

impl Item {
    /// The item of a solved record.
    pub fn of(record: &RepoDataRecord) -> Self {
        let p = &record.package_record;
        Self {
            key: CacheKey::from(p),
            entry: format!("{}-{}-{}", p.name.as_normalized(), p.version, p.build),
            url: record.url.clone(),
            expected: Expected {
                file_name: record.identifier.to_string(),
                label: record.identifier.identifier.to_string(),
                sha256: p.sha256,
                md5: p.md5,
                size: p.size,
            },
            record: Some(record.clone()),
        }
    }

    /// The item of an installer's payload archive. Its sha256 and md5 were both computed
    /// from the archive when the installer was built, so the sha256 (and size) alone tell a
    /// damaged archive; an md5 pass over every archive would add nothing but time.
    pub fn of_payload(record: &RepoDataRecord) -> Self {
        let mut item = Self::of(record);
        if item.expected.sha256.is_some() {
            item.expected.md5 = None;
        }
        item
    }
}

/// What rattler's cache awaits to fill an entry: the archive's sha256.
type UnpackFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Option<rattler_digest::Sha256Hash>>> + Send>,
>;

/// Everything fetching needs, cheap to clone into tasks.
#[derive(Clone)]
pub(crate) struct Fetcher {
    cache: PackageCache,
    pkgs_dir: PathBuf,
    pkgs_dirs: Vec<PathBuf>,
    remote: download::Remote,
    checks: Checks,
    /// Use only archives already in a cache directory (an installer's payload), never
    /// their URLs.
    local_only: bool,
    /// `offline`: `file://` URLs and cached archives only, as conda refuses remote connections.
    offline: bool,
}

impl Fetcher {
    pub fn new(ctx: &Context) -> Result<Self> {
        Ok(Self {
            cache: open(ctx)?,
            pkgs_dir: ctx.writable_pkgs_dir()?,
            pkgs_dirs: ctx.pkgs_dirs.clone(),
            remote: download::Remote {
                client: crate::net::client(ctx)?,
                policy: crate::net::retry_policy(ctx),
                read_timeout: crate::net::read_timeout(ctx),
            },
            checks: checks(ctx),
            local_only: false,
            offline: ctx.config.offline,
        })
    }

    /// The writable cache directory.
    pub fn pkgs_dir(&self) -> &Path {
        &self.pkgs_dir
    }

    /// Gets an item into the cache and holds it: an entry that is there and valid is used
    /// (under a shared hold); otherwise, holding it exclusively, the archive is fetched,
    /// verified and unpacked. Returns the entry and `safety_checks: warn` warnings.
    pub async fn get(&self, item: &Item) -> Result<(Entry, Vec<String>)> {
        let entry_dir = self.pkgs_dir.join(&item.entry);
        let (mut lock, valid) = EntryLock::usable_or_exclusive(&entry_dir, || self.valid(item))
            .await
            .map_err(|e| lock_error(&entry_dir, e))?;
        // Another process may have made the entry between the look and the exclusive hold.
        let valid = match valid {
            Some(dir) => Some(dir),
            None => self.valid(item).await,
        };
        if let Some(dir) = valid {
            lock.downgrade()
                .await
                .map_err(|e| lock_error(&entry_dir, e))?;
            let archive = self.kept_archive(&item.expected.file_name);
            return Ok((entry(dir, lock, archive), Vec::new()));
        }
        if let Some(actual) = md5_only_mismatch(item, &entry_dir) {
            // rattler's cache would take the entry as it is (its key check is the sha256).
            return Err(md5_mismatch(item, &actual));
        }
        lock::remove_leftovers(&self.pkgs_dir, &item.entry, &item.expected.file_name);
        let failure: Arc<Mutex<Option<CondaError>>> = Arc::default();
        let warnings: Arc<Mutex<Vec<String>>> = Arc::default();
        let fetched = self
            .cache
            .get_or_fetch(
                item.key.clone(),
                self.unpack_into(item.clone(), failure.clone(), warnings.clone()),
                None,
            )
            .await;
        let dir = match fetched {
            Ok(meta) => meta.path().to_path_buf(),
            Err(e) => {
                let taken = failure.lock().ok().and_then(|mut f| f.take());
                return Err(taken.unwrap_or_else(|| {
                    CondaError::new(
                        ErrorKind::CondaError,
                        format!(
                            "cannot put {} into the package cache {}:\n  {}",
                            item.expected.label,
                            self.pkgs_dir.display(),
                            crate::transaction::error_chain(&e)
                        ),
                    )
                }));
            }
        };
        lock.downgrade()
            .await
            .map_err(|e| lock_error(&entry_dir, e))?;
        let warnings = warnings.lock().map(|w| w.clone()).unwrap_or_default();
        let archive = self.kept_archive(&item.expected.file_name);
        Ok((entry(dir, lock, archive), warnings))
    }

    /// An entry of this key that is in a cache layer and valid. An md5 the caller expects
    /// (an `@EXPLICIT` line's `#md5`) must also be the entry's recorded md5: rattler's key
    /// check compares the sha256 only, and a line without one would otherwise take any
    /// cached build of that name.
    async fn valid(&self, item: &Item) -> Option<PathBuf> {
        for layer in self.cache.layers() {
            let dir = layer.path().join(&item.entry);
            if !dir.is_dir() || md5_only_mismatch(item, &dir).is_some() {
                continue;
            }
            if let Ok(meta) = layer.try_validate(&item.key).await {
                return Some(meta.path().to_path_buf());
            }
        }
        None
    }

    fn kept_archive(&self, file_name: &str) -> Option<PathBuf> {
        let path = self.pkgs_dir.join(file_name);
        path.is_file().then_some(path)
    }

    /// The fetch step rattler's cache runs into a fresh temporary directory: a verified
    /// archive (one already in a cache directory, else the URL), unpacked with the checks.
    fn unpack_into(
        &self,
        item: Item,
        failure: Arc<Mutex<Option<CondaError>>>,
        warnings: Arc<Mutex<Vec<String>>>,
    ) -> impl Fn(PathBuf) -> UnpackFuture + Send + 'static {
        let this = self.clone();
        move |dest: PathBuf| {
            let (this, item, failure, warnings) = (
                this.clone(),
                item.clone(),
                failure.clone(),
                warnings.clone(),
            );
            Box::pin(async move {
                let result = this.unpack(&item, &dest).await;
                match result {
                    Ok((sha256, w)) => {
                        if let Ok(mut all) = warnings.lock() {
                            all.extend(w);
                        }
                        Ok(Some(sha256))
                    }
                    Err(e) => {
                        if let Ok(mut slot) = failure.lock() {
                            *slot = Some(e.clone());
                        }
                        Err(e)
                    }
                }
            })
        }
    }

    async fn unpack(
        &self,
        item: &Item,
        dest: &Path,
    ) -> Result<(rattler_digest::Sha256Hash, Vec<String>)> {
        let verified = match self.local_archive(item).await {
            Some(v) => v,
            None if self.local_only => return Err(self.damaged_payload(item)),
            None if self.offline && item.url.scheme() != "file" => return Err(offline_error(item)),
            None => {
                download::fetch(&item.url, &item.expected, &self.pkgs_dir, &self.remote).await?
            }
        };
        crate::crashpoint::hit("extract");
        let (archive, dest_owned, checks) =
            (verified.path.clone(), dest.to_path_buf(), self.checks);
        let unpacked =
            tokio::task::spawn_blocking(move || extract::extract(&archive, &dest_owned, checks))
                .await
                .map_err(|e| {
                    CondaError::generic(format!("unpacking {} failed: {e}", item.expected.label))
                })?;
        let warnings = unpacked.map_err(|f| self.unpack_error(item, &verified.path, f))?;
        write_record(dest, item, &verified)?;
        let warnings = warnings
            .into_iter()
            .map(|w| {
                format!(
                    "SafetyError: The package for {} located at {}\nappears to be corrupted. {w}",
                    item.expected.label,
                    self.pkgs_dir.join(&item.entry).display()
                )
            })
            .collect();
        Ok((verified.sha256, warnings))
    }

    /// An archive of this file already in a package cache directory (kept by an earlier
    /// download, or an installer's payload), if it matches the channel's checksums.
    async fn local_archive(&self, item: &Item) -> Option<download::Verified> {
        let path = self
            .pkgs_dirs
            .iter()
            .map(|d| d.join(&item.expected.file_name))
            .find(|p| p.is_file())?;
        let (p, u, w) = (path.clone(), item.url.clone(), item.expected.clone());
        match tokio::task::spawn_blocking(move || download::verify_file(&p, &u, &w)).await {
            Ok(Ok(v)) => Some(v),
            _ => {
                if path.starts_with(&self.pkgs_dir) {
                    let _ = std::fs::remove_file(&path);
                }
                None
            }
        }
    }

    /// An installer's package that is missing from its payload or does not match the
    /// checksum its lock gives.
    fn damaged_payload(&self, item: &Item) -> CondaError {
        CondaError::new(
            ErrorKind::CondaVerificationError,
            format!(
                "cannot extract {}: the installer's copy of {} in {} is missing or does not match the sha256 of its lock.\nThe installer is damaged; download it again.",
                item.expected.file_name,
                item.expected.label,
                self.pkgs_dir.display()
            ),
        )
    }

    fn unpack_error(&self, item: &Item, archive: &Path, failure: extract::Failure) -> CondaError {
        // Only an archive taipan downloaded is removed; a channel's own file stays.
        if archive.starts_with(&self.pkgs_dir) {
            let _ = std::fs::remove_file(archive);
        }
        let location = self.pkgs_dir.join(&item.entry);
        match failure {
            extract::Failure::Refused(why) => CondaError::new(
                ErrorKind::CondaVerificationError,
                format!(
                    "The package for {} located at {}\nappears to be corrupted or unsafe: {why}\nThe package was not used and nothing of it was kept. Get an intact copy of the package.",
                    item.expected.label,
                    location.display()
                ),
            ),
            extract::Failure::Safety(why) => CondaError::new(
                ErrorKind::SafetyError,
                format!(
                    "The package for {} located at {}\nappears to be corrupted. {why}\n(`safety_checks: enabled`; nothing of it was kept.)",
                    item.expected.label,
                    location.display()
                ),
            ),
            extract::Failure::Io(e) => CondaError::new(
                ErrorKind::CondaError,
                format!(
                    "cannot unpack {} into {}: {e}\nNothing of it was kept. Free some space or check the permissions of the package cache.",
                    item.expected.label,
                    self.pkgs_dir.display()
                ),
            ),
        }
    }
}

/// A package that would have to be downloaded while offline.
fn offline_error(item: &Item) -> CondaError {
    CondaError::new(
        ErrorKind::OfflineError,
        format!(
            "{} is not in the package cache, and offline mode forbids downloading it from {}.\nRun the command without --offline (and with `offline: false` in .condarc) once the channel is reachable, or ask for a version that is already cached.",
            item.expected.label, item.url
        ),
    )
}

fn entry(dir: PathBuf, lock: EntryLock, archive: Option<PathBuf>) -> Entry {
    Entry {
        dir,
        lock: Mutex::new(lock),
        archive,
    }
}

fn lock_error(entry_dir: &Path, e: std::io::Error) -> CondaError {
    CondaError::new(
        ErrorKind::CondaError,
        format!(
            "cannot lock the package cache entry {}: {e}\n  Another conda command may be using it; try again when it has finished.",
            entry_dir.display()
        ),
    )
}

/// `safety_checks` and `extra_safety_checks` from the configuration.
fn checks(ctx: &Context) -> Checks {
    Checks {
        safety: match ctx.config.safety_checks {
            taipan_config::SafetyChecks::Disabled => Safety::Disabled,
            taipan_config::SafetyChecks::Warn => Safety::Warn,
            taipan_config::SafetyChecks::Enabled => Safety::Enabled,
        },
        extra: ctx.config.extra_safety_checks,
    }
}

/// Writes `info/repodata_record.json`, as conda does on extraction: the solved record when
/// there is one (it keeps the channel's repodata patches), else one made from
/// `info/index.json` and the archive's digests.
fn write_record(dir: &Path, item: &Item, verified: &download::Verified) -> Result<()> {
    let record = match &item.record {
        Some(r) => r.clone(),
        None => record_from_index(dir, &item.url, verified)?,
    };
    let json = serde_json::to_vec_pretty(&record)
        .map_err(|e| CondaError::generic(format!("{}: {e}", item.url)))?;
    std::fs::write(dir.join("info/repodata_record.json"), json)?;
    Ok(())
}

fn record_from_index(
    dir: &Path,
    url: &url::Url,
    verified: &download::Verified,
) -> Result<RepoDataRecord> {
    let index = crate::transaction::read_index_json(dir)?;
    let (sha256, md5, size) = extract::digest_file(&verified.path)?;
    let record = rattler_conda_types::PackageRecord::from_index_json(
        index,
        Some(size),
        Some(sha256),
        Some(md5),
    )
    .map_err(|e| CondaError::generic(format!("{url}: {e}")))?;
    let file_name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("");
    Ok(RepoDataRecord {
        package_record: record,
        identifier: file_name
            .parse()
            .map_err(|_| CondaError::generic(format!("{url}: not a package file name")))?,
        url: url.clone(),
        channel: url.as_str().rsplitn(3, '/').nth(2).map(str::to_string),
    })
}

/// Makes sure every record is in the cache and held; returns them by URL.
pub async fn fetch_all(
    ctx: &Context,
    records: &[RepoDataRecord],
    reporter: &dyn crate::reporter::Reporter,
) -> Result<Fetched> {
    if records.is_empty() {
        return Ok(Fetched::default());
    }
    let fetcher = Fetcher::new(ctx)?;
    let results: Vec<(url::Url, Entry, Vec<String>)> = stream::iter(records.iter().cloned())
        .map(|record| {
            let fetcher = fetcher.clone();
            async move {
                reporter.download_start(&record);
                let (entry, warnings) = fetcher.get(&Item::of(&record)).await?;
                reporter.download_done(&record);
                Ok::<_, CondaError>((record.url.clone(), entry, warnings))
            }
        })
        .buffer_unordered(fetch_threads(ctx))
        .try_collect()
        .await?;
    record_urls(fetcher.pkgs_dir(), records)?;
    let mut fetched = Fetched::default();
    for (url, entry, warnings) in results {
        fetched.entries.insert(url, entry);
        fetched.warnings.extend(warnings);
    }
    Ok(fetched)
}

/// Starts getting every record of an installer's payload into the cache in the background
/// (from the archives the payload put in the package cache, never from their URLs), at most
/// `fetch_threads` at a time and in the records' order. The transaction takes
/// each package as it is ready. `discard`: delete each extracted directory once its
/// package is linked.
pub fn fetch_in_background(
    ctx: &Context,
    records: &[RepoDataRecord],
    discard: bool,
) -> Result<crate::transaction::Packages<'static>> {
    let fetcher = Fetcher {
        local_only: true,
        ..Fetcher::new(ctx)?
    };
    let permits = Arc::new(tokio::sync::Semaphore::new(fetch_threads(ctx)));
    let mut tasks = HashMap::new();
    for record in records.iter().cloned() {
        let (fetcher, permits) = (fetcher.clone(), permits.clone());
        let url = record.url.clone();
        let task = tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            fetcher.get(&Item::of_payload(&record)).await
        });
        tasks.insert(url, task);
    }
    record_urls(fetcher.pkgs_dir(), records)?;
    Ok(crate::transaction::Packages::pending(
        tasks,
        fetcher.pkgs_dir().to_path_buf(),
        discard,
    ))
}

/// Gets one `@EXPLICIT` URL into the cache (its `#hash` is a sha256 or an md5).
pub(crate) async fn fetch_explicit(
    ctx: &Context,
    url: &url::Url,
    sha256: Option<rattler_digest::Sha256Hash>,
    md5: Option<rattler_digest::Md5Hash>,
) -> Result<(Entry, Vec<String>)> {
    let file_name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("")
        .to_string();
    let archive: rattler_conda_types::package::CondaArchiveIdentifier =
        file_name.parse().map_err(|_| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!("'{url}' does not name a .conda or .tar.bz2 package file"),
            )
        })?;
    let entry = archive.identifier.to_string();
    let item = Item {
        key: CacheKey::from(archive)
            .with_opt_sha256(sha256)
            .with_opt_md5(md5),
        entry,
        url: url.clone(),
        expected: Expected {
            label: file_name
                .trim_end_matches(".conda")
                .trim_end_matches(".tar.bz2")
                .to_string(),
            file_name,
            sha256,
            md5,
            size: None,
        },
        record: None,
    };
    Fetcher::new(ctx)?.get(&item).await
}

fn fetch_threads(ctx: &Context) -> usize {
    if ctx.config.fetch_threads == 0 {
        5
    } else {
        ctx.config.fetch_threads as usize
    }
}

/// Appends downloaded URLs to `urls.txt`, as conda does. Concurrent commands append under
/// a lock on the file, each line in one write.
fn record_urls(pkgs_dir: &Path, records: &[RepoDataRecord]) -> Result<()> {
    use std::io::Write;
    let path = pkgs_dir.join("urls.txt");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(&path)?;
    file.lock()?;
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let mut lines = String::new();
    for r in records {
        let url = r.url.to_string();
        if !existing.lines().any(|l| l == url) && !lines.lines().any(|l| l == url) {
            lines.push_str(&url);
            lines.push('\n');
        }
    }
    file.write_all(lines.as_bytes())?;
    let _ = file.unlock();
    Ok(())
}

/// For an item known by its md5 only (an `@EXPLICIT` line with `#md5`; with a sha256 the
/// cache's own key check decides), the md5 the entry records when it is another.
fn md5_only_mismatch(item: &Item, dir: &Path) -> Option<String> {
    if item.expected.sha256.is_some() {
        return None;
    }
    recorded_md5_differs(dir, item.expected.md5)
}

/// The md5 a cache entry records (`info/repodata_record.json`) when it is not `expected`.
fn recorded_md5_differs(dir: &Path, expected: Option<rattler_digest::Md5Hash>) -> Option<String> {
    let expected = expected?;
    let recorded = std::fs::read_to_string(dir.join("info/repodata_record.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<RepoDataRecord>(&t).ok())
        .and_then(|r| r.package_record.md5)?;
    (recorded != expected).then(|| crate::hex(&recorded))
}

/// conda's `ChecksumMismatchError` for a cached package whose md5 is not the one asked for.
fn md5_mismatch(item: &Item, actual: &str) -> CondaError {
    let expected = item
        .expected
        .md5
        .map(|m| crate::hex(&m))
        .unwrap_or_default();
    CondaError::new(
        ErrorKind::ChecksumMismatchError,
        format!(
            "Conda detected a mismatch between the expected content and downloaded content\nfor url '{}'.\n  expected md5: {expected}\n  actual md5: {actual}\nThe package in the cache is not the one asked for; nothing was changed.",
            item.url
        ),
    )
}
