//! `taipan deploy`, end to end. Real deployments need root (CI runs as root): they create a
//! temporary user and group, run real apt on this Debian machine, or stub `dnf`/`yum`/`rpm`
//! and `apt-get`/`apt-cache` on PATH (recording their arguments) with an os-release fixture
//! for the other systems.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::Command as TaipanCommand;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{output, TestContext};

/// Runs a system command: (code, stdout, stderr).
pub(crate) fn sys(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub(crate) const ROCKY: &str = "NAME=\"Rocky Linux\"\nVERSION_ID=\"9.4\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nPRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"\n";
pub(crate) const CENTOS7: &str = "NAME=\"CentOS Linux\"\nVERSION_ID=\"7\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\nPRETTY_NAME=\"CentOS Linux 7 (Core)\"\n";
pub(crate) const TRIXIE: &str =
    "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nVERSION_ID=\"13\"\nID=debian\n";
pub(crate) const ALPINE: &str =
    "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.0\nPRETTY_NAME=\"Alpine Linux v3.20\"\n";

pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Real deployments write system files and create users: CI runs the suite as root. Not
/// as root, the test says it is skipped and passes.
pub(crate) fn require_root() -> bool {
    let test = std::thread::current()
        .name()
        .unwrap_or("a deploy test")
        .to_string();
    crate::common::root_or_skip(&test)
}

/// A temp dir every user can enter (tempfile makes them 0700).
pub(crate) fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// A throwaway system user with a home in `parent`, removed on drop.
pub(crate) struct TempUser {
    pub(crate) name: String,
    pub(crate) home: PathBuf,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

impl TempUser {
    pub(crate) fn new(parent: &Path, groups: &[&str]) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "tpd{}x{}",
            std::process::id() % 100_000,
            N.fetch_add(1, Ordering::SeqCst)
        );
        let home = parent.join(&name);
        let mut cmd = Command::new("useradd");
        cmd.args(["-m", "-s", "/bin/bash", "-d"]).arg(&home);
        if !groups.is_empty() {
            cmd.args(["-G", &groups.join(",")]);
        }
        let (code, out, err) = sys(cmd.arg(&name));
        assert_eq!(code, 0, "useradd: {out}{err}");
        let meta = std::fs::metadata(&home).unwrap();
        Self {
            name,
            home,
            uid: meta.uid(),
            gid: meta.gid(),
        }
    }

    /// `bash -i -c SCRIPT` as this user with a login-like environment.
    pub(crate) fn bash_i(&self, script: &str) -> (i32, String, String) {
        let mut cmd = Command::new("setpriv");
        cmd.args([
            "--reuid",
            &self.name,
            "--regid",
            &self.gid.to_string(),
            "--init-groups",
        ])
        .args(["env", "-i"])
        .arg(format!("HOME={}", self.home.display()))
        .args([
            "PATH=/usr/bin:/bin",
            "TERM=dumb",
            "CONDA_OVERRIDE_GLIBC=2.36",
        ])
        .args(["bash", "-i", "-c", script])
        .current_dir(&self.home);
        sys(&mut cmd)
    }
}

impl Drop for TempUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).output();
    }
}

/// A throwaway group, removed on drop.
pub(crate) struct TempGroup(pub(crate) String);

impl TempGroup {
    pub(crate) fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "tpg{}x{}",
            std::process::id() % 100_000,
            N.fetch_add(1, Ordering::SeqCst)
        );
        let (code, out, err) = sys(Command::new("groupadd").arg(&name));
        assert_eq!(code, 0, "groupadd: {out}{err}");
        Self(name)
    }
}

impl Drop for TempGroup {
    fn drop(&mut self) {
        let _ = Command::new("groupdel").arg(&self.0).output();
    }
}

/// A small installer (`Demo3 1.0.0`, base = demo-app + libdemo) whose `.condarc` points at its
/// own `file://` channel, so `conda update --update-all` works offline.
pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) channel: PathBuf,
    pub(crate) installer: PathBuf,
}

