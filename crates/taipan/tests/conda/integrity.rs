//! A package is used only if it is what its channel says (sha256, md5, size) and unpacks to
//! what its `paths.json` says; conda's `safety_checks` and `extra_safety_checks` decide
//! what a mismatch inside does.

use std::time::Duration;

use serde_json::json;
use taipan_testkit::http::{Fault, TestServer};
use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder, RawPackage};

use crate::common::{output, tree, TestContext};

fn simple_channel(ctx: &TestContext) -> ChannelBuilder {
    let mut ch = ChannelBuilder::new(&ctx.path("ch"));
    ch.add(
        &PackageBuilder::new("good", "1.0")
            .noarch_generic()
            .file("share/good.txt", "good\n"),
        ArchiveFormat::Conda,
    );
    ch.add(
        &PackageBuilder::new("old", "1.0")
            .noarch_generic()
            .file("share/old.txt", "old\n"),
        ArchiveFormat::TarBz2,
    );
    ch.index().unwrap();
    ch
}

fn create(ctx: &TestContext, url: &str, spec: &str) -> (i32, String, String) {
    output(
        ctx.cmd()
            .args(["create", "-y", "--override-channels", "-c", url, "-p"])
            .arg(ctx.path("env"))
            .arg(spec),
    )
}

#[test]
fn a_wrong_md5_in_repodata_is_a_checksum_mismatch() {
    let ctx = TestContext::new();
    let ch = simple_channel(&ctx);
    ch.patch_record("noarch", "good-1.0-0.conda", |r| {
        r["md5"] = json!("0123456789abcdef0123456789abcdef");
    })
    .unwrap();
    let (code, _, err) = create(&ctx, ch.url().as_str(), "good");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("ChecksumMismatchError") && err.contains("expected md5: 0123456789abcdef"),
        "{err}"
    );
    assert!(!ctx.path("env").exists());
    assert!(!ctx.root.join("pkgs/good-1.0-0").exists());
}

#[test]
fn a_wrong_size_in_repodata_is_a_checksum_mismatch() {
    let ctx = TestContext::new();
    let ch = simple_channel(&ctx);
    ch.patch_record("noarch", "old-1.0-0.tar.bz2", |r| {
        r["size"] = json!(12);
    })
    .unwrap();
    let (code, _, err) = create(&ctx, ch.url().as_str(), "old");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("ChecksumMismatchError") && err.contains("expected size: 12"),
        "{err}"
    );
    assert!(!ctx.path("env").exists());
}

#[test]
fn md5_is_checked_when_there_is_no_sha256() {
    let ctx = TestContext::new();
    let ch = simple_channel(&ctx);
    ch.patch_record("noarch", "good-1.0-0.conda", |r| {
        r.as_object_mut().unwrap().remove("sha256");
        r["md5"] = json!("ffffffffffffffffffffffffffffffff");
    })
    .unwrap();
    let (code, _, err) = create(&ctx, ch.url().as_str(), "good");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("md5"), "{err}");
}

#[test]
fn a_download_that_does_not_match_is_not_kept_and_the_server_is_asked_again_next_time() {
    let ctx = TestContext::new();
    let ch = simple_channel(&ctx);
    let server = TestServer::serve(ch.root()).unwrap();
    ch.patch_record("noarch", "good-1.0-0.conda", |r| {
        r["sha256"] = json!("0000000000000000000000000000000000000000000000000000000000000000");
    })
    .unwrap();
    let url = server.url().to_string();
    let (code, _, err) = create(&ctx, &url, "good");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("expected sha256: 0000"), "{err}");
    let pkgs: Vec<String> = std::fs::read_dir(ctx.root.join("pkgs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("good") || n.starts_with(".good"))
        .collect();
    assert_eq!(
        pkgs,
        vec!["good-1.0-0.lock".to_string()],
        "nothing of it kept"
    );
}

#[test]
fn a_stalled_download_is_retried() {
    let ctx = TestContext::new();
    let ch = simple_channel(&ctx);
    let server = TestServer::serve(ch.root()).unwrap();
    server.fault(
        "good-1.0-0.conda",
        Fault::Stall {
            after: 100,
            pause: Duration::from_secs(4),
        },
        1,
    );
    std::fs::write(
        ctx.home.join(".condarc"),
        "remote_read_timeout_secs: 1\nremote_max_retries: 2\n",
    )
    .unwrap();
    let start = std::time::Instant::now();
    let (code, _, err) = create(&ctx, server.url().as_str(), "good");
    assert_eq!(code, 0, "{err}");
    assert!(ctx.path("env/share/good.txt").is_file());
    assert_eq!(server.requests("/noarch/good-1.0-0.conda"), 2);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "the stall was waited out"
    );
}

