//! A persistent index over repodata files, so warm runs skip re-scanning them: a local
//! (`file://`) channel's `repodata.json`, and the gateway's cached copy of a remote one
//! (`crate::remote`).
//!
//! rattler's sparse repodata scans a whole `repodata.json` to find where each package's records
//! are, on every run: 2 ms for a 3 MB file, 300 ms for a conda-forge-sized one. Here that scan
//! happens once; its result (record name, the record's byte range in the file and its file
//! name) is kept in `<pkgs>/cache/taipan-index/` keyed by the repodata's path, size and
//! mtime. A run memory-maps the repodata and the index, finds a name by binary search and
//! parses only the records it needs.
//!
//! Index file layout (little endian): magic `TPIDX002`, repodata size `u64`, mtime seconds
//! `i64`, mtime nanoseconds `u32`, entry count `u32`, `info.base_url` length `u32`; then
//! 32-byte entries sorted by name (`name_off u32, name_len u16, key_len u16, key_off u64,
//! start u64, len u32, is_conda u8, pad [u8; 3]`: the record's file name and JSON value as byte
//! ranges of the repodata); then the names; then `info.base_url` (CEP-15), if any.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rattler_conda_types::package::DistArchiveIdentifier;
use rattler_conda_types::{Channel, PackageName, PackageRecord, RepoDataRecord, Subdir};
use rattler_repodata_gateway::{GatewayError, RepoDataSource};
use rustc_hash::FxHashMap;

mod json_walk;
mod scan;
use scan::{scan, Located};

const MAGIC: &[u8; 8] = b"TPIDX002";
const HEADER: usize = 8 + 8 + 8 + 4 + 4 + 4;
const ENTRY: usize = 32;
/// Names with at least this many entries are parsed on the parsing pool (below it, handing the
/// work to another thread costs about what parsing takes; 8 and 16 measured alike except on
/// channels of small names such as `conda-r`, where 8 is 4% faster).
const PARSE_ON_POOL: usize = 8;
/// Names with at least this many builds are parsed in parallel chunks of half as many.
const SPLIT_NAME: usize = 64;

/// One subdir's repodata, memory-mapped, with its index.
pub(crate) struct SubdirIndex {
    repodata: memmap2::Mmap,
    index: memmap2::Mmap,
    base_url: url::Url,
}

impl SubdirIndex {
    fn count(&self) -> usize {
        u32::from_le_bytes(self.index[28..32].try_into().unwrap_or_default()) as usize
    }

    /// `info.base_url` as stored at the end of the index.
    fn declared_base_url(&self) -> Option<&str> {
        let len = u32::from_le_bytes(self.index[32..36].try_into().ok()?) as usize;
        if len == 0 {
            return None;
        }
        std::str::from_utf8(self.index.get(self.index.len() - len..)?).ok()
    }

    fn entry(&self, i: usize) -> Option<(&str, usize, usize, usize, usize, bool)> {
        let e = self
            .index
            .get(HEADER + i * ENTRY..HEADER + (i + 1) * ENTRY)?;
        let name_off = u32::from_le_bytes(e[0..4].try_into().ok()?) as usize;
        let name_len = u16::from_le_bytes(e[4..6].try_into().ok()?) as usize;
        let key_len = u16::from_le_bytes(e[6..8].try_into().ok()?) as usize;
        let key_off = u64::from_le_bytes(e[8..16].try_into().ok()?) as usize;
        let start = u64::from_le_bytes(e[16..24].try_into().ok()?) as usize;
        let len = u32::from_le_bytes(e[24..28].try_into().ok()?) as usize;
        let conda = e[28] == 1;
        let names = HEADER + self.count() * ENTRY;
        let name = std::str::from_utf8(
            self.index
                .get(names + name_off..names + name_off + name_len)?,
        )
        .ok()?;
        Some((name, key_off, key_len, start, len, conda))
    }

