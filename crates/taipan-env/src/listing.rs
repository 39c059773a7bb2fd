//! What `conda list` shows: the conda records of a prefix and the Python distributions pip
//! (or another non-conda tool) put in its `site-packages`, with conda's list fields and sizes.

use std::path::Path;

use rattler_conda_types::prefix_record::PathType;
use rattler_conda_types::PrefixRecord;
use serde_json::{json, Value};

use crate::error::ErrorKind;
use crate::pip::PipDist;
use crate::{CondaError, Result};

/// conda's list fields (`CONDA_LIST_FIELDS`): key and column title, in conda's order.
pub const FIELDS: &[(&str, &str)] = &[
    ("arch", "Arch"),
    ("build", "Build"),
    ("build_number", "Build number"),
    ("channel", "Channel URL"),
    ("channel_name", "Channel"),
    ("constrains", "Constraints"),
    ("depends", "Dependencies"),
    ("dist_str", "Dist"),
    ("features", "Features"),
    ("fn", "Filename"),
    ("license", "License"),
    ("license_family", "License family"),
    ("md5", "MD5"),
    ("name", "Name"),
    ("noarch", "Noarch"),
    ("package_type", "Package type"),
    ("requested_spec", "Requested"),
    ("requested_specs", "Requested"),
    ("sha256", "SHA256"),
    ("size", "Size"),
    ("subdir", "Subdir"),
    ("timestamp", "Timestamp"),
    ("track_features", "Track features"),
    ("url", "URL"),
    ("version", "Version"),
];

/// The columns `conda list` shows by default (`list_fields`).
pub const DEFAULT_FIELDS: &[&str] = &["name", "version", "build", "channel_name"];

/// One installed package.
#[derive(Debug)]
pub enum Entry {
    /// Installed by conda (a `conda-meta/*.json` record).
    Conda(Box<PrefixRecord>),
    /// A distribution in `site-packages` that no conda record owns (conda: channel `pypi`,
    /// build `pypi_0`).
    Pypi(PipDist),
}

/// The packages of a prefix as `conda list` orders them (by name), pip's included when
/// `with_pip` and the prefix has a `python` record (as conda's loader requires).
pub fn entries(prefix: &Path, records: Vec<PrefixRecord>, with_pip: bool) -> Vec<Entry> {
    let has_python = records
        .iter()
        .any(|r| r.repodata_record.package_record.name.as_normalized() == "python");
    let pypi = if with_pip && has_python {
        crate::pip::installed_dists(prefix, &records)
    } else {
        Vec::new()
    };
    let mut out: Vec<Entry> = records
        .into_iter()
        .map(|r| Entry::Conda(Box::new(r)))
        .chain(pypi.into_iter().map(Entry::Pypi))
        .collect();
    out.sort_by(|a, b| a.name().cmp(b.name()));
    out
}

/// The fields a list shows: `--fields`, else `list_fields`, plus `size` with `--size`.
/// An unknown field is conda's `CustomValidationError` (conda validates `list_fields`, which
/// `--fields` sets); `source` says where the value came from.
pub fn fields(asked: &[String], size: bool, source: &str) -> Result<Vec<String>> {
    let mut fields: Vec<String> = if asked.is_empty() {
        DEFAULT_FIELDS.iter().map(|f| f.to_string()).collect()
    } else {
        asked.to_vec()
    };
    let mut invalid: Vec<&String> = fields
        .iter()
        .filter(|f| !FIELDS.iter().any(|(k, _)| k == f))
        .collect();
    invalid.sort();
    invalid.dedup();
    if !invalid.is_empty() {
        let quoted = |v: &mut dyn Iterator<Item = &str>| {
            v.map(|f| format!("'{f}'")).collect::<Vec<_>>().join(", ")
        };
        let given = quoted(&mut fields.iter().map(String::as_str));
        let given = if fields.len() == 1 {
            format!("({given},)")
        } else {
            format!("({given})")
        };
        return Err(CondaError::new(
            ErrorKind::CustomValidationError,
            format!(
                "Parameter list_fields = {given} declared in {source} is invalid.\nInvalid value(s): [{}]. Valid values are: [{}]",
                quoted(&mut invalid.iter().map(|s| s.as_str())),
                quoted(&mut FIELDS.iter().map(|(k, _)| *k))
            ),
        ));
    }
    if size && !fields.iter().any(|f| f == "size") {
        fields.push("size".into());
    }
    Ok(fields)
}

