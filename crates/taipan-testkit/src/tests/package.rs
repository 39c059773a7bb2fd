//! Packages written by [`PackageBuilder`] read back with rattler.

use std::{fs, os::unix::fs::PermissionsExt, path::Path};

use rattler_conda_types::package::{
    FileMode, HasPrefix, IndexJson, LinkJson, NoArchLinks, PackageFile, PathType, PathsJson,
};
use rattler_package_streaming::fs::extract;
use serde_json::Value;

use super::util::{hex, sha256_hex};
use crate::{ArchiveFormat, PackageBuilder, DEFAULT_TIMESTAMP_MS, PLACEHOLDER};

const FORMATS: [ArchiveFormat; 2] = [ArchiveFormat::Conda, ArchiveFormat::TarBz2];

fn full_package() -> PackageBuilder {
    PackageBuilder::new("foo", "1.2.3")
        .build("h123_1")
        .build_number(1)
        .depends("bar >=2")
        .depends("baz")
        .constrains("qux <3")
        .track_feature("feat1")
        .track_feature("feat2")
        .license("BSD-3-Clause")
        .file("share/foo/data.txt", "hello")
        .executable("bin/foo", "#!/bin/sh\necho foo\n")
        .text_prefix_file("etc/foo.conf", "prefix=@PREFIX@\nlib=@PREFIX@/lib\n")
        .binary_prefix_file("lib/libfoo.so", b"\x7fELF\0@PREFIX@\0tail".to_vec())
        .symlink("lib/libfoo.so.1", "libfoo.so")
        .post_link("echo linked >> \"$PREFIX/.messages.txt\"\n")
        .pre_unlink("true\n")
}

/// Writes `pkg` in `format` and extracts it; returns (archive dir, extract dir).
fn write_and_extract(
    pkg: &PackageBuilder,
    format: ArchiveFormat,
) -> (tempfile::TempDir, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let archive = pkg.write(out.path(), format).unwrap();
    assert_eq!(archive, out.path().join(pkg.file_name(format)));
    let extracted = tempfile::tempdir().unwrap();
    extract(&archive, extracted.path()).unwrap();
    (out, extracted)
}

fn raw_json(dir: &Path, file: &str) -> Value {
    serde_json::from_slice(&fs::read(dir.join("info").join(file)).unwrap()).unwrap()
}

#[test]
fn file_names_follow_conda_convention() {
    let pkg = PackageBuilder::new("foo", "1.0");
    assert_eq!(pkg.file_name(ArchiveFormat::Conda), "foo-1.0-0.conda");
    assert_eq!(pkg.file_name(ArchiveFormat::TarBz2), "foo-1.0-0.tar.bz2");
    assert_eq!(pkg.target_subdir(), "linux-64");
    assert_eq!(pkg.noarch_generic().target_subdir(), "noarch");
}

#[test]
fn index_json_has_conda_build_fields() {
    for format in FORMATS {
        let (_out, dir) = write_and_extract(&full_package(), format);
        let index = IndexJson::from_package_directory(dir.path()).unwrap();
        assert_eq!(index.name.as_normalized(), "foo");
        assert_eq!(index.version.to_string(), "1.2.3");
        assert_eq!(index.build, "h123_1");
        assert_eq!(index.build_number, 1);
        assert_eq!(index.depends, ["bar >=2", "baz"]);
        assert_eq!(index.constrains, ["qux <3"]);
        assert_eq!(index.subdir.as_deref(), Some("linux-64"));
        assert_eq!(index.arch.as_deref(), Some("x86_64"));
        assert_eq!(index.platform.as_deref(), Some("linux"));
        assert!(index.noarch.is_none());
        assert_eq!(index.license.as_deref(), Some("BSD-3-Clause"));
        assert_eq!(index.track_features, ["feat1", "feat2"]);

        let raw = raw_json(dir.path(), "index.json");
        assert_eq!(raw["track_features"], "feat1 feat2");
        assert_eq!(raw["timestamp"], DEFAULT_TIMESTAMP_MS);
        assert!(raw.get("noarch").is_none());
    }
}

