//! The root prefix: conda in it (never downgraded implicitly, floated with
//! `auto_update_conda`), and a root prefix the user cannot write.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{bin, channel_with, output, TestContext};

/// Makes `ctx.root` an (empty) environment, so that `-p <root>` targets an existing base.
fn make_root_env(ctx: &TestContext) {
    std::fs::create_dir_all(ctx.root.join("conda-meta")).unwrap();
    std::fs::write(ctx.root.join("conda-meta/history"), "").unwrap();
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
