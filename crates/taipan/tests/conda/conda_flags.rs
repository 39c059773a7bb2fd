//! Flags and keys conda users pass that taipan used to refuse or ignore, each with its real
//! effect: `--use-local` (the conda-bld channel), `allowlist_channels` / `denylist_channels`,
//! `path_conflict` with `--clobber`, `--use-index-cache`, `--repodata-fn`, `--solver`,
//! `--no-shortcuts`, `--insecure`, and `install --all` refused as conda refuses it.

use taipan_testkit::http::TestServer;
use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{output, tree, TestContext};

pub(crate) fn condarc(ctx: &TestContext, text: &str) {
    std::fs::write(ctx.home.join(".condarc"), text).unwrap();
}

#[test]
fn use_local_searches_the_conda_bld_channel_first() {
    let ctx = TestContext::new();
    let mut bld = ChannelBuilder::new(&ctx.root.join("conda-bld"));
    bld.add(
        &PackageBuilder::new("localpkg", "0.1")
            .noarch_generic()
            .file("share/localpkg", "built here\n"),
        ArchiveFormat::Conda,
    );
    bld.index().unwrap();
    let prefix = ctx.path("env");
    // No channel configured at all: --use-local is enough.
    let (code, _, stderr) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "--use-local", "-p"])
            .arg(&prefix)
            .arg("localpkg"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ctx.installed(&prefix), ["localpkg-0.1-0"]);
    // `-c local` is the same channel (not `<channel_alias>/local`).
    let other = ctx.path("env2");
    let (code, _, stderr) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", "local", "-p"])
            .arg(&other)
            .arg("localpkg"),
    );
    assert_eq!(code, 0, "{stderr}");
    // And `use_local: true` in .condarc.
    condarc(&ctx, "use_local: true\n");
    let third = ctx.path("env3");
    let (code, _, stderr) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-p"])
            .arg(&third)
            .arg("localpkg"),
    );
    assert_eq!(code, 0, "{stderr}");
    // Without it, the package is not found.
    condarc(&ctx, "");
    let (code, _, _) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", &ctx.channel, "-p"])
            .arg(ctx.path("env4"))
            .arg("localpkg"),
    );
    assert_eq!(code, 1);
}

#[test]
fn denylisted_and_not_allowlisted_channels_are_refused() {
    let ctx = TestContext::new();
    condarc(&ctx, &format!("denylist_channels:\n  - {}\n", ctx.channel));
    let prefix = ctx.path("env");
    let (code, _, denied) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("leaf"),
    );
    assert_eq!(code, 1);
    assert!(!prefix.exists());
    condarc(
        &ctx,
        "allowlist_channels:\n  - https://conda.anaconda.org/conda-forge\n",
    );
    let (code, stdout, _) = output(
        ctx.cmd()
            .args(["create", "-y", "--json", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("leaf"),
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["exception_name"], "ChannelNotAllowed");
    condarc(&ctx, &format!("allowlist_channels:\n  - {}\n", ctx.channel));
    ctx.cmd()
        .args(["create", "-y", "-q", "-c", &ctx.channel, "-p"])
        .arg(&prefix)
        .arg("leaf")
        .assert()
        .success();
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(denied);
    });
}

/// A channel where `one` and `two` both ship `share/shared`.
fn clashing(ctx: &TestContext) -> String {
    let mut ch = ChannelBuilder::new(&ctx.path("clash-channel"));
    for name in ["one", "two"] {
        ch.add(
            &PackageBuilder::new(name, "1.0")
                .noarch_generic()
                .file("share/shared", format!("{name}\n")),
            ArchiveFormat::Conda,
        );
    }
    ch.index().unwrap();
    ch.url().to_string()
}

#[test]
fn path_conflict_prevent_refuses_and_clobber_overrides() {
    let ctx = TestContext::new();
    let channel = clashing(&ctx);
    let prefix = ctx.path("env");
    ctx.cmd()
        .args(["create", "-y", "-q", "-c", &channel, "-p"])
        .arg(&prefix)
        .arg("one")
        .assert()
        .success();
    let before = tree(&prefix);
    condarc(&ctx, "path_conflict: prevent\n");
    let install = |extra: &[&str]| {
        output(
            ctx.cmd()
                .args(["install", "-y", "-q", "-c", &channel, "-p"])
                .arg(&prefix)
                .arg("two")
                .args(extra),
        )
    };
    let (code, _, refused) = install(&[]);
    assert_eq!(code, 1);
    assert_eq!(tree(&prefix), before, "nothing changed");
    // --clobber: the package linked last wins, as with conda's default.
    let (code, _, stderr) = install(&["--clobber"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(prefix.join("share/shared")).unwrap(),
        "two\n"
    );
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(refused);
    });
}

