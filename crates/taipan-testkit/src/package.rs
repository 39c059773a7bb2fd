//! [`PackageBuilder`]: describes one conda package and writes it as an archive.

use std::{
    collections::BTreeMap,
    fs::File,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};
use rattler_conda_types::compression_level::CompressionLevel;
use rattler_package_streaming::write::{write_conda_package, write_tar_bz2_package};

use crate::model::{ArchiveFormat, FileKind, LinkScript, NoArch, PackageBuilder, Payload};
use crate::{stage, DEFAULT_TIMESTAMP_MS};

impl PackageBuilder {
    /// Starts a package `name`-`version` with build string `0`, build number
    /// 0, subdir `linux-64` and a fixed timestamp.
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            build: "0".to_owned(),
            build_number: 0,
            subdir: "linux-64".to_owned(),
            noarch: None,
            depends: Vec::new(),
            constrains: Vec::new(),
            track_features: Vec::new(),
            features: None,
            license: None,
            summary: None,
            timestamp_ms: DEFAULT_TIMESTAMP_MS,
            entries: BTreeMap::new(),
            info_files: BTreeMap::new(),
            entry_points: Vec::new(),
            scripts: BTreeMap::new(),
            compression: CompressionLevel::Numeric(3),
        }
    }

    /// Sets the build string (default `0`).
    pub fn build(mut self, build: &str) -> Self {
        self.build = build.to_owned();
        self
    }

    /// Sets the build number (default 0).
    pub fn build_number(mut self, n: u64) -> Self {
        self.build_number = n;
        self
    }

    /// Sets the subdir (default `linux-64`). Noarch packages always use
    /// `noarch`, whatever is set here.
    pub fn subdir(mut self, subdir: &str) -> Self {
        self.subdir = subdir.to_owned();
        self
    }

    /// Makes this a `noarch: generic` package (subdir `noarch`).
    pub fn noarch_generic(mut self) -> Self {
        self.noarch = Some(NoArch::Generic);
        self
    }

    /// Makes this a `noarch: python` package (subdir `noarch`, with an
    /// `info/link.json`). Put its modules under `site-packages/…` and its
    /// scripts under `python-scripts/…`, as conda-build does.
    pub fn noarch_python(mut self) -> Self {
        self.noarch = Some(NoArch::Python);
        self
    }

    /// Adds a dependency match spec, e.g. `"python >=3.8"`.
    pub fn depends(mut self, spec: &str) -> Self {
        self.depends.push(spec.to_owned());
        self
    }

    /// Adds a run constraint match spec, e.g. `"openssl <4"`.
    pub fn constrains(mut self, spec: &str) -> Self {
        self.constrains.push(spec.to_owned());
        self
    }

    /// Adds a track feature (serialized space-separated, as a string).
    pub fn track_feature(mut self, feature: &str) -> Self {
        self.track_features.push(feature.to_owned());
        self
    }

    /// conda's legacy `features` field (`features: nomkl`), which only old channels carry.
    pub fn legacy_features(mut self, features: &str) -> Self {
        self.features = Some(features.to_owned());
        self
    }

    /// Sets the license (in `index.json` and `about.json`).
    pub fn license(mut self, license: &str) -> Self {
        self.license = Some(license.to_owned());
        self
    }

    /// Sets the summary in `about.json`.
    pub fn summary(mut self, summary: &str) -> Self {
        self.summary = Some(summary.to_owned());
        self
    }

    /// Overrides the `index.json` timestamp (milliseconds since the epoch).
    pub fn timestamp_ms(mut self, ms: i64) -> Self {
        self.timestamp_ms = ms;
        self
    }

    /// Sets the archive compression level (default: numeric level 3, which is
    /// valid for both zstd and bzip2).
    pub fn compression(mut self, level: CompressionLevel) -> Self {
        self.compression = level;
        self
    }

    /// Adds a plain file (mode 0644, no prefix) at `path` (relative to the
    /// prefix). A later entry with the same path replaces an earlier one.
    pub fn file(self, path: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.file_with(path, contents, FileKind::Plain, false)
    }

    /// Adds an executable plain file (mode 0755).
    pub fn executable(self, path: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.file_with(path, contents, FileKind::Plain, true)
    }

    /// Adds a text file whose [`PREFIX_TOKEN`] occurrences become the
    /// [`crate::PLACEHOLDER`] and which is listed for text prefix replacement.
    pub fn text_prefix_file(self, path: &str, contents: &str) -> Self {
        self.file_with(path, contents, FileKind::TextPrefix, false)
    }

    /// Adds a binary file whose [`PREFIX_TOKEN`] occurrences become the
    /// [`crate::PLACEHOLDER`] and which is listed for binary prefix
    /// replacement.
    pub fn binary_prefix_file(self, path: &str, contents: Vec<u8>) -> Self {
        self.file_with(path, contents, FileKind::BinaryPrefix, false)
    }

    /// Adds a file with full control over prefix handling and mode, e.g. an
    /// executable script with a `#!@PREFIX@/bin/python` shebang.
    pub fn file_with(
        mut self,
        path: &str,
        contents: impl Into<Vec<u8>>,
        kind: FileKind,
        executable: bool,
    ) -> Self {
        let payload = Payload::File {
            contents: contents.into(),
            executable,
            kind,
        };
        self.entries.insert(path.to_owned(), payload);
        self
    }

    /// Adds a symbolic link at `path` pointing to `target` (usually relative,
    /// e.g. `libfoo.so.1`).
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.entries
            .insert(path.to_owned(), Payload::Symlink(target.to_owned()));
        self
    }

    /// Adds a noarch python entry point such as `"cmd = pkg.mod:func"` to
    /// `info/link.json`. Only meaningful together with
    /// [`PackageBuilder::noarch_python`].
    pub fn entry_point(mut self, entry_point: &str) -> Self {
        self.entry_points.push(entry_point.to_owned());
        self
    }

    /// Adds a pre-link script (`bin/.<name>-pre-link.sh`, or
    /// `Scripts/.<name>-pre-link.bat` for `win-*` subdirs).
    pub fn pre_link(self, script: &str) -> Self {
        self.link_script(LinkScript::PreLink, script)
    }

    /// Adds a post-link script (`bin/.<name>-post-link.sh`, or
    /// `Scripts/.<name>-post-link.bat` for `win-*` subdirs).
    pub fn post_link(self, script: &str) -> Self {
        self.link_script(LinkScript::PostLink, script)
    }

    /// Adds a pre-unlink script (`bin/.<name>-pre-unlink.sh`, or
    /// `Scripts/.<name>-pre-unlink.bat` for `win-*` subdirs).
    pub fn pre_unlink(self, script: &str) -> Self {
        self.link_script(LinkScript::PreUnlink, script)
    }

    fn link_script(mut self, action: LinkScript, script: &str) -> Self {
        self.scripts.insert(action, script.to_owned());
        self
    }

    /// Adds an extra file under `info/`, e.g. `info_file("run_exports.json",
    /// …)`. Generated files (`index.json`, `paths.json`, …) cannot be
    /// overridden this way.
    pub fn info_file(mut self, name: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.info_files.insert(name.to_owned(), contents.into());
        self
    }

    /// The package name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The package version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The build string.
    pub fn build_string(&self) -> &str {
        &self.build
    }

    /// The subdir the package belongs to (`noarch` for noarch packages).
    pub fn target_subdir(&self) -> &str {
        match self.noarch {
            Some(_) => "noarch",
            None => &self.subdir,
        }
    }

    /// `<name>-<version>-<build>` without extension.
    pub fn stem(&self) -> String {
        format!("{}-{}-{}", self.name, self.version, self.build)
    }

    /// The archive file name, e.g. `foo-1.0-0.conda`.
    pub fn file_name(&self, format: ArchiveFormat) -> String {
        format!("{}{}", self.stem(), format.extension())
    }

    /// The relative path of a link script for this package, as conda expects
    /// it.
    pub(crate) fn script_path(&self, action: LinkScript) -> String {
        let action = action.action();
        if self.target_subdir().starts_with("win-") {
            format!("Scripts/.{}-{action}.bat", self.name)
        } else {
            format!("bin/.{}-{action}.sh", self.name)
        }
    }

    /// Writes the archive `<name>-<version>-<build>.conda|.tar.bz2` into
    /// `dir` (created if missing) and returns its path. An existing file of
    /// that name is overwritten.
    pub fn write(&self, dir: &Path, format: ArchiveFormat) -> Result<PathBuf> {
        let staging = tempfile::tempdir().context("creating a staging directory")?;
        let files = stage::stage(self, staging.path())?;
        fs_err::create_dir_all(dir)?;
        let out = dir.join(self.file_name(format));
        self.pack(staging.path(), &files, &out, format)
            .with_context(|| format!("writing {}", out.display()))?;
        Ok(out)
    }

    fn pack(
        &self,
        staging: &Path,
        files: &[PathBuf],
        out: &Path,
        format: ArchiveFormat,
    ) -> Result<()> {
        let absolute: Vec<PathBuf> = files.iter().map(|f| staging.join(f)).collect();
        let writer = File::create(out)?;
        match format {
            ArchiveFormat::Conda => write_conda_package(
                writer,
                staging,
                &absolute,
                self.compression,
                Some(1),
                &self.stem(),
                None,
                None,
            )?,
            ArchiveFormat::TarBz2 => {
                write_tar_bz2_package(writer, staging, &absolute, self.compression, None, None)?;
            }
        }
        Ok(())
    }
}
