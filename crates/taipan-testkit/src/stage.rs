//! Materializes a [`PackageBuilder`] into a staging directory: the payload
//! files plus the `info/` metadata conda-build would generate.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    str::FromStr,
};

use anyhow::{bail, Context, Result};
use rattler_conda_types::{
    package::{
        AboutJson, EntryPoint, FileMode, IndexJson, LinkJson, NoArchLinks, PathType, PathsEntry,
        PathsJson, PrefixPlaceholder, PythonEntryPoints,
    },
    Subdir,
};
use rattler_digest::{compute_bytes_digest, Sha256};
use serde_json::json;

use crate::{
    model::{FileKind, NoArch, PackageBuilder, Payload, PREFIX_TOKEN},
    PLACEHOLDER,
};

/// `info/` files this module generates; extra info files may not replace them.
const GENERATED_INFO_FILES: &[&str] = &[
    "index.json",
    "paths.json",
    "files",
    "has_prefix",
    "link.json",
    "about.json",
];

/// Writes the complete package tree for `pkg` into `root` and returns every
/// file and symlink path relative to `root`.
pub(crate) fn stage(pkg: &PackageBuilder, root: &Path) -> Result<Vec<PathBuf>> {
    let payload = payload_with_scripts(pkg);
    for (path, entry) in &payload {
        validate_relative_path(path)?;
        if path.starts_with("info/") {
            bail!("payload path `{path}` must not live under info/");
        }
        write_payload(root, path, entry).with_context(|| format!("staging `{path}`"))?;
    }
    let paths = payload
        .iter()
        .map(|(path, entry)| paths_entry(root, path, entry))
        .collect::<Result<Vec<_>>>()?;
    let info = write_info(pkg, root, &paths)?;
    Ok(payload.keys().map(PathBuf::from).chain(info).collect())
}

/// The user's entries plus the link scripts at their conventional paths.
fn payload_with_scripts(pkg: &PackageBuilder) -> BTreeMap<String, Payload> {
    let mut payload = pkg.entries.clone();
    for (action, script) in &pkg.scripts {
        let file = Payload::File {
            contents: script.clone().into_bytes(),
            executable: true,
            kind: FileKind::Plain,
        };
        payload.insert(pkg.script_path(*action), file);
    }
    payload
}

/// Rejects empty, absolute, backslashed or non-normalized relative paths.
fn validate_relative_path(path: &str) -> Result<()> {
    let bad_component = path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..");
    if path.starts_with('/') || path.contains('\\') || bad_component {
        bail!("`{path}` is not a normalized relative path");
    }
    Ok(())
}

