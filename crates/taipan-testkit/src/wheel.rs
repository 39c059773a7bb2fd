//! [`WheelBuilder`]: pure-python wheels (`name-ver-py3-none-any.whl`) for pip to install,
//! written without network or the `wheel` package, and [`write_simple_index`]: a PEP 503
//! "simple" index of such wheels.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};
use rattler_digest::{compute_bytes_digest, Sha256};
use zip::{write::SimpleFileOptions, CompressionMethod, DateTime, ZipWriter};

/// Describes a pure-python wheel and writes it.
///
/// Nothing is validated until [`WheelBuilder::write`], which reports bad names, versions,
/// paths and entry points as errors.
#[derive(Debug, Clone)]
pub struct WheelBuilder {
    name: String,
    version: String,
    summary: String,
    requires: Vec<String>,
    files: BTreeMap<String, Vec<u8>>,
    console_scripts: Vec<(String, String)>,
}

impl WheelBuilder {
    /// A wheel of the distribution `name` at `version`, with no files yet.
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            summary: format!("{name}, built by taipan's test kit"),
            requires: Vec::new(),
            files: BTreeMap::new(),
            console_scripts: Vec::new(),
        }
    }

    /// Adds a file below the wheel root (which pip installs into site-packages), e.g.
    /// `module("tpdemo/__init__.py", "X = 1\n")`. A later file at the same path wins.
    pub fn module(mut self, path: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.to_owned(), contents.into());
        self
    }

    /// Adds a `Requires-Dist` line, e.g. `"tpdep>=1.0"`.
    pub fn requires(mut self, requirement: &str) -> Self {
        self.requires.push(requirement.to_owned());
        self
    }

    /// Sets the `Summary` of `METADATA`.
    pub fn summary(mut self, summary: &str) -> Self {
        self.summary = summary.to_owned();
        self
    }

    /// Adds a console script, e.g. `entry_point("tpdemo", "tpdemo:main")`: pip writes
    /// `bin/tpdemo` calling `tpdemo.main()`.
    pub fn entry_point(mut self, command: &str, target: &str) -> Self {
        self.console_scripts
            .push((command.to_owned(), target.to_owned()));
        self
    }

    /// The distribution name as it appears in file names (`-`, `.` become `_`).
    pub fn escaped_name(&self) -> String {
        self.name.replace(['-', '.'], "_")
    }

    /// The PEP 503 normalized name (lower case, runs of `-_.` become `-`).
    pub fn normalized_name(&self) -> String {
        normalize(&self.name)
    }

    /// `<name>-<version>.dist-info`.
    pub fn dist_info(&self) -> String {
        format!("{}-{}.dist-info", self.escaped_name(), self.version)
    }

    /// `<name>-<version>-py3-none-any.whl`.
    pub fn file_name(&self) -> String {
        format!("{}-{}-py3-none-any.whl", self.escaped_name(), self.version)
    }

    /// Every member (path and contents) the wheel holds, `RECORD` last.
    pub fn members(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.validate()?;
        let dist_info = self.dist_info();
        let mut members: Vec<(String, Vec<u8>)> = self
            .files
            .iter()
            .map(|(p, c)| (p.clone(), c.clone()))
            .collect();
        members.push((
            format!("{dist_info}/METADATA"),
            self.metadata().into_bytes(),
        ));
        members.push((
            format!("{dist_info}/WHEEL"),
            b"Wheel-Version: 1.0\nGenerator: taipan-testkit\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .to_vec(),
        ));
        if !self.console_scripts.is_empty() {
            let mut text = String::from("[console_scripts]\n");
            for (command, target) in &self.console_scripts {
                text.push_str(&format!("{command} = {target}\n"));
            }
            members.push((format!("{dist_info}/entry_points.txt"), text.into_bytes()));
        }
        let mut record = String::new();
        for (path, contents) in &members {
            record.push_str(&format!(
                "{path},{},{}\n",
                record_hash(contents),
                contents.len()
            ));
        }
        record.push_str(&format!("{dist_info}/RECORD,,\n"));
        members.push((format!("{dist_info}/RECORD"), record.into_bytes()));
        Ok(members)
    }

    /// Writes the wheel into `dir` (created if missing) and returns its path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        let members = self.members()?;
        fs_err::create_dir_all(dir)?;
        let path = dir.join(self.file_name());
        let file = fs_err::File::create(&path)?;
        let mut zip = ZipWriter::new(file);
        let time = DateTime::from_date_and_time(2023, 11, 14, 22, 13, 20)
            .context("a valid wheel timestamp")?;
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(time)
            .unix_permissions(0o644);
        for (name, contents) in &members {
            zip.start_file(name.as_str(), options)?;
            zip.write_all(contents)?;
        }
        zip.finish()
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    fn metadata(&self) -> String {
        let mut text = format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\nSummary: {}\n",
            self.name, self.version, self.summary
        );
        for req in &self.requires {
            text.push_str(&format!("Requires-Dist: {req}\n"));
        }
        text
    }

    fn validate(&self) -> Result<()> {
        let name_ok = !self.name.is_empty()
            && self.name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && self.name.ends_with(|c: char| c.is_ascii_alphanumeric())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !name_ok {
            bail!("`{}` is not a valid distribution name", self.name);
        }
        let version_ok = !self.version.is_empty()
            && self
                .version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+!".contains(c));
        if !version_ok {
            bail!("`{}` is not a valid wheel version", self.version);
        }
        for path in self.files.keys() {
            let bad = path.starts_with('/')
                || path.contains('\\')
                || path
                    .split('/')
                    .any(|c| c.is_empty() || c == "." || c == "..");
            if bad {
                bail!("`{path}` is not a normalized relative path");
            }
            if path.split('/').next() == Some(self.dist_info().as_str()) {
                bail!("`{path}`: the .dist-info is generated");
            }
        }
        for (command, target) in &self.console_scripts {
            let (module, func) = target.split_once(':').unwrap_or_default();
            if command.is_empty()
                || command.contains(['=', ' ', '/'])
                || module.is_empty()
                || func.is_empty()
            {
                bail!("bad console script `{command} = {target}` (want `cmd`, `module:func`)");
            }
        }
        Ok(())
    }
}

