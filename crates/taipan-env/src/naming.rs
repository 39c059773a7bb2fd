//! conda's two names for the channel a package came from, worked out from the configuration
//! the way conda's `Channel` model does it:
//!
//! - the **name** (`Channel.name`): the path below the channel's location — `conda-forge`
//!   under `channel_alias`, `pkgs/main` on repo.anaconda.com, the last path component of a
//!   `file://` channel. Plans (`conda-forge/linux-64::pkg-1.0-0`), `LINK[].channel` and
//!   `search` show it.
//! - the **canonical name** (`Channel.canonical_name`): the multichannel a channel belongs to
//!   (`defaults`), else the name when the channel lives under `channel_alias` or a custom
//!   channel, else the full URL (a `file://` channel). `list`, history and the download table
//!   show it.
//!
//! conda computes these from its process-wide context; taipan does the same: the context
//! installs the naming once it has read the configuration ([`install`]), and every renderer
//! asks [`naming`].

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use rattler_conda_types::RepoDataRecord;

/// The platforms conda recognises at the end of a channel URL (`known_subdirs`).
const KNOWN_SUBDIRS: &[&str] = &[
    "emscripten-wasm32",
    "wasi-wasm32",
    "freebsd-64",
    "linux-32",
    "linux-64",
    "linux-aarch64",
    "linux-armv6l",
    "linux-armv7l",
    "linux-ppc64",
    "linux-ppc64le",
    "linux-riscv64",
    "linux-s390x",
    "noarch",
    "osx-64",
    "osx-arm64",
    "win-32",
    "win-64",
    "win-arm64",
    "zos-z",
];

/// The configuration keys channel names depend on.
#[derive(Debug, Clone)]
pub struct Naming {
    /// `channel_alias` as configured (a URL).
    alias_url: String,
    /// `channel_alias` as a location (`conda.anaconda.org`, `mirror.example/conda`).
    alias: String,
    /// `migrated_channel_aliases`, as locations.
    migrated_aliases: Vec<String>,
    /// `custom_channels`: name and location, longest name first (conda's order).
    custom: Vec<(String, String)>,
    /// Multichannels (`defaults` first): name and the names of their member channels.
    multi: Vec<(String, Vec<String>)>,
}

/// A channel URL split as conda splits it.
struct Parts {
    scheme: String,
    location: String,
    name: Option<String>,
}

impl Default for Naming {
    fn default() -> Self {
        Self::new(
            "https://conda.anaconda.org",
            &[],
            &BTreeMap::from([(
                "pkgs/pro".to_string(),
                "https://repo.anaconda.com".to_string(),
            )]),
            &[(
                "defaults".to_string(),
                vec![
                    "https://repo.anaconda.com/pkgs/main".to_string(),
                    "https://repo.anaconda.com/pkgs/r".to_string(),
                ],
            )],
        )
    }
}

impl Naming {
    /// Naming for a configuration: its alias, migrated aliases, custom channels and the
    /// multichannels (`defaults` → `default_channels`, then `custom_multichannels`).
    pub fn new(
        channel_alias: &str,
        migrated_aliases: &[String],
        custom_channels: &BTreeMap<String, String>,
        multichannels: &[(String, Vec<String>)],
    ) -> Self {
        let bare = Self {
            alias_url: channel_alias.trim_end_matches('/').to_string(),
            alias: location_of(channel_alias),
            migrated_aliases: migrated_aliases.iter().map(|a| location_of(a)).collect(),
            custom: Vec::new(),
            multi: Vec::new(),
        };
        let mut custom: Vec<(String, String)> = custom_channels
            .iter()
            .map(|(name, url)| (name.trim_matches('/').to_string(), location_of(url)))
            .collect();
        custom.sort_by_key(|c| std::cmp::Reverse(c.0.len()));
        let with_custom = Self { custom, ..bare };
        let multi = multichannels
            .iter()
            .map(|(multi, members)| {
                let names = members
                    .iter()
                    .filter_map(|m| with_custom.member_name(m))
                    .collect();
                (multi.clone(), names)
            })
            .collect();
        Self {
            multi,
            ..with_custom
        }
    }

    /// `channel_alias`, the URL bare channel names live under.
    pub fn alias_url(&self) -> &str {
        &self.alias_url
    }