#[test]
fn paths_json_matches_extracted_files() {
    for format in FORMATS {
        let (_out, dir) = write_and_extract(&full_package(), format);
        let paths = PathsJson::from_package_directory(dir.path()).unwrap();
        assert_eq!(paths.paths_version, 1);
        let names: Vec<_> = paths
            .paths
            .iter()
            .map(|p| p.relative_path.to_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "bin/.foo-post-link.sh",
                "bin/.foo-pre-unlink.sh",
                "bin/foo",
                "etc/foo.conf",
                "lib/libfoo.so",
                "lib/libfoo.so.1",
                "share/foo/data.txt",
            ]
        );
        for entry in &paths.paths {
            let contents = fs::read(dir.path().join(&entry.relative_path)).unwrap();
            let sha = hex(&entry.sha256.unwrap());
            assert_eq!(sha, sha256_hex(&contents), "{:?}", entry.relative_path);
            assert_eq!(entry.size_in_bytes, Some(contents.len() as u64));
        }
        let link = paths
            .paths
            .iter()
            .find(|p| p.relative_path.ends_with("libfoo.so.1"))
            .unwrap();
        assert_eq!(link.path_type, PathType::SoftLink);
        let modes: Vec<_> = paths
            .paths
            .iter()
            .filter_map(|p| Some((p.relative_path.to_str()?, p.prefix_placeholder.as_ref()?)))
            .map(|(path, pp)| {
                assert_eq!(pp.placeholder, PLACEHOLDER);
                (path, pp.file_mode)
            })
            .collect();
        assert_eq!(
            modes,
            [
                ("etc/foo.conf", FileMode::Text),
                ("lib/libfoo.so", FileMode::Binary)
            ]
        );
    }
}

#[test]
fn prefix_files_carry_the_placeholder() {
    for format in FORMATS {
        let (_out, dir) = write_and_extract(&full_package(), format);
        let conf = fs::read_to_string(dir.path().join("etc/foo.conf")).unwrap();
        assert_eq!(
            conf,
            format!("prefix={PLACEHOLDER}\nlib={PLACEHOLDER}/lib\n")
        );
        let lib = fs::read(dir.path().join("lib/libfoo.so")).unwrap();
        let expected = [b"\x7fELF\0".as_slice(), PLACEHOLDER.as_bytes(), b"\0tail"].concat();
        assert_eq!(lib, expected);

        let has_prefix = fs::read_to_string(dir.path().join("info/has_prefix")).unwrap();
        assert_eq!(
            has_prefix,
            format!("{PLACEHOLDER} text etc/foo.conf\n{PLACEHOLDER} binary lib/libfoo.so\n")
        );
        let parsed = HasPrefix::from_package_directory(dir.path()).unwrap();
        assert_eq!(parsed.files.len(), 2);
        assert_eq!(parsed.files[1].file_mode, FileMode::Binary);
    }
}

#[test]
fn modes_symlinks_scripts_and_files_list() {
    for format in FORMATS {
        let (_out, dir) = write_and_extract(&full_package(), format);
        let mode = |p: &str| {
            fs::metadata(dir.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("bin/foo"), 0o755);
        assert_eq!(mode("share/foo/data.txt"), 0o644);
        let link = dir.path().join("lib/libfoo.so.1");
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_link(&link).unwrap(), Path::new("libfoo.so"));
        let script = fs::read_to_string(dir.path().join("bin/.foo-post-link.sh")).unwrap();
        assert!(script.contains("echo linked"));

        let files = fs::read_to_string(dir.path().join("info/files")).unwrap();
        assert_eq!(files.lines().count(), 7);
        assert!(files.lines().any(|l| l == "lib/libfoo.so.1"));
        let about = raw_json(dir.path(), "about.json");
        assert_eq!(about["license"], "BSD-3-Clause");
        assert!(!dir.path().join("info/link.json").exists());
    }
}

