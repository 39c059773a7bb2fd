//! The Ansible role in `deploy/ansible`: the example playbook run with `ansible-playbook -c local`
//! against this machine, into a temp prefix and home, checking what it did and that a second run
//! reports `changed=0`.
//!
//! As root (CI) the role runs fully, system packages included (real apt, no upgrade); as another
//! user it deploys into that user's own temp home without root and without system packages.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::TestContext;

/// ansible-core comes from PyPI: `.ci/run` installs it into a venv and sets
/// `TAIPAN_TEST_ANSIBLE` to its `ansible-playbook`.
fn ansible_playbook() -> PathBuf {
    std::env::var_os("TAIPAN_TEST_ANSIBLE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|d| d.join("ansible-playbook"))
                .find(|p| p.is_file())
        })
        .expect("ansible-playbook is required for the Ansible role tests: set TAIPAN_TEST_ANSIBLE (.ci/run does)")
}

fn playbook() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/ansible/playbook.yml")
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn user_name() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A stripped copy of the test binary to embed in installers (the debug build is ~300 MB).
fn embedded_binary() -> &'static Path {
    static BINARY: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = BINARY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        crate::common::remove_at_exit(dir.path());
        let out = dir.path().join("taipan-embedded");
        let stripped = Command::new("strip")
            .arg("-o")
            .arg(&out)
            .arg(crate::common::bin())
            .status()
            .is_ok_and(|s| s.success());
        if !stripped {
            std::fs::copy(crate::common::bin(), &out).unwrap();
        }
        dir
    });
    Box::leak(dir.path().join("taipan-embedded").into_boxed_path())
}