    /// The index range of entries named `name` (entries are sorted by name).
    fn range(&self, name: &str) -> std::ops::Range<usize> {
        let n = self.count();
        let lower = partition(n, |i| self.entry(i).is_some_and(|e| e.0 < name));
        let upper = partition(n, |i| self.entry(i).is_some_and(|e| e.0 <= name));
        lower..upper
    }

    fn records(&self, name: &str, channel: &str) -> Result<Vec<Arc<RepoDataRecord>>, GatewayError> {
        let chosen = self.chosen(name)?;
        let parse = |(key, json): &(&str, &[u8])| self.record(key, json, channel).map(Arc::new);
        // Outside the parsing pool (`on_pool`) a parallel loop would start rayon's global one.
        if chosen.len() < SPLIT_NAME || rayon::current_thread_index().is_none() {
            return chosen.iter().map(parse).collect();
        }
        // A name with hundreds of builds (numpy, python) is often the one the gateway waits
        // on; its records are parsed in chunks over the pool, and come back in order.
        use rayon::prelude::*;
        chosen
            .par_iter()
            .with_min_len(SPLIT_NAME / 2)
            .map(parse)
            .collect()
    }

    /// The entries of `name` to parse, as (file name, JSON value), in index order: one per
    /// build. Where a build is listed in both formats conda uses the `.conda` one; the index
    /// puts a name's `.conda` entries first, so the `.tar.bz2` one is simply skipped.
    fn chosen(&self, name: &str) -> Result<Vec<(&str, &[u8])>, GatewayError> {
        let range = self.range(name);
        // Entries of one name are few (a handful to a few thousand): a plain hash of the
        // stem (FxHash, sized once) instead of SipHash and repeated growth.
        let mut by_stem: FxHashMap<&str, usize> =
            FxHashMap::with_capacity_and_hasher(range.len(), Default::default());
        let mut chosen: Vec<(&str, &[u8])> = Vec::with_capacity(range.len());
        for i in range {
            let Some((_, key_off, key_len, start, len, conda)) = self.entry(i) else {
                continue;
            };
            let (Some(key), Some(json)) = (
                self.repodata.get(key_off..key_off + key_len),
                self.repodata.get(start..start + len),
            ) else {
                return Err(bad("its index points past the end of the file"));
            };
            let key = std::str::from_utf8(key).map_err(bad)?;
            let stem = key
                .strip_suffix(".conda")
                .or_else(|| key.strip_suffix(".tar.bz2"))
                .unwrap_or(key);
            let seen = by_stem.get(stem).copied();
            if !conda && seen.is_some() {
                continue;
            }
            match seen {
                Some(at) => chosen[at] = (key, json),
                None => {
                    by_stem.insert(stem, chosen.len());
                    chosen.push((key, json));
                }
            }
        }
        Ok(chosen)
    }

    fn record(
        &self,
        key: &str,
        json: &[u8],
        channel: &str,
    ) -> Result<RepoDataRecord, GatewayError> {
        // One UTF-8 check of the record, not one per string inside it (serde_json's slice
        // reader checks each string; its str reader trusts the text it was given).
        let text = std::str::from_utf8(json).map_err(bad)?;
        let package_record: PackageRecord = serde_json::from_str(text).map_err(bad)?;
        let identifier: DistArchiveIdentifier = key.parse().map_err(|_| {
            GatewayError::Generic(format!("'{key}' in repodata is not a package file name"))
        })?;
        let url = record_url(&self.base_url, key).map_err(bad)?;
        Ok(RepoDataRecord {
            package_record,
            identifier,
            url,
            channel: Some(channel.to_string()),
        })
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = (0..self.count())
            .filter_map(|i| self.entry(i).map(|e| e.0.to_string()))
            .collect();
        names.dedup();
        names
    }
}

/// The URL of the package file `key` under `base`. `Url::join` parses the whole URL again
/// for every record (4% of a warm solve); a plain file name under a base ending in `/` is only
/// appended, which gives the same URL. Anything else goes through `join`.
fn record_url(base: &url::Url, key: &str) -> Result<url::Url, url::ParseError> {
    match append_plain(base, key) {
        Some(url) => Ok(url),
        None => base.join(key),
    }
}

