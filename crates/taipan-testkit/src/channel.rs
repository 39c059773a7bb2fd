//! [`ChannelBuilder`]: a local conda channel indexed with `rattler_index`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use rattler_index::{index_fs, IndexFsConfig, PackageRevisionAssignment};
use url::Url;

use crate::model::{ArchiveFormat, PackageBuilder};
use crate::raw::RawPackage;

/// A conda channel directory on disk.
///
/// Packages go to `<root>/<subdir>/`; [`ChannelBuilder::index`] writes
/// `repodata.json` (and `repodata.json.zst`) for every subdir, including an
/// empty `noarch`.
#[derive(Debug)]
pub struct ChannelBuilder {
    root: PathBuf,
    packages: Vec<PathBuf>,
    errors: Vec<String>,
    write_zst: bool,
    write_shards: bool,
}

impl ChannelBuilder {
    /// A channel rooted at `root` (created on first write). Relative paths
    /// are made absolute against the current directory.
    pub fn new(root: &Path) -> Self {
        Self {
            root: absolutize(root),
            packages: Vec::new(),
            errors: Vec::new(),
            write_zst: true,
            write_shards: false,
        }
    }

    /// Whether [`ChannelBuilder::index`] also writes `repodata.json.zst`
    /// (default: yes).
    pub fn with_zst(mut self, enabled: bool) -> Self {
        self.write_zst = enabled;
        self
    }

    /// Whether [`ChannelBuilder::index`] also writes sharded repodata
    /// (`repodata_shards.msgpack.zst` and `shards/`; default: no).
    pub fn with_shards(mut self, enabled: bool) -> Self {
        self.write_shards = enabled;
        self
    }

    /// Writes `pkg` into `<root>/<subdir>/`. Errors are deferred and reported
    /// by [`ChannelBuilder::index`]; use [`ChannelBuilder::try_add`] to get
    /// them immediately.
    pub fn add(&mut self, pkg: &PackageBuilder, format: ArchiveFormat) -> &mut Self {
        if let Err(err) = self.try_add(pkg, format) {
            self.errors.push(format!("{err:#}"));
        }
        self
    }

    /// Writes `pkg` into `<root>/<subdir>/` and returns the archive path.
    pub fn try_add(&mut self, pkg: &PackageBuilder, format: ArchiveFormat) -> Result<PathBuf> {
        let dir = self.root.join(pkg.target_subdir());
        let path = pkg.write(&dir, format)?;
        self.packages.push(path.clone());
        Ok(path)
    }

    /// Writes a [`RawPackage`] into `<root>/<subdir>/`. Errors are deferred like
    /// [`ChannelBuilder::add`]'s.
    pub fn add_raw(&mut self, pkg: &RawPackage, format: ArchiveFormat) -> &mut Self {
        let dir = self.root.join(pkg.subdir());
        match pkg.write(&dir, format) {
            Ok(path) => self.packages.push(path),
            Err(err) => self.errors.push(format!("{err:#}")),
        }
        self
    }

    /// Edits one record of the indexed `<subdir>/repodata.json` (a wrong md5, a missing
    /// sha256, …) and removes the `.zst` and sharded forms, so readers see the edit.
    pub fn patch_record(
        &self,
        subdir: &str,
        file_name: &str,
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> Result<()> {
        let path = self.root.join(subdir).join("repodata.json");
        let mut repodata: serde_json::Value = serde_json::from_slice(&fs_err::read(&path)?)?;
        let key = if file_name.ends_with(".conda") {
            "packages.conda"
        } else {
            "packages"
        };
        let record = repodata
            .get_mut(key)
            .and_then(|p| p.get_mut(file_name))
            .ok_or_else(|| anyhow!("{file_name} is not in {}", path.display()))?;
        edit(record);
        fs_err::write(&path, serde_json::to_vec_pretty(&repodata)?)?;
        for extra in ["repodata.json.zst", "repodata_shards.msgpack.zst"] {
            let _ = std::fs::remove_file(self.root.join(subdir).join(extra));
        }
        Ok(())
    }

    /// Records an archive already written into the channel.
    pub(crate) fn push_package(&mut self, path: PathBuf) {
        self.packages.push(path);
    }

    /// The channel directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Paths of all archives written so far.
    pub fn packages(&self) -> &[PathBuf] {
        &self.packages
    }

    /// Indexes the whole channel from scratch (blocking). Fails if an earlier
    /// [`ChannelBuilder::add`] failed.
    ///
    /// Runs `rattler_index` on a dedicated thread with its own runtime, so it
    /// may be called from synchronous code and from inside async tests alike.
    pub fn index(&self) -> Result<()> {
        if !self.errors.is_empty() {
            return Err(anyhow!(
                "adding packages failed:\n{}",
                self.errors.join("\n")
            ));
        }
        fs_err::create_dir_all(&self.root)?;
        let config = self.index_config();
        std::thread::spawn(move || run_index(config))
            .join()
            .map_err(|_| anyhow!("the indexing thread panicked"))?
            .with_context(|| format!("indexing channel {}", self.root.display()))
    }

    fn index_config(&self) -> IndexFsConfig {
        IndexFsConfig {
            channel: self.root.clone(),
            target_platform: None,
            repodata_patch: None,
            write_zst: self.write_zst,
            write_shards: self.write_shards,
            repodata_revisions: Vec::new(),
            package_revision_assignment: PackageRevisionAssignment::default(),
            force: true,
            max_parallel: 4,
            multi_progress: None,
        }
    }

    /// The channel as a `file://` URL (with a trailing slash).
    ///
    /// # Panics
    ///
    /// Never in practice: the root is made absolute in
    /// [`ChannelBuilder::new`].
    pub fn url(&self) -> Url {
        Url::from_directory_path(&self.root).expect("channel root is an absolute path")
    }
}

fn run_index(config: IndexFsConfig) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(index_fs(config))
}

/// `path` made absolute against the current directory (best effort).
fn absolutize(path: &Path) -> PathBuf {
    std::path::absolute(path)
        .or_else(|_| std::env::current_dir().map(|cwd| cwd.join(path)))
        .unwrap_or_else(|_| path.to_path_buf())
}
