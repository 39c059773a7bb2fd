//! Getting a package archive onto the local disk, verified against every checksum the
//! channel gives (sha256, md5, size) before anything reads its contents.
//!
//! A `file://` archive is verified where it is. A remote one is streamed into
//! `pkgs/<file>.partial`, hashed on the way, and kept as `pkgs/<file>` (conda keeps archives
//! in the cache too). A body that stalls longer than `remote_read_timeout_secs`, or breaks
//! off, is retried like a failed request, up to `remote_max_retries` times.

use crate::error::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rattler_digest::{Md5Hash, Sha256Hash};
use reqwest_retry::{RetryDecision, RetryPolicy};

use crate::error::CondaError;

/// What the channel says the archive is.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    /// The archive's file name (`numpy-1.26.4-py312h0_0.conda`).
    pub file_name: String,
    /// The package, for messages (`numpy-1.26.4-py312h0_0`).
    pub label: String,
    pub sha256: Option<Sha256Hash>,
    pub md5: Option<Md5Hash>,
    pub size: Option<u64>,
}

/// How remote archives are fetched.
#[derive(Clone)]
pub struct Remote {
    pub client: rattler_networking::LazyClient,
    pub policy: reqwest_retry::policies::ExponentialBackoff,
    /// Longest wait for the next bytes of a body.
    pub read_timeout: Duration,
}

/// The sha256 of a verified archive.
pub struct Verified {
    pub path: PathBuf,
    pub sha256: Sha256Hash,
}

/// Compares a file's digests with what is expected; the error names the first mismatch
/// as conda's `ChecksumMismatchError` does.
pub fn verify_file(path: &Path, url: &url::Url, want: &Expected) -> Result<Verified, CondaError> {
    let (sha256, md5, size) = super::extract::digest_file_with(path, want.md5.is_some())
        .map_err(|e| file_error(path, e))?;
    check(url, path, want, sha256, md5, size)?;
    Ok(Verified {
        path: path.to_path_buf(),
        sha256,
    })
}

fn check(
    url: &url::Url,
    path: &Path,
    want: &Expected,
    sha256: Sha256Hash,
    md5: Option<Md5Hash>,
    size: u64,
) -> Result<(), CondaError> {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let size_off = want
        .size
        .filter(|s| *s != size)
        .map(|s| ("size", s.to_string(), size.to_string()));
    let sha_off = || {
        want.sha256
            .filter(|s| *s != sha256)
            .map(|s| ("sha256", hex(&s), hex(&sha256)))
    };
    let md5_off = || {
        want.md5
            .zip(md5)
            .filter(|(m, actual)| m != actual)
            .map(|(m, actual)| ("md5", hex(&m), hex(&actual)))
    };
    let mismatch = size_off.or_else(sha_off).or_else(md5_off);
    match mismatch {
        None => Ok(()),
        Some((kind, expected, actual)) => Err(CondaError::new(
            ErrorKind::ChecksumMismatchError,
            format!(
                "Conda detected a mismatch between the expected content and downloaded content\nfor url '{url}'.\n  download saved to: {}\n  expected {kind}: {expected}\n  actual {kind}: {actual}\nThe package of {} does not match its channel's repodata; it was not used.",
                path.display(),
                want.label
            ),
        )
        .with("url", url.to_string())
        .with("checksum_type", kind)),
    }
}

fn file_error(path: &Path, e: std::io::Error) -> CondaError {
    CondaError::new(
        ErrorKind::CondaFileIOError,
        format!(
            "'{}'. {e}\n  Check that the file exists and can be read.",
            path.display()
        ),
    )
}

/// A verified local copy of the archive at `url`: the file itself for `file://`, else a
/// download into `pkgs_dir` (an already kept archive that matches is used as it is).
pub async fn fetch(
    url: &url::Url,
    want: &Expected,
    pkgs_dir: &Path,
    remote: &Remote,
) -> Result<Verified, CondaError> {
    if url.scheme() == "file" {
        let path = url.to_file_path().map_err(|_| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!("'{url}' is not a valid file URL"),
            )
        })?;
        let (w, u) = (want.clone(), url.clone());
        return tokio::task::spawn_blocking(move || verify_file(&path, &u, &w))
            .await
            .map_err(|e| CondaError::generic(format!("verifying {url} failed: {e}")))?;
    }
    let kept = pkgs_dir.join(&want.file_name);
    if kept.is_file() {
        let (k, u, w) = (kept.clone(), url.clone(), want.clone());
        let verified = tokio::task::spawn_blocking(move || verify_file(&k, &u, &w)).await;
        if let Ok(Ok(v)) = verified {
            return Ok(v);
        }
        let _ = std::fs::remove_file(&kept);
    }
    download(url, want, &kept, remote).await
}

