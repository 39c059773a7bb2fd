use crate::common::{output, TestContext};

#[test]
fn create_links_packages_and_records_conda_metadata() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app"]);
    assert_eq!(ctx.installed(&prefix), vec!["app-2.0-0", "dep-2.0-0"]);
    assert!(prefix.join("share/app/v2").is_file());
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(prefix.join("conda-meta/app-2.0-0.json")).unwrap())
            .unwrap();
    for key in [
        "name",
        "version",
        "build",
        "url",
        "sha256",
        "files",
        "paths_data",
        "link",
        "requested_spec",
        "extracted_package_dir",
    ] {
        assert!(record.get(key).is_some(), "missing key {key} in {record}");
    }
    assert_eq!(record["requested_spec"], "app");
    let history = std::fs::read_to_string(prefix.join("conda-meta/history")).unwrap();
    assert!(history.starts_with("==> "), "{history}");
    assert!(history.contains("# update specs: ['app']\n"), "{history}");
    assert!(history.contains("/noarch::app-2.0-0\n"), "{history}");
    let registry = std::fs::read_to_string(ctx.home.join(".conda/environments.txt")).unwrap();
    assert!(registry.contains(&prefix.display().to_string()));
}

#[test]
fn create_text_output_follows_conda_layout() {
    let ctx = TestContext::new();
    let mut cmd = ctx.cmd();
    cmd.args(["create", "-y", "-c", &ctx.channel, "-p"])
        .arg(ctx.path("env"))
        .arg("app=1");
    let (code, stdout, _) = output(&mut cmd);
    assert_eq!(code, 0);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(stdout);
    });
}

#[test]
fn create_dry_run_json_changes_nothing() {
    let ctx = TestContext::new();
    let prefix = ctx.path("env");
    let mut cmd = ctx.cmd();
    cmd.args(["create", "--dry-run", "--json", "-c", &ctx.channel, "-p"])
        .arg(&prefix)
        .arg("leaf");
    let (code, stdout, _) = output(&mut cmd);
    assert_eq!(code, 0);
    assert!(!prefix.exists());
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["success"], true);
    let names: Vec<&str> = v["actions"]["LINK"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"leaf") && names.contains(&"dep"));
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(stdout);
    });
}

#[test]
fn create_empty_env_by_name_goes_to_envs_dir() {
    let ctx = TestContext::new();
    ctx.cmd()
        .args(["create", "-n", "empty", "-y", "-q"])
        .assert()
        .success();
    let prefix = ctx.root.join("envs/empty");
    assert!(prefix.join("conda-meta/history").is_file());
    let (code, stdout, _) = output(ctx.cmd().args(["env", "list", "--json"]));
    assert_eq!(code, 0);
    assert!(stdout.contains(&prefix.display().to_string()), "{stdout}");
}

#[test]
fn create_from_file_and_explicit_roundtrip() {
    let ctx = TestContext::new();
    let reqs = ctx.path("reqs.txt");
    std::fs::write(&reqs, "# comment\napp=1\n").unwrap();
    let first = ctx.path("first");
    ctx.cmd()
        .args(["create", "-y", "-q", "-c", &ctx.channel, "--file"])
        .arg(&reqs)
        .arg("-p")
        .arg(&first)
        .assert()
        .success();
    assert_eq!(ctx.installed(&first), vec!["app-1.0-0", "dep-1.0-0"]);
    let (code, explicit, _) = output(
        ctx.cmd()
            .args(["list", "--explicit", "--sha256", "-p"])
            .arg(&first),
    );
    assert_eq!(code, 0);
    assert!(explicit.contains("@EXPLICIT\n"), "{explicit}");
    // conda 26 appends the bare hex digest (no `sha256:` tag).
    assert!(
        explicit
            .lines()
            .filter(|l| l.starts_with("file:"))
            .all(|l| l.split_once('#').is_some_and(|(_, h)| h.len() == 64)),
        "{explicit}"
    );
    let lock = ctx.path("lock.txt");
    std::fs::write(&lock, &explicit).unwrap();
    let second = ctx.path("second");
    ctx.cmd()
        .args(["create", "-y", "-q", "--offline", "--file"])
        .arg(&lock)
        .arg("-p")
        .arg(&second)
        .assert()
        .success();
    assert_eq!(ctx.installed(&second), ctx.installed(&first));
}

#[test]
fn create_clone_copies_packages() {
    let ctx = TestContext::new();
    let src = ctx.create("src", &["leaf"]);
    let dst = ctx.path("dst");
    ctx.cmd()
        .args(["create", "-y", "-q", "--clone"])
        .arg(&src)
        .arg("-p")
        .arg(&dst)
        .assert()
        .success();
    assert_eq!(ctx.installed(&dst), ctx.installed(&src));
}