#[test]
fn noarch_python_package_has_link_json() {
    let pkg = PackageBuilder::new("pyfoo", "0.1")
        .noarch_python()
        .depends("python >=3.8")
        .file(
            "site-packages/pyfoo/__init__.py",
            "def main():\n    return 0\n",
        )
        .entry_point("pyfoo = pyfoo:main")
        .entry_point("pyfoo-cli = pyfoo.cli:run")
        .post_link("echo hi\n");
    for format in FORMATS {
        let (out, dir) = write_and_extract(&pkg, format);
        assert!(out.path().join(pkg.file_name(format)).is_file());
        let index = IndexJson::from_package_directory(dir.path()).unwrap();
        assert!(index.noarch.is_python());
        assert_eq!(index.subdir.as_deref(), Some("noarch"));
        assert_eq!(index.arch, None);
        assert_eq!(index.platform, None);
        assert_eq!(raw_json(dir.path(), "index.json")["noarch"], "python");

        let link = LinkJson::from_package_directory(dir.path()).unwrap();
        assert_eq!(link.package_metadata_version, 1);
        let NoArchLinks::Python(eps) = link.noarch else {
            panic!("expected python noarch links");
        };
        let commands: Vec<_> = eps
            .entry_points
            .iter()
            .map(|e| e.command.as_str())
            .collect();
        assert_eq!(commands, ["pyfoo", "pyfoo-cli"]);
        assert_eq!(eps.entry_points[1].module, "pyfoo.cli");
        assert_eq!(eps.entry_points[1].function, "run");
        assert!(dir.path().join("bin/.pyfoo-post-link.sh").is_file());
        assert!(dir.path().join("site-packages/pyfoo/__init__.py").is_file());
    }
}

#[test]
fn noarch_generic_and_windows_scripts() {
    let generic = PackageBuilder::new("data", "1")
        .noarch_generic()
        .file("share/data", "x");
    let (_out, dir) = write_and_extract(&generic, ArchiveFormat::Conda);
    assert_eq!(raw_json(dir.path(), "index.json")["noarch"], "generic");
    assert_eq!(
        raw_json(dir.path(), "link.json")["noarch"]["type"],
        "generic"
    );

    let win = PackageBuilder::new("winpkg", "1")
        .subdir("win-64")
        .post_link("echo hi\r\n");
    let (_out, dir) = write_and_extract(&win, ArchiveFormat::TarBz2);
    assert!(dir.path().join("Scripts/.winpkg-post-link.bat").is_file());
    let index = raw_json(dir.path(), "index.json");
    assert_eq!(index["platform"], "win");
    assert_eq!(index["arch"], "x86_64");
}

#[test]
fn archives_are_reproducible() {
    for format in FORMATS {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let pa = full_package().write(a.path(), format).unwrap();
        let pb = full_package().write(b.path(), format).unwrap();
        assert_eq!(fs::read(pa).unwrap(), fs::read(pb).unwrap(), "{format:?}");
    }
}

#[test]
fn info_files_can_be_added_but_not_overridden() {
    let pkg = PackageBuilder::new("rx", "1").info_file("run_exports.json", r#"{"weak": ["rx"]}"#);
    let (_out, dir) = write_and_extract(&pkg, ArchiveFormat::Conda);
    assert_eq!(raw_json(dir.path(), "run_exports.json")["weak"][0], "rx");

    let out = tempfile::tempdir().unwrap();
    let bad = PackageBuilder::new("rx", "1").info_file("index.json", "{}");
    assert!(bad.write(out.path(), ArchiveFormat::Conda).is_err());
}

#[test]
fn invalid_input_is_an_error_not_a_panic() {
    let out = tempfile::tempdir().unwrap();
    let cases = [
        PackageBuilder::new("foo", "1").file("../escape", "x"),
        PackageBuilder::new("foo", "1").file("/abs", "x"),
        PackageBuilder::new("foo", "1").file("info/index.json", "x"),
        PackageBuilder::new("foo", "1").subdir("nonsense"),
        PackageBuilder::new("Foo Bar", "1"),
        PackageBuilder::new("foo", "1..x"),
        PackageBuilder::new("foo", "1").depends("bar >>>= 1"),
        PackageBuilder::new("foo", "1")
            .noarch_python()
            .entry_point("no separator"),
    ];
    for pkg in cases {
        let result = pkg.write(out.path(), ArchiveFormat::Conda);
        assert!(result.is_err(), "{pkg:?} was accepted");
    }
}
