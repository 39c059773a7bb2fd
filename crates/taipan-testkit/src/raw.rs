//! [`RawPackage`]: a package written member by member, so tests can build what conda-build
//! never would: member names with `..` or absolute paths, links that lead out of the
//! prefix, a `paths.json` that disagrees with the files, archives that unpack to far more
//! than they declare. [`PackageBuilder`](crate::PackageBuilder) validates everything; this
//! validates nothing.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rattler_digest::{compute_bytes_digest, Sha256};
use serde_json::{json, Value};

use crate::{ArchiveFormat, DEFAULT_TIMESTAMP_MS};

/// One member of the payload.
#[derive(Debug, Clone)]
enum Member {
    File {
        path: String,
        contents: Vec<u8>,
        mode: u32,
    },
    /// `size` zero bytes, generated while writing (a few bytes once compressed).
    Zeros {
        path: String,
        size: u64,
    },
    Symlink {
        path: String,
        target: String,
    },
    HardLink {
        path: String,
        target: String,
    },
    Dir {
        path: String,
    },
}

impl Member {
    fn path(&self) -> &str {
        match self {
            Member::File { path, .. }
            | Member::Zeros { path, .. }
            | Member::Symlink { path, .. }
            | Member::HardLink { path, .. }
            | Member::Dir { path } => path,
        }
    }
}

/// A package whose archive is written exactly as described.
#[derive(Debug, Clone)]
pub struct RawPackage {
    name: String,
    version: String,
    build: String,
    subdir: String,
    noarch: Option<String>,
    depends: Vec<String>,
    members: Vec<Member>,
    /// Extra `paths.json` entries (raw JSON objects).
    declared: Vec<Value>,
    /// Members left out of the generated `paths.json`.
    undeclared: Vec<String>,
    /// Size overrides in the generated `paths.json`.
    sizes: Vec<(String, u64)>,
    /// sha256 overrides (hex) in the generated `paths.json`.
    hashes: Vec<(String, String)>,
    paths_json: Option<Value>,
    link_json: Option<Value>,
    /// `.tar.bz2` only: write `info/` after the payload.
    info_last: bool,
}

