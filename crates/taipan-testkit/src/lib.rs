//! Test kit for taipan: builds **real** conda packages and channels.
//!
//! Everything produced here is what conda-build would produce, so the code
//! under test reads genuine archives and a genuine `repodata.json`:
//!
//! * [`PackageBuilder`] writes `.conda` or `.tar.bz2` archives with
//!   `info/index.json`, `info/paths.json`, `info/files`, `info/has_prefix`,
//!   `info/link.json` (noarch python) and `info/about.json`.
//! * [`RawPackage`] writes hostile or damaged packages member by member (names with
//!   `..`, links out of the prefix, a `paths.json` that lies, decompression bombs).
//! * [`ChannelBuilder`] collects packages into `<root>/<subdir>/` and indexes
//!   the channel with `rattler_index`.
//! * [`cli::TestContext`]: the isolated world a CLI test runs the binary in.
//! * [`http::TestServer`] serves a directory over HTTP with request counting
//!   and fault injection; [`nginx::Nginx`] serves it with a real nginx.
//!
//! ```no_run
//! use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};
//!
//! # fn main() -> anyhow::Result<()> {
//! let dir = tempfile::tempdir()?;
//! let mut channel = ChannelBuilder::new(dir.path());
//! channel.add(
//!     &PackageBuilder::new("foo", "1.0")
//!         .depends("bar >=2")
//!         .text_prefix_file("etc/foo.conf", "prefix=@PREFIX@\n"),
//!     ArchiveFormat::Conda,
//! );
//! channel.add(&PackageBuilder::new("bar", "2.1").noarch_generic(), ArchiveFormat::TarBz2);
//! channel.index()?;
//! println!("channel at {}", channel.url());
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod channel;
pub mod cli;
pub mod http;
mod model;
pub mod nginx;
mod package;
mod raw;
mod stage;
#[cfg(test)]
mod tests;

pub use channel::ChannelBuilder;
pub use model::{ArchiveFormat, FileKind, PackageBuilder, PREFIX_TOKEN};
pub use rattler_conda_types::compression_level::CompressionLevel;
pub use raw::RawPackage;

/// The prefix placeholder embedded in prefix-carrying files.
///
/// Mirrors conda-build's long build prefix (`/opt/anaconda1anaconda2anaconda3`
/// padded with `_placehold` segments) so that binary prefix replacement with
/// any reasonable temporary directory fits inside it (it is 255 bytes long).
pub const PLACEHOLDER: &str = concat!(
    "/opt/anaconda1anaconda2anaconda3/_h_env",
    "_placehold_placehold_placehold_placehold_placehold",
    "_placehold_placehold_placehold_placehold_placehold",
    "_placehold_placehold_placehold_placehold_placehold",
    "_placehold_placehold_placehold_placehold_placehold",
    "_placehold_place",
);

/// A fixed package timestamp (milliseconds since the Unix epoch,
/// 2023-11-14T22:13:20Z) so builds are reproducible.
pub const DEFAULT_TIMESTAMP_MS: i64 = 1_700_000_000_000;
