//! The `- pip:` section of environment files, with a real pip offline: the test kit's
//! python package (the host CPython with its bundled pip) and wheels it writes, installed
//! through `--no-index --find-links` lines in the section, as users write them.

use std::path::{Path, PathBuf};

use taipan_testkit::{python_command, python_with_pip, ChannelBuilder, WheelBuilder};

use crate::common::{output, TestContext};

/// A channel with python and pip, and a wheel directory with `tpdemo` 1.0 and 2.0 (which
/// needs `tpdep`).
fn world(ctx: &TestContext) -> (String, PathBuf) {
    python_with_pip().unwrap_or_else(|e| panic!("{e:#}"));
    let mut channel = ChannelBuilder::new(&ctx.path("channel"));
    channel.add_python_with_pip().unwrap();
    channel.index().unwrap();
    let wheels = ctx.path("proj/wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    for (name, version, requires) in [
        ("tpdemo", "1.0", None),
        ("tpdemo", "2.0", Some("tpdep")),
        ("tpdep", "0.5", None),
    ] {
        let mut wheel = WheelBuilder::new(name, version).module(
            &format!("{name}/__init__.py"),
            format!("VERSION = '{version}'\n"),
        );
        if let Some(r) = requires {
            wheel = wheel.requires(r);
        }
        wheel.write(&wheels).unwrap();
    }
    (channel.url().to_string(), wheels)
}

fn env_file(ctx: &TestContext, name: &str, channel: &str, pip: &[&str]) -> PathBuf {
    let mut text = format!(
        "name: py\nchannels:\n  - {channel}\n  - nodefaults\ndependencies:\n  - python\n  - pip\n  - pip:\n      - --no-index\n      - --find-links ./wheels\n"
    );
    for p in pip {
        text.push_str(&format!("      - {p}\n"));
    }
    text.push_str("variables:\n  STAGE: test\n");
    let path = ctx.path(&format!("proj/{name}"));
    std::fs::write(&path, text).unwrap();
    path
}

