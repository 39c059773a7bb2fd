//! Environment files through the CLI: `env create`, `create --file env.yml`, `env update`,
//! `env remove`, `env export`/`export` in every format, `compare`, `rename`, and
//! `list --explicit` (conda 26's order and checksum form).

use std::path::{Path, PathBuf};

use crate::common::{output, tree, TestContext};

/// Writes `environment.yml` text (with `CHANNEL` replaced by the standard channel) into the
/// test's temp dir under `name`.
fn env_file(ctx: &TestContext, name: &str, text: &str) -> PathBuf {
    let path = ctx.path(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text.replace("CHANNEL", &ctx.channel)).unwrap();
    path
}

fn envs_dir(ctx: &TestContext) -> PathBuf {
    ctx.root.join("envs")
}

fn state(prefix: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(prefix.join("conda-meta/state")).unwrap())
        .unwrap()
}

const DEMO: &str = "name: demo\nchannels:\n  - CHANNEL\n  - nodefaults\ndependencies:\n  - app=1.0\n  - leaf\nvariables:\n  FOO: bar\n  N: 3\n";

#[test]
fn env_create_installs_the_files_specs_channels_and_variables() {
    let ctx = TestContext::new();
    let file = env_file(&ctx, "proj/environment.yml", DEMO);
    let (code, stdout, stderr) = output(ctx.cmd().args(["env", "create", "-f"]).arg(&file));
    assert_eq!(code, 0, "{stderr}");
    let prefix = envs_dir(&ctx).join("demo");
    assert_eq!(
        ctx.installed(&prefix),
        ["app-1.0-0", "dep-1.0-0", "leaf-1.0-0"]
    );
    // conda keeps the YAML types: `3` stays a number.
    assert_eq!(
        state(&prefix),
        serde_json::json!({"env_vars": {"FOO": "bar", "N": 3}})
    );
    let registry = std::fs::read_to_string(ctx.home.join(".conda/environments.txt")).unwrap();
    assert!(registry.contains(&prefix.display().to_string()));
    let history = std::fs::read_to_string(prefix.join("conda-meta/history")).unwrap();
    assert!(
        history.contains("# update specs: ['app=1.0', 'leaf']"),
        "{history}"
    );
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(stdout);
    });
}

#[test]
fn env_create_with_name_override_dry_run_and_json() {
    let ctx = TestContext::new();
    let file = env_file(&ctx, "environment.yml", DEMO);
    // The default file is ./environment.yml; -n wins over the file's name.
    let (code, stdout, _) =
        output(
            ctx.cmd()
                .args(["env", "create", "-n", "other", "--dry-run", "--json"]),
        );
    assert_eq!(code, 0);
    assert!(!envs_dir(&ctx).join("other").exists());
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("env_create_dry_run_json", stdout);
    });
    let (code, stdout, _) = output(
        ctx.cmd()
            .args(["env", "create", "--json", "-f"])
            .arg(&file)
            .args(["-n", "other"]),
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["success"], true);
    assert_eq!(v["actions"]["LINK"].as_array().unwrap().len(), 3);
    assert!(envs_dir(&ctx).join("other/conda-meta/history").is_file());
}

#[test]
fn create_accepts_an_environment_file_as_conda_26_does() {
    let ctx = TestContext::new();
    let file = env_file(&ctx, "env.yml", DEMO);
    let prefix = ctx.path("viacreate");
    ctx.cmd()
        .args(["create", "-y", "-q", "--file"])
        .arg(&file)
        .arg("-p")
        .arg(&prefix)
        .assert()
        .success();
    assert_eq!(
        ctx.installed(&prefix),
        ["app-1.0-0", "dep-1.0-0", "leaf-1.0-0"]
    );
    assert_eq!(state(&prefix)["env_vars"]["FOO"], "bar");
}

