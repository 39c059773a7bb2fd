//! `conda clean`: tarballs, index cache, unused packages (decided from the environments'
//! records, so copied and hard-linked environments keep theirs), tempfiles, logfiles,
//! `--force-pkgs-dirs` (`clean -afy`), dry runs, JSON, and entries another process holds.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::common::{output, tree, TestContext};

fn pkgs(ctx: &TestContext) -> PathBuf {
    ctx.root.join("pkgs")
}

/// Filters for sizes, which depend on how the test packages were built.
fn filters(ctx: &TestContext) -> Vec<(&'static str, &'static str)> {
    let mut f = vec![
        (r#"": \d+"#, r#"": [N]"#),
        (r"\(\d+ (B|KB)\)", "([SIZE])"),
        (r"(?m) +\d+ (B|KB)$", " [SIZE]"),
        // The rule under a cache's path is as long as the (temporary) path.
        (r"(?m)^  -+$", "  [RULE]"),
    ];
    f.extend(ctx.filters());
    f
}

/// `create -n NAME -c CHANNEL ARGS -y -q`.
fn create_named(ctx: &TestContext, name: &str, args: &[&str]) -> PathBuf {
    ctx.cmd()
        .args(["create", "-y", "-q", "-c", &ctx.channel, "-n", name])
        .args(args)
        .assert()
        .success();
    ctx.root.join("envs").join(name)
}

/// Three environments: `hard` (leaf, dep 2: hard links), `copied` (`--copy`: app 1, dep 1,
/// whose cache files then have one link each), and a removed one that used pip.
fn three_envs(ctx: &TestContext) -> (PathBuf, PathBuf) {
    let hard = create_named(ctx, "hard", &["leaf"]);
    let copied = create_named(ctx, "copied", &["--copy", "app=1.0"]);
    create_named(ctx, "gone", &["pip"]);
    ctx.cmd()
        .args(["remove", "-n", "gone", "--all", "-y", "-q"])
        .assert()
        .success();
    (hard, copied)
}

#[test]
fn clean_packages_keeps_what_hardlinked_and_copied_environments_use() {
    let ctx = TestContext::new();
    let (hard, copied) = three_envs(&ctx);
    // The copied environment's package has no other link: conda's link-count test would
    // call it unused (conda issue 16614).
    let cached = pkgs(&ctx).join("app-1.0-0/share/app/v1");
    assert_eq!(std::fs::metadata(&cached).unwrap().nlink(), 1);
    assert!(
        std::fs::metadata(pkgs(&ctx).join("leaf-1.0-0/share/leaf"))
            .unwrap()
            .nlink()
            > 1
    );

    let (code, stdout, stderr) = output(ctx.cmd().args(["clean", "-p", "-d", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let dir = pkgs(&ctx).display().to_string();
    assert_eq!(
        v["packages"]["pkgs_dirs"][&dir],
        serde_json::json!(["pip-23.0-0"])
    );
    insta::with_settings!({filters => filters(&ctx)}, {
        insta::assert_snapshot!("clean_packages_dry_run_json", stdout);
    });

    let (code, stdout, stderr) = output(ctx.cmd().args(["clean", "--packages", "-y"]));
    assert_eq!(code, 0, "{stderr}");
    insta::with_settings!({filters => filters(&ctx)}, {
        insta::assert_snapshot!("clean_packages_text", stdout);
    });
    assert!(!pkgs(&ctx).join("pip-23.0-0").exists());
    for kept in ["leaf-1.0-0", "dep-2.0-0", "app-1.0-0", "dep-1.0-0"] {
        assert!(pkgs(&ctx).join(kept).join("info").is_dir(), "{kept}");
    }
    // Both environments still work, and a second clean finds nothing.
    assert!(hard.join("share/leaf").is_file());
    assert!(copied.join("share/app/v1").is_file());
    let (_, stdout, _) = output(ctx.cmd().args(["clean", "-p", "-y"]));
    assert_eq!(stdout, "There are no unused package(s) to remove.\n");
    // The removed package is fetched again when needed.
    let again = create_named(&ctx, "again", &["pip"]);
    assert!(again.join("share/pip").is_file());
}

#[test]
fn clean_packages_keeps_packages_of_environments_outside_the_envs_dirs() {
    let ctx = TestContext::new();
    // Registered in ~/.conda/environments.txt only, and created with always_copy.
    std::fs::write(ctx.home.join(".condarc"), "always_copy: true\n").unwrap();
    let outside = ctx.create("elsewhere/env", &["leaf"]);
    let registry = std::fs::read_to_string(ctx.home.join(".conda/environments.txt")).unwrap();
    assert!(registry.contains(&outside.display().to_string()));
    let (code, stdout, _) = output(ctx.cmd().args(["clean", "-p", "-y"]));
    assert_eq!(code, 0);
    assert_eq!(stdout, "There are no unused package(s) to remove.\n");
    assert!(pkgs(&ctx).join("leaf-1.0-0/info").is_dir());
}

#[test]
fn clean_without_a_target_is_an_argument_error() {
    let ctx = TestContext::new();
    let (code, stdout, stderr) = output(ctx.cmd().args(["clean"]));
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    insta::assert_snapshot!("clean_no_target", stderr);
    let (code, stdout, _) = output(ctx.cmd().args(["clean", "--json", "-y"]));
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["exception_name"], "ArgumentError");
}

/// A world with something for every target: a tarball, the index cache, an unused
/// package, a log file and temp files in the root prefix.
fn everything(ctx: &TestContext) -> PathBuf {
    let (hard, _) = three_envs(ctx);
    let channel = PathBuf::from(ctx.channel.trim_start_matches("file://"));
    std::fs::copy(
        channel.join("noarch/leaf-1.0-0.conda"),
        pkgs(ctx).join("leaf-1.0-0.conda"),
    )
    .unwrap();
    assert!(pkgs(ctx).join("cache").is_dir(), "the index cache exists");
    std::fs::create_dir_all(pkgs(ctx).join(".logs")).unwrap();
    std::fs::write(pkgs(ctx).join(".logs/2026.log"), "log\n").unwrap();
    std::fs::write(ctx.root.join("old.c~"), "x").unwrap();
    std::fs::write(hard.join("share/gone.trash"), "x").unwrap();
    std::fs::write(hard.join("share/keep.txt"), "x").unwrap();
    hard
}

#[test]
fn clean_all_dry_run_shows_every_target_and_removes_nothing() {
    let ctx = TestContext::new();
    everything(&ctx);
    let before = tree(ctx.temp.path());
    let (code, stdout, stderr) = output(ctx.cmd().args(["clean", "-a", "-d"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "\nDryRunExit: Dry run. Exiting.\n\n");
    insta::with_settings!({filters => filters(&ctx)}, {
        insta::assert_snapshot!("clean_all_dry_run_text", stdout);
    });
    let (code, stdout, stderr) = output(ctx.cmd().args(["clean", "--all", "--dry-run", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    insta::with_settings!({filters => filters(&ctx)}, {
        insta::assert_snapshot!("clean_all_dry_run_json", stdout);
    });
    let (code, stdout, _) = output(ctx.cmd().args(["clean", "-a", "-d", "-v"]));
    assert_eq!(code, 0);
    insta::with_settings!({filters => filters(&ctx)}, {
        insta::assert_snapshot!("clean_all_dry_run_verbose", stdout);
    });
    assert_eq!(tree(ctx.temp.path()), before, "a dry run changes nothing");
}

#[test]
fn clean_all_yes_removes_every_target_but_used_packages() {
    let ctx = TestContext::new();
    let hard = everything(&ctx);
    let (code, stdout, stderr) = output(ctx.cmd().args(["clean", "-a", "-y", "-v"]));
    assert_eq!(code, 0, "{stderr}");
    insta::with_settings!({filters => filters(&ctx)}, {
        insta::assert_snapshot!("clean_all_yes_verbose", stdout);
    });
    for gone in [
        pkgs(&ctx).join("leaf-1.0-0.conda"),
        pkgs(&ctx).join("cache"),
        pkgs(&ctx).join("pip-23.0-0"),
        pkgs(&ctx).join(".logs/2026.log"),
        ctx.root.join("old.c~"),
        hard.join("share/gone.trash"),
    ] {
        assert!(!gone.exists(), "{} is removed", gone.display());
    }
    assert!(hard.join("share/keep.txt").exists());
    assert!(pkgs(&ctx).join("leaf-1.0-0/info").is_dir());
    assert!(pkgs(&ctx).join("app-1.0-0/info").is_dir());
    // Solving again rebuilds the index cache.
    create_named(&ctx, "after", &["dep=1"]);
}

#[test]
fn clean_tempfiles_of_given_paths_and_logfiles() {
    let ctx = TestContext::new();
    let hard = everything(&ctx);
    let (code, stdout, stderr) = output(
        ctx.cmd()
            .args(["clean", "-l", "-y", "--json", "-c"])
            .arg(&hard),
    );
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        v["tempfiles"],
        serde_json::json!([hard.join("share/gone.trash").display().to_string()])
    );
    assert_eq!(
        v["logfiles"],
        serde_json::json!([pkgs(&ctx).join(".logs/2026.log").display().to_string()])
    );
    assert!(v.get("tarballs").is_none());
    assert!(!hard.join("share/gone.trash").exists());
    assert!(
        ctx.root.join("old.c~").exists(),
        "only the given path is searched"
    );
    assert!(pkgs(&ctx).join("leaf-1.0-0.conda").exists());
}

#[test]
fn clean_force_pkgs_dirs_as_in_dockerfiles() {
    let ctx = TestContext::new();
    let (hard, copied) = three_envs(&ctx);
    let (code, stdout, stderr) = output(ctx.cmd().args(["clean", "-afy"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "Will remove 1 package cache(s).\n");
    assert!(!pkgs(&ctx).exists());
    // Environments hold hard links or copies, never links into the cache.
    assert_eq!(
        std::fs::read_to_string(hard.join("share/leaf")).unwrap(),
        "leaf\n"
    );
    assert!(copied.join("share/app/v1").is_file());
    let (code, stdout, _) = output(ctx.cmd().args(["clean", "-f", "-d", "--json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v, serde_json::json!({"success": true, "pkgs_dirs": []}));
    create_named(&ctx, "after", &["dep=1"]);
}

/// Holds a cache entry's lock as a linking or fetching process does.
fn hold(pkgs_dir: &Path, entry: &str) -> std::fs::File {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(pkgs_dir.join(format!("{entry}.lock")))
        .unwrap();
    f.try_lock().unwrap();
    f
}

#[test]
fn clean_leaves_entries_another_process_holds() {
    let ctx = TestContext::new();
    everything(&ctx);
    let _pip = hold(&pkgs(&ctx), "pip-23.0-0");
    let _leaf = hold(&pkgs(&ctx), "leaf-1.0-0");
    let (code, stdout, stderr) = output(ctx.cmd().args(["clean", "-p", "-t", "-y"]));
    assert_eq!(code, 0, "{stderr}");
    insta::with_settings!({filters => filters(&ctx)}, {
        insta::assert_snapshot!("clean_entries_in_use", stdout);
    });
    assert!(pkgs(&ctx).join("pip-23.0-0/info").is_dir());
    assert!(pkgs(&ctx).join("leaf-1.0-0.conda").is_file());

    // --force-pkgs-dirs keeps the held entries (and so the directory), removes the rest.
    let (code, stdout, _) = output(ctx.cmd().args(["clean", "-f", "-y"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("pip-23.0-0 is in use by another conda process; not removed."));
    assert!(pkgs(&ctx).join("pip-23.0-0/info").is_dir());
    assert!(pkgs(&ctx).join("leaf-1.0-0.conda").is_file());
    assert!(!pkgs(&ctx).join("dep-1.0-0").exists());
    assert!(!pkgs(&ctx).join("cache").exists());
}

#[test]
fn clean_asks_and_stops_when_declined() {
    let ctx = TestContext::new();
    everything(&ctx);
    let mut child = ctx
        .std_cmd()
        .args(["clean", "-t", "-l"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("Will remove 1 (")
            && stdout.ends_with(") tarball(s).\nProceed ([y]/n)? \n"),
        "{stdout}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "\nCondaSystemExit: Exiting.\n\n"
    );
    assert!(pkgs(&ctx).join("leaf-1.0-0.conda").is_file());
    assert!(pkgs(&ctx).join(".logs/2026.log").is_file());
}
