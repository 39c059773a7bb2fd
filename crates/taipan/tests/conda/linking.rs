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
