//! Behaviours that had no end-to-end coverage: Ctrl-C rollback, conda in the root prefix,
//! `--copy`/`always_copy`, sharded repodata over HTTP, an unwritable root prefix, `envs_dirs`,
//! and `channel_alias`/`custom_channels`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use taipan_testkit::http::TestServer;
use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{bin, output, standard_packages, tree, TestContext};

/// Builds a channel at `dir` holding the standard packages plus `extra`.
fn channel_with(dir: &Path, extra: Vec<PackageBuilder>) -> ChannelBuilder {
    let mut ch = ChannelBuilder::new(dir);
    for (pkg, fmt) in standard_packages() {
        ch.add(&pkg, fmt);
    }
    for pkg in extra {
        ch.add(&pkg, ArchiveFormat::Conda);
    }
    ch
}

/// The same isolation as `TestContext::isolate`, for a `std::process::Command` (which can be
/// spawned and signalled).
fn isolate_std(ctx: &TestContext, cmd: &mut std::process::Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("CONDA") || k == "CONDARC" || k.starts_with("XDG_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", &ctx.home)
        .env("CONDA_ROOT_PREFIX", &ctx.root)
        .env("CONDA_OVERRIDE_GLIBC", "2.36")
        .env("CONDA_OVERRIDE_CUDA", "")
        .env("TAIPAN_SYSTEM_CONFIG_DIRS", ctx.path("etc-conda"))
        .current_dir(ctx.temp.path());
}

/// Makes `ctx.root` an (empty) environment, so that `-p <root>` targets an existing base.
fn make_root_env(ctx: &TestContext) {
    std::fs::create_dir_all(ctx.root.join("conda-meta")).unwrap();
    std::fs::write(ctx.root.join("conda-meta/history"), "").unwrap();
}

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
    isolate_std(&ctx, &mut cmd);
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

// ---------------------------------------------------------------------------------------------
// 2. conda in the root prefix
// ---------------------------------------------------------------------------------------------

fn conda_channel(ctx: &TestContext) -> String {
    let mut ch = ChannelBuilder::new(&ctx.path("condachannel"));
    let pkgs = vec![
        PackageBuilder::new("conda", "1.0")
            .noarch_generic()
            .file("share/conda/v1", "conda 1\n"),
        PackageBuilder::new("conda", "2.0")
            .noarch_generic()
            .file("share/conda/v2", "conda 2\n"),
        PackageBuilder::new("other", "1.0")
            .noarch_generic()
            .file("share/other", "other\n"),
        PackageBuilder::new("oldleaf", "1.0")
            .noarch_generic()
            .depends("conda <2")
            .file("share/oldleaf", "oldleaf\n"),
        PackageBuilder::new("ancient", "1.0")
            .noarch_generic()
            .depends("conda <1")
            .file("share/ancient", "ancient\n"),
    ];
    for p in pkgs {
        ch.add(&p, ArchiveFormat::Conda);
    }
    ch.index().unwrap();
    ch.url().to_string()
}

fn install_root(
    ctx: &TestContext,
    url: &str,
    specs: &[&str],
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut cmd = ctx.cmd();
    cmd.args(["install", "-y", "-c", url, "-p"])
        .arg(&ctx.root)
        .args(specs);
    for (k, v) in env {
        cmd.env(k, v);
    }
    output(&mut cmd)
}