/// A package whose `share/data` differs from what its `paths.json` says.
fn lying_channel(ctx: &TestContext, lie: RawPackage) -> ChannelBuilder {
    let mut ch = ChannelBuilder::new(&ctx.path("ch"));
    ch.add_raw(&lie, ArchiveFormat::TarBz2);
    ch.index().unwrap();
    ch
}

fn with_condarc(ctx: &TestContext, text: &str) {
    std::fs::write(ctx.home.join(".condarc"), text).unwrap();
}

#[test]
fn safety_checks_decide_what_a_size_mismatch_does() {
    let lie = RawPackage::new("sizelie", "1.0")
        .file("share/data", "twelve bytes")
        .declared_size("share/data", 5);
    // warn (conda's default): installed, with conda's SafetyError text as a warning.
    let ctx = TestContext::new();
    let ch = lying_channel(&ctx, lie.clone());
    let (code, _, err) = create(&ctx, ch.url().as_str(), "sizelie");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("SafetyError") && err.contains("'share/data' has an incorrect size"),
        "{err}"
    );
    // enabled: refused, nothing installed, nothing cached.
    let ctx = TestContext::new();
    let ch = lying_channel(&ctx, lie.clone());
    with_condarc(&ctx, "safety_checks: enabled\n");
    let (code, _, err) = create(&ctx, ch.url().as_str(), "sizelie");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("SafetyError") && err.contains("incorrect size"),
        "{err}"
    );
    assert!(!ctx.path("env").exists());
    assert!(!ctx.root.join("pkgs/sizelie-1.0-0").exists());
    // disabled: not checked.
    let ctx = TestContext::new();
    let ch = lying_channel(&ctx, lie);
    with_condarc(&ctx, "safety_checks: disabled\n");
    let (code, _, err) = create(&ctx, ch.url().as_str(), "sizelie");
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("SafetyError"), "{err}");
}

#[test]
fn extra_safety_checks_compare_every_sha256() {
    let lie = RawPackage::new("hashlie", "1.0")
        .file("share/data", "same size!")
        .declared_sha256(
            "share/data",
            "1111111111111111111111111111111111111111111111111111111111111111",
        );
    // Without extra_safety_checks the content is not hashed (conda's default).
    let ctx = TestContext::new();
    let ch = lying_channel(&ctx, lie.clone());
    let (code, _, err) = create(&ctx, ch.url().as_str(), "hashlie");
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("SafetyError"), "{err}");
    // With it, a warning...
    let ctx = TestContext::new();
    let ch = lying_channel(&ctx, lie.clone());
    with_condarc(&ctx, "extra_safety_checks: true\n");
    let (code, _, err) = create(&ctx, ch.url().as_str(), "hashlie");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("SafetyError") && err.contains("sha256 mismatch"),
        "{err}"
    );
    // ...or a refusal.
    let ctx = TestContext::new();
    let ch = lying_channel(&ctx, lie);
    with_condarc(&ctx, "extra_safety_checks: true\nsafety_checks: enabled\n");
    let (code, _, err) = create(&ctx, ch.url().as_str(), "hashlie");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("SafetyError") && err.contains("'share/data'"),
        "{err}"
    );
    assert!(!ctx.path("env").exists());
}

#[test]
fn a_missing_declared_file_is_a_safety_error() {
    let ctx = TestContext::new();
    let lie = RawPackage::new("missing", "1.0")
        .file("share/here", "x\n")
        .declare(json!({"_path": "share/gone", "path_type": "hardlink", "size_in_bytes": 3}));
    let ch = lying_channel(&ctx, lie);
    with_condarc(&ctx, "safety_checks: enabled\n");
    let (code, _, err) = create(&ctx, ch.url().as_str(), "missing");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("'share/gone' specified in the package manifest cannot be found"),
        "{err}"
    );
}