impl Fixture {
    pub(crate) fn new(post_install_fails: bool) -> Self {
        let dir = open_dir();
        let d = dir.path();
        let channel = d.join("channel");
        let mut ch = ChannelBuilder::new(&channel);
        ch.add(
            &PackageBuilder::new("libdemo", "1.0")
                .subdir("linux-64")
                .text_prefix_file("etc/libdemo.conf", "at=@PREFIX@\n"),
            ArchiveFormat::Conda,
        );
        ch.add(&demo_app("1.0"), ArchiveFormat::Conda);
        ch.index().unwrap();
        // post_install notes how the installer file was placed (mode, owner, path).
        let post = if post_install_fails {
            "echo failing >&2\nexit 4\n"
        } else {
            "stat -c '%a %U %n' \"$INSTALLER_PATH\" > \"$PREFIX/installer-stat\"\n"
        };
        std::fs::write(d.join("post.sh"), post).unwrap();
        std::fs::write(
            d.join("construct.yaml"),
            format!(
                "name: Demo3\nversion: 1.0.0\nchannels:\n  - {url}\nspecs:\n  - demo-app\npost_install: post.sh\ncondarc:\n  channels:\n    - {url}\n",
                url = ch.url()
            ),
        )
        .unwrap();
        let binary = crate::common::embedded_binary(d);
        let (code, out, err) = sys(Command::new(crate::common::bin())
            .args(["installer", "build"])
            .arg(d.join("construct.yaml"))
            .arg("-o")
            .arg(d.join("out"))
            .arg("--taipan-binary")
            .arg(&binary));
        assert_eq!(code, 0, "{out}{err}");
        for entry in walk(d) {
            let mode = std::fs::symlink_metadata(&entry)
                .unwrap()
                .permissions()
                .mode();
            if !std::fs::symlink_metadata(&entry).unwrap().is_symlink() {
                std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode | 0o055))
                    .unwrap();
            }
        }
        Self {
            installer: d.join("out/Demo3-1.0.0-Linux-x86_64.sh"),
            channel,
            dir,
        }
    }

    /// Publishes a newer demo-app, for `update --update-all` to pick up.
    pub(crate) fn publish(&self, version: &str) {
        let mut ch = ChannelBuilder::new(&self.channel);
        ch.add(&demo_app(version), ArchiveFormat::Conda);
        ch.index().unwrap();
        for entry in walk(&self.channel) {
            let mode = std::fs::metadata(&entry).unwrap().permissions().mode();
            std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode | 0o044))
                .unwrap();
        }
    }

    pub(crate) fn sha256(&self) -> String {
        let text = std::fs::read_to_string(self.installer.with_extension("sh.sha256")).unwrap();
        text.split_whitespace().next().unwrap().to_owned()
    }
}

/// One fixture for the tests that do not change its channel.
pub(crate) fn shared_fixture() -> &'static Fixture {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(|| {
        let fixture = Fixture::new(false);
        crate::common::remove_at_exit(fixture.dir.path());
        fixture
    })
}

pub(crate) fn demo_app(version: &str) -> PackageBuilder {
    PackageBuilder::new("demo-app", version)
        .noarch_generic()
        .depends("libdemo")
        .executable(
            "bin/demo-app",
            format!("#!/bin/sh\necho demo-app {version}\n"),
        )
}

pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Stub package-manager commands that append `NAME ARGS` to `$STUB_LOG`.
pub(crate) fn stubs(dir: &Path, names: &[&str]) -> PathBuf {
    let bin = dir.join("stub-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = r#"#!/bin/sh
name=$(basename "$0")
echo "$name $*" >> "$STUB_LOG"
while [ "$1" = -o ]; do shift 2; done
case "$name $1" in
  "rpm -q") exit 1 ;;
  "dnf info"|"yum info") for m in $STUB_MISSING; do [ "$3" = "$m" ] && exit 1; done; exit 0 ;;
  "apt-cache policy")
    shift
    for p in "$@"; do
      case " $STUB_GONE " in
        *" $p "*) printf '%s:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n' "$p" ;;
        *) printf '%s:\n  Installed: (none)\n  Candidate: 1.0-1\n  Version table:\n' "$p" ;;
      esac
    done ;;
  *" install") exit "${STUB_INSTALL_RC:-0}" ;;
  "apt-get upgrade") echo "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded." ;;