/// `base` with the file name `key` appended, when both are plain enough that this is what
/// parsing `base` + `key` (or joining them) gives: `key` of letters, digits and `._-+!~=,`
/// only, `base` ending in `/` with no query or fragment.
pub(crate) fn append_plain(base: &url::Url, key: &str) -> Option<url::Url> {
    let plain = !key.is_empty()
        && key != "."
        && key != ".."
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+!~=,".contains(&b));
    let simple_base =
        base.path().ends_with('/') && base.query().is_none() && base.fragment().is_none();
    if !(plain && simple_base) {
        return None;
    }
    let mut url = base.clone();
    url.path_segments_mut().ok()?.pop_if_empty().push(key);
    Some(url)
}

fn bad(e: impl std::fmt::Display) -> GatewayError {
    GatewayError::Generic(format!("malformed repodata: {e}"))
}

/// First index in `0..n` for which `pred` is false (pred must be monotone).
fn partition(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// A channel served through persistent indexes: a local one opens its subdirs on demand, a
/// remote one comes with the subdirs already fetched and opened.
pub struct LocalChannel {
    channel: Channel,
    root: PathBuf,
    cache_dir: PathBuf,
    subdirs: Mutex<HashMap<Subdir, Option<Arc<SubdirIndex>>>>,
    /// Remote: only the subdirs given exist.
    preloaded: bool,
}

impl LocalChannel {
    /// A source for `channel` (a `file://` channel), caching indexes under `cache_dir`.
    pub fn new(channel: Channel, cache_dir: PathBuf) -> Option<Self> {
        let root = channel.base_url.url().to_file_path().ok()?;
        Some(Self {
            channel,
            root,
            cache_dir,
            subdirs: Mutex::new(HashMap::new()),
            preloaded: false,
        })
    }

    /// A remote channel whose subdirs were fetched and opened already (`None`: the server
    /// has no such subdir).
    pub(crate) fn preloaded(
        channel: Channel,
        subdirs: HashMap<Subdir, Option<Arc<SubdirIndex>>>,
    ) -> Self {
        Self {
            channel,
            root: PathBuf::new(),
            cache_dir: PathBuf::new(),
            subdirs: Mutex::new(subdirs),
            preloaded: true,
        }
    }

    fn subdir(&self, platform: Subdir) -> Result<Option<Arc<SubdirIndex>>, GatewayError> {
        let mut map = self
            .subdirs
            .lock()
            .map_err(|_| GatewayError::Generic("index lock poisoned".into()))?;
        if let Some(found) = map.get(&platform) {
            return Ok(found.clone());
        }
        if self.preloaded {
            return Ok(None);
        }
        if !self.root.is_dir() {
            return Err(GatewayError::Generic(format!(
                "channel {} does not exist (no directory {})",
                self.channel.base_url.url(),
                self.root.display()
            )));
        }
        let path = self.root.join(platform.as_str()).join("repodata.json");
        let loaded = if path.is_file() {
            Some(Arc::new(open(
                &path,
                &self.cache_dir,
                self.channel.base_url.url(),
                platform,
            )?))
        } else {
            None
        };
        map.insert(platform, loaded.clone());
        Ok(loaded)
    }
}

#[async_trait::async_trait]
impl RepoDataSource for LocalChannel {
    async fn fetch_package_records(
        &self,
        platform: Subdir,
        name: &PackageName,
    ) -> Result<Vec<Arc<RepoDataRecord>>, GatewayError> {
        let Some(subdir) = self.subdir(platform)? else {
            return Ok(Vec::new());
        };
        // As the gateway names a record's channel: its URL without a token.
        let channel = {
            use rattler_redaction::Redact;
            self.channel.base_url.url().clone().redact().to_string()
        };
        let name = name.as_normalized();
        if subdir.range(name).len() < PARSE_ON_POOL {
            return subdir.records(name, &channel);
        }
        let name = name.to_string();
        on_pool(move || subdir.records(&name, &channel)).await
    }

    fn package_names(&self, platform: Subdir) -> Vec<String> {
        self.subdir(platform)
            .ok()
            .flatten()
            .map(|s| s.names())
            .unwrap_or_default()
    }
}

/// Runs `parse` on the parsing pool and waits for it. The gateway polls every pending fetch on
/// one thread, so parsing records (after the solver, a warm solve's largest cost) used one
/// core; parsed on the pool, the fetches pending at once share both. The order fetches finish
/// in then varies from run to run; `repodata::Index` gives the solver one order whatever it was.
pub(crate) async fn on_pool<T: Send + 'static>(
    parse: impl FnOnce() -> Result<T, GatewayError> + Send + 'static,
) -> Result<T, GatewayError> {
    let Some(pool) = parse_pool() else {
        return parse();
    };
    let (sender, parsed) = tokio::sync::oneshot::channel();
    pool.spawn(move || {
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)).unwrap_or_else(|_| {
                Err(GatewayError::Generic(
                    "reading repodata records failed unexpectedly (an internal error)".into(),
                ))
            });
        let _ = sender.send(result);
    });
    parsed
        .await
        .map_err(|_| GatewayError::Generic("a repodata parsing task stopped unexpectedly".into()))?
}