#[test]
fn conda_in_root_floats_with_auto_update_conda_and_never_goes_down() {
    let ctx = TestContext::new();
    let url = conda_channel(&ctx);
    make_root_env(&ctx);
    let (code, _, err) = install_root(&ctx, &url, &["conda=1.0"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(ctx.installed(&ctx.root), vec!["conda-1.0-0"]);

    // auto_update_conda (default true): conda floats to the newest on any install in base,
    // even though the history asked for conda=1.0.
    let (code, _, err) = install_root(&ctx, &url, &["other"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        ctx.installed(&ctx.root),
        vec!["conda-2.0-0", "other-1.0-0"],
        "conda must float to 2.0 in the root prefix with auto_update_conda"
    );

    // a package needing an older conda must fail rather than downgrade conda implicitly
    let (code, _, err) = install_root(&ctx, &url, &["oldleaf"], &[]);
    assert_eq!(code, 1, "installing oldleaf must fail: {err}");
    assert_eq!(ctx.installed(&ctx.root), vec!["conda-2.0-0", "other-1.0-0"]);
}

#[test]
fn conda_in_root_stays_without_auto_update_conda_and_never_goes_down() {
    let ctx = TestContext::new();
    let url = conda_channel(&ctx);
    make_root_env(&ctx);
    let off = [("CONDA_AUTO_UPDATE_CONDA", "false")];
    let (code, _, err) = install_root(&ctx, &url, &["conda=1.0"], &off);
    assert_eq!(code, 0, "{err}");
    assert_eq!(ctx.installed(&ctx.root), vec!["conda-1.0-0"]);

    let (code, _, err) = install_root(&ctx, &url, &["other"], &off);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        ctx.installed(&ctx.root),
        vec!["conda-1.0-0", "other-1.0-0"],
        "without auto_update_conda conda stays"
    );

    let (code, _, err) = install_root(&ctx, &url, &["ancient"], &off);
    assert_eq!(code, 1, "installing ancient (conda <1) must fail: {err}");
    assert_eq!(ctx.installed(&ctx.root), vec!["conda-1.0-0", "other-1.0-0"]);

    // the same holds with auto_update_conda on
    let (code, _, err) = install_root(&ctx, &url, &["ancient"], &[]);
    assert_eq!(code, 1, "installing ancient (conda <1) must fail: {err}");
    assert_eq!(ctx.installed(&ctx.root), vec!["conda-1.0-0", "other-1.0-0"]);
}

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

// ---------------------------------------------------------------------------------------------
// 4. sharded repodata
// ---------------------------------------------------------------------------------------------

#[test]
fn sharded_repodata_over_http() {
    let ctx = TestContext::new();
    let dir = ctx.path("sharded");
    let ch = channel_with(&dir, Vec::new()).with_shards(true);
    ch.index().unwrap();
    assert!(dir.join("noarch/repodata_shards.msgpack.zst").exists());
    let server = TestServer::serve(&dir).unwrap();
    let url = server.url().to_string();
    let prefix = ctx.path("env");
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", &url, "-p"])
            .arg(&prefix)
            .arg("app=1"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(ctx.installed(&prefix), vec!["app-1.0-0", "dep-1.0-0"]);
    let paths: Vec<String> = server.log().into_iter().map(|r| r.path).collect();
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("repodata_shards.msgpack.zst")),
        "the sharded index must be requested; requests: {paths:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. unwritable root prefix
// ---------------------------------------------------------------------------------------------

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
}

fn running_as_root() -> bool {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

#[test]
fn unwritable_root_prefix_uses_user_dirs() {
    let ctx = TestContext::new();
    let as_root = running_as_root();
    // everything the unprivileged user needs must be reachable
    chmod(ctx.temp.path(), 0o755);
    chmod(&ctx.home, 0o777);
    let chdir = ctx.path("channel");
    std::fs::create_dir_all(&chdir).unwrap();
    let ch = channel_with(&chdir, Vec::new());
    ch.index().unwrap();
    let url = ch.url().to_string();
    std::fs::create_dir_all(ctx.root.join("conda-meta")).unwrap();
    std::fs::write(ctx.root.join("conda-meta/history"), "").unwrap();
    if !as_root {
        chmod(&ctx.root.join("conda-meta/history"), 0o444);
        chmod(&ctx.root.join("conda-meta"), 0o555);
        chmod(&ctx.root, 0o555);
    } else {
        chmod(&ctx.root, 0o755);
    }

    let mut cmd = if as_root {
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect(
                "running as root: this test needs `setpriv` (util-linux) to run the binary as an \
                 unprivileged user, and it was not found",
            );
        let mut c = assert_cmd::Command::new(setpriv);
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin());
        c
    } else {
        assert_cmd::Command::new(bin())
    };
    ctx.isolate(&mut cmd);
    let (code, out, err) = output(cmd.args(["create", "-y", "-n", "x", "-c", &url, "dep"]));

    if !as_root {
        // give the temp dir back so it can be cleaned up
        chmod(&ctx.root, 0o755);
        chmod(&ctx.root.join("conda-meta"), 0o755);
    }
    assert_eq!(code, 0, "{out}\n{err}");
    let env = ctx.home.join(".conda/envs/x");
    assert_eq!(
        ctx.installed(&env),
        vec!["dep-2.0-0"],
        "env in ~/.conda/envs"
    );
    assert!(
        ctx.home.join(".conda/pkgs/dep-2.0-0").is_dir(),
        "package cache in ~/.conda/pkgs"
    );
    assert!(!ctx.root.join("envs/x").exists());
    assert!(!ctx.root.join("pkgs/dep-2.0-0").exists());
}

// ---------------------------------------------------------------------------------------------
// 6. envs_dirs
// ---------------------------------------------------------------------------------------------

#[test]
fn envs_dirs_from_condarc_places_named_envs() {
    let ctx = TestContext::new();
    let myenvs = ctx.path("myenvs");
    std::fs::write(
        ctx.home.join(".condarc"),
        format!("envs_dirs:\n  - {}\n", myenvs.display()),
    )
    .unwrap();
    ctx.cmd()
        .args(["create", "-y", "-q", "-n", "x", "-c", &ctx.channel, "dep=1"])
        .assert()
        .success();
    let env = myenvs.join("x");
    assert_eq!(ctx.installed(&env), vec!["dep-1.0-0"]);
    assert!(!ctx.root.join("envs/x").exists());

    let (code, out, err) = output(ctx.cmd().args(["env", "list"]));
    assert_eq!(code, 0, "{err}");
    let shown = out.lines().any(|l| {
        let t: Vec<&str> = l.split_whitespace().collect();
        t.first() == Some(&"x") && t.last() == Some(&env.display().to_string().as_str())
    });
    assert!(shown, "env list must show `x  {}`:\n{out}", env.display());

    // and `-n x` finds it again
    ctx.cmd()
        .args(["install", "-y", "-q", "-n", "x", "-c", &ctx.channel, "leaf"])
        .assert()
        .success();
    assert_eq!(ctx.installed(&env), vec!["dep-1.0-0", "leaf-1.0-0"]);
}

// ---------------------------------------------------------------------------------------------
// 7. channel_alias / custom_channels
// ---------------------------------------------------------------------------------------------

fn served_parent(ctx: &TestContext, sub: &str) -> PathBuf {
    let parent = ctx.path("served");
    let ch = channel_with(&parent.join(sub), Vec::new());
    ch.index().unwrap();
    parent
}

#[test]
fn channel_alias_resolves_channel_names() {
    let ctx = TestContext::new();
    let parent = served_parent(&ctx, "stdchan");
    let server = TestServer::serve(&parent).unwrap();
    let alias = server.url().to_string().trim_end_matches('/').to_string();
    std::fs::write(
        ctx.home.join(".condarc"),
        format!("channel_alias: {alias}\n"),
    )
    .unwrap();
    let prefix = ctx.path("env");
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", "stdchan", "-p"])
            .arg(&prefix)
            .arg("dep=1"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(ctx.installed(&prefix), vec!["dep-1.0-0"]);
    assert!(server.requests("/stdchan/noarch/dep-1.0-0.conda") >= 1);
    let (_, list, _) = output(ctx.cmd().args(["list", "-p"]).arg(&prefix));
    assert!(
        list.lines()
            .any(|l| l.starts_with("dep") && l.trim_end().ends_with("stdchan")),
        "the channel is shown by its name:\n{list}"
    );
}

#[test]
fn custom_channels_resolve_channel_names() {
    let ctx = TestContext::new();
    let parent = served_parent(&ctx, "under/mychan");
    let server = TestServer::serve(&parent).unwrap();
    let base = server.url().to_string();
    // channel_alias points at the server root, where there is no `mychan`: only
    // custom_channels can make `-c mychan` work.
    std::fs::write(
        ctx.home.join(".condarc"),
        format!(
            "channel_alias: {}\ncustom_channels:\n  mychan: {base}under\n",
            base.trim_end_matches('/')
        ),
    )
    .unwrap();
    let prefix = ctx.path("env");
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", "mychan", "-p"])
            .arg(&prefix)
            .arg("dep=1"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(ctx.installed(&prefix), vec!["dep-1.0-0"]);
    assert!(server.requests("/under/mychan/noarch/dep-1.0-0.conda") >= 1);
}