#[test]
fn bad_environment_files_name_file_line_and_key_and_create_nothing() {
    let ctx = TestContext::new();
    let cases = [
        (
            "bad-spec.yml",
            "name: b\ndependencies:\n  - app\n  - 'leaf >>=1'\n",
        ),
        (
            "bad-type.yml",
            "name: b\nchannels: CHANNEL\ndependencies: [app]\n",
        ),
        (
            "bad-vars.yml",
            "name: b\ndependencies: [app]\nvariables:\n  - A\n",
        ),
        ("no-deps.yml", "name: b\nchannels: [CHANNEL]\n"),
        ("syntax.yml", "name: b\ndependencies: [app\n"),
    ];
    let mut shown = String::new();
    for (name, text) in cases {
        let file = env_file(&ctx, name, text);
        let (code, _, stderr) = output(ctx.cmd().args(["env", "create", "-f"]).arg(&file));
        assert_eq!(code, 1, "{name}: {stderr}");
        shown.push_str(&format!("--- {name}\n{stderr}"));
    }
    let (code, _, stderr) = output(ctx.cmd().args(["env", "create", "-f", "missing.yml"]));
    assert_eq!(code, 1);
    shown.push_str(&format!("--- missing\n{stderr}"));
    let nameless = env_file(&ctx, "nameless.yml", "dependencies: [app]\n");
    let (code, _, stderr) = output(ctx.cmd().args(["env", "create", "-f"]).arg(&nameless));
    assert_eq!(code, 2);
    shown.push_str(&format!("--- nameless\n{stderr}"));
    assert!(!envs_dir(&ctx).join("b").exists());
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(shown);
    });
}

#[test]
fn unknown_keys_are_warned_about_and_ignored_as_conda_does() {
    let ctx = TestContext::new();
    let file = env_file(
        &ctx,
        "extra.yml",
        "name: extra\ndescription: hi\nchannels: [CHANNEL]\ndependencies: [leaf]\n",
    );
    let (code, stdout, _) = output(ctx.cmd().args(["env", "create", "-q", "-f"]).arg(&file));
    assert_eq!(code, 0);
    assert!(
        stdout.contains("\nEnvironmentSectionNotValid: The following section on '"),
        "{stdout}"
    );
    assert!(
        stdout.contains("' is invalid and will be ignored:\n - description\n"),
        "{stdout}"
    );
    assert_eq!(
        ctx.installed(&envs_dir(&ctx).join("extra")),
        ["dep-2.0-0", "leaf-1.0-0"]
    );
}

#[test]
fn env_update_adds_the_files_packages_prunes_and_creates_missing_envs() {
    let ctx = TestContext::new();
    let base = env_file(
        &ctx,
        "base.yml",
        "name: u\nchannels: [CHANNEL]\ndependencies:\n  - leaf\n",
    );
    ctx.cmd()
        .args(["env", "create", "-q", "-f"])
        .arg(&base)
        .assert()
        .success();
    let prefix = envs_dir(&ctx).join("u");
    let upd = env_file(
        &ctx,
        "upd.yml",
        "name: u\nchannels: [CHANNEL]\ndependencies:\n  - app=2.0\nvariables:\n  UPD: 'yes'\n",
    );
    let (code, stdout, stderr) = output(ctx.cmd().args(["env", "update", "-f"]).arg(&upd));
    assert_eq!(code, 0, "{stderr}");
    // Kept (not in the file) without --prune.
    assert_eq!(
        ctx.installed(&prefix),
        ["app-2.0-0", "dep-2.0-0", "leaf-1.0-0"]
    );
    assert_eq!(state(&prefix)["env_vars"]["UPD"], "yes");
    assert!(!stdout.contains("## Package Plan ##"), "{stdout}");
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(stdout);
    });
    // Nothing left to do: JSON says so.
    let (code, stdout, _) = output(ctx.cmd().args(["env", "update", "--json", "-f"]).arg(&upd));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["message"], "All requested packages already installed.");
    // --prune keeps only what the file asks for (conda ignores history when pruning).
    ctx.cmd()
        .args(["env", "update", "-q", "--prune", "-f"])
        .arg(&upd)
        .assert()
        .success();
    assert!(
        !ctx.installed(&prefix).contains(&"leaf-1.0-0".to_string()),
        "{:?}",
        ctx.installed(&prefix)
    );
    // A target that does not exist is created.
    ctx.cmd()
        .args(["env", "update", "-q", "-n", "fresh", "-f"])
        .arg(&upd)
        .assert()
        .success();
    assert_eq!(
        ctx.installed(&envs_dir(&ctx).join("fresh")),
        ["app-2.0-0", "dep-2.0-0"]
    );
    // No name anywhere: conda's message.
    let nameless = env_file(&ctx, "nameless.yml", "dependencies: [leaf]\n");
    let (code, _, stderr) = output(ctx.cmd().args(["env", "update", "-f"]).arg(&nameless));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("CondaEnvException: Unable to determine environment"),
        "{stderr}"
    );
}