    /// conda's `Channel.name` for a channel URL (with or without its subdir).
    pub fn name(&self, url: &str) -> String {
        let p = self.parts(url);
        p.name.unwrap_or(p.location)
    }

    /// conda's `Channel.canonical_name` for a channel URL (with or without its subdir).
    pub fn canonical(&self, url: &str) -> String {
        let p = self.parts(url);
        let Some(name) = p.name else {
            return format!("{}://{}", p.scheme, p.location);
        };
        for (multi, members) in &self.multi {
            if members.contains(&name) {
                return multi.clone();
            }
        }
        if self.custom.iter().any(|(c, _)| tokens_start_with(&name, c)) {
            return name;
        }
        if p.location == self.alias || self.migrated_aliases.contains(&p.location) {
            return name;
        }
        let joined = if p.location == "/" {
            format!("/{name}")
        } else {
            format!("{}/{name}", p.location)
        };
        format!("{}://{joined}", p.scheme)
    }

    /// A multichannel member's name: a URL's name, or a bare name as it is.
    fn member_name(&self, member: &str) -> Option<String> {
        if member.contains("://") || member.starts_with('/') {
            self.parts(member).name
        } else {
            Some(member.trim_matches('/').to_string())
        }
    }

    /// Location and name of a channel URL (conda's `_read_channel_configuration`).
    fn parts(&self, url: &str) -> Parts {
        let (scheme, rest) = url.split_once("://").unwrap_or(("file", url));
        let rest = strip_auth(rest);
        let test = strip_subdir(&strip_token(rest))
            .trim_end_matches('/')
            .to_string();
        let (host, path) = match test.split_once('/') {
            Some((h, p)) => (h.to_string(), p.to_string()),
            None => (test.clone(), String::new()),
        };
        let scheme = scheme.to_string();
        if path.is_empty() && !host.is_empty() {
            return Parts {
                scheme,
                location: host,
                name: None,
            };
        }
        for alias in &self.migrated_aliases {
            if let Some(name) = below(&test, alias) {
                return Parts {
                    scheme,
                    location: self.alias.clone(),
                    name: Some(name),
                };
            }
        }
        for (name, location) in &self.custom {
            if tokens_start_with(&test, &format!("{location}/{name}")) {
                return Parts {
                    scheme,
                    location: location.clone(),
                    name: below(&test, location),
                };
            }
        }
        if let Some(name) = below(&test, &self.alias) {
            return Parts {
                scheme,
                location: self.alias.clone(),
                name: Some(name),
            };
        }
        if host.is_empty() {
            // A file:// channel: its last path component is the name.
            let (location, name) = test.rsplit_once('/').unwrap_or(("", &test));
            let location = if location.is_empty() { "/" } else { location };
            return Parts {
                scheme,
                location: location.to_string(),
                name: Some(name.to_string()),
            };
        }
        // Anaconda Enterprise serves channels below /conda: that token belongs to the location.
        let (location, name) = match path.split_once('/') {
            Some(("conda", rest)) => (format!("{host}/conda"), rest.to_string()),
            _ if path == "conda" => (format!("{host}/conda"), String::new()),
            _ => (host, path),
        };
        Parts {
            scheme,
            location,
            name: (!name.is_empty()).then_some(name),
        }
    }
}

/// The location part of a URL: host[:port]/path, without scheme, credentials or token.
fn location_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    strip_token(strip_auth(rest))
        .trim_end_matches('/')
        .to_string()
}

fn strip_auth(rest: &str) -> &str {
    let host_end = rest.find('/').unwrap_or(rest.len());
    match rest[..host_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    }
}

/// Drops an anaconda.org token (`/t/<token>`).
fn strip_token(rest: &str) -> String {
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.iter().position(|p| *p == "t") {
        Some(i) if i > 0 && i + 1 < parts.len() => {
            let mut kept = parts[..i].to_vec();
            kept.extend_from_slice(&parts[i + 2..]);
            kept.join("/")
        }
        _ => rest.to_string(),
    }
}

fn strip_subdir(rest: &str) -> String {
    let trimmed = rest.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((base, last)) if KNOWN_SUBDIRS.contains(&last) => base.to_string(),
        _ => trimmed.to_string(),
    }
}

