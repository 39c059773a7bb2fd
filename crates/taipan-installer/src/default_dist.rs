//! The default distribution, embedded in the binary: `distribution/construct.yaml` plus a local
//! channel holding taipan itself as a conda package, made from the running (or a given) binary.
//! This is what `taipan installer build --default` and `taipan deploy` build offline.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use taipan_env::error::ErrorKind;

use rattler_conda_types::compression_level::CompressionLevel;
use rattler_conda_types::package::{
    AboutJson, FileMode, IndexJson, PathType, PathsEntry, PathsJson, PrefixPlaceholder,
};
use rattler_conda_types::{PackageRecord, RepoData};
use rattler_digest::{compute_bytes_digest, Md5, Sha256};
use taipan_env::{CondaError, Result};

use crate::build::{build, Built};

/// The default spec, as it is in the repository.
pub const SPEC: &str = include_str!("../../../distribution/construct.yaml");
/// The license the default spec points to (`license_file: ../LICENSE`).
const LICENSE: &str = include_str!("../../../LICENSE");
/// conda-build's placeholder for the build prefix; conda replaces it in text files on install.
const PLACEHOLDER: &str = "/opt/anaconda1anaconda2anaconda3";

/// The default spec's identity, read without building anything.
#[derive(serde::Deserialize)]
pub struct Identity {
    /// `name`, e.g. `Taipan3`.
    pub name: String,
    /// `version`, e.g. `0.1.0`.
    pub version: String,
    installer_filename: Option<String>,
}

impl Identity {
    /// The installer's file name, e.g. `Taipan3-0.1.0-Linux-x86_64.sh`.
    pub fn file_name(&self) -> String {
        self.installer_filename
            .clone()
            .unwrap_or_else(|| format!("{}-{}-Linux-x86_64.sh", self.name, self.version))
    }
}

/// The default distribution's name, version and installer file name.
pub fn identity() -> Result<Identity> {
    serde_yaml::from_str(SPEC).map_err(|e| {
        CondaError::new(
            ErrorKind::InvalidSpecError,
            format!("the embedded distribution/construct.yaml: {e}"),
        )
    })
}

/// Builds the default distribution's installer into `out_dir`, embedding `taipan_binary`
/// both as the installer's `_conda` and inside the `taipan` package.
pub async fn build_default(
    out_dir: &Path,
    taipan_binary: &Path,
    env: &HashMap<String, String>,
) -> Result<Built> {
    let work = tempfile::tempdir()?;
    let dist = work.path().join("distribution");
    std::fs::create_dir_all(&dist)?;
    std::fs::write(dist.join("construct.yaml"), SPEC)?;
    std::fs::write(work.path().join("LICENSE"), LICENSE)?;
    write_channel(
        &dist.join("channel"),
        taipan_binary,
        env!("CARGO_PKG_VERSION"),
    )?;
    build(&dist.join("construct.yaml"), out_dir, taipan_binary, env).await
}

/// Writes a `file://` channel at `root` with one linux-64 package, `taipan-VERSION-0.conda`:
/// `bin/conda` (the binary), `condabin/conda` and the activation files of a root prefix.
pub fn write_channel(root: &Path, taipan_binary: &Path, version: &str) -> Result<PathBuf> {
    let subdir = root.join("linux-64");
    std::fs::create_dir_all(&subdir)?;
    std::fs::create_dir_all(root.join("noarch"))?;
    let exe = std::fs::read(taipan_binary).map_err(|e| {
        CondaError::new(
            ErrorKind::FileNotFoundError,
            format!(
                "cannot read the taipan binary {}: {e}",
                taipan_binary.display()
            ),
        )
    })?;
    let index = index_json(version)?;
    let file_name = format!("taipan-{version}-0.conda");
    let archive = subdir.join(&file_name);
    write_package(&archive, &exe, &index)?;
    let bytes = std::fs::read(&archive)?;
    let record = PackageRecord::from_index_json(
        index,
        Some(bytes.len() as u64),
        Some(compute_bytes_digest::<Sha256>(&bytes)),
        Some(compute_bytes_digest::<Md5>(&bytes)),
    )
    .map_err(json_error)?;
    write_repodata(&subdir, "linux-64", Some((file_name, record)))?;
    write_repodata(&root.join("noarch"), "noarch", None)?;
    Ok(archive)
}

fn index_json(version: &str) -> Result<IndexJson> {
    let value = serde_json::json!({
        "name": "taipan",
        "version": version,
        "build": "0",
        "build_number": 0,
        "depends": [],
        "subdir": "linux-64",
        "arch": "x86_64",
        "platform": "linux",
        "license": "BSD-3-Clause",
        // A fixed time keeps builds of the same binary byte-identical.
        "timestamp": 1_700_000_000_000_i64,
    });
    serde_json::from_value(value).map_err(json_error)
}

