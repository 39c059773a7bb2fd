//! How files are linked: hard links, or copies with `--copy` / `always_copy`.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::common::TestContext;

// ---------------------------------------------------------------------------------------------
// 3. --copy / always_copy
// ---------------------------------------------------------------------------------------------

fn ino(p: &Path) -> u64 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .ino()
}

fn link_type(prefix: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(prefix.join("conda-meta/dep-1.0-0.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["link"]["type"].as_u64()
}

#[test]
fn copy_flag_and_always_copy_do_not_hardlink() {
    let ctx = TestContext::new();
    let cached = ctx.root.join("pkgs/dep-1.0-0/share/dep/v1");

    let linked = ctx.create("linked", &["dep=1"]);
    assert_eq!(
        ino(&linked.join("share/dep/v1")),
        ino(&cached),
        "without --copy the file is hardlinked from the cache"
    );
    assert_eq!(link_type(&linked), Some(1), "link type 1 (hardlink)");

    let copied = ctx.path("copied");
    ctx.cmd()
        .args(["create", "-y", "-q", "--copy", "-c", &ctx.channel, "-p"])
        .arg(&copied)
        .arg("dep=1")
        .assert()
        .success();
    assert_ne!(
        ino(&copied.join("share/dep/v1")),
        ino(&cached),
        "--copy must copy"
    );
    assert_eq!(
        std::fs::read(copied.join("share/dep/v1")).unwrap(),
        b"dep 1\n"
    );
    assert_eq!(link_type(&copied), Some(3), "link type 3 (copy)");

    std::fs::write(ctx.home.join(".condarc"), "always_copy: true\n").unwrap();
    let rc = ctx.create("rc", &["dep=1"]);
    assert_ne!(
        ino(&rc.join("share/dep/v1")),
        ino(&cached),
        "always_copy: true must copy"
    );
    assert_eq!(link_type(&rc), Some(3), "link type 3 (copy)");
}

/// `always_softlink`: the package's files are symbolic links into the package cache (link
/// type 2 in conda-meta), files with the prefix written into them stay real files; `conda
/// clean --packages` keeps the cache entry the environment points into; `always_copy` with
/// it is conda's `ValidationError`.
#[test]
fn always_softlink_links_files_into_the_cache() {
    let ctx = TestContext::new();
    std::fs::write(ctx.home.join(".condarc"), "always_softlink: true\n").unwrap();
    let prefix = ctx.create("soft", &["dep=1"]);
    let file = prefix.join("share/dep/v1");
    let target = std::fs::read_link(&file).unwrap();
    assert_eq!(target, ctx.root.join("pkgs/dep-1.0-0/share/dep/v1"));
    assert_eq!(std::fs::read(&file).unwrap(), b"dep 1\n");
    assert_eq!(link_type(&prefix), Some(2), "link type 2 (softlink)");
    // The environment still uses the extracted package: clean leaves it.
    ctx.cmd().args(["clean", "-p", "-y"]).assert().success();
    assert_eq!(std::fs::read(&file).unwrap(), b"dep 1\n");
    // Removing the package removes the link, not the cache's file.
    ctx.cmd()
        .args(["remove", "-y", "-q", "-p"])
        .arg(&prefix)
        .arg("dep")
        .assert()
        .success();
    assert!(std::fs::symlink_metadata(&file).is_err());
    assert!(ctx.root.join("pkgs/dep-1.0-0/share/dep/v1").is_file());

    std::fs::write(
        ctx.home.join(".condarc"),
        "always_softlink: true\nalways_copy: true\n",
    )
    .unwrap();
    let (code, _, err) = crate::common::output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", &ctx.channel, "-p"])
            .arg(ctx.path("both"))
            .arg("dep=1"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "ValidationError: 'always_copy' and 'always_softlink' are mutually exclusive."
        ),
        "{err}"
    );
    assert!(!ctx.path("both").exists());
}