/// The threads records are parsed on, one per core. rayon's global pool would panic where no
/// thread can be started (a container at its process limit); this one is built once and, if
/// that fails, parsing stays on the calling thread.
fn parse_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("taipan-parse-{i}"))
            .build()
            .map_err(|e| tracing::debug!("records parsed on one thread: {e}"))
            .ok()
    })
    .as_ref()
}

/// Maps `path` (a repodata.json) and its index, building the index when it is missing or
/// was built from another version of the file (size or mtime differ).
pub(crate) fn open(
    path: &Path,
    cache_dir: &Path,
    channel: &url::Url,
    platform: Subdir,
) -> Result<SubdirIndex, GatewayError> {
    let io =
        |e: std::io::Error| GatewayError::IoError(format!("cannot read {}", path.display()), e);
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    // SAFETY: repodata files are replaced, not modified in place; a stale map only risks a
    // parse error, which is reported.
    let repodata = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
    let stamp = Stamp::of(&meta);
    let index_path = cache_dir
        .join("taipan-index")
        .join(format!("{}.idx", path_key(path)));
    let index = match map_index(&index_path, &stamp) {
        Some(index) => index,
        None => {
            let (entries, arena, declared) = scan(&repodata)?;
            let bytes = encode(&stamp, entries, &arena, declared.as_deref());
            write_cache_file(&index_path, &bytes);
            memory(&bytes).map_err(io)?
        }
    };
    let mut subdir = SubdirIndex {
        repodata,
        index,
        base_url: channel.clone(),
    };
    subdir.base_url = base_url(channel, platform, subdir.declared_base_url());
    Ok(subdir)
}

/// Size and mtime of the repodata the index was built from.
struct Stamp {
    size: u64,
    secs: i64,
    nanos: u32,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self {
            size: meta.len(),
            secs: meta.mtime(),
            nanos: meta.mtime_nsec() as u32,
        }
    }
    fn matches(&self, header: &[u8]) -> bool {
        header.len() >= HEADER
            && &header[0..8] == MAGIC
            && header[8..16] == self.size.to_le_bytes()
            && header[16..24] == self.secs.to_le_bytes()
            && header[24..28] == self.nanos.to_le_bytes()
    }
}

fn path_key(path: &Path) -> String {
    let digest = rattler_digest::compute_bytes_digest::<rattler_digest::Sha256>(
        path.as_os_str().as_encoded_bytes(),
    );
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn map_index(path: &Path, stamp: &Stamp) -> Option<memmap2::Mmap> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: index files are written to a temp file and renamed into place, never modified.
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    stamp.matches(&map).then_some(map)
}