esac
exit 0
"#;
    for name in names {
        let p = bin.join(name);
        std::fs::write(&p, script).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// Runs `cmd` on a pretend system: `os_release` as `/etc/os-release`, and stub `tools` first
/// on PATH, recording their arguments in `stub.log` (the stubs live in `ctx`'s `dir`).
pub(crate) fn on_stubbed_system(
    ctx: &TestContext,
    dir: &str,
    os_release: &str,
    tools: &[&str],
    cmd: &mut TaipanCommand,
) {
    std::fs::write(ctx.path("os-release"), os_release).unwrap();
    let stub = stubs(&ctx.path(dir), tools);
    cmd.env("TAIPAN_OS_RELEASE", ctx.path("os-release"))
        .env("PATH", format!("{}:/usr/bin:/bin", stub.display()))
        .env("STUB_LOG", ctx.path("stub.log"));
}

/// `taipan deploy ARGS` for `user`, with its log in the test dir.
pub(crate) fn deploy(ctx: &TestContext, args: &[&str]) -> TaipanCommand {
    let mut cmd = ctx.cmd();
    cmd.arg("deploy")
        .arg("--log-file")
        .arg(ctx.path("deploy.log"))
        .args(args);
    cmd
}

pub(crate) fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
}

pub(crate) fn statuses(report: &Value) -> Vec<(String, String)> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(crate) fn status_of(report: &Value, step: &str) -> String {
    statuses(report)
        .into_iter()
        .find(|(n, _)| n == step)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no step {step} in {report}"))
}

#[test]
fn dry_run_plans_for_redhat_with_dnf_and_changes_nothing() {
    let ctx = TestContext::new();
    let fx = shared_fixture();
    let prefix = ctx.path("opt/demo3");
    let mut cmd = deploy(
        &ctx,
        &[
            "--dry-run",
            "--prefix",
            prefix.to_str().unwrap(),
            "--installer",
        ],
    );
    on_stubbed_system(&ctx, "", ROCKY, &["dnf", "rpm"], &mut cmd);
    cmd.arg(&fx.installer);
    let (code, out, err) = output(&mut cmd);
    assert_eq!(code, 0, "{out}{err}");
    let filters = ctx.filters();
    let fixture_dir = regex::escape(&fx.dir.path().display().to_string());
    let mut filters: Vec<(&str, &str)> = filters;
    filters.push((&fixture_dir, "[FIXTURE]"));
    filters.push((r"\(/root\)|\(/[^)]*\)", "(HOME)"));
    filters.push((r"/root/Demo3", "HOME/Demo3"));
    filters.push((r"user \w+ ", "user USER "));
    filters.push((r"owner \w+\)", "owner USER)"));
    filters.push((r"\(as \w+\)", "(as USER)"));
    filters.push((r"for \w+ in", "for USER in"));
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!(out);
    });
    let log = std::fs::read_to_string(ctx.path("stub.log")).unwrap();
    assert!(log.contains("rpm -q --quiet libXcomposite"), "{log}");
    assert!(
        !log.contains("install"),
        "a dry run installs nothing:\n{log}"
    );
    assert!(!prefix.exists());
    assert!(!ctx.path("deploy.log").exists(), "a dry run writes no log");

    // Without dnf (CentOS 7), yum.
    let mut cmd = deploy(&ctx, &["--dry-run", "--json", "--installer"]);
    on_stubbed_system(&ctx, "yum-only", CENTOS7, &["yum", "rpm"], &mut cmd);
    cmd.arg(&fx.installer);
    let (code, out, err) = output(&mut cmd);
    assert_eq!(code, 0, "{out}{err}");
    let report = json_of(&out);
    assert_eq!(report["package_manager"], "yum");
    assert_eq!(report["os"]["family"], "redhat");
    assert_eq!(report["distribution"]["name"], "Demo3");
    assert!(
        report["prefix"].as_str().unwrap().ends_with("/demo3"),
        "{report}"
    );
    assert!(statuses(&report).iter().all(|(_, s)| s == "planned"));
}