#[test]
fn env_remove_removes_the_environment_and_its_registration() {
    let ctx = TestContext::new();
    let file = env_file(
        &ctx,
        "e.yml",
        "name: gone\nchannels: [CHANNEL]\ndependencies: [leaf]\n",
    );
    ctx.cmd()
        .args(["env", "create", "-q", "-f"])
        .arg(&file)
        .assert()
        .success();
    let prefix = envs_dir(&ctx).join("gone");
    let (code, stdout, _) =
        output(
            ctx.cmd()
                .args(["env", "remove", "-n", "gone", "--dry-run", "--json"]),
        );
    assert_eq!(code, 0, "{stdout}");
    assert!(prefix.exists());
    ctx.cmd()
        .args(["env", "remove", "-n", "gone", "-y"])
        .assert()
        .success();
    assert!(!prefix.exists());
    let registry =
        std::fs::read_to_string(ctx.home.join(".conda/environments.txt")).unwrap_or_default();
    assert!(!registry.contains(&prefix.display().to_string()));
    let (code, _, stderr) = output(ctx.cmd().args(["env", "remove", "-n", "gone", "-y"]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("EnvironmentNameNotFound")
            || stderr.contains("EnvironmentLocationNotFound"),
        "{stderr}"
    );
}

/// An environment made from DEMO, for the export tests.
fn demo(ctx: &TestContext) -> PathBuf {
    let file = env_file(ctx, "demo.yml", DEMO);
    ctx.cmd()
        .args(["env", "create", "-q", "-f"])
        .arg(&file)
        .assert()
        .success();
    envs_dir(ctx).join("demo")
}

#[test]
fn export_writes_every_format_as_conda() {
    let ctx = TestContext::new();
    demo(&ctx);
    let mut shown = String::new();
    for args in [
        vec!["env", "export", "-n", "demo"],
        vec!["env", "export", "-n", "demo", "--no-builds"],
        vec!["env", "export", "-n", "demo", "--from-history"],
        vec!["env", "export", "-n", "demo", "--ignore-channels"],
        vec!["env", "export", "-n", "demo", "--json"],
        vec!["export", "-n", "demo", "--format", "environment-json"],
        vec!["export", "-n", "demo", "--format", "explicit"],
        vec!["export", "-n", "demo", "--format", "requirements"],
        vec![
            "export",
            "-n",
            "demo",
            "-c",
            "conda-forge",
            "--format",
            "yml",
        ],
    ] {
        let (code, stdout, stderr) = output(ctx.cmd().args(&args));
        assert_eq!(code, 0, "{args:?}: {stderr}");
        shown.push_str(&format!("$ conda {}\n{stdout}\n", args.join(" ")));
    }
    // The requirements format names a local channel by its directory's name.
    let dir_name = ctx
        .channel
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let shown = shown.replace(&format!("{dir_name}::"), "[CHANNEL_NAME]::");
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(shown);
    });
}

