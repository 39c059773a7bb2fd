//! Ctrl-C (SIGINT) during a transaction: everything is rolled back.

use std::time::{Duration, Instant};

use taipan_testkit::PackageBuilder;

use crate::common::{bin, channel_with, tree, TestContext};

// ---------------------------------------------------------------------------------------------
// 1. Ctrl-C
// ---------------------------------------------------------------------------------------------

#[test]
fn ctrl_c_during_post_link_rolls_back() {
    let ctx = TestContext::new();
    let ch = channel_with(
        &ctx.path("mychannel"),
        vec![PackageBuilder::new("sleepy", "1.0")
            .noarch_generic()
            .file("share/sleepy", "zzz\n")
            .post_link("if [ -n \"$GAPS_MARKER\" ]; then touch \"$GAPS_MARKER\"; fi\nsleep 3\n")],
    );
    ch.index().unwrap();
    let url = ch.url().to_string();
    let prefix = ctx.path("env");
    ctx.cmd()
        .args(["create", "-y", "-q", "-c", &url, "-p"])
        .arg(&prefix)
        .args(["app=1", "pip"])
        .assert()
        .success();
    let before = tree(&prefix);
    let installed_before = ctx.installed(&prefix);

    let marker = ctx.path("post-link-started");
    let mut cmd = std::process::Command::new(bin());
    ctx.isolate_std(&mut cmd);
    cmd.env("GAPS_MARKER", &marker)
        .args(["install", "-y", "-c", &url, "-p"])
        .arg(&prefix)
        .args(["sleepy", "app=2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("spawn taipan");
    let pid = child.id();

    // Wait until the post-link script runs (the transaction is then in the middle of
    // linking), at least ~700 ms after the start, then press Ctrl-C.
    let start = Instant::now();
    while !marker.exists() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(marker.exists(), "the post-link script never started");
    let waited = start.elapsed();
    if waited < Duration::from_millis(700) {
        std::thread::sleep(Duration::from_millis(700) - waited);
    } else {
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT failed");

    let out = child.wait_with_output().expect("wait for taipan");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "an interrupted install must fail; status {:?}\n{stderr}",
        out.status
    );
    assert_eq!(
        ctx.installed(&prefix),
        installed_before,
        "records rolled back\n{stderr}"
    );
    assert_eq!(
        tree(&prefix),
        before,
        "prefix must be exactly as before\n{stderr}"
    );
}