impl RawPackage {
    /// A `noarch: generic`-less linux-64 package `name-version-0`.
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            build: "0".to_owned(),
            subdir: "linux-64".to_owned(),
            noarch: None,
            depends: Vec::new(),
            members: Vec::new(),
            declared: Vec::new(),
            undeclared: Vec::new(),
            sizes: Vec::new(),
            hashes: Vec::new(),
            paths_json: None,
            link_json: None,
            info_last: false,
        }
    }

    /// Makes it a `noarch: generic` package.
    pub fn noarch_generic(mut self) -> Self {
        self.noarch = Some("generic".into());
        self.subdir = "noarch".into();
        self
    }

    /// Makes it a `noarch: python` package with this `info/link.json` (`entry_points`).
    pub fn noarch_python(mut self, entry_points: &[&str]) -> Self {
        self.noarch = Some("python".into());
        self.subdir = "noarch".into();
        self.link_json = Some(json!({
            "noarch": {"type": "python", "entry_points": entry_points},
            "package_metadata_version": 1
        }));
        self
    }

    /// Adds a dependency.
    pub fn depends(mut self, spec: &str) -> Self {
        self.depends.push(spec.to_owned());
        self
    }

    /// A regular file (mode 0644), declared in `paths.json` with its size and sha256.
    pub fn file(mut self, path: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.members.push(Member::File {
            path: path.into(),
            contents: contents.into(),
            mode: 0o644,
        });
        self
    }

    /// A file of `size` zero bytes (a few bytes compressed).
    pub fn zeros(mut self, path: &str, size: u64) -> Self {
        self.members.push(Member::Zeros {
            path: path.into(),
            size,
        });
        self
    }

    /// A symbolic link member, declared as `softlink`.
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.members.push(Member::Symlink {
            path: path.into(),
            target: target.into(),
        });
        self
    }

    /// A hard link member pointing to `target` (an earlier member's name).
    pub fn hard_link(mut self, path: &str, target: &str) -> Self {
        self.members.push(Member::HardLink {
            path: path.into(),
            target: target.into(),
        });
        self
    }

    /// A directory member (not declared).
    pub fn dir(mut self, path: &str) -> Self {
        self.members.push(Member::Dir { path: path.into() });
        self
    }

    /// Adds a raw entry to the generated `paths.json` (e.g. `{"_path": "../x", …}`).
    pub fn declare(mut self, entry: Value) -> Self {
        self.declared.push(entry);
        self
    }

    /// Leaves a member out of the generated `paths.json`.
    pub fn undeclared(mut self, path: &str) -> Self {
        self.undeclared.push(path.into());
        self
    }

    /// Declares another size for a member in `paths.json`.
    pub fn declared_size(mut self, path: &str, size: u64) -> Self {
        self.sizes.push((path.into(), size));
        self
    }

    /// Declares another sha256 (hex) for a member in `paths.json`.
    pub fn declared_sha256(mut self, path: &str, hex: &str) -> Self {
        self.hashes.push((path.into(), hex.into()));
        self
    }

    /// Replaces the whole `info/paths.json`.
    pub fn paths_json(mut self, value: Value) -> Self {
        self.paths_json = Some(value);
        self
    }

    /// Writes `info/` after the payload in a `.tar.bz2` (conda-build writes it first).
    pub fn info_last(mut self) -> Self {
        self.info_last = true;
        self
    }

    /// `<name>-<version>-<build>`.
    pub fn stem(&self) -> String {
        format!("{}-{}-{}", self.name, self.version, self.build)
    }

    /// The subdir it belongs to.
    pub fn subdir(&self) -> &str {
        &self.subdir
    }

    fn index_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "version": self.version,
            "build": self.build,
            "build_number": 0,
            "depends": self.depends,
            "subdir": self.subdir,
            "timestamp": DEFAULT_TIMESTAMP_MS,
        });
        if let Some(noarch) = &self.noarch {
            v["noarch"] = json!(noarch);
        } else {
            v["arch"] = json!("x86_64");
            v["platform"] = json!("linux");
        }
        v
    }

    fn generated_paths(&self) -> Value {
        let mut paths = Vec::new();
        for m in &self.members {
            if self.undeclared.iter().any(|u| u == m.path()) {
                continue;
            }
            let mut entry = match m {
                Member::File { path, contents, .. } => json!({
                    "_path": path,
                    "path_type": "hardlink",
                    "sha256": hex(&compute_bytes_digest::<Sha256>(contents)),
                    "size_in_bytes": contents.len(),
                }),
                Member::Zeros { path, size } => json!({
                    "_path": path,
                    "path_type": "hardlink",
                    "size_in_bytes": size,
                }),
                Member::Symlink { path, .. } => json!({
                    "_path": path,
                    "path_type": "softlink",
                    "size_in_bytes": 0,
                }),
                Member::HardLink { path, .. } => json!({
                    "_path": path,
                    "path_type": "hardlink",
                }),
                Member::Dir { .. } => continue,
            };
            if let Some((_, size)) = self.sizes.iter().find(|(p, _)| p == m.path()) {
                entry["size_in_bytes"] = json!(size);
            }
            if let Some((_, h)) = self.hashes.iter().find(|(p, _)| p == m.path()) {
                entry["sha256"] = json!(h);
            }
            paths.push(entry);
        }
        paths.extend(self.declared.iter().cloned());
        json!({"paths": paths, "paths_version": 1})
    }

    fn info_members(&self) -> Vec<Member> {
        let paths = self
            .paths_json
            .clone()
            .unwrap_or_else(|| self.generated_paths());
        let files: String = self
            .members
            .iter()
            .filter(|m| !matches!(m, Member::Dir { .. }))
            .map(|m| format!("{}\n", m.path()))
            .collect();
        let mut out = vec![
            info("info/index.json", &self.index_json()),
            info("info/paths.json", &paths),
            Member::File {
                path: "info/files".into(),
                contents: files.into_bytes(),
                mode: 0o644,
            },
            info("info/about.json", &json!({"summary": "a raw test package"})),
        ];
        if let Some(link) = &self.link_json {
            out.push(info("info/link.json", link));
        }
        out
    }

    /// The archive file name.
    pub fn file_name(&self, format: ArchiveFormat) -> String {
        format!("{}{}", self.stem(), format.extension())
    }

    /// Writes the archive into `dir` and returns its path.
    pub fn write(&self, dir: &Path, format: ArchiveFormat) -> Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let out = dir.join(self.file_name(format));
        match format {
            ArchiveFormat::TarBz2 => {
                let file = std::fs::File::create(&out)?;
                let mut bz = bzip2::write::BzEncoder::new(file, bzip2::Compression::fast());
                let mut members = self.info_members();
                if self.info_last {
                    members.splice(0..0, self.members.iter().cloned());
                } else {
                    members.extend(self.members.iter().cloned());
                }
                write_tar(&mut bz, &members)?;
                bz.finish()?;
            }
            ArchiveFormat::Conda => self.write_conda(&out)?,
        }
        Ok(out)
    }

    fn write_conda(&self, out: &Path) -> Result<()> {
        let mut pkg = Vec::new();
        {
            let mut enc = zstd::stream::write::Encoder::new(&mut pkg, 3)?;
            write_tar(&mut enc, &self.members)?;
            enc.finish()?;
        }
        let mut info_tar = Vec::new();
        {
            let mut enc = zstd::stream::write::Encoder::new(&mut info_tar, 3)?;
            write_tar(&mut enc, &self.info_members())?;
            enc.finish()?;
        }
        let file = std::fs::File::create(out)?;
        let mut zip = zip::ZipWriter::new(file);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("metadata.json", stored)?;
        zip.write_all(br#"{"conda_pkg_format_version": 2}"#)?;
        zip.start_file(format!("pkg-{}.tar.zst", self.stem()), stored)?;
        zip.write_all(&pkg)?;
        zip.start_file(format!("info-{}.tar.zst", self.stem()), stored)?;
        zip.write_all(&info_tar)?;
        zip.finish()?;
        Ok(())
    }
}

