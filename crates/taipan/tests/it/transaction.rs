use crate::common::{output, tree, TestContext};

#[test]
fn failing_post_link_rolls_back_everything() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app=1"]);
    let before = tree(&prefix);
    let (code, _, err) = output(
        ctx.cmd()
            .args(["install", "-y", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .args(["badpost", "app=2"]),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("LinkError") && err.contains("post-link script failed for package badpost"),
        "{err}"
    );
    assert!(
        err.contains("about to fail"),
        "script messages shown: {err}"
    );
    assert!(err.contains("rolled back"), "{err}");
    assert_eq!(tree(&prefix), before, "prefix must be exactly as before");
}

#[test]
fn failing_fresh_create_leaves_no_prefix() {
    let ctx = TestContext::new();
    let prefix = ctx.path("env");
    let (code, _, _) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("badpost"),
    );
    assert_eq!(code, 1);
    assert!(!prefix.exists());
}

#[test]
fn post_link_messages_are_shown() {
    let ctx = TestContext::new();
    let (code, out, _) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", &ctx.channel, "-p"])
            .arg(ctx.path("env"))
            .arg("chatty"),
    );
    assert_eq!(code, 0);
    assert!(out.contains("hello from chatty 1.0"), "{out}");
    assert!(!ctx.path("env/.messages.txt").exists());
}

#[test]
fn corrupt_cache_entry_is_detected_and_refetched() {
    let ctx = TestContext::new();
    ctx.create("one", &["dep=1"]);
    let cached = ctx.root.join("pkgs/dep-1.0-0/share/dep/v1");
    std::fs::remove_file(&cached).unwrap();
    let prefix = ctx.create("two", &["dep=1"]);
    assert!(prefix.join("share/dep/v1").is_file());
}

#[test]
fn broken_package_fails_cleanly_and_is_purged() {
    let ctx = TestContext::new();
    // A .conda whose payload is not a valid archive.
    let dir = ctx.path("broken/noarch");
    std::fs::create_dir_all(&dir).unwrap();
    let pkg = dir.join("junk-1.0-0.tar.bz2");
    std::fs::write(&pkg, b"this is not a bzip2 tarball").unwrap();
    let lock = ctx.path("lock.txt");
    std::fs::write(&lock, format!("@EXPLICIT\nfile://{}\n", pkg.display())).unwrap();
    let prefix = ctx.path("env");
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "--file"])
            .arg(&lock)
            .arg("-p")
            .arg(&prefix),
    );
    assert_eq!(code, 1);
    assert!(err.contains("junk-1.0-0"), "{err}");
    assert!(!prefix.exists());
    assert!(!ctx.root.join("pkgs/junk-1.0-0").exists());
}

#[test]
fn concurrent_installs_are_serialised_by_the_prefix_lock() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1"]);
    let spawn = |spec: &str| {
        let mut cmd = std::process::Command::new(crate::common::bin());
        for (k, _) in std::env::vars() {
            if k.starts_with("CONDA") {
                cmd.env_remove(k);
            }
        }
        cmd.env("HOME", &ctx.home)
            .env("CONDA_ROOT_PREFIX", &ctx.root)
            .args(["install", "-y", "-q", "--no-deps", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg(spec)
            .spawn()
            .unwrap()
    };
    let mut a = spawn("feat=1");
    let mut b = spawn("openssl=1.1");
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let history = std::fs::read_to_string(prefix.join("conda-meta/history")).unwrap();
    assert_eq!(history.matches("==> ").count(), 3, "{history}");
}
