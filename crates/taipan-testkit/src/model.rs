//! What a package is made of, as the builder describes it: shared by [`crate::PackageBuilder`]'s
//! methods and by the staging that writes it out.

use std::collections::BTreeMap;

use rattler_conda_types::compression_level::CompressionLevel;

/// The token that prefix-carrying file contents use to mark the install
/// prefix. It is replaced by [`crate::PLACEHOLDER`] when the package is packed.
pub const PREFIX_TOKEN: &str = "@PREFIX@";

/// The archive format of a conda package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArchiveFormat {
    /// The modern `.conda` format (zip of zstd-compressed tarballs).
    Conda,
    /// The legacy `.tar.bz2` format.
    TarBz2,
}

impl ArchiveFormat {
    /// The file extension including the leading dot (`.conda` or `.tar.bz2`).
    pub fn extension(self) -> &'static str {
        match self {
            ArchiveFormat::Conda => ".conda",
            ArchiveFormat::TarBz2 => ".tar.bz2",
        }
    }
}

/// How a file carries the install prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// No prefix: the file is linked verbatim.
    Plain,
    /// Text prefix replacement (`file_mode: text`).
    TextPrefix,
    /// Binary prefix replacement (`file_mode: binary`): the installer pads the
    /// replaced C string with NUL bytes, so the placeholder should be
    /// NUL-terminated in the contents.
    BinaryPrefix,
}

/// The noarch flavour of a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoArch {
    /// `noarch: generic`.
    Generic,
    /// `noarch: python`.
    Python,
}

/// One payload entry of a package.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// A regular file.
    File {
        /// Raw contents (with [`PREFIX_TOKEN`] not yet replaced).
        contents: Vec<u8>,
        /// Whether the file gets mode 0755 instead of 0644.
        executable: bool,
        /// Prefix handling of the file.
        kind: FileKind,
    },
    /// A symbolic link to `target`.
    Symlink(String),
}

/// A link script action (`pre-link`, `post-link`, `pre-unlink`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum LinkScript {
    /// Runs before the package is linked.
    PreLink,
    /// Runs after the package is linked.
    PostLink,
    /// Runs before the package is unlinked.
    PreUnlink,
}

impl LinkScript {
    /// The action name used in the script file name.
    pub(crate) fn action(self) -> &'static str {
        match self {
            LinkScript::PreLink => "pre-link",
            LinkScript::PostLink => "post-link",
            LinkScript::PreUnlink => "pre-unlink",
        }
    }
}

/// Describes a conda package and writes it as a real archive.
///
/// All configuration methods consume and return `self`. Nothing is validated
/// until [`PackageBuilder::write`], which reports invalid names, versions,
/// match specs, subdirs or paths as errors.
#[derive(Debug, Clone)]
pub struct PackageBuilder {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) build: String,
    pub(crate) build_number: u64,
    pub(crate) subdir: String,
    pub(crate) noarch: Option<NoArch>,
    pub(crate) depends: Vec<String>,
    pub(crate) constrains: Vec<String>,
    pub(crate) track_features: Vec<String>,
    /// conda's legacy `features` field.
    pub(crate) features: Option<String>,
    pub(crate) license: Option<String>,
    pub(crate) summary: Option<String>,
    pub(crate) timestamp_ms: i64,
    pub(crate) entries: BTreeMap<String, Payload>,
    pub(crate) info_files: BTreeMap<String, Vec<u8>>,
    pub(crate) entry_points: Vec<String>,
    pub(crate) scripts: BTreeMap<LinkScript, String>,
    pub(crate) compression: CompressionLevel,
}