#[test]
fn export_to_a_file_picks_the_format_from_its_name() {
    let ctx = TestContext::new();
    demo(&ctx);
    for (name, starts) in [
        ("environment.yml", "name: demo\n"),
        ("environment.json", "{\n  \"name\": \"demo\""),
        ("explicit.txt", "# This file may be used"),
        ("requirements.txt", "# This file may be used"),
    ] {
        let path = ctx.path(name);
        let (code, stdout, _) = output(
            ctx.cmd()
                .args(["export", "-n", "demo", "--file"])
                .arg(&path),
        );
        assert_eq!(code, 0);
        assert_eq!(stdout, "");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(starts), "{name}: {text}");
    }
    assert!(std::fs::read_to_string(ctx.path("explicit.txt"))
        .unwrap()
        .contains("@EXPLICIT\n"));
    // --json with a file reports where and how.
    let (code, stdout, _) = output(ctx.cmd().args([
        "export",
        "-n",
        "demo",
        "--json",
        "--file",
        "environment.yml",
    ]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["format"], "environment-yaml");
    assert_eq!(v["success"], true);
    // Any other name needs --format.
    let (code, _, stderr) = output(
        ctx.cmd()
            .args(["export", "-n", "demo", "--file", "out.yml"]),
    );
    assert_eq!(code, 1);
    assert!(!ctx.path("out.yml").exists());
    let (code, _, _) = output(ctx.cmd().args([
        "export", "-n", "demo", "--file", "out.yml", "--format", "yaml",
    ]));
    assert_eq!(code, 0);
    assert!(ctx.path("out.yml").is_file());
    let (code, _, bad_format) =
        output(ctx.cmd().args(["export", "-n", "demo", "--format", "toml"]));
    assert_eq!(code, 2);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(format!("{stderr}---\n{bad_format}"));
    });
}

#[test]
fn exported_file_round_trips_into_an_identical_environment() {
    let ctx = TestContext::new();
    let prefix = demo(&ctx);
    let file = ctx.path("environment.yml");
    ctx.cmd()
        .args(["env", "export", "-n", "demo", "-f"])
        .arg(&file)
        .assert()
        .success();
    ctx.cmd()
        .args(["env", "create", "-q", "-n", "copy", "-f"])
        .arg(&file)
        .assert()
        .success();
    let copy = envs_dir(&ctx).join("copy");
    assert_eq!(ctx.installed(&copy), ctx.installed(&prefix));
    assert_eq!(state(&copy), state(&prefix));
    let (code, stdout, _) = output(ctx.cmd().args(["compare", "-n", "copy"]).arg(&file));
    assert_eq!(code, 0);
    assert!(stdout.starts_with("Success."));
}

#[test]
fn compare_reports_mismatches_with_exit_1() {
    let ctx = TestContext::new();
    demo(&ctx);
    let spec = env_file(
        &ctx,
        "want.yml",
        "name: demo\ndependencies:\n  - app=2.0\n  - leaf\n  - missing\n",
    );
    let (code, text, _) = output(ctx.cmd().args(["compare", "-n", "demo"]).arg(&spec));
    assert_eq!(code, 1);
    let (code, json, _) = output(
        ctx.cmd()
            .args(["compare", "-n", "demo", "--json"])
            .arg(&spec),
    );
    assert_eq!(code, 1);
    let ok = env_file(
        &ctx,
        "ok.yml",
        "name: demo\ndependencies:\n  - app=1.0\n  - dep\n",
    );
    let (code, success, _) = output(ctx.cmd().args(["compare", "-n", "demo"]).arg(&ok));
    assert_eq!(code, 0);
    let (code, _, missing_env) = output(ctx.cmd().args(["compare", "-n", "nosuch"]).arg(&ok));
    assert_eq!(code, 1);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(format!("{text}---\n{json}---\n{success}---\n{missing_env}"));
    });
}

