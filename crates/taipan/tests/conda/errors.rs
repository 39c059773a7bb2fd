use crate::common::{output, TestContext};

#[test]
fn packages_not_found_json_shape() {
    let ctx = TestContext::new();
    let (code, out, _) = output(
        ctx.cmd()
            .args(["create", "--json", "-y", "-c", &ctx.channel, "-p"])
            .arg(ctx.path("env"))
            .arg("nosuchpkg"),
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["exception_name"], "PackagesNotFoundInChannelsError");
    assert_eq!(v["caused_by"], "None");
    assert!(v["error"]
        .as_str()
        .unwrap()
        .starts_with("PackagesNotFoundInChannelsError: "));
    assert_eq!(v["packages"][0], "nosuchpkg");
    assert!(!ctx.path("env").exists());
}

#[test]
fn packages_not_found_text() {
    let ctx = TestContext::new();
    let (code, _, err) = output(
        ctx.cmd()
            .args(["install", "-y", "-c", &ctx.channel, "-p"])
            .arg(ctx.create("env", &["dep"]))
            .arg("nosuchpkg"),
    );
    assert_eq!(code, 1);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(err);
    });
}

#[test]
fn unsatisfiable_request_explains_the_conflict() {
    let ctx = TestContext::new();
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", &ctx.channel, "-p"])
            .arg(ctx.path("env"))
            .args(["app=2", "clash"]),
    );
    assert_eq!(code, 1);
    assert!(err.contains("UnsatisfiableError"), "{err}");
    assert!(err.contains("clash"), "{err}");
}

