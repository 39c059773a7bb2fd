use crate::common::{output, TestContext};

#[test]
fn history_specs_stay_constraints() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app=1"]);
    ctx.cmd()
        .args(["install", "-y", "-q", "-c", &ctx.channel, "-p"])
        .arg(&prefix)
        .arg("leaf")
        .assert()
        .success();
    // app=1 pins dep 1.*, so leaf must come without moving dep to 2.
    assert_eq!(
        ctx.installed(&prefix),
        vec!["app-1.0-0", "dep-1.0-0", "leaf-1.0-0"]
    );
}

#[test]
fn update_all_moves_within_constraints_and_update_name_drops_them() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app=1"]);
    ctx.cmd()
        .args(["update", "-y", "-q", "--all", "-c", &ctx.channel, "-p"])
        .arg(&prefix)
        .assert()
        .success();
    assert_eq!(ctx.installed(&prefix), vec!["app-2.0-0", "dep-2.0-0"]);
    let history = std::fs::read_to_string(prefix.join("conda-meta/history")).unwrap();
    assert!(history.contains("-") && history.contains("+"), "{history}");
}

#[test]
fn update_requires_installed_names() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1"]);
    let (code, _, err) = output(
        ctx.cmd()
            .args(["update", "-y", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("leaf"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("PackageNotInstalledError"), "{err}");
    let (code, _, err) = output(
        ctx.cmd()
            .args(["update", "-y", "-c", &ctx.channel, "-p"])
            .arg(&prefix),
    );
    assert_eq!(code, 1);
    assert!(err.contains("no package names supplied"), "{err}");
}

#[test]
fn python_keeps_its_minor_version() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["python=3.11"]);
    ctx.cmd()
        .args(["update", "-y", "-q", "--all", "-c", &ctx.channel, "-p"])
        .arg(&prefix)
        .assert()
        .success();
    assert!(ctx
        .installed(&prefix)
        .contains(&"python-3.11.0-h0".to_string()));
    ctx.cmd()
        .args(["install", "-y", "-q", "-c", &ctx.channel, "-p"])
        .arg(&prefix)
        .arg("python=3.12")
        .assert()
        .success();
    assert!(ctx
        .installed(&prefix)
        .contains(&"python-3.12.0-h0".to_string()));
}

