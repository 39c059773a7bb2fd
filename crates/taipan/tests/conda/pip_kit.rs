//! The test kit's real `python` package (the host CPython with pip) created with the CLI:
//! the interpreter runs with the new prefix, pip is owned by the conda record, and pip
//! installs wheels written by the test kit into the prefix's site-packages.

use std::path::Path;

use taipan_testkit::{python_command, python_with_pip, ChannelBuilder, WheelBuilder};

use crate::common::TestContext;

/// Runs `program ARGS` isolated from the user's pip setup, asserting success; stdout.
fn run(ctx: &TestContext, program: &Path, args: &[&str]) -> String {
    let out = python_command(program, &ctx.home)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        program.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn pip_kit_python_created_by_the_cli_runs_pip_in_its_prefix() {
    let built = python_with_pip().unwrap_or_else(|e| panic!("{e:#}"));
    let ctx = TestContext::new();
    let mut channel = ChannelBuilder::new(&ctx.path("channel"));
    channel.add_python_with_pip().unwrap();
    channel.index().unwrap();

    let prefix = ctx.path("env");
    ctx.cmd()
        .args(["create", "-y", "-q", "--override-channels", "-c"])
        .arg(channel.url().as_str())
        .arg("-p")
        .arg(&prefix)
        .arg("python")
        .assert()
        .success();
    let version = &built.host.version;
    let pip_version = &built.host.pip_version;
    assert_eq!(
        ctx.installed(&prefix),
        [
            format!("pip-{pip_version}-h_taipan_0"),
            format!("python-{version}-h_taipan_0")
        ]
    );

    // pip belongs to the python record.
    let site_rel = built.host.site_packages();
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(prefix.join(format!("conda-meta/python-{version}-h_taipan_0.json")))
            .unwrap(),
    )
    .unwrap();
    let files: Vec<&str> = record["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert!(files.contains(&format!("{site_rel}/pip/__init__.py").as_str()));
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(&format!("{site_rel}/pip-"))
                && f.ends_with(".dist-info/INSTALLER"))
    );

    let python = prefix.join("bin/python");
    let out = run(&ctx, &python, &["-c", "import sys; print(sys.prefix)"]);
    assert_eq!(out.trim_end(), prefix.to_str().unwrap());
    let site = prefix.join(&site_rel);
    let out = run(&ctx, &prefix.join("bin/pip"), &["--version"]);
    assert!(out.contains(site.join("pip").to_str().unwrap()), "{out}");

    let wheels = ctx.path("wheels");
    WheelBuilder::new("tpdemo", "1.0")
        .module(
            "tpdemo/__init__.py",
            "def main():\n    print('tpdemo ok')\n",
        )
        .entry_point("tpdemo", "tpdemo:main")
        .write(&wheels)
        .unwrap();
    run(
        &ctx,
        &python,
        &[
            "-m",
            "pip",
            "install",
            "--no-index",
            "--find-links",
            wheels.to_str().unwrap(),
            "tpdemo",
        ],
    );
    let out = run(
        &ctx,
        &python,
        &["-c", "import tpdemo; print(tpdemo.__file__)"],
    );
    assert_eq!(
        out.trim_end(),
        site.join("tpdemo/__init__.py").to_str().unwrap()
    );
    assert!(site.join("tpdemo-1.0.dist-info/INSTALLER").is_file());
    assert_eq!(run(&ctx, &prefix.join("bin/tpdemo"), &[]), "tpdemo ok\n");
}
