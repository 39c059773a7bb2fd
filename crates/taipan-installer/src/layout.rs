//! The payload's layout: what the build writes and `installer finish` reads, named once.
//!
//! ```text
//! _conda                               the taipan binary
//! pkgs/                                the package cache (archives and extracted packages)
//! .taipan-installer/                   the base environment's files and the installer's own:
//!     lock.txt records.json history.in initial-state.explicit.txt
//!     condarc pre_install.sh post_install.sh LICENSE.txt
//!     envs/NAME/                       each extra environment's files
//! ```

use std::path::{Path, PathBuf};

/// An unpacked (or staged) payload.
#[derive(Debug, Clone)]
pub struct Payload {
    root: PathBuf,
}

impl Payload {
    /// The payload unpacked (or being staged) at `root`.
    pub fn at(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    /// The taipan binary, `_conda` (also its name in the installed prefix).
    pub fn binary(&self) -> PathBuf {
        self.root.join(BINARY)
    }

    /// The package cache.
    pub fn pkgs(&self) -> PathBuf {
        self.root.join("pkgs")
    }

    /// The installer's own files (the base environment's among them).
    pub fn meta(&self) -> PathBuf {
        self.root.join(META_DIR)
    }

    /// The files of an environment: the base (`None`) or an extra one.
    pub fn env(&self, name: Option<&str>) -> EnvFiles {
        let dir = match name {
            None => self.meta(),
            Some(name) => self.extra_envs().join(name),
        };
        EnvFiles { dir }
    }

    /// Where the extra environments' files are, one directory each.
    pub fn extra_envs(&self) -> PathBuf {
        self.meta().join("envs")
    }

    /// The `.condarc` the installed root prefix gets.
    pub fn condarc(&self) -> PathBuf {
        self.meta().join("condarc")
    }

    /// The license the interactive install shows.
    pub fn license(&self) -> PathBuf {
        self.meta().join("LICENSE.txt")
    }

    /// `pre_install.sh` or `post_install.sh`.
    pub fn script(&self, which: Script) -> PathBuf {
        self.meta().join(match which {
            Script::PreInstall => "pre_install.sh",
            Script::PostInstall => "post_install.sh",
        })
    }
}

/// The directory of the installer's own files in the payload.
pub const META_DIR: &str = ".taipan-installer";

/// The taipan binary's name in the payload and in the installed prefix.
pub const BINARY: &str = "_conda";

/// The installer's scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Runs before the environments are installed.
    PreInstall,
    /// Runs after.
    PostInstall,
}

/// The files of one environment in the payload.
#[derive(Debug, Clone)]
pub struct EnvFiles {
    dir: PathBuf,
}

impl EnvFiles {
    /// The directory holding them.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `@EXPLICIT` lock with sha256s.
    pub fn lock(&self) -> PathBuf {
        self.dir.join("lock.txt")
    }

    /// The records the build solved, for the lock's URLs.
    pub fn records(&self) -> PathBuf {
        self.dir.join("records.json")
    }

    /// The history block the install writes (without its date line).
    pub fn history(&self) -> PathBuf {
        self.dir.join("history.in")
    }

    /// `conda-meta/initial-state.explicit.txt`.
    pub fn initial_state(&self) -> PathBuf {
        self.dir.join("initial-state.explicit.txt")
    }
}