fn info(path: &str, value: &Value) -> Member {
    Member::File {
        path: path.into(),
        contents: serde_json::to_vec_pretty(value).unwrap_or_default(),
        mode: 0o644,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes tar members with their names exactly as given (`..`, leading `/`): the tar
/// crate's own setters refuse such names, so they go into the header's bytes directly.
fn write_tar<W: Write>(w: &mut W, members: &[Member]) -> Result<()> {
    for m in members {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        match m {
            Member::File { contents, mode, .. } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(contents.len() as u64);
                raw_name(&mut header, m.path())?;
                w.write_all(header.as_bytes())?;
                w.write_all(contents)?;
                pad(w, contents.len() as u64)?;
            }
            Member::Zeros { size, .. } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(*size);
                raw_name(&mut header, m.path())?;
                w.write_all(header.as_bytes())?;
                std::io::copy(&mut std::io::repeat(0).take(*size), w)?;
                pad(w, *size)?;
            }
            Member::Symlink { target, .. } | Member::HardLink { target, .. } => {
                let kind = if matches!(m, Member::Symlink { .. }) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                };
                header.set_entry_type(kind);
                header.set_mode(0o777);
                header.set_size(0);
                raw_name(&mut header, m.path())?;
                raw_link(&mut header, target)?;
                w.write_all(header.as_bytes())?;
            }
            Member::Dir { .. } => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                raw_name(&mut header, m.path())?;
                w.write_all(header.as_bytes())?;
            }
        }
    }
    w.write_all(&[0u8; 1024])?;
    Ok(())
}

fn raw_name(header: &mut tar::Header, name: &str) -> Result<()> {
    let bytes = name.as_bytes();
    anyhow::ensure!(
        bytes.len() <= 100,
        "member name `{name}` is longer than 100 bytes"
    );
    let old = header.as_old_mut();
    old.name = [0; 100];
    old.name[..bytes.len()].copy_from_slice(bytes);
    header.set_cksum();
    Ok(())
}

fn raw_link(header: &mut tar::Header, target: &str) -> Result<()> {
    let bytes = target.as_bytes();
    anyhow::ensure!(
        bytes.len() <= 100,
        "link target `{target}` is longer than 100 bytes"
    );
    let old = header.as_old_mut();
    old.linkname = [0; 100];
    old.linkname[..bytes.len()].copy_from_slice(bytes);
    header.set_cksum();
    Ok(())
}

fn pad<W: Write>(w: &mut W, size: u64) -> Result<()> {
    let rest = (512 - size % 512) % 512;
    w.write_all(&vec![0u8; rest as usize])
        .context("padding a tar member")?;
    Ok(())
}