#[test]
fn an_archive_that_unpacks_to_more_than_it_declares_is_stopped_while_extracting() {
    // 1 GiB of zeros declared as 10 bytes, as a .conda (info after the payload) and as a
    // .tar.bz2 with info/ last; and 300 MiB in a .tar.bz2 with info/ first.
    let cases = [
        (
            RawPackage::new("bomb", "1.0")
                .zeros("share/zeros", 1 << 30)
                .declared_size("share/zeros", 10),
            ArchiveFormat::Conda,
        ),
        (
            RawPackage::new("bomb", "1.0")
                .zeros("share/zeros", 300 << 20)
                .declared_size("share/zeros", 10),
            ArchiveFormat::TarBz2,
        ),
        (
            RawPackage::new("bomb", "1.0")
                .zeros("share/zeros", 300 << 20)
                .declared_size("share/zeros", 10)
                .info_last(),
            ArchiveFormat::TarBz2,
        ),
    ];
    for (pkg, format) in cases {
        let ctx = TestContext::new();
        let mut ch = ChannelBuilder::new(&ctx.path("ch"));
        ch.add_raw(&pkg, format);
        ch.index().unwrap();
        let start = std::time::Instant::now();
        let (code, _, err) = create(&ctx, ch.url().as_str(), "bomb");
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains("unpacks to more than its info/paths.json declares"),
            "{err}"
        );
        assert!(start.elapsed() < Duration::from_secs(60));
        assert!(!ctx.path("env").exists());
        let cache = tree(&ctx.root.join("pkgs"));
        assert!(
            cache.iter().all(|l| !l.contains("zeros")),
            "extracted bytes left in the cache: {cache:?}"
        );
    }
}

/// A small tmpfs, mounted for one test (needs root, as CI runs).
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &std::path::Path, size: &str) -> Option<Self> {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return None;
        }
        std::fs::create_dir_all(dir).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .ok()?
            .success();
        ok.then(|| Self(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

fn big_channel(ctx: &TestContext) -> ChannelBuilder {
    let mut ch = ChannelBuilder::new(&ctx.path("ch"));
    ch.add(
        &PackageBuilder::new("small", "1.0").file("share/small.txt", "small\n"),
        ArchiveFormat::Conda,
    );
    let mut big = PackageBuilder::new("big", "1.0");
    for i in 0..8 {
        // Not compressible to nothing, 512 KiB each.
        let data: Vec<u8> = (0..512 * 1024u32)
            .map(|x| (x.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        big = big.file(&format!("share/big/{i}.bin"), data);
    }
    ch.add(&big, ArchiveFormat::Conda);
    ch.index().unwrap();
    ch
}

#[test]
fn a_full_disk_leaves_nothing_behind() {
    let ctx = TestContext::new();
    let Some(disk) = SmallDisk::mount(&ctx.path("small"), "2m") else {
        eprintln!("SKIPPED a_full_disk_leaves_nothing_behind: mounting a tmpfs needs root (CI runs as root)");
        return;
    };
    let ch = big_channel(&ctx);
    let url = ch.url().to_string();
    // The package cache fills up while extracting: nothing of the package is kept.
    let pkgs = disk.0.join("pkgs");
    let (code, _, err) = output(
        ctx.cmd()
            .env("CONDA_PKGS_DIRS", &pkgs)
            .args(["create", "-y", "--override-channels", "-c", &url, "-p"])
            .arg(ctx.path("env"))
            .arg("big"),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("big-1.0-0") && err.contains("No space left"),
        "{err}"
    );
    assert!(!ctx.path("env").exists());
    let left: Vec<String> = std::fs::read_dir(&pkgs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.starts_with("big-1.0-0") && !n.ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // The prefix's file system fills up while linking (copies: the cache is elsewhere): the
    // transaction is rolled back and the prefix is as it was.
    let prefix = disk.0.join("env");
    ctx.cmd()
        .args([
            "create",
            "-y",
            "-q",
            "--override-channels",
            "-c",
            &url,
            "-p",
        ])
        .arg(&prefix)
        .arg("small")
        .assert()
        .success();
    let before = tree(&prefix);
    let (code, _, err) = output(
        ctx.cmd()
            .args(["install", "-y", "--override-channels", "-c", &url, "-p"])
            .arg(&prefix)
            .arg("big"),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("rolled back"), "{err}");
    assert_eq!(tree(&prefix), before);
}
