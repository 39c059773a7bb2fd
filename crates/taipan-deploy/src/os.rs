//! Which system this is: `/etc/os-release` (`ID`, `ID_LIKE`), mapped to a package-manager family.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use taipan_env::error::ErrorKind;

use serde::Serialize;
use taipan_env::{CondaError, Result};

/// The file read, overridable with `TAIPAN_OS_RELEASE` (tests, and `--dry-run` plans for
/// another system).
pub fn os_release_path() -> PathBuf {
    match std::env::var_os("TAIPAN_OS_RELEASE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from("/etc/os-release"),
    }
}

/// The two families taipan deploys on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Debian, Ubuntu and derivatives: apt.
    Debian,
    /// RHEL, CentOS, Fedora, Rocky, Alma and derivatives: dnf, else yum.
    Redhat,
}

impl Family {
    /// `debian` or `redhat`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Debian => "debian",
            Self::Redhat => "redhat",
        }
    }
}

/// What `/etc/os-release` says.
#[derive(Debug, Clone, Serialize)]
pub struct OsInfo {
    /// `ID`, e.g. `debian`.
    pub id: String,
    /// `ID_LIKE` words.
    pub id_like: Vec<String>,
    /// `VERSION_ID`, e.g. `12`.
    pub version_id: String,
    /// `PRETTY_NAME`, e.g. `Debian GNU/Linux 12 (bookworm)`.
    pub pretty_name: String,
    /// The family the ids map to.
    pub family: Family,
}

const DEBIAN_IDS: &[&str] = &["debian", "ubuntu"];
const REDHAT_IDS: &[&str] = &[
    "rhel",
    "centos",
    "fedora",
    "rocky",
    "almalinux",
    "ol",
    "amzn",
];

/// Reads and classifies the os-release file.
pub fn detect() -> Result<OsInfo> {
    let path = os_release_path();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        CondaError::new(
            ErrorKind::DeployError,
            format!(
                "cannot read {}: {e}\n  taipan deploy needs /etc/os-release to tell the system's family \
                 (set TAIPAN_OS_RELEASE=FILE to use another file).",
                path.display()
            ),
        )
    })?;
    parse(&text, &path)
}

/// Parses os-release text (shell-style `KEY=value`, values optionally quoted).
pub fn parse(text: &str, path: &Path) -> Result<OsInfo> {
    let fields = fields(text);
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let id = get("ID").to_lowercase();
    let id_like: Vec<String> = get("ID_LIKE")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let ids = std::iter::once(id.as_str()).chain(id_like.iter().map(String::as_str));
    let family = ids.clone().find_map(|i| {
        if DEBIAN_IDS.contains(&i) {
            Some(Family::Debian)
        } else if REDHAT_IDS.contains(&i) {
            Some(Family::Redhat)
        } else {
            None
        }
    });
    let Some(family) = family else {
        let shown = if id.is_empty() {
            "(no ID)".to_owned()
        } else {
            id.clone()
        };
        return Err(CondaError::new(
            ErrorKind::DeployError,
            format!(
                "unsupported system `{shown}` (ID_LIKE: `{}`) in {}.\n  taipan deploy supports the Debian \
                 family (debian, ubuntu: apt) and the RedHat family (rhel, centos, fedora, rocky, \
                 almalinux: dnf or yum). On other systems run the installer directly: \
                 bash INSTALLER -b -p PREFIX",
                id_like.join(" "),
                path.display()
            ),
        ));
    };
    Ok(OsInfo {
        pretty_name: fields
            .get("PRETTY_NAME")
            .cloned()
            .unwrap_or_else(|| id.clone()),
        version_id: get("VERSION_ID"),
        id,
        id_like,
        family,
    })
}

fn fields(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let (k, v) = line.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_owned(), v.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(text: &str) -> Option<Family> {
        parse(text, Path::new("os-release")).ok().map(|o| o.family)
    }

    #[test]
    fn families() {
        assert_eq!(family("ID=debian\nVERSION_ID=\"12\""), Some(Family::Debian));
        assert_eq!(family("ID=ubuntu\nID_LIKE=debian"), Some(Family::Debian));
        assert_eq!(
            family("ID=linuxmint\nID_LIKE=\"ubuntu debian\""),
            Some(Family::Debian)
        );
        assert_eq!(
            family("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\""),
            Some(Family::Redhat)
        );
        assert_eq!(family("ID=centos"), Some(Family::Redhat));
        assert_eq!(family("ID=alpine"), None);
        assert_eq!(family(""), None);
    }
}