#[test]
fn unsupported_conda_flag_is_rejected_with_exit_2() {
    let ctx = TestContext::new();
    let (code, _, err) = output(ctx.cmd().args(["install", "--shortcuts-only", "dep"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("'--shortcuts-only'") && err.contains("not supported"),
        "{err}"
    );
    // `--features` is remove's (conda's install has none): a usage error elsewhere.
    let (code, _, _) = output(ctx.cmd().args(["install", "--features", "dep"]));
    assert_eq!(code, 2);
    let (code, _, _) = output(ctx.cmd().args(["install", "--no-such-flag"]));
    assert_eq!(code, 2);
}

#[test]
fn malformed_condarc_names_file_and_line() {
    let ctx = TestContext::new();
    std::fs::write(
        ctx.home.join(".condarc"),
        "channels:\n  - a\nalways_yes: [1\n",
    )
    .unwrap();
    let (code, _, err) = output(ctx.cmd().args(["info"]));
    assert_eq!(code, 1);
    assert!(err.contains(".condarc") && err.contains("line"), "{err}");
}

#[test]
fn condarc_channels_and_env_var_precedence() {
    let ctx = TestContext::new();
    std::fs::write(
        ctx.home.join(".condarc"),
        format!("channels:\n  - {}\n", ctx.channel),
    )
    .unwrap();
    let prefix = ctx.path("env");
    ctx.cmd()
        .args(["create", "-y", "-q", "-p"])
        .arg(&prefix)
        .arg("dep=1")
        .assert()
        .success();
    assert_eq!(ctx.installed(&prefix), vec!["dep-1.0-0"]);
    let (code, out, _) = output(
        ctx.cmd()
            .env("CONDA_OFFLINE", "true")
            .args(["info", "--json"]),
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["offline"], true);
}

/// conda's test_no_channels_error: the error names the request and the fix.
#[test]
fn no_channels_configured_is_an_error() {
    let ctx = TestContext::new();
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-p"])
            .arg(ctx.path("env"))
            .arg("dep"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("NoChannelsConfiguredError: No channels are configured"),
        "{err}"
    );
    assert!(err.contains("You have attempted to install: dep"), "{err}");
    assert!(err.contains("conda config --append channels"), "{err}");
    assert!(!ctx.path("env").exists());
}

#[test]
fn missing_env_is_reported() {
    let ctx = TestContext::new();
    let (code, _, err) = output(ctx.cmd().args(["install", "-n", "nope", "dep"]));
    assert_eq!(code, 1);
    assert!(err.contains("EnvironmentLocationNotFound"), "{err}");
    let (code, _, err) = output(ctx.cmd().args(["list", "-p"]).arg(ctx.path("nothing")));
    assert_eq!(code, 1);
    assert!(err.contains("EnvironmentLocationNotFound"), "{err}");
}

#[test]
fn version_help_and_completion() {
    let ctx = TestContext::new();
    let (code, out, _) = output(ctx.cmd().arg("--version"));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!(
            "taipan {} (conda 25.11.0 compatible)\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    // Started as `conda`, it says what conda says.
    let conda = ctx.path("bin/conda");
    std::fs::create_dir_all(conda.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(crate::common::bin(), &conda).unwrap();
    let mut cmd = assert_cmd::Command::new(&conda);
    ctx.isolate(&mut cmd);
    let (code, out, _) = output(cmd.arg("--version"));
    assert_eq!(code, 0);
    assert_eq!(out, "conda 25.11.0\n");
    // Each help page opens with conda's description of the command (subcommands are built
    // lazily; a doc comment on an argument struct would replace it).
    for (sub, about) in [
        (
            "create",
            "Create a new conda environment from a list of specified packages",
        ),
        (
            "install",
            "Install a list of packages into a specified conda environment",
        ),
        (
            "update",
            "Update conda packages to the latest compatible version",
        ),
        (
            "remove",
            "Remove a list of packages from a specified conda environment",
        ),
        ("list", "List installed packages in a conda environment"),
        (
            "search",
            "Search for packages and display associated information",
        ),
        ("info", "Display information about current conda install"),
    ] {
        let (code, out, _) = output(ctx.cmd().args([sub, "--help"]));
        assert_eq!(code, 0, "{sub} --help");
        assert_eq!(out.lines().next(), Some(about), "{sub} --help");
    }
    let (code, out, _) = output(ctx.cmd().args(["completion", "bash"]));
    assert_eq!(code, 0);
    assert!(out.contains("_conda()"), "{}", &out[..200.min(out.len())]);
}

#[test]
fn proceed_prompt_answers_no_and_yes() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1"]);
    let before = crate::common::tree(&prefix);
    let (code, out, _) = output(
        ctx.cmd()
            .args(["install", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("leaf")
            .write_stdin("maybe\nn\n"),
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("Proceed ([y]/n)? ")
            && out.contains("Invalid choice: maybe")
            && out.contains("Exiting."),
        "{out}"
    );
    assert_eq!(crate::common::tree(&prefix), before);
    let (code, _, _) = output(
        ctx.cmd()
            .args(["install", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("leaf")
            .write_stdin("\n"),
    );
    assert_eq!(code, 0);
    assert!(ctx.installed(&prefix).contains(&"leaf-1.0-0".to_string()));
    std::fs::write(ctx.home.join(".condarc"), "always_yes: true\n").unwrap();
    ctx.cmd()
        .args(["install", "-q", "-c", &ctx.channel, "-p"])
        .arg(&prefix)
        .arg("openssl")
        .assert()
        .success();
}

#[test]
fn unknown_condarc_key_warns_but_works() {
    let ctx = TestContext::new();
    std::fs::write(ctx.home.join(".condarc"), "not_a_conda_key: 1\n").unwrap();
    let (code, _, err) = output(ctx.cmd().args(["info", "--base"]));
    assert_eq!(code, 0);
    assert!(err.contains("Unknown key: 'not_a_conda_key'"), "{err}");
}

#[test]
fn checksum_mismatch_is_refused() {
    let ctx = TestContext::new();
    let dir = ctx.path("ch");
    let mut ch = taipan_testkit::ChannelBuilder::new(&dir);
    ch.add(
        &taipan_testkit::PackageBuilder::new("dep", "1.0")
            .noarch_generic()
            .file("share/x", "x\n"),
        taipan_testkit::ArchiveFormat::Conda,
    );
    ch.index().unwrap();
    // Replace the package after indexing: repodata's sha256 no longer matches the file.
    taipan_testkit::PackageBuilder::new("dep", "1.0")
        .noarch_generic()
        .file("share/x", "tampered\n")
        .write(&dir.join("noarch"), taipan_testkit::ArchiveFormat::Conda)
        .unwrap();
    let prefix = ctx.path("env");
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", ch.url().as_str(), "-p"])
            .arg(&prefix)
            .arg("dep"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("dep-1.0-0"), "{err}");
    assert!(!prefix.exists());
}

#[test]
fn missing_local_channel_is_reported() {
    let ctx = TestContext::new();
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", "file:///nonexistent/channel", "-p"])
            .arg(ctx.path("env"))
            .arg("dep"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("UnavailableInvalidChannel") && err.contains("/nonexistent/channel"),
        "{err}"
    );
}

#[test]
fn local_channel_changes_are_seen_by_the_next_command() {
    let ctx = TestContext::new();
    let dir = ctx.path("grow");
    let mut ch = taipan_testkit::ChannelBuilder::new(&dir);
    ch.add(
        &taipan_testkit::PackageBuilder::new("grow", "1.0")
            .noarch_generic()
            .file("share/g1", "1\n"),
        taipan_testkit::ArchiveFormat::Conda,
    );
    ch.index().unwrap();
    let url = ch.url().to_string();
    let (_, out, _) = output(
        ctx.cmd()
            .args(["create", "--dry-run", "--json", "-c", &url, "-p"])
            .arg(ctx.path("e"))
            .arg("grow"),
    );
    assert!(out.contains("\"version\": \"1.0\""), "{out}");
    ch.add(
        &taipan_testkit::PackageBuilder::new("grow", "2.0")
            .noarch_generic()
            .file("share/g2", "2\n"),
        taipan_testkit::ArchiveFormat::Conda,
    );
    ch.index().unwrap();
    let (_, out, _) = output(
        ctx.cmd()
            .args(["create", "--dry-run", "--json", "-c", &url, "-p"])
            .arg(ctx.path("e"))
            .arg("grow"),
    );
    assert!(out.contains("\"version\": \"2.0\""), "{out}");
}