#[test]
fn path_conflict_warn_installs_with_a_clobber_warning() {
    let ctx = TestContext::new();
    let channel = clashing(&ctx);
    condarc(&ctx, "path_conflict: warn\n");
    let prefix = ctx.path("env");
    let (code, _, stderr) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", &channel, "-p"])
            .arg(&prefix)
            .args(["one", "two"]),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(
            "ClobberWarning: This transaction has incompatible packages due to a shared path."
        ),
        "{stderr}"
    );
    // The default (clobber) says nothing.
    condarc(&ctx, "");
    let (code, _, stderr) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", &channel, "-p"])
            .arg(ctx.path("env2"))
            .args(["one", "two"]),
    );
    assert_eq!(code, 0);
    assert!(!stderr.contains("Clobber"), "{stderr}");
}

#[test]
fn use_index_cache_skips_revalidation() {
    let ctx = TestContext::new();
    let served = ctx.path("served");
    let mut ch = ChannelBuilder::new(&served);
    for (pkg, fmt) in crate::common::standard_packages() {
        ch.add(&pkg, fmt);
    }
    ch.index().unwrap();
    let server = TestServer::serve(&served).unwrap();
    let url = server.url().to_string();
    // Every run would fetch the index again.
    condarc(&ctx, "local_repodata_ttl: 0\n");
    let dry = |extra: &[&str]| {
        ctx.cmd()
            .args(["create", "--dry-run", "-q", "-c", &url, "-p"])
            .arg(ctx.path("env"))
            .arg("leaf")
            .args(extra)
            .assert()
            .success();
    };
    // The first run with --use-index-cache has nothing cached: it fetches.
    dry(&["--use-index-cache"]);
    let fetched = server.total_requests();
    assert!(fetched > 0);
    dry(&["--use-index-cache"]);
    assert_eq!(server.total_requests(), fetched, "{:?}", server.log());
    dry(&[]);
    assert!(server.total_requests() > fetched);
}

#[test]
fn repodata_fn_takes_conda_names_and_refuses_others() {
    let ctx = TestContext::new();
    let dry = |fname: &str| {
        output(
            ctx.cmd()
                .args([
                    "create",
                    "--dry-run",
                    "-q",
                    "-c",
                    &ctx.channel,
                    "--repodata-fn",
                    fname,
                    "-p",
                ])
                .arg(ctx.path("env"))
                .arg("leaf"),
        )
    };
    assert_eq!(dry("repodata.json").0, 0);
    assert_eq!(dry("current_repodata.json").0, 0);
    let (code, _, stderr) = dry("custom_repodata.json");
    assert_eq!(code, 1);
    assert!(
        stderr.contains("cannot use custom_repodata.json"),
        "{stderr}"
    );
}

