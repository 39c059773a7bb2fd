//! Flags and keys conda users pass that taipan used to refuse or ignore, each with its real
//! effect: `--use-local` (the conda-bld channel), `allowlist_channels` / `denylist_channels`,
//! `path_conflict` with `--clobber`, `--use-index-cache`, `--repodata-fn`, `--solver`,
//! `--no-shortcuts`, `--insecure`, and `install --all` refused as conda refuses it.

use taipan_testkit::http::TestServer;
use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{output, tree, TestContext};

fn condarc(ctx: &TestContext, text: &str) {
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

/// `remove --all` as conda does it: the plan (`Proceed ([y]/n)?`, default yes), then a
/// second question before the directory goes (default no). With no answers (no terminal,
/// no -y) the packages are removed, the directory and its registration stay, and conda's
/// `CondaSystemExit: Exiting.` ends it with exit 0. `-y` removes everything; `--json` asks
/// nothing and lists the `UNLINK` actions.
#[test]
fn remove_all_asks_twice_and_an_empty_answer_keeps_the_directory() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app"]);
    let (code, out, err) = output(ctx.cmd().args(["remove", "--all", "-p"]).arg(&prefix));
    assert_eq!(code, 0, "{err}");
    let plan = out
        .find("The following packages will be REMOVED:\n\n  app-")
        .unwrap();
    let proceed = out.find("Proceed ([y]/n)? ").unwrap();
    let delete = out
        .find("including any conda environment configurations and any non-conda files, will be deleted. Do you wish to continue?\n (y/[n])? ")
        .unwrap();
    assert!(plan < proceed && proceed < delete, "{out}");
    assert!(err.contains("CondaSystemExit: Exiting."), "{err}");
    assert!(ctx.installed(&prefix).is_empty());
    assert!(prefix.join("conda-meta/history").is_file());
    let (_, envs, _) = output(ctx.cmd().args(["env", "list"]));
    assert!(envs.contains(&prefix.display().to_string()), "{envs}");

    // The second time there is nothing to unlink; -y deletes the directory.
    let (code, out, _) = output(ctx.cmd().args(["remove", "--all", "-y", "-p"]).arg(&prefix));
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!(
            "No packages found in {}. Continuing environment removal\n",
            prefix.display()
        )),
        "{out}"
    );
    assert!(!prefix.exists());

    let other = ctx.create("other", &["app"]);
    let (code, out, _) = output(
        ctx.cmd()
            .args(["remove", "--all", "--json", "-p"])
            .arg(&other),
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["success", "actions", "prefix"]);
    assert_eq!(v["actions"]["UNLINK"].as_array().unwrap().len(), 2);
    assert!(!other.exists());
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

/// A channel with `aged` 1.0 (published 2024-01-01) and 2.0 (2025-06-01): built then, and
/// indexed then (conda and rattler go by `indexed_timestamp` first).
fn aged_channel(ctx: &TestContext) -> String {
    let mut ch = ChannelBuilder::new(&ctx.path("aged-channel"));
    let published = [("1.0", 1_704_067_200_000i64), ("2.0", 1_748_736_000_000)];
    for (version, ms) in published {
        ch.add(
            &PackageBuilder::new("aged", version)
                .noarch_generic()
                .timestamp_ms(ms),
            ArchiveFormat::Conda,
        );
    }
    ch.index().unwrap();
    for (version, ms) in published {
        ch.patch_record("noarch", &format!("aged-{version}-0.conda"), |r| {
            r["indexed_timestamp"] = ms.into();
        })
        .unwrap();
    }
    ch.url().to_string()
}

