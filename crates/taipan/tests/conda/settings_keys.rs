//! Part 8's settings and shapes, each checked for its effect through the CLI:
//! `--exclude-newer` and its keys, offline updates with uncached remote channels, the
//! `json`/`quiet`/`verbosity` settings, and `remove --all`'s two questions.

use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{output, tree, TestContext};
use crate::conda_flags::condarc;

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