#[test]
fn unsupported_os_is_refused_with_the_supported_list() {
    let ctx = TestContext::new();
    std::fs::write(ctx.path("os-release"), ALPINE).unwrap();
    let mut cmd = deploy(&ctx, &["--dry-run"]);
    cmd.env("TAIPAN_OS_RELEASE", ctx.path("os-release"));
    let (code, out, err) = output(&mut cmd);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("unsupported system `alpine`"), "{err}");
    assert!(
        err.contains("debian") && err.contains("rhel") && err.contains("dnf or yum"),
        "{err}"
    );
    let mut cmd = deploy(&ctx, &["--dry-run"]);
    cmd.env("TAIPAN_OS_RELEASE", ctx.path("missing-os-release"));
    let (code, _, err) = output(&mut cmd);
    assert_eq!(code, 1);
    assert!(
        err.contains("missing-os-release") && err.contains("TAIPAN_OS_RELEASE"),
        "{err}"
    );
}

#[test]
fn not_root_is_refused_with_how_to_run_it() {
    let ctx = TestContext::new();
    let mut cmd = if is_root() {
        let mut c = TaipanCommand::new("setpriv");
        c.args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
            .arg(crate::common::bin());
        ctx.isolate(&mut c);
        c
    } else {
        ctx.cmd()
    };
    cmd.args(["deploy", "--log-file"])
        .arg(ctx.path("deploy.log"));
    let (code, out, err) = output(&mut cmd);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("must run as root") && err.contains("sudo taipan deploy"),
        "{err}"
    );
    assert!(!ctx.path("deploy.log").exists());
}

#[test]
fn debian_real_apt_end_to_end_then_idempotent() {
    if !require_root() {
        return;
    }
    let ctx = TestContext::new();
    let fx = Fixture::new(false);
    let homes = open_dir();
    let user = TempUser::new(homes.path(), &[]);
    let sha = fx.sha256();
    let args = [
        "--user",
        &user.name,
        "--no-upgrade",
        "--json",
        "--sha256",
        &sha,
        "--installer",
    ];
    let (code, out, err) = output(deploy(&ctx, &args).arg(&fx.installer));
    assert_eq!(code, 0, "{out}{err}");
    let report = json_of(&out);
    assert_eq!(report["success"], true);
    assert_eq!(report["package_manager"], "apt-get");
    let prefix = user.home.join("demo3");
    assert_eq!(report["prefix"], prefix.display().to_string());
    assert_eq!(status_of(&report, "install"), "done");
    assert_eq!(status_of(&report, "init"), "done");
    assert_eq!(status_of(&report, "update"), "already-done", "{report}");
    assert_eq!(status_of(&report, "cleanup"), "done");
    assert!(
        report["versions"]["conda"]
            .as_str()
            .unwrap()
            .starts_with("conda "),
        "{report}"
    );
    // Real apt: the libraries are installed now.
    let (code, out, _) =
        sys(Command::new("dpkg-query").args(["-W", "-f", "${Status}\n", "libxtst6", "curl"]));
    assert_eq!(code, 0);
    assert_eq!(out.matches("install ok installed").count(), 2, "{out}");
    // The installer went away; the prefix and rc file belong to the user.
    assert!(!user.home.join("Demo3-1.0.0-Linux-x86_64.sh").exists());
    assert_eq!(
        std::fs::metadata(prefix.join("bin/conda")).unwrap().uid(),
        user.uid
    );
    assert_eq!(
        std::fs::metadata(user.home.join(".bashrc")).unwrap().uid(),
        user.uid
    );
    assert!(prefix.join(".nonadmin").exists());
    let placed = std::fs::read_to_string(prefix.join("installer-stat")).unwrap();
    let home_installer = user.home.join("Demo3-1.0.0-Linux-x86_64.sh");
    assert_eq!(
        placed,
        format!("744 {} {}\n", user.name, home_installer.display())
    );
    // The Ansible role reads the same record, so either tool sees what the other installed.
    let record =
        std::fs::read_to_string(prefix.join("conda-meta/taipan-deploy-installer.sha256")).unwrap();
    assert_eq!(record, format!("{sha}  Demo3-1.0.0-Linux-x86_64.sh\n"));
    let log = std::fs::read_to_string(ctx.path("deploy.log")).unwrap();
    assert!(log.contains("$ bash ") && log.contains("-b -f -p"), "{log}");
    // A new interactive shell has `conda activate`.
    let (code, out, err) = user.bash_i("conda activate base && demo-app && echo \"$CONDA_PREFIX\"");
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("demo-app 1.0") && out.contains(&prefix.display().to_string()),
        "{out}"
    );

    // Second run: nothing to do.
    let (code, out, err) = output(deploy(&ctx, &args).arg(&fx.installer));
    assert_eq!(code, 0, "{out}{err}");
    let report = json_of(&out);
    for (step, status) in statuses(&report) {
        let expected = if step == "preconditions" {
            "checked"
        } else {
            "already-done"
        };
        assert_eq!(status, expected, "{step} on the second run: {report}");
    }

    // A newer package in the channel: only update-all changes something.
    fx.publish("2.0");
    let (code, out, err) = output(deploy(&ctx, &args).arg(&fx.installer));
    assert_eq!(code, 0, "{out}{err}");
    let report = json_of(&out);
    assert_eq!(status_of(&report, "update"), "done", "{report}");
    assert_eq!(status_of(&report, "install"), "already-done");
    let (_, out, _) = user.bash_i("conda activate && demo-app");
    assert!(out.contains("demo-app 2.0"), "{out}");
}