/// Replaces every [`PREFIX_TOKEN`] in `contents` with [`PLACEHOLDER`].
pub(crate) fn replace_token(contents: &[u8]) -> Vec<u8> {
    let token = PREFIX_TOKEN.as_bytes();
    let mut out = Vec::with_capacity(contents.len());
    let mut rest = contents;
    while let Some(pos) = rest.windows(token.len()).position(|w| w == token) {
        out.extend_from_slice(&rest[..pos]);
        out.extend_from_slice(PLACEHOLDER.as_bytes());
        rest = &rest[pos + token.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// The bytes a file entry has inside the archive.
fn packed_contents(contents: &[u8], kind: FileKind) -> Vec<u8> {
    match kind {
        FileKind::Plain => contents.to_vec(),
        FileKind::TextPrefix | FileKind::BinaryPrefix => replace_token(contents),
    }
}

fn write_payload(root: &Path, path: &str, entry: &Payload) -> Result<()> {
    let target = root.join(path);
    if let Some(parent) = target.parent() {
        fs_err::create_dir_all(parent)?;
    }
    match entry {
        Payload::File {
            contents,
            executable,
            kind,
        } => {
            fs_err::write(&target, packed_contents(contents, *kind))?;
            set_mode(&target, if *executable { 0o755 } else { 0o644 })
        }
        Payload::Symlink(link_target) => make_symlink(link_target, &target),
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
fn make_symlink(target: &str, link: &Path) -> Result<()> {
    fs_err::os::unix::fs::symlink(target, link)?;
    Ok(())
}

#[cfg(not(unix))]
fn make_symlink(_target: &str, link: &Path) -> Result<()> {
    bail!(
        "cannot create symlink {}: only supported on unix",
        link.display()
    )
}

/// The `paths.json` entry for one staged payload path. Symlinks carry the
/// digest and size of the file they point to (as conda-build records them),
/// or none when dangling.
fn paths_entry(root: &Path, path: &str, entry: &Payload) -> Result<PathsEntry> {
    let (path_type, prefix_placeholder) = match entry {
        Payload::File { kind, .. } => (PathType::HardLink, prefix_placeholder(*kind)),
        Payload::Symlink(_) => (PathType::SoftLink, None),
    };
    let staged = root.join(path);
    let contents = if staged.is_file() {
        Some(fs_err::read(&staged)?)
    } else {
        None
    };
    Ok(PathsEntry {
        relative_path: PathBuf::from(path),
        no_link: false,
        path_type,
        prefix_placeholder,
        sha256: contents.as_ref().map(compute_bytes_digest::<Sha256>),
        size_in_bytes: contents.as_ref().map(|c| c.len() as u64),
    })
}

fn prefix_placeholder(kind: FileKind) -> Option<PrefixPlaceholder> {
    let file_mode = match kind {
        FileKind::Plain => return None,
        FileKind::TextPrefix => FileMode::Text,
        FileKind::BinaryPrefix => FileMode::Binary,
    };
    Some(PrefixPlaceholder {
        file_mode,
        placeholder: PLACEHOLDER.to_owned(),
        experimental_offsets: None,
    })
}

/// Writes all `info/` files and returns their paths relative to `root`.
fn write_info(pkg: &PackageBuilder, root: &Path, paths: &[PathsEntry]) -> Result<Vec<PathBuf>> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert("index.json".into(), index_json(pkg)?);
    files.insert("paths.json".into(), paths_json(paths)?);
    files.insert("files".into(), files_list(paths));
    if let Some(has_prefix) = has_prefix(paths) {
        files.insert("has_prefix".into(), has_prefix);
    }
    if let Some(link) = link_json(pkg)? {
        files.insert("link.json".into(), link);
    }
    files.insert("about.json".into(), about_json(pkg)?);
    add_extra_info_files(pkg, &mut files)?;

    let mut written = Vec::with_capacity(files.len());
    for (name, contents) in files {
        let rel = PathBuf::from("info").join(&name);
        let abs = root.join(&rel);
        if let Some(parent) = abs.parent() {
            fs_err::create_dir_all(parent)?;
        }
        fs_err::write(&abs, contents)?;
        set_mode(&abs, 0o644)?;
        written.push(rel);
    }
    Ok(written)
}

fn add_extra_info_files(pkg: &PackageBuilder, files: &mut BTreeMap<String, Vec<u8>>) -> Result<()> {
    for (name, contents) in &pkg.info_files {
        validate_relative_path(name)?;
        if GENERATED_INFO_FILES.contains(&name.as_str()) {
            bail!("info/{name} is generated by the test kit and cannot be overridden");
        }
        files.insert(name.clone(), contents.clone());
    }
    Ok(())
}

/// `info/index.json`, validated by round-tripping through [`IndexJson`].
fn index_json(pkg: &PackageBuilder) -> Result<Vec<u8>> {
    let index: IndexJson = serde_json::from_value(index_value(pkg)?)
        .with_context(|| format!("invalid package metadata for {}", pkg.stem()))?;
    index
        .validate()
        .with_context(|| format!("invalid match specs in {}", pkg.stem()))?;
    Ok(serde_json::to_vec_pretty(&index)?)
}

/// The raw `index.json` object; optional fields are only set when present.
fn index_value(pkg: &PackageBuilder) -> Result<serde_json::Value> {
    let subdir_name = pkg.target_subdir();
    let subdir = Subdir::from_str(subdir_name)
        .with_context(|| format!("`{subdir_name}` is not a known conda subdir"))?;
    let mut value = json!({
        "name": pkg.name,
        "version": pkg.version,
        "build": pkg.build,
        "build_number": pkg.build_number,
        "depends": pkg.depends,
        "constrains": pkg.constrains,
        "subdir": subdir_name,
        "timestamp": pkg.timestamp_ms,
    });
    let optional = [
        ("arch", subdir.arch().map(|a| a.as_str().to_owned())),
        ("platform", subdir.only_platform().map(str::to_owned)),
        ("noarch", pkg.noarch.map(|n| noarch_name(n).to_owned())),
        ("license", pkg.license.clone()),
        (
            "track_features",
            (!pkg.track_features.is_empty()).then(|| pkg.track_features.join(" ")),
        ),
        ("features", pkg.features.clone()),
    ];
    for (key, field) in optional {
        if let Some(field) = field {
            value[key] = json!(field);
        }
    }
    Ok(value)
}

fn noarch_name(noarch: NoArch) -> &'static str {
    match noarch {
        NoArch::Generic => "generic",
        NoArch::Python => "python",
    }
}

fn paths_json(paths: &[PathsEntry]) -> Result<Vec<u8>> {
    let paths_json = PathsJson {
        paths: paths.to_vec(),
        paths_version: 1,
    };
    Ok(serde_json::to_vec_pretty(&paths_json)?)
}

/// `info/files`: one payload path per line.
fn files_list(paths: &[PathsEntry]) -> Vec<u8> {
    paths
        .iter()
        .map(|p| format!("{}\n", p.relative_path.display()))
        .collect::<String>()
        .into_bytes()
}

/// `info/has_prefix`: `<placeholder> <text|binary> <path>` per prefix file.
fn has_prefix(paths: &[PathsEntry]) -> Option<Vec<u8>> {
    let lines: String = paths
        .iter()
        .filter_map(|p| {
            let placeholder = p.prefix_placeholder.as_ref()?;
            let mode = match placeholder.file_mode {
                FileMode::Text => "text",
                FileMode::Binary => "binary",
            };
            let path = p.relative_path.display();
            Some(format!("{} {mode} {path}\n", placeholder.placeholder))
        })
        .collect();
    (!lines.is_empty()).then(|| lines.into_bytes())
}

/// `info/link.json` for noarch packages, as conda-build writes it.
fn link_json(pkg: &PackageBuilder) -> Result<Option<Vec<u8>>> {
    let noarch = match pkg.noarch {
        None => return Ok(None),
        Some(NoArch::Generic) => NoArchLinks::Generic,
        Some(NoArch::Python) => NoArchLinks::Python(PythonEntryPoints {
            entry_points: parse_entry_points(&pkg.entry_points)?,
        }),
    };
    let link = LinkJson {
        noarch,
        package_metadata_version: 1,
    };
    Ok(Some(serde_json::to_vec_pretty(&link)?))
}

fn parse_entry_points(entry_points: &[String]) -> Result<Vec<EntryPoint>> {
    entry_points
        .iter()
        .map(|ep| EntryPoint::from_str(ep).with_context(|| format!("invalid entry point `{ep}`")))
        .collect()
}

/// `info/about.json` with the license and summary.
fn about_json(pkg: &PackageBuilder) -> Result<Vec<u8>> {
    let about = AboutJson {
        channels: Vec::new(),
        description: None,
        dev_url: Vec::new(),
        doc_url: Vec::new(),
        extra: BTreeMap::from([("built_by".to_owned(), json!("taipan-testkit"))]),
        home: Vec::new(),
        license: pkg.license.clone(),
        license_family: None,
        source_url: None,
        summary: pkg.summary.clone(),
    };
    Ok(serde_json::to_vec_pretty(&about)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_token() {
        let out = replace_token(b"a@PREFIX@b@PREFIX@");
        assert_eq!(out, format!("a{PLACEHOLDER}b{PLACEHOLDER}").into_bytes());
        assert_eq!(replace_token(b"no token"), b"no token");
    }

    #[test]
    fn rejects_bad_paths() {
        for bad in ["", "/abs", "a/../b", "a//b", "./a", "a\\b", "a/"] {
            assert!(validate_relative_path(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_relative_path("lib/python3/site.py").is_ok());
    }
}