/// `python -c CODE` in the prefix; its stdout.
fn python(ctx: &TestContext, prefix: &Path, code: &str) -> String {
    let out = python_command(&prefix.join("bin/python"), &ctx.home)
        .args(["-c", code])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn pip_section_is_installed_by_the_envs_pip_and_exported_back() {
    let ctx = TestContext::new();
    let (channel, wheels) = world(&ctx);
    let file = env_file(&ctx, "environment.yml", &channel, &["tpdemo==1.0"]);
    let (code, stdout, stderr) = output(ctx.cmd().args(["env", "create", "-f"]).arg(&file));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Ran pip subprocess with arguments:\n["),
        "{stdout}"
    );
    assert!(
        stdout.contains("Successfully installed tpdemo-1.0"),
        "{stdout}"
    );
    let prefix = ctx.root.join("envs/py");
    assert_eq!(
        python(&ctx, &prefix, "import tpdemo; print(tpdemo.VERSION)"),
        "1.0"
    );
    // The temporary requirements file beside the environment file is gone.
    let left: Vec<_> = std::fs::read_dir(ctx.path("proj"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("condaenv."))
        .collect();
    assert!(left.is_empty());

    // `conda list` shows what pip installed as conda does (channel `pypi`, build `pypi_0`);
    // `--no-pip` leaves it out; pip itself is python's, not a pypi entry.
    let (_, listed, _) = output(ctx.cmd().args(["list", "-n", "py"]));
    let row = listed
        .lines()
        .find(|l| l.starts_with("tpdemo "))
        .unwrap_or_default();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols, ["tpdemo", "1.0", "pypi_0", "pypi"], "{listed}");
    assert!(
        !listed
            .lines()
            .any(|l| l.starts_with("pip ") && l.contains("pypi_0")),
        "{listed}"
    );
    let (_, listed, _) = output(ctx.cmd().args(["list", "-n", "py", "--no-pip"]));
    assert!(!listed.contains("tpdemo"), "{listed}");
    let (_, json, _) = output(ctx.cmd().args(["list", "-n", "py", "--json", "tpdemo"]));
    let items: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(items[0]["dist_name"], "tpdemo-1.0-pypi_0");
    assert_eq!(items[0]["platform"], "pypi");
    assert_eq!(items[0]["channel"], "pypi");
    let (_, exported, _) = output(ctx.cmd().args(["list", "-n", "py", "--export"]));
    assert!(exported.contains("\ntpdemo=1.0=pypi_0\n"), "{exported}");

    // `env export` lists what pip installed (not pip itself, which conda owns).
    let (code, exported, stderr) = output(ctx.cmd().args(["env", "export", "-n", "py"]));
    assert_eq!(code, 0);
    assert!(
        exported.contains("  - pip:\n      - tpdemo==1.0\n"),
        "{exported}"
    );
    assert!(!exported.contains("      - pip=="), "{exported}");
    assert!(
        stderr.contains(
            "CondaExportWarning: The exported environment contains 3rd party Python packages."
        ),
        "{stderr}"
    );
    let (code, _, _) = output(
        ctx.cmd()
            .args(["export", "-n", "py", "--format", "explicit"]),
    );
    assert_eq!(code, 1, "explicit cannot hold pip packages");

    // Round trip: the exported file makes the same environment (pip finds the wheels
    // through its own environment variables, as a user's pip.conf would).
    // conda picks the format from the standard file name.
    std::fs::create_dir_all(ctx.path("exported")).unwrap();
    let exported_file = ctx.path("exported/environment.yml");
    ctx.cmd()
        .args(["env", "export", "-n", "py", "-f"])
        .arg(&exported_file)
        .assert()
        .success();
    let (code, stdout, stderr) = output(
        ctx.cmd()
            .args(["env", "create", "-q", "-n", "copy", "-f"])
            .arg(&exported_file)
            .env("PIP_NO_INDEX", "1")
            .env("PIP_FIND_LINKS", &wheels),
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let copy = ctx.root.join("envs/copy");
    assert_eq!(ctx.installed(&copy), ctx.installed(&prefix));
    assert_eq!(
        python(&ctx, &copy, "import tpdemo; print(tpdemo.VERSION)"),
        "1.0"
    );
    let (code, stdout, _) = output(
        ctx.cmd()
            .args(["compare", "-n", "copy"])
            .arg(&exported_file),
    );
    assert_eq!(code, 0, "{stdout}");

    // Renamed, the pip-installed files come along with the new prefix in their scripts.
    ctx.cmd()
        .args(["rename", "-q", "-n", "copy", "moved"])
        .assert()
        .success();
    let moved = ctx.root.join("envs/moved");
    assert_eq!(
        python(&ctx, &moved, "import tpdemo; print(tpdemo.__file__)"),
        moved
            .join(format!(
                "{}/tpdemo/__init__.py",
                python_with_pip().unwrap().host.site_packages()
            ))
            .display()
            .to_string()
    );
}

#[test]
fn env_update_installs_new_and_changed_pip_entries_and_reports_them_in_json() {
    let ctx = TestContext::new();
    let (channel, _) = world(&ctx);
    let file = env_file(&ctx, "environment.yml", &channel, &["tpdemo==1.0"]);
    ctx.cmd()
        .args(["env", "create", "-q", "-f"])
        .arg(&file)
        .assert()
        .success();
    let prefix = ctx.root.join("envs/py");
    let changed = env_file(&ctx, "environment.yml", &channel, &["tpdemo==2.0"]);
    let (code, stdout, stderr) = output(
        ctx.cmd()
            .args(["env", "update", "--json", "-f"])
            .arg(&changed),
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let pip: Vec<&str> = v["actions"]["PIP"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert!(
        pip.contains(&"tpdemo-2.0") && pip.contains(&"tpdep-0.5"),
        "{stdout}"
    );
    assert_eq!(
        python(&ctx, &prefix, "import tpdemo, tpdep; print(tpdemo.VERSION)"),
        "2.0"
    );
}

#[test]
fn a_pip_failure_exits_1_with_pips_output_and_keeps_the_conda_part() {
    let ctx = TestContext::new();
    let (channel, _) = world(&ctx);
    let file = env_file(&ctx, "environment.yml", &channel, &["nosuchdist==9"]);
    let (code, _, stderr) = output(ctx.cmd().args(["env", "create", "-q", "-f"]).arg(&file));
    assert_eq!(code, 1);
    assert!(stderr.contains("Pip subprocess error:\n"), "{stderr}");
    assert!(stderr.contains("nosuchdist"), "{stderr}");
    assert!(stderr.contains("CondaEnvException: Pip failed"), "{stderr}");
    assert!(
        stderr.contains("The conda packages were installed and are kept"),
        "{stderr}"
    );
    let prefix = ctx.root.join("envs/py");
    assert!(ctx
        .installed(&prefix)
        .iter()
        .any(|r| r.starts_with("python-")));
    // --json: the error object on stdout, pip's error still on stderr.
    let (code, stdout, stderr) = output(
        ctx.cmd()
            .args(["env", "create", "--json", "-n", "py2", "-f"])
            .arg(&file),
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["exception_name"], "CondaEnvException");
    assert!(stderr.contains("Pip subprocess error:"), "{stderr}");
}