/// A field's column title.
pub fn title(field: &str) -> &'static str {
    FIELDS
        .iter()
        .find(|(k, _)| *k == field)
        .map(|(_, t)| *t)
        .unwrap_or("")
}

impl Entry {
    /// The package name.
    pub fn name(&self) -> &str {
        match self {
            Entry::Conda(r) => r.repodata_record.package_record.name.as_normalized(),
            Entry::Pypi(d) => &d.name,
        }
    }

    fn version(&self) -> String {
        match self {
            Entry::Conda(r) => r.repodata_record.package_record.version.to_string(),
            Entry::Pypi(d) => d.version.clone(),
        }
    }

    fn build(&self) -> String {
        match self {
            Entry::Conda(r) => r.repodata_record.package_record.build.to_string(),
            Entry::Pypi(_) => "pypi_0".into(),
        }
    }

    fn subdir(&self) -> String {
        match self {
            Entry::Conda(r) => r.repodata_record.package_record.subdir.clone(),
            Entry::Pypi(_) => "pypi".into(),
        }
    }

    /// The channel's canonical name (`pypi` for pip's).
    pub fn channel_name(&self) -> String {
        match self {
            Entry::Conda(r) => crate::dist::channel_name(&r.repodata_record),
            Entry::Pypi(_) => "pypi".into(),
        }
    }

    /// conda's `spec` (what `list --export` prints): `name=version=build`.
    pub fn spec(&self) -> String {
        format!("{}={}={}", self.name(), self.version(), self.build())
    }

    /// The conda record, for pip's distributions none.
    pub fn record(&self) -> Option<&PrefixRecord> {
        match self {
            Entry::Conda(r) => Some(r),
            Entry::Pypi(_) => None,
        }
    }

    /// conda's `dist_str()`: `channel/subdir::name-version-build`.
    pub fn dist_str(&self) -> String {
        format!(
            "{}/{}::{}-{}-{}",
            self.channel_name(),
            self.subdir(),
            self.name(),
            self.version(),
            self.build()
        )
    }

    /// The JSON item of `list --json` (conda's `dist_fields_dump()`), with `size` when asked.
    pub fn dump(&self, prefix: &Path, size: bool) -> Value {
        let (base_url, channel, build_number) = match self {
            Entry::Conda(r) => (
                crate::naming::record_channel_url(&r.repodata_record),
                crate::naming::name(&r.repodata_record),
                r.repodata_record.package_record.build_number,
            ),
            Entry::Pypi(_) => (
                format!("{}/pypi", crate::naming::naming().alias_url()),
                "pypi".to_string(),
                0,
            ),
        };
        let mut item = json!({
            "base_url": base_url,
            "build_number": build_number,
            "build_string": self.build(),
            "channel": channel,
            "dist_name": format!("{}-{}-{}", self.name(), self.version(), self.build()),
            "name": self.name(),
            "platform": self.subdir(),
            "version": self.version(),
        });
        if size {
            item["size"] = json!(self.installed_size(prefix));
        }
        item
    }

    /// The bytes this package occupies in the prefix (conda's `package_size`): its files
    /// (not links or directories) and its `conda-meta` record.
    pub fn installed_size(&self, prefix: &Path) -> u64 {
        match self {
            Entry::Conda(r) => conda_size(prefix, r),
            Entry::Pypi(d) => pypi_size(d),
        }
    }

