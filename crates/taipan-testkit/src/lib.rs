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
//! * [`python_with_pip`] (or [`ChannelBuilder::add_python_with_pip`]) builds, once per
//!   test process and offline, a real `python` conda package from the machine's own
//!   CPython ([`HostPython`]): once installed into a prefix `P`, `P/bin/python` runs with
//!   `sys.prefix == P`, site-packages `P/lib/python3.X/site-packages` and a working pip
//!   owned by the conda record. It fails with a clear message on a machine without a
//!   usable `python3` (or set `TAIPAN_TEST_PYTHON`). [`python_command`] runs the
//!   installed interpreter, pip or a console script isolated from the user's pip setup.
//! * [`WheelBuilder`] writes pure-python wheels (`name-ver-py3-none-any.whl`, with
//!   `METADATA`, `WHEEL`, a hashed `RECORD`, `Requires-Dist` and console scripts) for
//!   `pip install --no-index --find-links DIR`; [`write_simple_index`] lays out a PEP 503
//!   "simple" index of them that [`http::TestServer`] serves for `pip --index-url`.
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
//!
//! A python with pip, and a wheel for it to install:
//!
//! ```no_run
//! use taipan_testkit::{ChannelBuilder, WheelBuilder};
//!
//! # fn main() -> anyhow::Result<()> {
//! let dir = tempfile::tempdir()?;
//! let mut channel = ChannelBuilder::new(&dir.path().join("channel"));
//! channel.add_python_with_pip()?; // python-3.X.Y-h_taipan_0.conda
//! channel.index()?;
//! let wheels = dir.path().join("wheels");
//! WheelBuilder::new("tpdemo", "1.0")
//!     .module("tpdemo/__init__.py", "def main():\n    print('hi')\n")
//!     .entry_point("tpdemo", "tpdemo:main")
//!     .requires("tpdep>=1")
//!     .write(&wheels)?;
//! // conda create -p P python -c <channel>, then:
//! // P/bin/python -m pip install --no-index --find-links <wheels> tpdemo
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
mod python;
mod raw;
mod stage;
#[cfg(test)]
mod tests;
pub mod tls;
mod wheel;

pub use channel::ChannelBuilder;
pub use model::{ArchiveFormat, FileKind, PackageBuilder, PREFIX_TOKEN};
pub use python::{
    python_command, python_with_pip, HostPython, PythonPackage, PYTHON_BUILD_STRING, PYTHON_ENV_VAR,
};
pub use rattler_conda_types::compression_level::CompressionLevel;
pub use raw::RawPackage;
pub use wheel::{write_simple_index, WheelBuilder};

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
