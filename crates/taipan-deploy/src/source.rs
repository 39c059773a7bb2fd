//! Step 3, the installer: the embedded default distribution, a local file, or a download,
//! checked against `--sha256` and placed in the target user's home.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use taipan_env::error::ErrorKind;

use serde::Serialize;
use taipan_env::{CondaError, Result};

/// Where the installer comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Build the default distribution embedded in taipan.
    Default,
    /// A local file.
    File(PathBuf),
    /// An `http(s)://` URL.
    Url(String),
}

impl Source {
    /// `--installer PATH|URL`, or the default distribution.
    pub fn from_arg(arg: Option<&str>) -> Self {
        match arg {
            None => Self::Default,
            Some(a) if a.starts_with("http://") || a.starts_with("https://") => Self::Url(a.into()),
            Some(a) => Self::File(PathBuf::from(a.strip_prefix("file://").unwrap_or(a))),
        }
    }

    /// The installer's file name, once placed in the user's home.
    pub fn file_name(&self) -> Result<String> {
        match self {
            Self::Default => Ok(taipan_installer::default_dist::identity()?.file_name()),
            Self::File(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| missing(&p.display().to_string())),
            Self::Url(u) => {
                let name = u.split(['?', '#']).next().unwrap_or(u);
                let name = name.rsplit('/').next().unwrap_or_default();
                if name.is_empty() {
                    return Err(CondaError::new(
                        ErrorKind::DeployError,
                        format!(
                            "--installer {u}: the URL does not end in a file name (…/NAME.sh)."
                        ),
                    ));
                }
                Ok(name.to_owned())
            }
        }
    }

    /// Shown in plans and reports.
    pub fn describe(&self) -> String {
        match self {
            Self::Default => "the default distribution, built from this taipan".into(),
            Self::File(p) => p.display().to_string(),
            Self::Url(u) => u.clone(),
        }
    }
}

fn missing(what: &str) -> CondaError {
    CondaError::new(
        ErrorKind::DeployError,
        format!("--installer {what}: no such file.\n  Give the path of an installer (.sh) or an http(s) URL, or leave --installer out to deploy the default distribution."),
    )
}

/// An installer's name and version, from its header (`# NAME:` / `# VER:`), as constructor
/// installers (Anaconda's included) carry them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Identity {
    /// `# NAME:`, e.g. `Anaconda3`.
    pub name: String,
    /// `# VER:`, e.g. `2024.06-1`.
    pub version: String,
}

impl Identity {
    /// The default distribution's identity, without building it.
    pub fn of_default() -> Result<Self> {
        let i = taipan_installer::default_dist::identity()?;
        Ok(Self {
            name: i.name,
            version: i.version,
        })
    }

    /// Reads the header of the installer at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let mut head = vec![0u8; 8192];
        let mut f = std::fs::File::open(path).map_err(|_| missing(&path.display().to_string()))?;
        let n = f.read(&mut head)?;
        let text = String::from_utf8_lossy(&head[..n]);
        let field = |key: &str| {
            text.lines()
                .take(40)
                .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_owned()))
                .filter(|v| !v.is_empty())
        };
        match (field("# NAME:"), field("# VER:")) {
            (Some(name), Some(version)) => Ok(Self { name, version }),
            _ => Err(CondaError::new(
                ErrorKind::DeployError,
                format!(
                    "{} is not a constructor-format installer (no `# NAME:` / `# VER:` header lines).\n  \
                     Pass an installer made by `taipan installer build` or constructor (e.g. Anaconda3-…-Linux-x86_64.sh).",
                    path.display()
                ),
            )),
        }
    }

    /// The default prefix in `home`, as the installer itself would pick it: the name lowercased.
    pub fn default_prefix(&self, home: &Path) -> PathBuf {
        home.join(self.name.to_lowercase())
    }
}

/// Obtains the installer into `work` (a directory of ours) and returns its path.
pub async fn obtain(
    source: &Source,
    work: &Path,
    taipan_binary: &Path,
    env: &HashMap<String, String>,
) -> Result<PathBuf> {
    match source {
        Source::Default => {
            let built =
                taipan_installer::default_dist::build_default(work, taipan_binary, env).await?;
            Ok(built.installer)
        }
        Source::File(p) => {
            if !p.is_file() {
                return Err(missing(&p.display().to_string()));
            }
            Ok(p.clone())
        }
        Source::Url(u) => download(u, &work.join(source.file_name()?)).await,
    }
}

async fn download(url: &str, dest: &Path) -> Result<PathBuf> {
    let fail = |e: String| {
        CondaError::new(
            ErrorKind::CondaHTTPError,
            format!("downloading the installer {url} failed: {e}\n  Check the URL and the network (proxies come from HTTPS_PROXY/HTTP_PROXY)."),
        )
    };
    let client = reqwest::Client::builder()
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| fail(e.to_string()))?;
    let mut file = std::fs::File::create(dest)?;
    while let Some(chunk) = resp.chunk().await.map_err(|e| fail(e.to_string()))? {
        file.write_all(&chunk)?;
    }
    file.sync_all()?;
    Ok(dest.to_path_buf())
}

/// The file's sha256, lowercase hex.
pub fn sha256(path: &Path) -> Result<String> {
    let digest = rattler_digest::compute_file_digest::<rattler_digest::Sha256>(path)?;
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// Fails unless `path` hashes to `expected` (`--sha256`).
pub fn check_sha256(path: &Path, expected: &str, shown: &str) -> Result<String> {
    let actual = sha256(path)?;
    if !actual.eq_ignore_ascii_case(expected.trim()) {
        return Err(CondaError::new(
            ErrorKind::ChecksumMismatchError,
            format!(
                "the installer {shown} has sha256 {actual}, but --sha256 says {}.\n  \
                 The file is corrupt or not the one you meant; nothing was installed. Download it again or fix --sha256.",
                expected.trim()
            ),
        ));
    }
    Ok(actual)
}

/// Copies the installer to `dest` with mode 0744 (u=rwx,g=r,o=r), via a temporary name so a
/// failed copy never leaves a partial installer under the final name.
pub fn place(from: &Path, dest: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = dest.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".taipan-installer")
        .tempfile_in(dir)
        .map_err(|e| {
            CondaError::new(
                ErrorKind::DeployError,
                format!("cannot write the installer into {}: {e}", dir.display()),
            )
        })?;
    std::fs::copy(from, tmp.path())?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o744))?;
    tmp.persist(dest).map_err(|e| CondaError::from(e.error))?;
    Ok(())
}