#[test]
fn pins_are_hard_constraints_and_conflicts_name_the_pin() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1"]);
    std::fs::write(prefix.join("conda-meta/pinned"), "dep 1.*\n").unwrap();
    ctx.cmd()
        .args(["update", "-y", "-q", "--all", "-c", &ctx.channel, "-p"])
        .arg(&prefix)
        .assert()
        .success();
    assert_eq!(ctx.installed(&prefix), vec!["dep-1.0-0"]);
    let (code, _, err) = output(
        ctx.cmd()
            .args(["install", "-y", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("dep=2"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("SpecsConfigurationConflictError") && err.contains("dep 1.*"),
        "{err}"
    );
    ctx.cmd()
        .args(["install", "-y", "-q", "--no-pin", "-c", &ctx.channel, "-p"])
        .arg(&prefix)
        .arg("dep=2")
        .assert()
        .success();
    assert_eq!(ctx.installed(&prefix), vec!["dep-2.0-0"]);
}

/// conda's default `aggressive_update_packages` (openssl among them) float to the newest build
/// whenever the environment changes, even over a history spec; the package named is unrelated.
/// Set to `[]`, openssl stays where history put it.
#[test]
fn aggressive_update_packages_float() {
    let ctx = TestContext::new();
    let install = |env: &str| {
        let prefix = ctx.create(env, &["openssl=1.0"]);
        ctx.cmd()
            .args(["install", "-y", "-q", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("pip")
            .assert()
            .success();
        ctx.installed(&prefix)
    };
    assert_eq!(install("default"), vec!["openssl-1.1-0", "pip-23.0-0"]);
    std::fs::write(
        ctx.home.join(".condarc"),
        "aggressive_update_packages: []\n",
    )
    .unwrap();
    assert_eq!(install("off"), vec!["openssl-1.0-0", "pip-23.0-0"]);
}

#[test]
fn no_deps_and_only_deps() {
    let ctx = TestContext::new();
    let a = ctx.create("a", &["python=3.11"]);
    ctx.cmd()
        .args(["install", "-y", "-q", "--no-deps", "-c", &ctx.channel, "-p"])
        .arg(&a)
        .arg("leaf")
        .assert()
        .success();
    assert_eq!(
        ctx.installed(&a),
        vec!["leaf-1.0-0", "pip-23.0-0", "python-3.11.0-h0"]
    );
    let b = ctx.create("b", &["python=3.11"]);
    ctx.cmd()
        .args([
            "install",
            "-y",
            "-q",
            "--only-deps",
            "-c",
            &ctx.channel,
            "-p",
        ])
        .arg(&b)
        .arg("leaf")
        .assert()
        .success();
    assert_eq!(
        ctx.installed(&b),
        vec!["dep-2.0-0", "pip-23.0-0", "python-3.11.0-h0"]
    );
}

#[test]
fn satisfied_skip_solve_and_force_reinstall() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1"]);
    let (code, out, _) = output(
        ctx.cmd()
            .args(["install", "-S", "-y", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("dep"),
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("All requested packages already installed"),
        "{out}"
    );
    std::fs::remove_file(prefix.join("share/dep/v1")).unwrap();
    ctx.cmd()
        .args([
            "install",
            "-y",
            "-q",
            "--force-reinstall",
            "-c",
            &ctx.channel,
            "-p",
        ])
        .arg(&prefix)
        .arg("dep=1")
        .assert()
        .success();
    assert!(prefix.join("share/dep/v1").is_file());
}

#[test]
fn freeze_installed_refuses_to_move_packages() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1"]);
    let (code, _, err) = output(
        ctx.cmd()
            .args([
                "install",
                "-y",
                "--freeze-installed",
                "-c",
                &ctx.channel,
                "-p",
            ])
            .arg(&prefix)
            .arg("app=2"),
    );
    assert_eq!(code, 1, "{err}");
    ctx.cmd()
        .args([
            "install",
            "-y",
            "-q",
            "--update-deps",
            "-c",
            &ctx.channel,
            "-p",
        ])
        .arg(&prefix)
        .arg("app")
        .assert()
        .success();
}

/// `leaf` pulls in `dep`; removing `leaf` with `--force` leaves `dep` behind, asked for by
/// nothing. `--prune` on the next install removes it; a plain install keeps it.
#[test]
fn prune_drops_what_history_no_longer_asks_for() {
    let ctx = TestContext::new();
    let install = |env: &str, extra: &[&str]| {
        let prefix = ctx.create(env, &["leaf"]);
        ctx.cmd()
            .args(["remove", "-y", "-q", "--force", "-p"])
            .arg(&prefix)
            .arg("leaf")
            .assert()
            .success();
        assert_eq!(ctx.installed(&prefix), vec!["dep-2.0-0"]);
        ctx.cmd()
            .args(["install", "-y", "-q"])
            .args(extra)
            .args(["-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("pip")
            .assert()
            .success();
        ctx.installed(&prefix)
    };
    assert_eq!(install("kept", &[]), vec!["dep-2.0-0", "pip-23.0-0"]);
    assert_eq!(install("pruned", &["--prune"]), vec!["pip-23.0-0"]);
}

#[test]
fn strict_channel_priority_prefers_first_channel() {
    let ctx = TestContext::new();
    let dir = ctx.path("override");
    let mut ch = taipan_testkit::ChannelBuilder::new(&dir);
    ch.add(
        &taipan_testkit::PackageBuilder::new("dep", "0.5")
            .noarch_generic()
            .file("share/dep/v05", "x\n"),
        taipan_testkit::ArchiveFormat::Conda,
    );
    ch.index().unwrap();
    let prefix = ctx.path("env");
    ctx.cmd()
        .args(["create", "-y", "-q", "--strict-channel-priority", "-c"])
        .arg(ch.url().as_str())
        .args(["-c", &ctx.channel, "-p"])
        .arg(&prefix)
        .arg("dep")
        .assert()
        .success();
    assert_eq!(ctx.installed(&prefix), vec!["dep-0.5-0"]);
}