#[test]
fn redhat_uses_dnf_and_leaves_out_what_the_release_lacks() {
    if !require_root() {
        return;
    }
    let ctx = TestContext::new();
    let fx = shared_fixture();
    let homes = open_dir();
    let user = TempUser::new(homes.path(), &[]);
    let mut cmd = deploy(
        &ctx,
        &["--user", &user.name, "--no-update", "--json", "--installer"],
    );
    on_stubbed_system(&ctx, "", ROCKY, &["dnf", "rpm", "yum"], &mut cmd);
    cmd.arg(&fx.installer).env("STUB_MISSING", "libXScrnSaver");
    let (code, out, err) = output(&mut cmd);
    assert_eq!(code, 0, "{out}{err}");
    let report = json_of(&out);
    assert_eq!(report["package_manager"], "dnf");
    assert_eq!(
        report["unavailable_packages"],
        serde_json::json!(["libXScrnSaver"])
    );
    assert_eq!(status_of(&report, "update"), "skipped");
    let log = std::fs::read_to_string(ctx.path("stub.log")).unwrap();
    assert!(
        log.contains("dnf install -y libXcomposite libXcursor libXi libXtst libXrandr alsa-lib mesa-libEGL libXdamage mesa-libGL\n"),
        "{log}"
    );
    assert!(!log.contains("yum "), "dnf is preferred over yum:\n{log}");
    assert!(user.home.join("demo3/conda-meta/history").is_file());
}

#[test]
fn debian_13_names_are_mapped_to_their_successors() {
    if !require_root() {
        return;
    }
    let ctx = TestContext::new();
    let fx = shared_fixture();
    let homes = open_dir();
    let user = TempUser::new(homes.path(), &[]);
    let mut cmd = deploy(&ctx, &["--user", &user.name, "--json", "--installer"]);
    on_stubbed_system(&ctx, "", TRIXIE, &["apt-get", "apt-cache"], &mut cmd);
    cmd.arg(&fx.installer)
        .env("STUB_GONE", "libgl1-mesa-glx libegl1-mesa libasound2");
    let (code, out, err) = output(&mut cmd);
    assert_eq!(code, 0, "{out}{err}");
    let report = json_of(&out);
    assert_eq!(
        report["mapped_packages"],
        serde_json::json!({"libasound2": ["libasound2t64"], "libegl1-mesa": ["libegl1"], "libgl1-mesa-glx": ["libgl1", "libglx-mesa0"]})
    );
    let log = std::fs::read_to_string(ctx.path("stub.log")).unwrap();
    let calls: Vec<String> = log
        .lines()
        .filter_map(|l| l.strip_prefix("apt-get -o DPkg::Lock::Timeout=600 "))
        .map(|l| format!("apt-get {l}"))
        .collect();
    assert_eq!(
        calls,
        [
            "apt-get update",
            "apt-get upgrade -y",
            "apt-get install -y libgl1 libglx-mesa0 libegl1 libxrandr2 libxss1 libxcursor1 libxcomposite1 libasound2t64 libxi6 libxtst6 libxdamage1 curl",
        ],
        "{log}"
    );
}

