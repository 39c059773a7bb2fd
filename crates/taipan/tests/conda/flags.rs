//! Flags not covered elsewhere: each one checked for its effect, through the CLI.

use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{output, TestContext};

fn channel(ctx: &TestContext, dir: &str, pkgs: Vec<PackageBuilder>) -> String {
    let mut ch = ChannelBuilder::new(&ctx.path(dir));
    for p in pkgs {
        ch.add(&p, ArchiveFormat::Conda);
    }
    ch.index().unwrap();
    ch.url().to_string()
}

#[test]
fn override_channels_ignores_condarc_channels() {
    let ctx = TestContext::new();
    let other = channel(
        &ctx,
        "other",
        vec![PackageBuilder::new("dep", "9.0")
            .noarch_generic()
            .file("share/d9", "9\n")],
    );
    std::fs::write(
        ctx.home.join(".condarc"),
        format!("channels:\n  - {}\n", ctx.channel),
    )
    .unwrap();
    let with_rc = ctx.path("a");
    ctx.cmd()
        .args([
            "create",
            "-y",
            "-q",
            "--no-channel-priority",
            "-c",
            &other,
            "-p",
        ])
        .arg(&with_rc)
        .arg("leaf")
        .assert()
        .success();
    assert!(ctx.installed(&with_rc).contains(&"leaf-1.0-0".to_string()));
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "--override-channels", "-c", &other, "-p"])
            .arg(ctx.path("b"))
            .arg("leaf"),
    );
    assert_eq!(code, 1, "leaf only exists in the condarc channel");
    assert!(err.contains("PackagesNotFoundInChannelsError"), "{err}");
}

#[test]
fn channel_priority_strict_flexible_disabled() {
    let ctx = TestContext::new();
    let first = channel(
        &ctx,
        "first",
        vec![PackageBuilder::new("dep", "0.5")
            .noarch_generic()
            .file("share/d05", "x\n")],
    );
    let run = |extra: &[&str], env: &str| {
        let prefix = ctx.path(env);
        let mut cmd = ctx.cmd();
        cmd.args(["create", "-y", "-q"])
            .args(extra)
            .args(["-c", &first, "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("dep");
        cmd.assert().success();
        ctx.installed(&prefix)
    };
    assert_eq!(
        run(&["--strict-channel-priority"], "strict"),
        vec!["dep-0.5-0"]
    );
    // disabled: the highest version wins whatever the channel.
    assert_eq!(
        run(&["--no-channel-priority"], "disabled"),
        vec!["dep-2.0-0"]
    );
    std::fs::write(ctx.home.join(".condarc"), "channel_priority: flexible\n").unwrap();
    // flexible: prefers the first channel but may fall back; `dep` exists there, so it's used.
    assert_eq!(run(&[], "flexible"), vec!["dep-0.5-0"]);
}

/// `app=2` needs `dep >=2`, which only the second channel has. Strict priority may not take
/// `dep` from there (the first channel has a `dep`); flexible may, and says so by solving.
#[test]
fn flexible_priority_falls_back_to_a_later_channel_where_strict_fails() {
    let ctx = TestContext::new();
    let first = channel(
        &ctx,
        "first",
        vec![PackageBuilder::new("dep", "0.5")
            .noarch_generic()
            .file("share/d05", "x\n")],
    );
    let create = |priority: &str, env: &str| {
        let prefix = ctx.path(env);
        let out = output(
            ctx.cmd()
                .args(["create", "-y", "-q", "-c", &first, "-c", &ctx.channel])
                .env("CONDA_CHANNEL_PRIORITY", priority)
                .arg("-p")
                .arg(&prefix)
                .arg("app=2"),
        );
        (out, prefix)
    };
    let ((code, _, err), prefix) = create("strict", "strict");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("UnsatisfiableError"), "{err}");
    assert!(!prefix.exists());
    let ((code, _, err), prefix) = create("flexible", "flexible");
    assert_eq!(code, 0, "{err}");
    assert_eq!(ctx.installed(&prefix), vec!["app-2.0-0", "dep-2.0-0"]);
}

#[test]
fn install_update_all_and_upgrade_alias_and_update_specs() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app=1"]);
    ctx.cmd()
        .args([
            "install",
            "-y",
            "-q",
            "--update-all",
            "-c",
            &ctx.channel,
            "-p",
        ])
        .arg(&prefix)
        .assert()
        .success();
    assert_eq!(ctx.installed(&prefix), vec!["app-2.0-0", "dep-2.0-0"]);
    let p2 = ctx.create("env2", &["app=1"]);
    ctx.cmd()
        .args(["upgrade", "-y", "-q", "-c", &ctx.channel, "-p"])
        .arg(&p2)
        .arg("app")
        .assert()
        .success();
    assert_eq!(ctx.installed(&p2), vec!["app-2.0-0", "dep-2.0-0"]);
    // An earlier explicit `dep=1` that the request conflicts with: conda neuters a history
    // spec to its name and version only, which still conflicts, so it fails (exit 1) and
    // nothing changes.
    let p3 = ctx.create("env3", &["dep=1"]);
    let (code, _, err) = output(
        ctx.cmd()
            .args([
                "install",
                "-y",
                "-q",
                "--update-specs",
                "-c",
                &ctx.channel,
                "-p",
            ])
            .arg(&p3)
            .arg("app=2"),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("UnsatisfiableError"), "{err}");
    assert_eq!(ctx.installed(&p3), vec!["dep-1.0-0"]);
}