    /// A field's value as conda's list shows it (`show_channel_urls` decides whether the
    /// `defaults` channel is named).
    pub fn field(&self, field: &str, prefix: &Path, show_channel_urls: Option<bool>) -> String {
        match field {
            "name" => self.name().to_string(),
            "version" => self.version(),
            "build" => self.build(),
            "subdir" => self.subdir(),
            "channel_name" => {
                let name = self.channel_name();
                match show_channel_urls {
                    Some(true) => name,
                    None if name != "defaults" => name,
                    _ => String::new(),
                }
            }
            "dist_str" => self.dist_str(),
            "size" => human_bytes(self.installed_size(prefix)),
            _ => match self {
                Entry::Conda(r) => conda_field(r, field),
                Entry::Pypi(d) => pypi_field(d, field),
            },
        }
    }
}

/// The total size of an environment (conda's `PrefixData.size()`): its packages, and the
/// files in `conda-meta` that are not package records (history, state, markers).
pub fn environment_size(prefix: &Path, entries: &[Entry]) -> u64 {
    let packages: u64 = entries.iter().map(|e| e.installed_size(prefix)).sum();
    let meta: u64 = std::fs::read_dir(prefix.join("conda-meta"))
        .map(|dir| {
            dir.flatten()
                .filter(|e| !e.file_name().to_string_lossy().ends_with(".json"))
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    packages + meta
}

fn conda_size(prefix: &Path, r: &PrefixRecord) -> u64 {
    let p = &r.repodata_record.package_record;
    let record_file = prefix.join("conda-meta").join(format!(
        "{}-{}-{}.json",
        p.name.as_normalized(),
        p.version,
        p.build
    ));
    let mut total = std::fs::metadata(record_file).map(|m| m.len()).unwrap_or(0);
    for entry in &r.paths_data.paths {
        if matches!(entry.path_type, PathType::SoftLink | PathType::Directory) {
            continue;
        }
        total += entry.size_in_bytes.unwrap_or_else(|| {
            std::fs::metadata(prefix.join(&entry.relative_path))
                .map(|m| m.len())
                .unwrap_or(0)
        });
    }
    total
}

/// A pip distribution's size: the sizes its `RECORD` gives (conda counts a file without
/// one as 0 bytes).
fn pypi_size(d: &PipDist) -> u64 {
    let Ok(record) = std::fs::read_to_string(d.dir.join("RECORD")) else {
        return 0;
    };
    record
        .lines()
        .filter_map(|line| line.rsplit(',').next()?.trim().parse::<u64>().ok())
        .sum()
}

/// A conda record's field as Python's `str()` shows it, empty when unset or falsy.
fn conda_field(r: &PrefixRecord, field: &str) -> String {
    let p = &r.repodata_record.package_record;
    let text = |v: Option<&str>| v.unwrap_or_default().trim().to_string();
    match field {
        "arch" => text(p.arch.as_deref()),
        "build_number" => falsy_int(p.build_number),
        "channel" => {
            let base = crate::naming::record_channel_url(&r.repodata_record);
            format!("{base}/{}", p.subdir)
        }
        "constrains" => py_tuple(&p.constrains),
        "depends" => py_tuple(&p.depends),
        "features" => p
            .features
            .as_deref()
            .map(|f| {
                let mut parts: Vec<&str> = f
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                parts.sort();
                parts.dedup();
                if parts.is_empty() {
                    String::new()
                } else {
                    format!("[{}]", parts.join(" "))
                }
            })
            .unwrap_or_default(),
        "fn" => r
            .repodata_record
            .url
            .path_segments()
            .and_then(|mut s| s.next_back().map(String::from))
            .unwrap_or_default(),
        "license" => text(p.license.as_deref()),
        "license_family" => text(p.license_family.as_deref()),
        "md5" => p.md5.map(|h| crate::hex(&h)).unwrap_or_default(),
        "sha256" => p.sha256.map(|h| crate::hex(&h)).unwrap_or_default(),
        "noarch" => noarch(p),
        // conda prints its enum: `PackageType.NOARCH_GENERIC`; nothing for a plain package.
        "package_type" => {
            if p.noarch.is_python() {
                "PackageType.NOARCH_PYTHON".into()
            } else if p.noarch.is_generic() {
                "PackageType.NOARCH_GENERIC".into()
            } else {
                String::new()
            }
        }
        // conda's field; rattler keeps reading it for records conda wrote.
        #[allow(deprecated)]
        "requested_spec" => text(r.requested_spec.as_deref()),
        "requested_specs" => py_list(&r.requested_specs),
        "timestamp" => p
            .timestamp
            .map(|t| format!("{}", t.timestamp_millis() as f64 / 1000.0))
            .unwrap_or_default(),
        "track_features" => p.track_features.join(","),
        "url" => r.repodata_record.url.to_string(),
        _ => String::new(),
    }
}

fn pypi_field(d: &PipDist, field: &str) -> String {
    match field {
        "channel" => format!("{}/pypi", crate::naming::naming().alias_url()),
        "fn" => d
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        "package_type" => if d.dir.extension().is_some_and(|e| e == "dist-info") {
            "PackageType.VIRTUAL_PYTHON_WHEEL"
        } else if d.dir.join("installed-files.txt").is_file() {
            "PackageType.VIRTUAL_PYTHON_EGG_MANAGEABLE"
        } else {
            "PackageType.VIRTUAL_PYTHON_EGG_UNMANAGEABLE"
        }
        .into(),
        _ => String::new(),
    }
}

fn noarch(p: &rattler_conda_types::PackageRecord) -> String {
    if p.noarch.is_python() {
        "python".into()
    } else if p.noarch.is_generic() {
        "generic".into()
    } else {
        String::new()
    }
}

fn falsy_int(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        n.to_string()
    }
}

/// Python's `str()` of a tuple of strings; empty for an empty one (falsy in conda).
fn py_tuple(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => format!("({},)", py_str(one)),
        many => format!(
            "({})",
            many.iter()
                .map(|s| py_str(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn py_list(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| py_str(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Python's `repr()` of a string: single quotes unless it holds one.
fn py_str(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// A Unix time as conda's `search --info` prints it: `2026-07-28 22:10:32 UTC`.
pub fn utc_time(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// conda's `human_bytes`: `42 B`, `1 KB`, `9.5 MB`, `93.13 GB` (powers of 1024).
pub fn human_bytes(n: u64) -> String {
    if n < 1024 {
        return format!("{n} B");
    }
    let k = n as f64 / 1024.0;
    if k < 1024.0 {
        // Python's round(): halves to even.
        return format!("{} KB", k.round_ties_even() as u64);
    }
    let m = k / 1024.0;
    if m < 1024.0 {
        return format!("{m:.1} MB");
    }
    format!("{:.2} GB", m / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_conda_prints_them() {
        assert_eq!(human_bytes(42), "42 B");
        assert_eq!(human_bytes(1042), "1 KB");
        assert_eq!(human_bytes(2560), "2 KB"); // 2.5 rounds to even
        assert_eq!(human_bytes(3584), "4 KB"); // 3.5 rounds to even
        assert_eq!(human_bytes(10004242), "9.5 MB");
        assert_eq!(human_bytes(100000004242), "93.13 GB");
    }

    #[test]
    fn fields_are_checked() {
        assert_eq!(
            fields(&[], true, "").unwrap(),
            ["name", "version", "build", "channel_name", "size"]
        );
        let err = fields(&["name".into(), "nope".into()], false, "--fields").unwrap_err();
        assert!(err.to_string().contains(
            "Parameter list_fields = ('name', 'nope') declared in --fields is invalid.\nInvalid value(s): ['nope']. Valid values are: ['arch', "
        ));
    }

    #[test]
    fn python_reprs() {
        assert_eq!(py_tuple(&[]), "");
        assert_eq!(py_tuple(&["a >=1".into()]), "('a >=1',)");
        assert_eq!(py_tuple(&["a".into(), "b".into()]), "('a', 'b')");
    }
}
