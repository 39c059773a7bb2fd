//! taipan itself as a conda package, for the default distribution and its tests.

use std::path::Path;

use crate::{PackageBuilder, PREFIX_TOKEN};

/// A linux-64 `taipan` package: `bin/conda` (the given binary), `condabin/conda`, and the
/// activation files, whose root path is a text prefix placeholder, so they are right wherever
/// the package is installed.
pub fn taipan_package(binary: &Path, version: &str) -> anyhow::Result<PackageBuilder> {
    let exe = fs_err::read(binary)?;
    let mut pkg = PackageBuilder::new("taipan", version)
        .subdir("linux-64")
        .license("BSD-3-Clause")
        .summary("taipan: the Anaconda distribution rebuilt in Rust (provides conda)")
        .executable("bin/conda", exe)
        .symlink("condabin/conda", "../bin/conda");
    for f in taipan_shell::files::files(Path::new(PREFIX_TOKEN)) {
        let path = f.path.display().to_string();
        pkg = pkg.file_with(
            &path,
            f.content.into_bytes(),
            crate::FileKind::TextPrefix,
            f.executable,
        );
    }
    Ok(pkg)
}