fn aged_version(ctx: &TestContext, channel: &str, extra: &[&str]) -> (i32, String, String) {
    let (code, out, err) = output(
        ctx.cmd()
            .args([
                "create",
                "-n",
                "a",
                "--dry-run",
                "--json",
                "--override-channels",
                "-c",
            ])
            .arg(channel)
            .arg("aged")
            .args(extra),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    let version = v["actions"]["LINK"][0]["version"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // With --json conda's errors are JSON on stdout.
    (code, version, format!("{out}{err}"))
}

/// `--exclude-newer` and `exclude_newer` (dates, times, durations) leave out what was
/// published later; `exclude_newer_package: {aged: false}` exempts a package; `search`
/// honours the setting; a bad value is conda's `CondaValueError` and nothing is created.
#[test]
fn exclude_newer_filters_by_publication_time() {
    let ctx = TestContext::new();
    let ch = aged_channel(&ctx);
    assert_eq!(aged_version(&ctx, &ch, &[]).1, "2.0");
    assert_eq!(
        aged_version(&ctx, &ch, &["--exclude-newer", "2024-12-31"]).1,
        "1.0"
    );
    assert_eq!(
        aged_version(&ctx, &ch, &["--exclude-newer", "2025-06-01T00:00:00Z"]).1,
        "2.0"
    );
    // Older than anything: nothing left, conda's not-found error.
    let (code, _, err) = aged_version(&ctx, &ch, &["--exclude-newer", "2023-01-01"]);
    assert_eq!(code, 1);
    assert!(err.contains("PackagesNotFoundInChannelsError"), "{err}");
    // A duration back from now: both are older than a day.
    assert_eq!(aged_version(&ctx, &ch, &["--exclude-newer", "1d"]).1, "2.0");

    condarc(&ctx, "exclude_newer: '2024-12-31'\n");
    assert_eq!(aged_version(&ctx, &ch, &[]).1, "1.0");
    let (_, out, _) = output(
        ctx.cmd()
            .args(["search", "--override-channels", "-c", &ch, "aged"]),
    );
    assert!(out.contains(" 1.0 ") && !out.contains(" 2.0 "), "{out}");
    condarc(
        &ctx,
        "exclude_newer: '2024-12-31'\nexclude_newer_package:\n  aged: false\n",
    );
    assert_eq!(aged_version(&ctx, &ch, &[]).1, "2.0");
    // Per channel (`channel_settings`), by URL or a glob over it; a global cutoff gives way
    // to the channel's own.
    condarc(
        &ctx,
        &format!("channel_settings:\n  - channel: {ch}\n    exclude_newer: '2024-12-31'\n"),
    );
    assert_eq!(aged_version(&ctx, &ch, &[]).1, "1.0");
    condarc(
        &ctx,
        "exclude_newer: '2024-12-31'\nchannel_settings:\n  - channel: 'file://*aged-channel*'\n    exclude_newer: false\n    auth: my-plugin\n",
    );
    assert_eq!(aged_version(&ctx, &ch, &[]).1, "2.0");
    let (_, _, err) = output(
        ctx.cmd()
            .args(["search", "--override-channels", "-c", &ch, "aged"]),
    );
    assert!(
        err.contains("taipan does not implement channel_settings 'auth'"),
        "{err}"
    );
    condarc(&ctx, "");

    let (code, _, err) = aged_version(&ctx, &ch, &["--exclude-newer", "someday"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Invalid exclude_newer value 'someday'. Use e.g. 7d, P7D")
            && err.contains("\"exception_name\": \"CondaValueError\""),
        "{err}"
    );
    let (code, _, _) = output(
        ctx.cmd()
            .args([
                "create",
                "-n",
                "b",
                "-y",
                "--override-channels",
                "-c",
                &ch,
                "aged",
            ])
            .arg("--exclude-newer=-3d"),
    );
    assert_eq!(code, 1);
    assert!(!ctx.root.join("envs/b").exists());
}

/// The seed's air-gapped update: `update --update-all -y --offline` with a remote channel
/// that was never cached treats it as empty, as conda does, and succeeds with "All requested
/// packages already installed"; `update NAME` of an installed package too. A package that
/// is not installed is conda's not-found error naming the remote channel.
#[test]
fn offline_update_all_with_an_uncached_remote_channel_succeeds() {
    let ctx = TestContext::new();
    std::fs::create_dir_all(ctx.root.join("conda-meta")).unwrap();
    std::fs::write(ctx.root.join("conda-meta/history"), "").unwrap();
    ctx.cmd()
        .args([
            "install",
            "-n",
            "base",
            "-y",
            "-q",
            "-c",
            &ctx.channel,
            "dep=1",
        ])
        .assert()
        .success();
    // The environment, not the package cache (the offline look at the cache may leave lock
    // files there).
    let env_tree = || -> Vec<String> {
        tree(&ctx.root)
            .into_iter()
            .filter(|p| !p.starts_with("pkgs/"))
            .collect()
    };
    let before = env_tree();
    condarc(&ctx, "channels:\n  - http://127.0.0.1:9/never-cached\n");
    let (code, out, err) = output(
        ctx.cmd()
            .args(["update", "--update-all", "-y", "--offline"]),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\n# All requested packages already installed.\n"),
        "{out}"
    );
    let (code, out, _) = output(
        ctx.cmd()
            .args(["update", "--all", "-y", "--offline", "--json"]),
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["message"], "All requested packages already installed.");
    let (code, _, _) = output(ctx.cmd().args(["update", "dep", "-y", "--offline"]));
    assert_eq!(code, 0);
    assert_eq!(env_tree(), before);

    let (code, _, err) = output(ctx.cmd().args(["install", "app", "-y", "--offline"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("PackagesNotFoundInChannelsError")
            && err.contains("http://127.0.0.1:9/never-cached/linux-64"),
        "{err}"
    );
}

/// The `json`, `quiet` and `verbosity` settings act like `--json`, `-q` and `-v`, from a
/// `.condarc` or `CONDA_*` variables; log lines carry no colour codes off a terminal.
#[test]
fn json_quiet_and_verbosity_settings_act_like_the_flags() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app"]);
    let (_, out, _) = output(
        ctx.cmd()
            .env("CONDA_JSON", "true")
            .args(["list", "-p"])
            .arg(&prefix),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["name"], "app");
    condarc(&ctx, "json: true\n");
    let (code, out, _) = output(ctx.cmd().args(["list", "-n", "nosuch"]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["exception_name"], "EnvironmentLocationNotFound");
    condarc(&ctx, "quiet: true\n");
    let (code, out, _) = output(
        ctx.cmd()
            .args(["install", "-y", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("dep=1"),
    );
    assert_eq!(code, 0);
    assert!(!out.contains("Package Plan"), "{out}");
    let dry_run = || {
        output(
            ctx.cmd()
                .args(["create", "-n", "x", "--dry-run", "-c", &ctx.channel, "app"]),
        )
    };
    condarc(&ctx, "verbosity: 3\n");
    let (_, _, err) = dry_run();
    assert!(err.contains("TRACE"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "no colour codes off a terminal: {err}"
    );
    condarc(&ctx, "");
    let (_, _, err) = dry_run();
    assert!(!err.contains("TRACE"), "{err}");
}