/// conda's neutering: a history spec with a build (`lib=1.0=b1`) that the request conflicts
/// with is relaxed to `lib==1.0`, the history says `# neutered specs: ['lib==1.0']`, and
/// later solves use the relaxed spec.
#[test]
fn conflicting_history_specs_are_neutered_to_name_and_version() {
    let ctx = TestContext::new();
    let ch = channel(
        &ctx,
        "neuter",
        vec![
            PackageBuilder::new("lib", "1.0")
                .build("b1")
                .noarch_generic(),
            PackageBuilder::new("lib", "1.0")
                .build("b2")
                .noarch_generic(),
            PackageBuilder::new("tool", "1.0")
                .noarch_generic()
                .depends("lib 1.0 b2"),
        ],
    );
    let prefix = ctx.path("env");
    ctx.cmd()
        .args(["create", "-y", "-q", "--override-channels", "-c", &ch, "-p"])
        .arg(&prefix)
        .arg("lib=1.0=b1")
        .assert()
        .success();
    ctx.cmd()
        .args([
            "install",
            "-y",
            "-q",
            "--override-channels",
            "-c",
            &ch,
            "-p",
        ])
        .arg(&prefix)
        .arg("tool")
        .assert()
        .success();
    assert_eq!(ctx.installed(&prefix), vec!["lib-1.0-b2", "tool-1.0-0"]);
    let history = std::fs::read_to_string(prefix.join("conda-meta/history")).unwrap();
    assert!(
        history.ends_with("# update specs: ['tool']\n# neutered specs: ['lib==1.0']\n"),
        "{history}"
    );
}

/// Without `--update-specs`, `install` first keeps every installed package it can (a frozen
/// solve): `app` is already satisfied by app 1.0 with dep 1.0. With it, the named spec moves to
/// its newest version and takes its dependencies along.
#[test]
fn update_specs_moves_a_satisfied_spec_that_a_frozen_solve_keeps() {
    let ctx = TestContext::new();
    let install = |env: &str, extra: &[&str]| {
        let prefix = ctx.create(env, &["app=1"]);
        ctx.cmd()
            .args(["install", "-y", "-q"])
            .args(extra)
            .args(["-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("app")
            .assert()
            .success();
        ctx.installed(&prefix)
    };
    assert_eq!(install("frozen", &[]), vec!["app-1.0-0", "dep-1.0-0"]);
    assert_eq!(
        install("updated", &["--update-specs"]),
        vec!["app-2.0-0", "dep-2.0-0"]
    );
}

#[test]
fn list_explicit_md5() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1"]);
    let (code, out, _) = output(
        ctx.cmd()
            .args(["list", "--explicit", "--md5", "-p"])
            .arg(&prefix),
    );
    assert_eq!(code, 0);
    let line = out.lines().find(|l| l.contains("dep-1.0-0.conda")).unwrap();
    let md5 = line.rsplit('#').next().unwrap();
    assert_eq!(md5.len(), 32, "{line}");
}

#[test]
fn default_target_is_the_active_env() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1"]);
    let (code, out, _) = output(
        ctx.cmd()
            .env("CONDA_PREFIX", &prefix)
            .args(["list", "--export"]),
    );
    assert_eq!(code, 0);
    assert!(out.contains("dep=1.0=0"), "{out}");
    ctx.cmd()
        .env("CONDA_PREFIX", &prefix)
        .args(["install", "-y", "-q", "-c", &ctx.channel, "leaf"])
        .assert()
        .success();
    assert!(ctx.installed(&prefix).contains(&"leaf-1.0-0".to_string()));
}

#[test]
fn virtual_package_requirements_follow_overrides() {
    let ctx = TestContext::new();
    let url = channel(
        &ctx,
        "vp",
        vec![PackageBuilder::new("needs-new-glibc", "1.0")
            .subdir("linux-64")
            .depends("__glibc >=2.40")
            .file("lib/x", "x\n")],
    );
    let (code, _, err) = output(
        ctx.cmd()
            .env("CONDA_OVERRIDE_GLIBC", "2.36")
            .args(["create", "-y", "--dry-run", "-c", &url, "-p"])
            .arg(ctx.path("a"))
            .arg("needs-new-glibc"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("__glibc"), "{err}");
    let (code, _, _) = output(
        ctx.cmd()
            .env("CONDA_OVERRIDE_GLIBC", "2.41")
            .args(["create", "-y", "--dry-run", "-c", &url, "-p"])
            .arg(ctx.path("b"))
            .arg("needs-new-glibc"),
    );
    assert_eq!(code, 0);
    // `override_virtual_packages` in .condarc does the same; the variable wins over it.
    std::fs::write(
        ctx.home.join(".condarc"),
        "override_virtual_packages:\n  glibc: '2.41'\n",
    )
    .unwrap();
    let create = |dir: &str| {
        let mut cmd = ctx.cmd();
        cmd.args(["create", "-y", "--dry-run", "-c", &url, "-p"])
            .arg(ctx.path(dir))
            .arg("needs-new-glibc");
        cmd
    };
    let (code, _, err) = output(create("c").env_remove("CONDA_OVERRIDE_GLIBC"));
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = output(create("d").env("CONDA_OVERRIDE_GLIBC", "2.36"));
    assert_eq!(code, 1);
}

#[test]
fn standalone_default_root_is_taipan3_in_home() {
    let ctx = TestContext::new();
    let (code, out, _) = output(
        ctx.cmd()
            .env_remove("CONDA_ROOT_PREFIX")
            .args(["info", "--base"]),
    );
    assert_eq!(code, 0);
    assert_eq!(out.trim(), ctx.home.join("taipan3").display().to_string());
}
