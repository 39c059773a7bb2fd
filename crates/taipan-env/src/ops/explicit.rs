//! `@EXPLICIT` files (`conda list --explicit`, installer locks): package URLs with their
//! checksums, installed as they are, without a solve.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rattler_conda_types::RepoDataRecord;

use crate::cache::Fetched;
use crate::context::Context;
use crate::error::{CondaError, ErrorKind, Result};
use crate::history::Entry;
use crate::prefix_lock::PrefixLock;
use crate::transaction::{Outcome, Plan};

/// A package URL from an `@EXPLICIT` file with its optional `#hash`.
pub type ExplicitUrl = (url::Url, Option<String>);

/// The package URLs of an `@EXPLICIT` file's text (`file` names it in errors); paths are
/// made absolute `file://` URLs.
pub fn explicit_urls(file: &std::path::Path, text: &str) -> Result<Vec<ExplicitUrl>> {
    let mut out = Vec::new();
    let mut started = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line == "@EXPLICIT" {
            started = true;
            continue;
        }
        if !started || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (loc, hash) = match line.split_once('#') {
            Some((l, h)) => (l, Some(h.to_string())),
            None => (line, None),
        };
        let url = if loc.contains("://") {
            url::Url::parse(loc).ok()
        } else {
            url::Url::from_file_path(crate::context::absolute(std::path::Path::new(loc))).ok()
        };
        let url = url.ok_or_else(|| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!(
                    "{}:{}: '{loc}' is not a URL or path to a package",
                    file.display(),
                    n + 1
                ),
            )
        })?;
        out.push((url, hash));
    }
    Ok(out)
}

/// The plan that installs `@EXPLICIT` URLs: their records replace installed records of the
/// same names; everything else installed stays. The packages are fetched into the cache.
pub async fn explicit_plan(
    ctx: &Context,
    prefix: &Path,
    installed: &[rattler_conda_types::PrefixRecord],
    urls: &[ExplicitUrl],
) -> Result<Plan> {
    let (new, _held) = explicit_records(ctx, urls).await?;
    let desired = replacing(installed, new);
    Plan::new(prefix, installed, desired, &HashSet::new(), ctx.subdir)
}

/// The installed records with `new` in place of those of the same names.
fn replacing(
    installed: &[rattler_conda_types::PrefixRecord],
    new: Vec<RepoDataRecord>,
) -> Vec<RepoDataRecord> {
    let names: HashSet<String> = new
        .iter()
        .map(|r| r.package_record.name.as_normalized().to_string())
        .collect();
    let mut desired: Vec<RepoDataRecord> = installed
        .iter()
        .map(|r| r.repodata_record.clone())
        .filter(|r| !names.contains(r.package_record.name.as_normalized()))
        .collect();
    desired.extend(new);
    desired
}

/// Installs an installer's environment: `records` (its lock, with the records the build
/// solved) replace installed records of the same names. Each package is extracted from the
/// local cache in the background and linked as soon as it is ready; no output.
/// `discard_cache`: delete each extracted package once linked (the cache is not kept).
pub async fn install_records(
    ctx: &Context,
    prefix: &Path,
    records: Vec<RepoDataRecord>,
    history: &Entry,
    discard_cache: bool,
    lock: Option<&mut PrefixLock>,
) -> Result<Outcome> {
    let installed = crate::prefix::records(prefix)?;
    let desired = replacing(&installed, records);
    let plan = Plan::new(prefix, &installed, desired, &HashSet::new(), ctx.subdir)?;
    if plan.is_empty() {
        return Ok(Outcome::default());
    }
    let packages = crate::cache::fetch_in_background(ctx, &plan.link, discard_cache)?;
    let outcome = super::apply(ctx, &plan, &packages, history, HashMap::new(), lock).await;
    packages.finish();
    outcome
}

/// Records for `@EXPLICIT` URLs: fetched into the cache (concurrently) and verified
/// against the `#sha256` / `#md5` each line carries, described by the record stored with
/// the package or its `index.json`. Order follows the file. The entries stay held.
pub async fn explicit_records(
    ctx: &Context,
    urls: &[(url::Url, Option<String>)],
) -> Result<(Vec<RepoDataRecord>, Fetched)> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    let fetched: Vec<(RepoDataRecord, crate::cache::Entry, Vec<String>)> =
        stream::iter(urls.iter().cloned())
            .map(|(url, hash)| async move { explicit_record(ctx, url, hash).await })
            .buffered(8)
            .try_collect()
            .await?;
    let mut records = Vec::new();
    let mut held = Fetched::default();
    for (record, entry, warnings) in fetched {
        held.entries.insert(record.url.clone(), entry);
        held.warnings.extend(warnings);
        records.push(record);
    }
    Ok((records, held))
}

