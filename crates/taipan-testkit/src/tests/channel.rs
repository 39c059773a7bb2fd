//! Channels indexed by [`ChannelBuilder`].

use std::fs;

use serde_json::Value;

use super::util::{md5_hex, sha256_hex};
use crate::{ArchiveFormat, ChannelBuilder, PackageBuilder};

fn repodata(root: &std::path::Path, subdir: &str) -> Value {
    let raw = fs::read(root.join(subdir).join("repodata.json")).unwrap();
    serde_json::from_slice(&raw).unwrap()
}

/// Asserts that the repodata record for `file` matches the archive on disk.
fn assert_record_matches(root: &std::path::Path, subdir: &str, key: &str, file: &str) {
    let record = &repodata(root, subdir)[key][file];
    assert!(record.is_object(), "{subdir}/{file} missing from {key}");
    let bytes = fs::read(root.join(subdir).join(file)).unwrap();
    assert_eq!(record["sha256"], sha256_hex(&bytes));
    assert_eq!(record["md5"], md5_hex(&bytes));
    assert_eq!(record["size"], bytes.len());
}

#[test]
fn channel_indexes_into_repodata() {
    let dir = tempfile::tempdir().unwrap();
    let mut channel = ChannelBuilder::new(dir.path());
    channel
        .add(
            &PackageBuilder::new("foo", "1.0")
                .depends("bar >=2")
                .track_feature("f"),
            ArchiveFormat::Conda,
        )
        .add(&PackageBuilder::new("foo", "0.9"), ArchiveFormat::TarBz2)
        .add(
            &PackageBuilder::new("bar", "2.1").noarch_generic(),
            ArchiveFormat::Conda,
        );
    channel.index().unwrap();

    let root = dir.path();
    assert_record_matches(root, "linux-64", "packages.conda", "foo-1.0-0.conda");
    assert_record_matches(root, "linux-64", "packages", "foo-0.9-0.tar.bz2");
    assert_record_matches(root, "noarch", "packages.conda", "bar-2.1-0.conda");

    let linux = repodata(root, "linux-64");
    let foo = &linux["packages.conda"]["foo-1.0-0.conda"];
    assert_eq!(foo["name"], "foo");
    assert_eq!(foo["version"], "1.0");
    assert_eq!(foo["depends"][0], "bar >=2");
    assert_eq!(foo["track_features"], "f");
    assert_eq!(linux["info"]["subdir"], "linux-64");
    assert_eq!(
        repodata(root, "noarch")["packages.conda"]["bar-2.1-0.conda"]["noarch"],
        "generic"
    );
    assert!(root.join("linux-64/repodata.json.zst").is_file());
    assert_eq!(channel.packages().len(), 3);
}

#[test]
fn empty_noarch_is_indexed_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut channel = ChannelBuilder::new(dir.path());
    channel.add(
        &PackageBuilder::new("only", "1").subdir("osx-arm64"),
        ArchiveFormat::Conda,
    );
    channel.index().unwrap();
    let noarch = repodata(dir.path(), "noarch");
    assert_eq!(noarch["packages"].as_object().map_or(0, |m| m.len()), 0);
    assert_eq!(
        noarch["packages.conda"].as_object().map_or(0, |m| m.len()),
        0
    );
    let osx = repodata(dir.path(), "osx-arm64");
    assert_eq!(osx["packages.conda"]["only-1-0.conda"]["arch"], "arm64");
}

#[test]
fn reindexing_picks_up_new_packages() {
    let dir = tempfile::tempdir().unwrap();
    let mut channel = ChannelBuilder::new(dir.path());
    channel.add(&PackageBuilder::new("a", "1"), ArchiveFormat::Conda);
    channel.index().unwrap();
    channel.add(&PackageBuilder::new("a", "2"), ArchiveFormat::Conda);
    channel.index().unwrap();
    let linux = repodata(dir.path(), "linux-64");
    assert_eq!(linux["packages.conda"].as_object().unwrap().len(), 2);
}

#[test]
fn add_errors_surface_in_index() {
    let dir = tempfile::tempdir().unwrap();
    let mut channel = ChannelBuilder::new(dir.path());
    channel.add(
        &PackageBuilder::new("bad", "1").subdir("nope-64x"),
        ArchiveFormat::Conda,
    );
    let err = channel.index().unwrap_err();
    assert!(format!("{err:#}").contains("nope-64x"), "{err:#}");
}

#[test]
fn url_is_a_file_directory_url() {
    let dir = tempfile::tempdir().unwrap();
    let channel = ChannelBuilder::new(dir.path());
    let url = channel.url();
    assert_eq!(url.scheme(), "file");
    assert!(url.path().ends_with('/'));
    assert_eq!(url.to_file_path().unwrap(), dir.path());
}

#[tokio::test]
async fn index_works_inside_a_tokio_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let mut channel = ChannelBuilder::new(dir.path());
    channel.add(
        &PackageBuilder::new("t", "1").noarch_generic(),
        ArchiveFormat::TarBz2,
    );
    channel.index().unwrap();
    assert!(dir.path().join("noarch/repodata.json").is_file());
}