#[test]
fn solver_no_shortcuts_and_insecure_are_accepted_and_install_all_is_not() {
    let ctx = TestContext::new();
    let prefix = ctx.path("env");
    let (code, _, stderr) = output(
        ctx.cmd()
            .args([
                "create",
                "-y",
                "-q",
                "--solver",
                "classic",
                "--no-shortcuts",
                "--insecure",
                "-c",
                &ctx.channel,
                "-p",
            ])
            .arg(&prefix)
            .arg("leaf")
            .env("RUST_LOG", "info")
            .arg("-v"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("--solver classic: taipan always solves with resolvo"),
        "{stderr}"
    );
    // conda's install has no --all (update has): a usage error.
    let (code, _, _) = output(
        ctx.cmd()
            .args(["install", "--all", "-y", "-p"])
            .arg(&prefix),
    );
    assert_eq!(code, 2);
    let (code, _, _) = output(
        ctx.cmd()
            .args([
                "install",
                "--update-all",
                "-y",
                "-q",
                "-c",
                &ctx.channel,
                "-p",
            ])
            .arg(&prefix),
    );
    assert_eq!(code, 0);
}

#[test]
fn frozen_environments_are_protected_unless_overridden() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["leaf"]);
    std::fs::write(
        prefix.join("conda-meta/frozen"),
        r#"{"message": "managed by ops"}"#,
    )
    .unwrap();
    let before = tree(&prefix);
    let (code, _, refused) = output(
        ctx.cmd()
            .args(["install", "-y", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("pip"),
    );
    assert_eq!(code, 1);
    let (code, _, _) = output(
        ctx.cmd()
            .args(["remove", "-y", "-p"])
            .arg(&prefix)
            .arg("leaf"),
    );
    assert_eq!(code, 1);
    let (code, _, _) = output(ctx.cmd().args(["remove", "--all", "-y", "-p"]).arg(&prefix));
    assert_eq!(code, 1);
    assert_eq!(tree(&prefix), before);
    ctx.cmd()
        .args([
            "install",
            "-y",
            "-q",
            "--override-frozen",
            "-c",
            &ctx.channel,
            "-p",
        ])
        .arg(&prefix)
        .arg("pip")
        .assert()
        .success();
    assert!(ctx.installed(&prefix).contains(&"pip-23.0-0".to_string()));
    // protect_frozen_envs: false lifts the protection.
    condarc(&ctx, "protect_frozen_envs: false\n");
    ctx.cmd()
        .args(["remove", "-y", "-q", "-p"])
        .arg(&prefix)
        .arg("pip")
        .assert()
        .success();
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(refused);
    });
}

#[test]
fn remove_all_keep_env_empties_the_environment_and_keeps_it() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app"]);
    ctx.cmd()
        .args(["remove", "--all", "--keep-env", "-y", "-q", "-p"])
        .arg(&prefix)
        .assert()
        .success();
    assert!(ctx.installed(&prefix).is_empty());
    assert!(prefix.join("conda-meta/history").is_file());
    let (code, _, _) = output(
        ctx.cmd()
            .args(["remove", "--keep-env", "-y", "-p"])
            .arg(&prefix)
            .arg("app"),
    );
    assert_eq!(code, 2, "--keep-env needs --all");
}

#[test]
fn disallowed_packages_ignore_pinned_and_dry_run_keys_take_effect() {
    let ctx = TestContext::new();
    let prefix = ctx.path("env");
    condarc(&ctx, "disallowed_packages:\n  - dep\n");
    let (code, _, stderr) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("app"),
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("DisallowedPackageError: The package '"),
        "{stderr}"
    );
    assert!(
        stderr.contains("dep-2.0-0' is disallowed by configuration."),
        "{stderr}"
    );
    assert!(!prefix.exists());
    // A pin the request breaks is refused, unless ignore_pinned.
    condarc(&ctx, "pinned_packages:\n  - dep=1.0\n");
    let (code, _, _) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("dep=2.0"),
    );
    assert_eq!(code, 1);
    condarc(&ctx, "pinned_packages:\n  - dep=1.0\nignore_pinned: true\n");
    ctx.cmd()
        .args(["create", "-y", "-q", "-c", &ctx.channel, "-p"])
        .arg(&prefix)
        .arg("dep=2.0")
        .assert()
        .success();
    // dry_run: true in .condarc: nothing is changed.
    condarc(&ctx, "dry_run: true\n");
    let (code, _, _) = output(
        ctx.cmd()
            .args(["install", "-y", "-q", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("pip"),
    );
    assert_eq!(code, 0);
    assert!(!ctx.installed(&prefix).contains(&"pip-23.0-0".to_string()));
}

#[test]
fn keys_taipan_does_not_implement_are_warned_about_not_ignored() {
    let ctx = TestContext::new();
    condarc(&ctx, "rollback_enabled: false\nchannels: []\n");
    let (code, _, stderr) = output(ctx.cmd().args(["info"]));
    assert_eq!(code, 0);
    assert!(
        stderr.contains("WARNING: taipan does not implement 'rollback_enabled' (set in "),
        "{stderr}"
    );
    let (_, _, stderr) = output(ctx.cmd().args(["info"]).env("CONDA_REPORT_ERRORS", "false"));
    assert!(
        stderr.contains("'report_errors' (set in envvars)"),
        "{stderr}"
    );
}

#[test]
fn repodata_use_zst_false_reads_the_plain_index() {
    let ctx = TestContext::new();
    let served = ctx.path("served");
    let mut ch = ChannelBuilder::new(&served).with_zst(true);
    for (pkg, fmt) in crate::common::standard_packages() {
        ch.add(&pkg, fmt);
    }
    ch.index().unwrap();
    let server = TestServer::serve(&served).unwrap();
    let url = server.url().to_string();
    condarc(
        &ctx,
        "repodata_use_zst: false\nrepodata_use_shards: false\n",
    );
    ctx.cmd()
        .args(["create", "--dry-run", "-q", "-c", &url, "-p"])
        .arg(ctx.path("env"))
        .arg("leaf")
        .assert()
        .success();
    assert_eq!(
        server.requests("/noarch/repodata.json.zst"),
        0,
        "{:?}",
        server.log()
    );
    assert!(server.requests("/noarch/repodata.json") > 0);
}

#[test]
fn explicit_md5_is_checked_against_the_cached_package_too() {
    let ctx = TestContext::new();
    let first = ctx.create("first", &["leaf"]);
    let (_, lock, _) = output(
        ctx.cmd()
            .args(["list", "--explicit", "--md5", "-p"])
            .arg(&first),
    );
    // One digit of leaf's md5 changed; the package itself is in the cache.
    let bad: String = lock
        .lines()
        .map(|l| match l.split_once('#') {
            Some((url, md5)) if url.contains("/leaf-") => {
                let flipped = if md5.starts_with('0') { "1" } else { "0" };
                format!("{url}#{flipped}{}\n", &md5[1..])
            }
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(ctx.path("bad.txt"), bad).unwrap();
    let second = ctx.path("second");
    let (code, _, stderr) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "--file"])
            .arg(ctx.path("bad.txt"))
            .arg("-p")
            .arg(&second),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("ChecksumMismatchError"), "{stderr}");
    assert!(!second.exists());
    std::fs::write(ctx.path("good.txt"), &lock).unwrap();
    ctx.cmd()
        .args(["create", "-y", "-q", "--file"])
        .arg(ctx.path("good.txt"))
        .arg("-p")
        .arg(&second)
        .assert()
        .success();
}