#[test]
fn create_default_packages_are_added_unless_disabled() {
    let ctx = TestContext::new();
    std::fs::write(
        ctx.home.join(".condarc"),
        "create_default_packages:\n  - leaf\n",
    )
    .unwrap();
    let with = ctx.create("with", &["app=1"]);
    assert!(ctx.installed(&with).iter().any(|p| p.starts_with("leaf-")));
    let without = ctx.path("without");
    ctx.cmd()
        .args([
            "create",
            "-y",
            "-q",
            "--no-default-packages",
            "-c",
            &ctx.channel,
            "-p",
        ])
        .arg(&without)
        .arg("app=1")
        .assert()
        .success();
    assert!(!ctx
        .installed(&without)
        .iter()
        .any(|p| p.starts_with("leaf-")));
}

#[test]
fn create_download_only_fills_cache_not_prefix() {
    let ctx = TestContext::new();
    let prefix = ctx.path("env");
    ctx.cmd()
        .args([
            "create",
            "-y",
            "-q",
            "--download-only",
            "-c",
            &ctx.channel,
            "-p",
        ])
        .arg(&prefix)
        .arg("leaf")
        .assert()
        .success();
    assert!(!prefix.join("conda-meta").exists());
    assert!(ctx.root.join("pkgs/leaf-1.0-0/info/index.json").is_file());
    let urls = std::fs::read_to_string(ctx.root.join("pkgs/urls.txt")).unwrap();
    assert!(urls.contains("leaf-1.0-0.conda"), "{urls}");
}

#[test]
fn noarch_python_goes_to_site_packages_with_entry_point() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["python=3.11", "pylib"]);
    assert!(prefix
        .join("lib/python3.11/site-packages/pylib/__init__.py")
        .is_file());
    let ep = std::fs::read_to_string(prefix.join("bin/pylib-cli")).unwrap();
    assert!(ep.contains("from pylib import main"), "{ep}");
    // The env's python (a wrapper around the system python3.11) compiled the sources.
    let pyc = "lib/python3.11/site-packages/pylib/__pycache__/__init__.cpython-311.pyc";
    assert!(prefix.join(pyc).is_file());
    let record = std::fs::read_to_string(prefix.join("conda-meta/pylib-1.0-py_0.json")).unwrap();
    assert!(
        record.contains(&format!("\"_path\":\"{pyc}\",\"path_type\":\"pyc_file\"")),
        "{record}"
    );
    ctx.cmd()
        .args(["remove", "-y", "-q", "-p"])
        .arg(&prefix)
        .arg("pylib")
        .assert()
        .success();
    assert!(!prefix.join("lib/python3.11/site-packages/pylib").exists());
}

#[test]
fn prefix_placeholders_are_replaced() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["prefixed"]);
    let text = std::fs::read_to_string(prefix.join("etc/prefixed.conf")).unwrap();
    assert_eq!(text, format!("prefix={}\n", prefix.display()));
    let bin = std::fs::read(prefix.join("lib/prefixed.bin")).unwrap();
    let needle = format!("{}/lib", prefix.display());
    assert!(bin.windows(needle.len()).any(|w| w == needle.as_bytes()));
    assert_eq!(
        bin.len(),
        b"\x00\x01".len() + taipan_testkit::PLACEHOLDER.len() + b"/lib\x00tail\x00".len()
    );
}

#[test]
fn track_features_are_deprioritised() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["feat"]);
    assert_eq!(ctx.installed(&prefix), vec!["feat-1.0-0"]);
}

#[test]
fn platform_flag_solves_for_another_subdir() {
    let ctx = TestContext::new();
    let prefix = ctx.path("env");
    let (code, out, _) = output(
        ctx.cmd()
            .args([
                "create",
                "--dry-run",
                "--json",
                "--platform",
                "osx-arm64",
                "-c",
                &ctx.channel,
                "-p",
            ])
            .arg(&prefix)
            .arg("dep"),
    );
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = output(
        ctx.cmd()
            .args([
                "create",
                "--dry-run",
                "--json",
                "--platform",
                "osx-arm64",
                "-c",
                &ctx.channel,
                "-p",
            ])
            .arg(&prefix)
            .arg("python"),
    );
    assert_eq!(code, 1);
    assert!(out.contains("osx-arm64"), "{out}");
    let (code, _, _) = output(
        ctx.cmd()
            .env("CONDA_SUBDIR", "linux-64")
            .args(["create", "--dry-run", "-c", &ctx.channel, "-p"])
            .arg(&prefix)
            .arg("python"),
    );
    assert_eq!(code, 0);
}