#[test]
fn list_explicit_orders_dependencies_first_with_bare_checksums() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app", "leaf", "pip"]);
    let (code, stdout, _) = output(
        ctx.cmd()
            .args(["list", "--explicit", "--sha256", "-p"])
            .arg(&prefix),
    );
    assert_eq!(code, 0);
    let urls: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("file://"))
        .collect();
    // Unconnected first (pip), then dependencies before dependents, each level by name.
    let names: Vec<&str> = urls
        .iter()
        .map(|u| u.rsplit('/').next().unwrap().split('-').next().unwrap())
        .collect();
    assert_eq!(names, ["pip", "dep", "app", "leaf"]);
    for u in &urls {
        let (_, hash) = u.split_once('#').unwrap();
        assert_eq!(hash.len(), 64, "{u}");
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{u}");
    }
    let (_, md5, _) = output(
        ctx.cmd()
            .args(["list", "--explicit", "--md5", "-p"])
            .arg(&prefix),
    );
    assert!(md5.lines().filter(|l| l.starts_with("file://")).all(|l| l
        .split_once('#')
        .unwrap()
        .1
        .len()
        == 32));
}

#[test]
fn rename_moves_the_environment_with_its_own_files() {
    let ctx = TestContext::new();
    let prefix = demo(&ctx);
    // A file no package owns, holding the prefix (as pip's scripts do).
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::fs::write(
        prefix.join("bin/mine"),
        format!("#!{}/bin/python\n", prefix.display()),
    )
    .unwrap();
    let (code, dry, _) = output(
        ctx.cmd()
            .args(["rename", "-n", "demo", "renamed", "--dry-run"]),
    );
    assert_eq!(code, 0);
    assert!(prefix.exists());
    let (code, _, stderr) = output(ctx.cmd().args(["rename", "-n", "demo", "renamed", "-q"]));
    assert_eq!(code, 0, "{stderr}");
    let new = envs_dir(&ctx).join("renamed");
    assert!(!prefix.exists());
    assert_eq!(
        ctx.installed(&new),
        ["app-1.0-0", "dep-1.0-0", "leaf-1.0-0"]
    );
    assert_eq!(
        std::fs::read_to_string(new.join("bin/mine")).unwrap(),
        format!("#!{}/bin/python\n", new.display())
    );
    assert_eq!(state(&new)["env_vars"]["FOO"], "bar");
    let registry = std::fs::read_to_string(ctx.home.join(".conda/environments.txt")).unwrap();
    assert!(registry.contains(&new.display().to_string()));
    assert!(!registry.lines().any(|l| l == prefix.display().to_string()));
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(dry);
    });
}

#[test]
fn rename_refuses_base_the_active_env_and_an_existing_destination() {
    let ctx = TestContext::new();
    let prefix = demo(&ctx);
    ctx.cmd()
        .args(["create", "-q", "-y", "-n", "taken"])
        .assert()
        .success();
    let before = tree(&prefix);
    let mut shown = String::new();
    let (code, _, e) = output(ctx.cmd().args(["rename", "-n", "demo", "taken"]));
    assert_eq!(code, 1);
    shown.push_str(&e);
    let (code, _, e) = output(
        ctx.cmd()
            .args(["rename", "-n", "demo", "x"])
            .env("CONDA_PREFIX", &prefix),
    );
    assert_eq!(code, 1);
    shown.push_str(&e);
    std::fs::create_dir_all(ctx.root.join("conda-meta")).unwrap();
    let (code, _, e) = output(ctx.cmd().args(["rename", "-n", "base", "x"]));
    assert_eq!(code, 1);
    shown.push_str(&e);
    assert_eq!(tree(&prefix), before);
    // --yes replaces the existing destination.
    ctx.cmd()
        .args(["rename", "-q", "-y", "-n", "demo", "taken"])
        .assert()
        .success();
    assert_eq!(
        ctx.installed(&envs_dir(&ctx).join("taken")),
        ["app-1.0-0", "dep-1.0-0", "leaf-1.0-0"]
    );
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(shown);
    });
}