#[test]
fn package_manager_failure_stops_before_the_installer() {
    if !require_root() {
        return;
    }
    let ctx = TestContext::new();
    let fx = shared_fixture();
    let homes = open_dir();
    let user = TempUser::new(homes.path(), &[]);
    let mut cmd = deploy(&ctx, &["--user", &user.name, "--no-upgrade", "--installer"]);
    on_stubbed_system(&ctx, "", TRIXIE, &["apt-get", "apt-cache"], &mut cmd);
    cmd.arg(&fx.installer).env("STUB_INSTALL_RC", "100");
    let (code, out, err) = output(&mut cmd);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("`apt-get install -y") && err.contains("exit 100"),
        "{err}"
    );
    assert!(
        out.contains("system-packages  FAILED") && out.contains("install          not run"),
        "{out}"
    );
    assert!(out.contains("cleanup          already done"), "{out}");
    assert!(!user.home.join("demo3").exists());
    assert!(!user.home.join("Demo3-1.0.0-Linux-x86_64.sh").exists());
}

#[test]
fn failing_install_removes_the_installer_and_the_new_prefix() {
    if !require_root() {
        return;
    }
    let ctx = TestContext::new();
    let fx = Fixture::new(true);
    let homes = open_dir();
    let user = TempUser::new(homes.path(), &[]);
    let (code, out, err) = output(
        deploy(&ctx, &["--user", &user.name, "--no-upgrade", "--installer"]).arg(&fx.installer),
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("install          FAILED") && out.contains("cleanup          done"),
        "{out}"
    );
    assert!(err.contains("-b -f -p") && err.contains("failing"), "{err}");
    assert!(
        !user.home.join("demo3").exists(),
        "no half-installed prefix"
    );
    assert!(!user.home.join("Demo3-1.0.0-Linux-x86_64.sh").exists());
}

#[test]
fn bad_installer_checksum_or_path_or_prefix_changes_nothing() {
    if !require_root() {
        return;
    }
    let ctx = TestContext::new();
    let fx = shared_fixture();
    let homes = open_dir();
    let user = TempUser::new(homes.path(), &[]);
    let before = crate::common::tree(&user.home);
    let wrong = "0".repeat(64);
    let (code, _, err) = output(
        deploy(
            &ctx,
            &["--user", &user.name, "--sha256", &wrong, "--installer"],
        )
        .arg(&fx.installer),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("ChecksumMismatchError") && err.contains(&wrong),
        "{err}"
    );
    let (code, _, err) =
        output(deploy(&ctx, &["--user", &user.name, "--installer"]).arg(ctx.path("nope.sh")));
    assert_eq!(code, 1);
    assert!(err.contains("nope.sh: no such file"), "{err}");
    let (code, _, err) =
        output(deploy(&ctx, &["--user", "no-such-user-tpd", "--installer"]).arg(&fx.installer));
    assert_eq!(code, 1);
    assert!(
        err.contains("user `no-such-user-tpd` does not exist"),
        "{err}"
    );
    // A directory the user cannot write.
    let locked = homes.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    let prefix = locked.join("demo3");
    let (code, _, err) = output(
        deploy(
            &ctx,
            &[
                "--user",
                &user.name,
                "--prefix",
                prefix.to_str().unwrap(),
                "--installer",
            ],
        )
        .arg(&fx.installer),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "{} is not writable by user {}",
            locked.display(),
            user.name
        )),
        "{err}"
    );
    let (code, _, err) = output(
        deploy(
            &ctx,
            &[
                "--user",
                &user.name,
                "--prefix",
                "/tmp/with space/x",
                "--installer",
            ],
        )
        .arg(&fx.installer),
    );
    assert_eq!(code, 1);
    assert!(err.contains("without spaces"), "{err}");
    assert_eq!(
        crate::common::tree(&user.home),
        before,
        "nothing changed in the user's home"
    );
    assert!(!prefix.exists());
}