#[test]
fn update_force_reinstall_relinks_and_satisfied_skip_solve_skips_the_solve() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["leaf"]);
    // Replaced, not written through: the prefix's file is a hard link into the cache.
    std::fs::remove_file(prefix.join("share/leaf")).unwrap();
    std::fs::write(prefix.join("share/leaf"), "edited\n").unwrap();
    ctx.cmd()
        .args([
            "update",
            "-y",
            "-q",
            "--force-reinstall",
            "-c",
            &ctx.channel,
            "-p",
        ])
        .arg(&prefix)
        .arg("leaf")
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(prefix.join("share/leaf")).unwrap(),
        "leaf\n"
    );
    // -S: every name is installed, so no channel is read (this one does not exist).
    let (code, stdout, stderr) = output(
        ctx.cmd()
            .args([
                "update",
                "-y",
                "-S",
                "--override-channels",
                "-c",
                "file:///nonexistent/channel",
                "-p",
            ])
            .arg(&prefix)
            .arg("leaf"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("All requested packages already installed."),
        "{stdout}"
    );
    let (code, _, _) = output(
        ctx.cmd()
            .args([
                "update",
                "-y",
                "--override-channels",
                "-c",
                "file:///nonexistent/channel",
                "-p",
            ])
            .arg(&prefix)
            .arg("leaf"),
    );
    assert_eq!(code, 1, "without -S the channel is read");
}

#[test]
fn create_clone_takes_no_packages_or_files() {
    let ctx = TestContext::new();
    let src = ctx.create("src", &["leaf"]);
    let dst = ctx.path("dst");
    let (code, _, stderr) = output(
        ctx.cmd()
            .args(["create", "-y", "--clone"])
            .arg(&src)
            .arg("-p")
            .arg(&dst)
            .arg("pip"),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("TooManyArgumentsError: Did not expect any new packages or arguments for `--clone`. Got 1 argument (pip) but expected 0."), "{stderr}");
    assert!(!dst.exists());
    std::fs::write(ctx.path("reqs.txt"), "pip\n").unwrap();
    let (code, _, stderr) = output(
        ctx.cmd()
            .args(["create", "-y", "--clone"])
            .arg(&src)
            .arg("-p")
            .arg(&dst)
            .arg("--file")
            .arg(ctx.path("reqs.txt")),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`--file` and `--clone` arguments are mutually exclusive."),
        "{stderr}"
    );
}