async fn download(
    url: &url::Url,
    want: &Expected,
    dest: &Path,
    remote: &Remote,
) -> Result<Verified, CondaError> {
    let partial = partial_path(dest);
    let start = SystemTime::now();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        crate::crashpoint::hit("download");
        let result = download_once(url, want, &partial, remote).await;
        let error = match result {
            Ok((sha256, md5, size)) => {
                if let Err(e) = check(url, &partial, want, sha256, md5, size) {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e);
                }
                std::fs::rename(&partial, dest).map_err(|e| file_error(dest, e))?;
                return Ok(Verified {
                    path: dest.to_path_buf(),
                    sha256,
                });
            }
            Err(e) => e,
        };
        let _ = std::fs::remove_file(&partial);
        let retry = match &error {
            Attempt::Retry(_) => remote.policy.should_retry(start, attempt),
            Attempt::Fatal(_) => RetryDecision::DoNotRetry,
        };
        match retry {
            RetryDecision::Retry { execute_after } => {
                let wait = execute_after
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO);
                tracing::warn!(
                    "downloading {url} failed ({}); retrying in {wait:?}",
                    error.text()
                );
                tokio::time::sleep(wait).await;
            }
            RetryDecision::DoNotRetry => return Err(error.into_conda(url, want)),
        }
    }
}

/// `pkgs/<file>.partial`: one writer at a time (the cache entry's lock is held).
pub fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Why one download attempt failed.
enum Attempt {
    /// Worth another try: a body that broke off or stalled.
    Retry(String),
    /// Not: errors the client's retries gave up on, a body larger than the channel says, a
    /// local write error.
    Fatal(CondaError),
}

impl Attempt {
    fn text(&self) -> String {
        match self {
            Attempt::Retry(t) => t.clone(),
            Attempt::Fatal(e) => e.message.clone(),
        }
    }

    fn into_conda(self, url: &url::Url, want: &Expected) -> CondaError {
        match self {
            Attempt::Fatal(e) => e,
            Attempt::Retry(text) => CondaError::new(
                ErrorKind::CondaHTTPError,
                format!(
                    "Could not download {} from {url}\n  {text}\nAn HTTP error occurred when trying to retrieve this URL. HTTP errors are often intermittent: check the channel and run the command again.",
                    want.label
                ),
            )
            .with("url", url.to_string()),
        }
    }
}

async fn download_once(
    url: &url::Url,
    want: &Expected,
    partial: &Path,
    remote: &Remote,
) -> Result<(Sha256Hash, Option<Md5Hash>, u64), Attempt> {
    use rattler_digest::digest::Digest;
    use std::io::Write;
    // The client's middleware already retried connection errors and 5xx answers: what
    // reaches here is final. Only a body that breaks off or stalls is retried below.
    let client = remote.client.client().clone();
    let response = client.get(url.clone()).send().await.map_err(|e| {
        Attempt::Fatal(
            CondaError::new(
                ErrorKind::CondaHTTPError,
                format!(
                    "Could not connect to {url}\n  {}\nCheck the channel's address, your network and proxy settings.",
                    crate::transaction::error_chain(&e)
                ),
            )
            .with("url", url.to_string()),
        )
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(Attempt::Fatal(
            CondaError::new(
                ErrorKind::CondaHTTPError,
                format!(
                    "HTTP {status} for url <{url}>\n\nAn HTTP error occurred when trying to retrieve {}.\nCheck the channel, or run the command again if the server had a passing problem.",
                    want.file_name
                ),
            )
            .with("url", url.to_string())
            .with("status_code", status.as_u16()),
        ));
    }
    let mut file =
        std::fs::File::create(partial).map_err(|e| Attempt::Fatal(file_error(partial, e)))?;
    let mut sha = rattler_digest::Sha256::new();
    let mut md5 = want.md5.map(|_| rattler_digest::Md5::new());
    let mut size = 0u64;
    let mut response = response;
    loop {
        let chunk = match tokio::time::timeout(remote.read_timeout, response.chunk()).await {
            Err(_) => {
                return Err(Attempt::Retry(format!(
                    "no data for {:?} after {size} bytes (remote_read_timeout_secs)",
                    remote.read_timeout
                )))
            }
            Ok(Err(e)) => {
                return Err(Attempt::Retry(format!(
                    "the download broke off after {size} bytes: {}",
                    crate::transaction::error_chain(&e)
                )))
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        size += chunk.len() as u64;
        if want.size.is_some_and(|s| size > s) {
            return Err(Attempt::Fatal(CondaError::new(
                ErrorKind::ChecksumMismatchError,
                format!(
                    "Conda detected a mismatch between the expected content and downloaded content\nfor url '{url}'.\n  expected size: {}\n  the server sent more than that; the download was stopped.",
                    want.size.unwrap_or_default()
                ),
            ).with("url", url.to_string()).with("checksum_type", "size")));
        }
        sha.update(&chunk);
        if let Some(md5) = md5.as_mut() {
            md5.update(&chunk);
        }
        file.write_all(&chunk)
            .map_err(|e| Attempt::Fatal(file_error(partial, e)))?;
    }
    file.flush()
        .map_err(|e| Attempt::Fatal(file_error(partial, e)))?;
    Ok((sha.finalize(), md5.map(|m| m.finalize()), size))
}