/// `taipan installer build` of a spec installing `specs` from `channel`, with a `.condarc`
/// naming `condarc_channel` (what `conda update --update-all` will ask).
fn build_installer(
    ctx: &TestContext,
    name: &str,
    version: &str,
    channel: &ChannelBuilder,
    specs: &str,
    condarc_channel: &str,
) -> PathBuf {
    let dir = ctx.path(&format!("build-{name}-{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("construct.yaml");
    std::fs::write(
        &spec,
        format!(
            "name: {name}\nversion: {version}\nchannels:\n  - {url}\nspecs:\n  - {specs}\ncondarc:\n  channels:\n    - {condarc_channel}\n",
            url = channel.url()
        ),
    )
    .unwrap();
    let out = Command::new(crate::common::bin())
        .args(["installer", "build"])
        .arg(&spec)
        .arg("-o")
        .arg(dir.join("out"))
        .arg("--taipan-binary")
        .arg(embedded_binary())
        .env("HOME", &dir)
        .env("CONDA_ROOT_PREFIX", dir.join("buildroot"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join(format!("out/{name}-{version}-Linux-x86_64.sh"))
}

/// The sha256 the build wrote next to the installer (`<sha>  <file>`).
fn recorded_sha256(installer: &Path) -> String {
    let sums = std::fs::read_to_string(format!("{}.sha256", installer.display())).unwrap();
    sums.split_whitespace().next().unwrap().to_string()
}

/// A channel with `fleet-app` (bin/fleet-app) depending on `libfleet`.
fn fleet_channel(dir: &Path, app_versions: &[&str]) -> ChannelBuilder {
    let mut ch = ChannelBuilder::new(dir);
    ch.add(
        &PackageBuilder::new("libfleet", "1.0")
            .subdir("linux-64")
            .text_prefix_file("etc/libfleet.conf", "at=@PREFIX@\n"),
        ArchiveFormat::Conda,
    );
    for v in app_versions {
        add_app(&mut ch, v);
    }
    ch.index().unwrap();
    ch
}

fn add_app(ch: &mut ChannelBuilder, version: &str) {
    ch.add(
        &PackageBuilder::new("fleet-app", version)
            .noarch_generic()
            .depends("libfleet")
            .executable(
                "bin/fleet-app",
                format!("#!/bin/sh\necho fleet-app {version}\n"),
            ),
        ArchiveFormat::Conda,
    );
}

/// The counts of the PLAY RECAP line for localhost.
#[derive(Debug, PartialEq)]
struct Recap {
    ok: u32,
    changed: u32,
    unreachable: u32,
    failed: u32,
}

fn recap(stdout: &str) -> Recap {
    let tail = stdout
        .split("PLAY RECAP")
        .nth(1)
        .unwrap_or_else(|| panic!("no PLAY RECAP in:\n{stdout}"));
    let re = regex::Regex::new(
        r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)",
    )
    .unwrap();
    let c = re
        .captures(tail)
        .unwrap_or_else(|| panic!("no recap for localhost in:\n{tail}"));
    let n = |i: usize| c[i].parse::<u32>().unwrap();
    Recap {
        ok: n(1),
        changed: n(2),
        unreachable: n(3),
        failed: n(4),
    }
}

/// The result line (`ok:`, `changed:`, `skipping:`, `fatal:`) of the role's task `name`.
fn task_result<'a>(stdout: &'a str, name: &str) -> &'a str {
    let header = format!("TASK [taipan : {name}]");
    let after = stdout
        .split(&header)
        .nth(1)
        .unwrap_or_else(|| panic!("task `{name}` did not run:\n{stdout}"));
    after
        .lines()
        .map(str::trim)
        .find(|l| {
            ["ok:", "changed:", "skipping:", "fatal:", "failed:"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .unwrap_or_else(|| panic!("no result for task `{name}`:\n{after}"))
}

/// One target: a home and a prefix inside the test's temp dir, for the current user.
struct Target<'a> {
    ctx: &'a TestContext,
    /// `ansible-playbook`, looked up before anything is built.
    ansible: PathBuf,
    prefix: PathBuf,
    /// Run the system-packages step (as root only; never together with another test's apt).
    system_packages: bool,
    /// Extra variables merged over the defaults below.
    extra: serde_json::Value,
}

impl Target<'_> {
    /// `ansible-playbook -i localhost, -c local playbook.yml -e @vars.json`: (success, stdout).
    fn deploy(&self, installer: &Path) -> (bool, String) {
        let ctx = self.ctx;
        let root = is_root();
        let mut vars = serde_json::json!({
            "taipan_installer": installer,
            "taipan_user": user_name(),
            "taipan_home": ctx.home,
            "taipan_prefix": self.prefix,
            "taipan_shells": ["bash"],
            "taipan_system_packages": root && self.system_packages,
            "taipan_upgrade": false,
            "taipan_require_root": root,
        });
        if !root {
            // Not root: no privilege escalation at all, the deployment is for this user.
            vars["ansible_become"] = false.into();
        }
        for (k, v) in self.extra.as_object().unwrap() {
            vars[k] = v.clone();
        }
        let vars_file = ctx.path("vars.json");
        std::fs::write(&vars_file, vars.to_string()).unwrap();
        let controller = ctx.path("controller");
        std::fs::create_dir_all(&controller).unwrap();
        let out = Command::new(&self.ansible)
            .args(["-i", "localhost,", "-c", "local"])
            .arg(playbook())
            .arg("-e")
            .arg(format!("@{}", vars_file.display()))
            .env_clear()
            // A system PATH: the managed host's python (with python3-apt) is found by
            // interpreter discovery, not some tool-managed python of the caller.
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("HOME", &controller)
            .env("ANSIBLE_LOCAL_TEMP", controller.join("local-tmp"))
            .env("ANSIBLE_REMOTE_TMP", controller.join("remote-tmp"))
            .env("LC_ALL", "C.UTF-8")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_PYTHON_INTERPRETER", "auto_silent")
            .current_dir(&controller)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        (
            out.status.success(),
            format!("{stdout}\n--- stderr ---\n{stderr}"),
        )
    }

    /// `PREFIX/bin/conda list` as the deployed user would run it.
    fn conda_list(&self) -> String {
        let out = Command::new(self.prefix.join("bin/conda"))
            .arg("list")
            .env_clear()
            .env("HOME", &self.ctx.home)
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn listed(list: &str, name: &str, version: &str) -> bool {
    list.lines().any(|l| {
        let mut f = l.split_whitespace();
        f.next() == Some(name) && f.next() == Some(version)
    })
}

#[test]
fn ansible_role_deploys_then_a_second_run_changes_nothing() {
    let ansible = ansible_playbook();
    let ctx = TestContext::new();
    let mut channel = fleet_channel(&ctx.path("channel"), &["1.0"]);
    let installer = build_installer(
        &ctx,
        "Fleet3",
        "1.0.0",
        &channel,
        "fleet-app",
        channel.url().as_str(),
    );
    let target = Target {
        ctx: &ctx,
        ansible,
        prefix: ctx.path("fleet3"),
        system_packages: true,
        // A name this release does not carry, replaced by a successor it does: the role
        // must ask apt, keeping the default successors for the real names.
        extra: serde_json::json!({
            "taipan_extra_packages": ["taipan-test-retired-name"],
            "taipan_package_successors": {
                "libgl1-mesa-glx": ["libgl1", "libglx-mesa0"],
                "libegl1-mesa": ["libegl1"],
                "libasound2": ["libasound2t64"],
                "taipan-test-retired-name": ["curl"],
            },
        }),
    };
    let shipped = ctx.home.join("Fleet3-1.0.0-Linux-x86_64.sh");

    let (ok, out) = target.deploy(&installer);
    assert!(ok, "first run failed:\n{out}");
    let first = recap(&out);
    eprintln!("first run: {first:?}");
    assert!(
        first.changed >= 5 && first.failed == 0 && first.unreachable == 0,
        "{first:?}\n{out}"
    );
    for task in [
        "Ship the installer to the user's home",
        "Run the installer (bash INSTALLER -b -f -p PREFIX)",
        "Record which installer installed the prefix",
        "Run conda init bash",
        "Remove the installer",
    ] {
        assert!(
            task_result(&out, task).starts_with("changed:"),
            "{task}:\n{out}"
        );
    }
    // The channel is reachable and has nothing newer: the update ran and changed nothing.
    assert!(
        task_result(&out, "Run conda update --update-all -y").starts_with("ok:"),
        "{out}"
    );
    assert!(
        !out.contains("NOTE: conda update --update-all skipped"),
        "{out}"
    );
    if is_root() {
        assert!(
            out.contains("taipan-test-retired-name -> curl"),
            "the replaced name is reported:\n{out}"
        );
        assert!(
            !task_result(&out, "Install the libraries (apt-get install)").starts_with("skipping:"),
            "{out}"
        );
    }

    // The prefix works for the user.
    let list = target.conda_list();
    assert!(
        listed(&list, "fleet-app", "1.0") && listed(&list, "libfleet", "1.0"),
        "{list}"
    );
    let rc = std::fs::read_to_string(ctx.home.join(".bashrc")).unwrap();
    assert!(
        rc.contains("# >>> conda initialize >>>")
            && rc.contains(&format!("{}/bin/conda", target.prefix.display())),
        "{rc}"
    );
    let script = "source ~/.bashrc\nconda activate\nfleet-app\necho \"$CONDA_DEFAULT_ENV\"\n";
    let sh = Command::new("bash")
        .args(["--norc", "-c", script])
        .env_clear()
        .env("HOME", &ctx.home)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&sh.stdout),
        "fleet-app 1.0\nbase\n",
        "{}",
        String::from_utf8_lossy(&sh.stderr)
    );
    assert!(!shipped.exists(), "the installer is removed");
    let marker = std::fs::read_to_string(
        target
            .prefix
            .join("conda-meta/taipan-deploy-installer.sha256"),
    )
    .unwrap();
    assert_eq!(
        marker,
        format!(
            "{}  Fleet3-1.0.0-Linux-x86_64.sh\n",
            recorded_sha256(&installer)
        )
    );

    // Second run: nothing to do.
    let (ok, out) = target.deploy(&installer);
    assert!(ok, "second run failed:\n{out}");
    let second = recap(&out);
    eprintln!("second run: {second:?}");
    assert_eq!(second.changed, 0, "{second:?}\n{out}");
    assert_eq!(second.failed, 0, "{out}");
    assert!(
        out.contains("is installed by this installer: nothing to do."),
        "{out}"
    );
    assert!(
        task_result(&out, "Ship the installer to the user's home").starts_with("skipping:"),
        "{out}"
    );
    assert!(!shipped.exists());

    // A newer package in the channel: only the update changes something.
    add_app(&mut channel, "1.1");
    channel.index().unwrap();
    let (ok, out) = target.deploy(&installer);
    assert!(ok, "third run failed:\n{out}");
    assert_eq!(recap(&out).changed, 1, "{out}");
    assert!(
        task_result(&out, "Run conda update --update-all -y").starts_with("changed:"),
        "{out}"
    );
    assert!(listed(&target.conda_list(), "fleet-app", "1.1"));
    let (ok, out) = target.deploy(&installer);
    assert!(ok && recap(&out).changed == 0, "{out}");
}

#[test]
fn ansible_role_reinstalls_a_changed_installer_and_skips_an_unreachable_update() {
    let ansible = ansible_playbook();
    let ctx = TestContext::new();
    let channel = fleet_channel(&ctx.path("channel"), &["1.0", "2.0"]);
    // Nothing listens on port 1: no channel is reachable for `conda update --update-all`.
    let unreachable = "http://127.0.0.1:1/unreachable";
    let v1 = build_installer(
        &ctx,
        "Fleet3",
        "1.0.0",
        &channel,
        "fleet-app 1.0",
        unreachable,
    );
    let v2 = build_installer(
        &ctx,
        "Fleet3",
        "2.0.0",
        &channel,
        "fleet-app 2.0",
        unreachable,
    );
    let target = Target {
        ctx: &ctx,
        ansible,
        prefix: ctx.path("fleet3"),
        // One apt run is enough (the other test has it); the dpkg lock would serialise them.
        system_packages: false,
        extra: serde_json::json!({}),
    };
    let marker = target
        .prefix
        .join("conda-meta/taipan-deploy-installer.sha256");

    let (ok, out) = target.deploy(&v1);
    assert!(ok, "{out}");
    assert!(recap(&out).changed > 0, "{out}");
    assert!(
        out.contains("NOTE: conda update --update-all skipped on localhost: no channel reachable."),
        "{out}"
    );
    assert!(
        task_result(&out, "Run conda update --update-all -y").starts_with("ok:"),
        "{out}"
    );
    assert!(listed(&target.conda_list(), "fleet-app", "1.0"));

    // Another installer: installed over the prefix.
    let (ok, out) = target.deploy(&v2);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!(
            "was installed by another installer (sha256 {})",
            recorded_sha256(&v1)
        )),
        "{out}"
    );
    assert!(
        task_result(&out, "Run the installer (bash INSTALLER -b -f -p PREFIX)")
            .starts_with("changed:"),
        "{out}"
    );
    assert!(
        task_result(&out, "Run conda init bash").starts_with("ok:"),
        "the rc file already had the block:\n{out}"
    );
    assert!(listed(&target.conda_list(), "fleet-app", "2.0"));
    assert!(std::fs::read_to_string(&marker)
        .unwrap()
        .starts_with(&recorded_sha256(&v2)));
    assert!(!ctx.home.join("Fleet3-2.0.0-Linux-x86_64.sh").exists());

    let (ok, out) = target.deploy(&v2);
    assert!(ok, "{out}");
    assert_eq!(recap(&out).changed, 0, "{out}");

    // A prefix with no record of its installer (installed by hand) is left as it is.
    std::fs::remove_file(&marker).unwrap();
    let (ok, out) = target.deploy(&v1);
    assert!(ok, "{out}");
    assert_eq!(recap(&out).changed, 0, "{out}");
    assert!(out.contains("not by this role; left as it is"), "{out}");
    assert!(listed(&target.conda_list(), "fleet-app", "2.0"));
    assert!(!marker.exists());

    // A wrong expected checksum stops the play before anything is shipped.
    let target = Target {
        extra: serde_json::json!({ "taipan_installer_sha256": "0".repeat(64) }),
        ..target
    };
    let (ok, out) = target.deploy(&v1);
    assert!(!ok, "{out}");
    assert_eq!(recap(&out).failed, 1, "{out}");
    assert!(
        out.contains(&format!("sha256 {}", recorded_sha256(&v1))),
        "{out}"
    );
    assert!(!ctx.home.join("Fleet3-1.0.0-Linux-x86_64.sh").exists());
}