/// One entry of the package: its path, bytes (or link target) and how conda must treat it.
enum Entry {
    File {
        bytes: Vec<u8>,
        mode: u32,
        text_prefix: bool,
    },
    Symlink(&'static str),
}

fn entries(exe: &[u8]) -> Vec<(String, Entry)> {
    let mut out = vec![
        (
            "bin/conda".to_owned(),
            Entry::File {
                bytes: exe.to_vec(),
                mode: 0o755,
                text_prefix: false,
            },
        ),
        ("condabin/conda".to_owned(), Entry::Symlink("../bin/conda")),
    ];
    // The activation files name the root prefix: ship them with the placeholder, as a
    // conda-build package would, so they are right wherever the package is installed.
    for f in taipan_shell::files::files(Path::new(PLACEHOLDER)) {
        out.push((
            f.path.display().to_string(),
            Entry::File {
                bytes: f.content.into_bytes(),
                mode: if f.executable { 0o755 } else { 0o644 },
                text_prefix: true,
            },
        ));
    }
    out
}

fn write_package(archive: &Path, exe: &[u8], index: &IndexJson) -> Result<()> {
    let staging = tempfile::tempdir()?;
    let root = staging.path();
    let mut paths = Vec::new();
    let mut files = Vec::new();
    for (rel, entry) in entries(exe) {
        let path = root.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        paths.push(stage_entry(&path, &rel, &entry)?);
        files.push(PathBuf::from(&rel));
    }
    let info = root.join("info");
    std::fs::create_dir_all(&info)?;
    let paths = PathsJson {
        paths,
        paths_version: 1,
    };
    let metadata = [
        (
            "index.json",
            serde_json::to_vec_pretty(index).map_err(json_error)?,
        ),
        (
            "paths.json",
            serde_json::to_vec_pretty(&paths).map_err(json_error)?,
        ),
        (
            "about.json",
            serde_json::to_vec_pretty(&about()).map_err(json_error)?,
        ),
    ];
    for (name, bytes) in metadata {
        std::fs::write(info.join(name), bytes)?;
        files.push(Path::new("info").join(name));
    }
    let absolute: Vec<PathBuf> = files.iter().map(|f| root.join(f)).collect();
    let writer = std::fs::File::create(archive)?;
    rattler_package_streaming::write::write_conda_package(
        writer,
        root,
        &absolute,
        // The installer ships this package extracted (its binary is `_conda`, stored once),
        // so the archive only feeds the build: zstd level 3 instead of 15 makes building
        // the default distribution (the first `taipan deploy`) seconds faster.
        CompressionLevel::Numeric(3),
        None,
        "taipan",
        None,
        None,
    )?;
    Ok(())
}

/// Writes one entry into the staging tree and returns its `paths.json` record.
fn stage_entry(path: &Path, rel: &str, entry: &Entry) -> Result<PathsEntry> {
    use std::os::unix::fs::PermissionsExt;
    let (path_type, digest, size, placeholder) = match entry {
        Entry::File {
            bytes,
            mode,
            text_prefix,
        } => {
            std::fs::write(path, bytes)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode))?;
            let placeholder = text_prefix.then(|| PrefixPlaceholder {
                file_mode: FileMode::Text,
                placeholder: PLACEHOLDER.to_owned(),
                experimental_offsets: None,
            });
            (
                PathType::HardLink,
                Some(compute_bytes_digest::<Sha256>(bytes)),
                Some(bytes.len() as u64),
                placeholder,
            )
        }
        Entry::Symlink(target) => {
            std::os::unix::fs::symlink(target, path)?;
            (PathType::SoftLink, None, None, None)
        }
    };
    Ok(PathsEntry {
        relative_path: PathBuf::from(rel),
        no_link: false,
        path_type,
        prefix_placeholder: placeholder,
        sha256: digest,
        size_in_bytes: size,
    })
}

fn about() -> AboutJson {
    AboutJson {
        channels: Vec::new(),
        description: None,
        dev_url: Vec::new(),
        doc_url: Vec::new(),
        extra: Default::default(),
        home: Vec::new(),
        license: Some("BSD-3-Clause".to_owned()),
        license_family: Some("BSD".to_owned()),
        source_url: None,
        summary: Some("taipan: the Anaconda distribution rebuilt in Rust (provides conda)".into()),
    }
}

fn write_repodata(dir: &Path, subdir: &str, record: Option<(String, PackageRecord)>) -> Result<()> {
    let mut repodata: RepoData = serde_json::from_value(serde_json::json!({
        "info": {"subdir": subdir},
        "packages": {},
        "packages.conda": {},
        "repodata_version": 1,
    }))
    .map_err(json_error)?;
    if let Some((file_name, record)) = record {
        let key = file_name.parse().map_err(|_| {
            CondaError::new(ErrorKind::CondaError, format!("bad file name {file_name}"))
        })?;
        repodata.conda_packages.insert(key, record);
    }
    let bytes = serde_json::to_vec_pretty(&repodata).map_err(json_error)?;
    std::fs::write(dir.join("repodata.json"), bytes)?;
    Ok(())
}

fn json_error(e: impl std::fmt::Display) -> CondaError {
    CondaError::new(
        ErrorKind::CondaError,
        format!("writing the taipan package: {e}"),
    )
}