pub(crate) fn memory(bytes: &[u8]) -> std::io::Result<memmap2::Mmap> {
    let mut anon = memmap2::MmapMut::map_anon(bytes.len().max(1))?;
    anon[..bytes.len()].copy_from_slice(bytes);
    anon.make_read_only()
}

/// Writes a cache file whole (temp file, then rename: readers never see a torn one), with
/// the umask's permissions.
pub(crate) fn write_cache_file(path: &Path, bytes: &[u8]) {
    // A cache: failing to write it only costs the next run a scan.
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
        if tmp.write_all(bytes).is_ok() && tmp.persist(path).is_ok() {
            crate::fsutil::follow_umask(path);
        }
    }
}

fn encode(stamp: &Stamp, entries: Vec<Located>, arena: &str, base_url: Option<&str>) -> Vec<u8> {
    let mut names = Vec::new();
    let mut name_offsets: HashMap<&str, u32> = HashMap::new();
    let mut out = Vec::with_capacity(HEADER + entries.len() * ENTRY);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&stamp.size.to_le_bytes());
    out.extend_from_slice(&stamp.secs.to_le_bytes());
    out.extend_from_slice(&stamp.nanos.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    out.extend_from_slice(&(base_url.map_or(0, str::len) as u32).to_le_bytes());
    for ((name_at, name_len), key_off, key_len, start, len, conda) in &entries {
        let name = &arena[*name_at as usize..(name_at + name_len) as usize];
        let off = *name_offsets.entry(name).or_insert_with(|| {
            let off = names.len() as u32;
            names.extend_from_slice(name.as_bytes());
            off
        });
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&(*key_len as u16).to_le_bytes());
        out.extend_from_slice(&(*key_off as u64).to_le_bytes());
        out.extend_from_slice(&(*start as u64).to_le_bytes());
        out.extend_from_slice(&(*len as u32).to_le_bytes());
        out.extend_from_slice(&[u8::from(*conda), 0, 0, 0]);
    }
    out.extend_from_slice(&names);
    out.extend_from_slice(base_url.unwrap_or("").as_bytes());
    out
}