/// PEP 503 name normalization.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if "-_.".contains(c) {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_sep = false;
        }
    }
    out
}

/// `sha256=<urlsafe base64 without padding>`, as `RECORD` wants.
fn record_hash(contents: &[u8]) -> String {
    format!(
        "sha256={}",
        urlsafe_b64_nopad(&compute_bytes_digest::<Sha256>(contents))
    )
}

/// URL-safe base64 (RFC 4648 §5) without `=` padding.
pub(crate) fn urlsafe_b64_nopad(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Writes a PEP 503 "simple" index for `wheels` (files directly inside `root`):
/// `<root>/simple/index.html` and `<root>/simple/<normalized name>/index.html`, linking
/// `../../<wheel>#sha256=<hex>`. Serve `root` (e.g. with [`crate::http::TestServer`]) and
/// point pip at `--index-url http://HOST/simple/`. Returns `<root>/simple`.
pub fn write_simple_index(root: &Path, wheels: &[PathBuf]) -> Result<PathBuf> {
    let mut projects: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for wheel in wheels {
        let file = wheel
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("{} has no UTF-8 file name", wheel.display()))?;
        if wheel.parent() != Some(root) {
            bail!(
                "{} is not directly inside {}",
                wheel.display(),
                root.display()
            );
        }
        let Some((name, _)) = file.strip_suffix(".whl").and_then(|s| s.split_once('-')) else {
            bail!("`{file}` is not a wheel file name");
        };
        let sha = compute_bytes_digest::<Sha256>(fs_err::read(wheel)?);
        let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
        projects
            .entry(normalize(name))
            .or_default()
            .push((file.to_owned(), hex));
    }
    let simple = root.join("simple");
    fs_err::create_dir_all(&simple)?;
    let mut top = String::from("<!DOCTYPE html>\n<html><body>\n");
    for (project, files) in &projects {
        top.push_str(&format!("<a href=\"{project}/\">{project}</a>\n"));
        let mut page = format!(
            "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" \
             content=\"1.0\"></head><body>\n<h1>Links for {project}</h1>\n"
        );
        for (file, hex) in files {
            page.push_str(&format!(
                "<a href=\"../../{file}#sha256={hex}\">{file}</a>\n"
            ));
        }
        page.push_str("</body></html>\n");
        let dir = simple.join(project);
        fs_err::create_dir_all(&dir)?;
        fs_err::write(dir.join("index.html"), page)?;
    }
    top.push_str("</body></html>\n");
    fs_err::write(simple.join("index.html"), top)?;
    Ok(simple)
}
