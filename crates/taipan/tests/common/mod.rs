//! Shared by the four test binaries (each includes it with `#[path]`): the test kit's
//! harness, the same [`TestContext`], for the taipan binary this package builds.

#![allow(dead_code, unused_imports)]

pub use taipan_testkit::cli::{
    assert_consistent, channel_with, installed_conda, output, remove_at_exit, root_or_skip,
    standard_packages, tree,
};

/// The binary under test.
pub fn bin() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_taipan"))
}

/// A stripped copy of the binary under test, in `dir`, to embed in installers.
pub fn embedded_binary(dir: &std::path::Path) -> std::path::PathBuf {
    taipan_testkit::cli::stripped_copy(&bin(), dir)
}

/// An isolated world for one test (see [`taipan_testkit::cli::TestContext`]).
pub struct TestContext(taipan_testkit::cli::TestContext);

impl TestContext {
    /// A fresh context for this package's taipan.
    pub fn new() -> Self {
        Self(taipan_testkit::cli::TestContext::new(bin()))
    }
}

impl std::ops::Deref for TestContext {
    type Target = taipan_testkit::cli::TestContext;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
