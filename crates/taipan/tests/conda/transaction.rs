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
    // Two installs of different versions of one package at once: each solves against what
    // the other left, so the environment ends with one of them, consistently. (Solving
    // before the lock, both would link their version: two records, one set of files.)
    let ctx = TestContext::new();
    for round in 0..4 {
        let prefix = ctx.create(&format!("env{round}"), &["dep=1"]);
        let spawn = |spec: &str| {
            ctx.std_cmd()
                .args(["install", "-y", "-q", "--no-deps", "-c", &ctx.channel, "-p"])
                .arg(&prefix)
                .arg(spec)
                .spawn()
                .unwrap()
        };
        let mut a = spawn("openssl=1.0");
        let mut b = spawn("openssl=1.1");
        assert!(a.wait().unwrap().success());
        assert!(b.wait().unwrap().success());
        let openssl: Vec<String> = ctx
            .installed(&prefix)
            .into_iter()
            .filter(|r| r.starts_with("openssl-"))
            .collect();
        assert_eq!(openssl.len(), 1, "round {round}: {openssl:?}");
        crate::common::assert_consistent(&prefix);
        let history = std::fs::read_to_string(prefix.join("conda-meta/history")).unwrap();
        assert_eq!(history.matches("==> ").count(), 3, "{history}");
    }
}

fn own_channel(ctx: &TestContext, pkgs: Vec<taipan_testkit::PackageBuilder>) -> String {
    let mut ch = taipan_testkit::ChannelBuilder::new(&ctx.path("own"));
    for p in pkgs {
        ch.add(&p, taipan_testkit::ArchiveFormat::Conda);
    }
    ch.index().unwrap();
    ch.url().to_string()
}

#[test]
fn shared_path_last_linked_wins_and_rollback_restores_it() {
    use taipan_testkit::PackageBuilder;
    let ctx = TestContext::new();
    let url = own_channel(
        &ctx,
        vec![
            PackageBuilder::new("clob-a", "1.0")
                .noarch_generic()
                .file("bin/shared", "from a\n"),
            PackageBuilder::new("clob-b", "1.0")
                .noarch_generic()
                .file("bin/shared", "from b\n"),
            PackageBuilder::new("clob-c", "1.0")
                .noarch_generic()
                .file("bin/shared", "from c\n")
                .post_link("exit 1\n"),
        ],
    );
    let prefix = ctx.path("env");
    ctx.cmd()
        .args(["create", "-y", "-q", "-c", &url, "-p"])
        .arg(&prefix)
        .arg("clob-a")
        .assert()
        .success();
    ctx.cmd()
        .args(["install", "-y", "-q", "-c", &url, "-p"])
        .arg(&prefix)
        .arg("clob-b")
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(prefix.join("bin/shared")).unwrap(),
        "from b\n"
    );
    assert!(!prefix.join("__clobbers__").exists());
    let before = crate::common::tree(&prefix);
    let (code, _, _) = output(
        ctx.cmd()
            .args(["install", "-y", "-c", &url, "-p"])
            .arg(&prefix)
            .arg("clob-c"),
    );
    assert_eq!(code, 1);
    assert_eq!(
        std::fs::read_to_string(prefix.join("bin/shared")).unwrap(),
        "from b\n"
    );
    assert_eq!(crate::common::tree(&prefix), before);
}

#[test]
fn post_link_is_sourced_in_the_activated_env() {
    use taipan_testkit::PackageBuilder;
    let ctx = TestContext::new();
    let url = own_channel(&ctx, vec![
        PackageBuilder::new("envvars", "1.0").noarch_generic().file("etc/conda/activate.d/envvars.sh", "export ENVVARS_SET=yes\n"),
        PackageBuilder::new("inenv", "1.0").noarch_generic().depends("envvars").file("share/inenv", "x\n").post_link(
            "test \"$ENVVARS_SET\" = yes || exit 7\ntest \"$CONDA_PREFIX\" = \"$PREFIX\" || exit 8\necho \"ok $PKG_NAME\" >> \"$PREFIX/.messages.txt\"\nreturn 0\n",
        ),
    ]);
    let (code, out, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", &url, "-p"])
            .arg(ctx.path("env"))
            .arg("inenv"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok inenv"), "{out}");
}

#[test]
fn prelink_messages_are_shown_before_linking() {
    use taipan_testkit::PackageBuilder;
    let ctx = TestContext::new();
    let url = own_channel(
        &ctx,
        vec![PackageBuilder::new("noisy", "1.0")
            .noarch_generic()
            .file("share/noisy", "x\n")
            .info_file("prelink_messages/notice.txt", "Lorem ipsum notice\n")],
    );
    let (code, out, _) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", &url, "-p"])
            .arg(ctx.path("env"))
            .arg("noisy"),
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("The following PRELINK MESSAGES are INCLUDED:")
            && out.contains("  Lorem ipsum notice"),
        "{out}"
    );
    let (code, out, _) = output(
        ctx.cmd()
            .args(["create", "-c", &url, "-p"])
            .arg(ctx.path("env2"))
            .arg("noisy")
            .write_stdin("y\nn\n"),
    );
    assert_eq!(code, 0);
    assert!(out.contains("Exiting."), "{out}");
    assert!(!ctx.path("env2/share/noisy").exists());
}

/// A package links `lib/alias -> real`; a later one writes `lib/alias/keep.txt`, which is an
/// installed package's `lib/real/keep.txt` seen through the new link. When the transaction
/// fails, the installed file comes back: a path below a link the transaction creates is
/// never taken for new.
#[test]
fn rollback_restores_a_file_overwritten_through_a_new_directory_link() {
    use taipan_testkit::PackageBuilder;
    let ctx = TestContext::new();
    let url = own_channel(
        &ctx,
        vec![
            PackageBuilder::new("libreal", "1.0")
                .noarch_generic()
                .file("lib/real/keep.txt", "original\n"),
            PackageBuilder::new("alias", "1.0")
                .noarch_generic()
                .symlink("lib/alias", "real"),
            PackageBuilder::new("late", "1.0")
                .noarch_generic()
                .depends("alias")
                .file("lib/alias/keep.txt", "overwritten\n")
                .post_link("exit 1\n"),
        ],
    );
    let prefix = ctx.path("env");
    ctx.cmd()
        .args(["create", "-y", "-q", "-c", &url, "-p"])
        .arg(&prefix)
        .arg("libreal")
        .assert()
        .success();
    let before = crate::common::tree(&prefix);
    let (code, _, err) = output(
        ctx.cmd()
            .args(["install", "-y", "-c", &url, "-p"])
            .arg(&prefix)
            .arg("late"),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("rolled back"), "{err}");
    assert_eq!(
        std::fs::read_to_string(prefix.join("lib/real/keep.txt")).unwrap(),
        "original\n"
    );
    assert_eq!(crate::common::tree(&prefix), before);
}