/// The path of `url` below `location`, when `url` lies below it (whole path components).
fn below(url: &str, location: &str) -> Option<String> {
    if location.is_empty() || !tokens_start_with(url, location) {
        return None;
    }
    let name = url[location.len()..].trim_matches('/');
    (!name.is_empty()).then(|| name.to_string())
}

fn tokens_start_with(text: &str, prefix: &str) -> bool {
    let t: Vec<&str> = text.split('/').collect();
    let p: Vec<&str> = prefix.split('/').collect();
    t.len() >= p.len() && t[..p.len()] == p[..]
}

static NAMING: RwLock<Option<Arc<Naming>>> = RwLock::new(None);

/// Makes `naming` the one every renderer uses (the context does this after reading the
/// configuration).
pub fn install(naming: Naming) {
    if let Ok(mut slot) = NAMING.write() {
        *slot = Some(Arc::new(naming));
    }
}

/// The naming the configuration asks for (conda's defaults before a context is loaded).
pub fn naming() -> Arc<Naming> {
    NAMING
        .read()
        .ok()
        .and_then(|n| n.clone())
        .unwrap_or_else(|| Arc::new(Naming::default()))
}

/// The URL of the channel a record came from (its `channel`, else its package URL's
/// directory), without the subdir.
pub fn record_channel_url(record: &RepoDataRecord) -> String {
    let from_url = record.url.as_str().rsplit_once('/').map(|(dir, _)| dir);
    let channel = record
        .channel
        .clone()
        .filter(|c| !c.is_empty())
        .or_else(|| from_url.map(String::from))
        .unwrap_or_default();
    let trimmed = channel.trim_end_matches('/');
    let subdir = &record.package_record.subdir;
    trimmed
        .strip_suffix(&format!("/{subdir}"))
        .unwrap_or(trimmed)
        .to_string()
}

/// The canonical name of a record's channel.
pub fn canonical_name(record: &RepoDataRecord) -> String {
    naming().canonical(&record_channel_url(record))
}

/// The name (`Channel.name`) of a record's channel.
pub fn name(record: &RepoDataRecord) -> String {
    naming().name(&record_channel_url(record))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conda_default() -> Naming {
        Naming::default()
    }

    #[test]
    fn names_as_conda() {
        let n = conda_default();
        let cases = [
            (
                "https://conda.anaconda.org/conda-forge",
                "conda-forge",
                "conda-forge",
            ),
            (
                "https://conda.anaconda.org/conda-forge/linux-64",
                "conda-forge",
                "conda-forge",
            ),
            (
                "https://repo.anaconda.com/pkgs/main",
                "pkgs/main",
                "defaults",
            ),
            (
                "https://repo.anaconda.com/pkgs/r/noarch",
                "pkgs/r",
                "defaults",
            ),
            ("https://repo.anaconda.com/pkgs/pro", "pkgs/pro", "pkgs/pro"),
            ("file:///work/chan/linux-64", "chan", "file:///work/chan"),
            (
                "http://127.0.0.1:8080/channel",
                "channel",
                "http://127.0.0.1:8080/channel",
            ),
            (
                "https://user:pw@conda.anaconda.org/t/tk-123/private/noarch",
                "private",
                "private",
            ),
            (
                "https://ae.example/conda/team/noarch",
                "team",
                "https://ae.example/conda/team",
            ),
        ];
        for (url, name, canonical) in cases {
            assert_eq!(n.name(url), name, "{url}");
            assert_eq!(n.canonical(url), canonical, "{url}");
        }
    }

    #[test]
    fn a_configured_alias_gives_short_names() {
        let n = Naming::new(
            "https://mirror.example/conda-mirror",
            &["https://old.example".to_string()],
            &BTreeMap::new(),
            &[(
                "defaults".into(),
                vec!["https://mirror.example/main".into()],
            )],
        );
        assert_eq!(
            n.canonical("https://mirror.example/conda-mirror/conda-forge/linux-64"),
            "conda-forge"
        );
        assert_eq!(n.canonical("https://old.example/bioconda"), "bioconda");
        assert_eq!(
            n.canonical("https://mirror.example/main/noarch"),
            "defaults"
        );
        assert_eq!(
            n.canonical("https://conda.anaconda.org/conda-forge"),
            "https://conda.anaconda.org/conda-forge"
        );
    }
}