/// `info.base_url` (CEP-15) if the repodata has one, else `<channel>/<subdir>/`.
fn base_url(channel: &url::Url, platform: Subdir, declared: Option<&str>) -> url::Url {
    let subdir_url = channel
        .join(&format!("{}/", platform.as_str()))
        .unwrap_or_else(|_| channel.clone());
    match declared {
        Some(b) => subdir_url
            .join(&format!("{}/", b.trim_end_matches('/')))
            .unwrap_or(subdir_url),
        None => subdir_url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_repodata(dir: &Path, packages: &[(&str, &str, &str)]) {
        let mut body = String::from("{\"info\":{\"subdir\":\"noarch\"},\"packages\":{");
        let mut conda = String::from("\"packages.conda\":{");
        let (mut first_t, mut first_c) = (true, true);
        for (file, name, version) in packages {
            let rec = format!("\"{file}\":{{\"name\":\"{name}\",\"version\":\"{version}\",\"build\":\"0\",\"build_number\":0,\"depends\":[],\"subdir\":\"noarch\"}}");
            let (buf, first) = if file.ends_with(".conda") {
                (&mut conda, &mut first_c)
            } else {
                (&mut body, &mut first_t)
            };
            if !*first {
                buf.push(',');
            }
            *first = false;
            buf.push_str(&rec);
        }
        body.push_str("},");
        body.push_str(&conda);
        body.push_str("}}");
        std::fs::create_dir_all(dir.join("noarch")).unwrap();
        std::fs::write(dir.join("noarch/repodata.json"), body).unwrap();
    }

    fn lookup(chan: &Path, cache: &Path, name: &str) -> Vec<String> {
        let channel = Channel::try_from_directory(chan).unwrap();
        let local = LocalChannel::new(channel, cache.to_path_buf()).unwrap();
        let sub = local.subdir(Subdir::NoArch).unwrap().unwrap();
        let mut v: Vec<String> = sub
            .records(name, "c")
            .unwrap()
            .iter()
            .map(|r| r.identifier.to_string())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn record_urls_are_what_join_gives() {
        let bases = [
            "file:///srv/my%20chan/noarch/",
            "https://user:pw@host:8443/t/tk-1/conda-forge/linux-64/",
            "http://127.0.0.1:18777/x100-json/linux-64/",
            "https://mirror.example/pkgs?x=1",
            "https://mirror.example/pkgs/main/linux-64",
            "https://mirror.example/",
        ];
        let keys = [
            "numpy-1.26.4-py312h8753938_0.conda",
            "r-base-4.3.1-h0f8f1b5_2.tar.bz2",
            "libgcc-ng-13.2.0-h77fa898_7+cuda.conda",
            "a b%20c.conda",
            "ünïcode-1-0.conda",
            "..",
            "x?y#z.conda",
        ];
        for base in bases {
            let base = url::Url::parse(base).unwrap();
            for key in keys {
                assert_eq!(
                    record_url(&base, key).map(String::from),
                    base.join(key).map(String::from),
                    "{base} + {key}"
                );
            }
        }
    }

    #[test]
    fn finds_records_prefers_conda_and_reuses_then_invalidates_the_index() {
        let tmp = tempfile::tempdir().unwrap();
        let chan = tmp.path().join("chan");
        let cache = tmp.path().join("cache");
        write_repodata(
            &chan,
            &[
                ("a-1-0.tar.bz2", "a", "1"),
                ("a-1-0.conda", "a", "1"),
                ("a-2-0.tar.bz2", "a", "2"),
                ("b-1-0.conda", "b", "1"),
            ],
        );
        assert_eq!(
            lookup(&chan, &cache, "a"),
            vec!["a-1-0.conda", "a-2-0.tar.bz2"]
        );
        assert_eq!(lookup(&chan, &cache, "b"), vec!["b-1-0.conda"]);
        assert!(lookup(&chan, &cache, "zzz").is_empty());
        let idx: Vec<_> = std::fs::read_dir(cache.join("taipan-index"))
            .unwrap()
            .collect();
        assert_eq!(idx.len(), 1, "index written once");
        // A changed repodata (new size/mtime) invalidates the index.
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_repodata(&chan, &[("c-3-0.conda", "c", "3")]);
        assert_eq!(lookup(&chan, &cache, "c"), vec!["c-3-0.conda"]);
        assert!(lookup(&chan, &cache, "a").is_empty());
    }

    /// A build listed in both formats is taken from its `.conda` entry, and its `.tar.bz2`
    /// record is not even parsed (here it is not a valid record).
    #[test]
    fn a_build_in_both_formats_is_parsed_once_from_its_conda_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let chan = tmp.path().join("chan");
        let cache = tmp.path().join("cache");
        let body = r#"{"info":{"subdir":"noarch"},"packages":{
            "a-1-0.tar.bz2":{"name":"a","version":[1],"build":"0","build_number":0,"depends":[]},
            "a-2-0.tar.bz2":{"name":"a","version":"2","build":"0","build_number":0,"depends":[]}},
            "packages.conda":{
            "a-1-0.conda":{"name":"a","version":"1","build":"0","build_number":0,"depends":[]},
            "a-3-0.conda":{"name":"a","version":"3","build":"0","build_number":0,"depends":[]}}}"#;
        std::fs::create_dir_all(chan.join("noarch")).unwrap();
        std::fs::write(chan.join("noarch/repodata.json"), body).unwrap();
        let channel = Channel::try_from_directory(&chan).unwrap();
        let local = LocalChannel::new(channel, cache).unwrap();
        let sub = local.subdir(Subdir::NoArch).unwrap().unwrap();
        let mut found: Vec<String> = sub
            .records("a", "c")
            .unwrap()
            .iter()
            .map(|r| r.identifier.to_string())
            .collect();
        found.sort();
        assert_eq!(found, ["a-1-0.conda", "a-2-0.tar.bz2", "a-3-0.conda"]);
    }

    /// A name large enough to be parsed in parallel chunks comes back whole, in index order,
    /// each build once; a malformed record among them is an error, not a panic.
    #[test]
    fn a_large_name_parsed_in_chunks_keeps_its_order() {
        let tmp = tempfile::tempdir().unwrap();
        let chan = tmp.path().join("chan");
        let cache = tmp.path().join("cache");
        let files: Vec<(String, String)> = (0..3 * SPLIT_NAME)
            .flat_map(|i| {
                let v = format!("{i}");
                let mut both = vec![(format!("big-{i}-0.conda"), v.clone())];
                if i % 2 == 0 {
                    both.push((format!("big-{i}-0.tar.bz2"), v));
                }
                both
            })
            .collect();
        let packages: Vec<(&str, &str, &str)> = files
            .iter()
            .map(|(f, v)| (f.as_str(), "big", v.as_str()))
            .collect();
        write_repodata(&chan, &packages);
        let channel = Channel::try_from_directory(&chan).unwrap();
        let local = LocalChannel::new(channel, cache.clone()).unwrap();
        let sub = local.subdir(Subdir::NoArch).unwrap().unwrap();
        let expected: Vec<String> = sub
            .chosen("big")
            .unwrap()
            .iter()
            .map(|(key, _)| key.to_string())
            .collect();
        assert_eq!(expected.len(), 3 * SPLIT_NAME);
        let pool = parse_pool().expect("a parsing pool");
        let in_chunks: Vec<String> = pool
            .install(|| sub.records("big", "c"))
            .unwrap()
            .iter()
            .map(|r| r.identifier.to_string())
            .collect();
        assert_eq!(in_chunks, expected);
        let in_one_go: Vec<String> = sub
            .records("big", "c")
            .unwrap()
            .iter()
            .map(|r| r.identifier.to_string())
            .collect();
        assert_eq!(in_one_go, expected);

        let bad: Vec<(String, String)> = (0..2 * SPLIT_NAME)
            .map(|i| (format!("bad-{i}-0.conda"), format!("{i}")))
            .collect();
        let mut packages: Vec<(&str, &str, &str)> = bad
            .iter()
            .map(|(f, v)| (f.as_str(), "bad", v.as_str()))
            .collect();
        packages[SPLIT_NAME + 3].2 = "1..2 not a version";
        let chan = tmp.path().join("chan2");
        write_repodata(&chan, &packages);
        let channel = Channel::try_from_directory(&chan).unwrap();
        let local = LocalChannel::new(channel, cache).unwrap();
        let sub = local.subdir(Subdir::NoArch).unwrap().unwrap();
        for err in [
            pool.install(|| sub.records("bad", "c")).unwrap_err(),
            sub.records("bad", "c").unwrap_err(),
        ] {
            assert!(err.to_string().contains("malformed repodata"), "{err}");
        }
    }

    #[test]
    fn names_are_found_whatever_their_case_and_order() {
        let tmp = tempfile::tempdir().unwrap();
        let chan = tmp.path().join("chan");
        let cache = tmp.path().join("cache");
        write_repodata(
            &chan,
            &[
                ("zed-1-0.tar.bz2", "zed", "1"),
                ("b-1-0.tar.bz2", "B", "1"),
                ("a-1-0.tar.bz2", "a", "1"),
                ("b-2-0.tar.bz2", "b", "2"),
                ("ab-1-0.conda", "ab", "1"),
                ("b-2-0.conda", "b", "2"),
            ],
        );
        assert_eq!(
            lookup(&chan, &cache, "b"),
            vec!["b-1-0.tar.bz2", "b-2-0.conda"]
        );
        assert_eq!(lookup(&chan, &cache, "a"), vec!["a-1-0.tar.bz2"]);
        assert_eq!(lookup(&chan, &cache, "ab"), vec!["ab-1-0.conda"]);
        assert_eq!(lookup(&chan, &cache, "zed"), vec!["zed-1-0.tar.bz2"]);
    }
}