async fn explicit_record(
    ctx: &Context,
    url: url::Url,
    hash: Option<String>,
) -> Result<(RepoDataRecord, crate::cache::Entry, Vec<String>)> {
    let (sha256, md5) = parse_hash(hash.as_deref(), &url)?;
    let (entry, warnings) = crate::cache::fetch_explicit(ctx, &url, sha256, md5).await?;
    let file_name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("")
        .to_string();
    let id: rattler_conda_types::package::DistArchiveIdentifier =
        file_name.parse().map_err(|_| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!("'{url}' does not name a .conda or .tar.bz2 package file"),
            )
        })?;
    let channel = url.as_str().rsplitn(3, '/').nth(2).map(str::to_string);
    let package_record = match cached_record(&entry.dir, &file_name, sha256) {
        Some(record) => record,
        None => {
            let index = crate::transaction::read_index_json(&entry.dir)?;
            let mut record =
                rattler_conda_types::PackageRecord::from_index_json(index, None, sha256, md5)
                    .map_err(|e| CondaError::generic(format!("{url}: {e}")))?;
            if record.sha256.is_none() {
                record.sha256 = sha256;
            }
            record
        }
    };
    let record = RepoDataRecord {
        package_record,
        identifier: id,
        url,
        channel,
    };
    Ok((record, entry, warnings))
}

/// The `#hash` of an `@EXPLICIT` line: a sha256 (`sha256:` prefixed or 64 hex digits) or an
/// md5 (32 hex digits, as `conda list --explicit --md5` writes).
fn parse_hash(
    hash: Option<&str>,
    url: &url::Url,
) -> Result<(
    Option<rattler_digest::Sha256Hash>,
    Option<rattler_digest::Md5Hash>,
)> {
    let Some(h) = hash.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok((None, None));
    };
    let hex = h.strip_prefix("sha256:").unwrap_or(h);
    if hex.len() == 64 {
        if let Some(s) = rattler_digest::parse_digest_from_hex::<rattler_digest::Sha256>(hex) {
            return Ok((Some(s), None));
        }
    }
    let md5 = h.strip_prefix("md5:").unwrap_or(h);
    if md5.len() == 32 {
        if let Some(m) = rattler_digest::parse_digest_from_hex::<rattler_digest::Md5>(md5) {
            return Ok((None, Some(m)));
        }
    }
    Err(CondaError::new(
        ErrorKind::CondaValueError,
        format!("'{url}#{h}': the part after '#' is neither a sha256 nor an md5 checksum"),
    ))
}

/// The record a package cache entry was made from (`info/repodata_record.json`, as conda's
/// cache and taipan's installers write it): unlike `index.json` it keeps the channel's md5,
/// size and repodata patches. Only used when it describes this very file.
fn cached_record(
    dir: &Path,
    file_name: &str,
    sha256: Option<rattler_digest::Sha256Hash>,
) -> Option<rattler_conda_types::PackageRecord> {
    let text = std::fs::read_to_string(dir.join("info/repodata_record.json")).ok()?;
    let record: RepoDataRecord = serde_json::from_str(&text).ok()?;
    let same_file = record.identifier.to_string() == file_name;
    let same_hash = sha256.is_none() || record.package_record.sha256 == sha256;
    (same_file && same_hash).then_some(record.package_record)
}

/// Reads `--file` arguments: `@EXPLICIT` files give URLs, others give specs (one a line,
/// `#` comments).
pub fn read_spec_files(files: &[std::path::PathBuf]) -> Result<(Vec<String>, Vec<ExplicitUrl>)> {
    let mut specs = Vec::new();
    let mut urls = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| {
            CondaError::new(
                ErrorKind::CondaFileIOError,
                format!("'{}'. {e}\n  Check the path given to --file.", f.display()),
            )
        })?;
        if text.lines().any(|l| l.trim() == "@EXPLICIT") {
            urls.extend(explicit_urls(f, &text)?);
        } else {
            specs.extend(
                text.lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                    .filter(|l| !l.is_empty()),
            );
        }
    }
    Ok((specs, urls))
}
