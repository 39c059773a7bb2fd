//! The distribution installer, end to end through real `bash INSTALLER …` runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use regex::Regex;
use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{output, TestContext};

pub(crate) static BUILT: OnceLock<Built> = OnceLock::new();

pub(crate) struct Built {
    _dir: tempfile::TempDir,
    ok: PathBuf,
    failing_post: PathBuf,
    pub(crate) envs: PathBuf,
    /// The channel the packages were solved from (no trailing `/`).
    channel: String,
    /// The second channel, used only by the `second` extra env.
    pub(crate) other_channel: String,
}

/// Installers built once per test process: a normal one (license, pre/post-install
/// scripts, condarc, glibc requirement), one whose post_install fails, and one with
/// `extra_envs` (one sharing packages with the base, one from another channel).
pub(crate) fn installers() -> &'static Built {
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        // About 200 MB of installers, built once per test process.
        crate::common::remove_at_exit(dir.path());
        let d = dir.path();
        let mut ch = ChannelBuilder::new(&d.join("channel"));
        ch.add(&PackageBuilder::new("libdemo", "1.0").subdir("linux-64").text_prefix_file("etc/libdemo.conf", "at=@PREFIX@\n"), ArchiveFormat::Conda);
        ch.add(&PackageBuilder::new("demo-app", "1.0").noarch_generic().depends("libdemo").executable("bin/demo-app", "#!/bin/sh\necho demo-app ok\n"), ArchiveFormat::TarBz2);
        ch.index().unwrap();
        let mut other = ChannelBuilder::new(&d.join("other"));
        // Compresses well: shipped as its archive, extracted at install time.
        let data = "othertool data\n".repeat(20_000);
        other.add(&PackageBuilder::new("othertool", "2.0").noarch_generic().executable("bin/othertool", "#!/bin/sh\necho othertool ok\n").file("share/othertool/data.txt", data), ArchiveFormat::Conda);
        other.index().unwrap();
        let channel = ch.url().as_str().trim_end_matches('/').to_string();
        let other_channel = other.url().as_str().trim_end_matches('/').to_string();
        std::fs::write(
            d.join("envs.yaml"),
            format!("name: Envs3\nversion: 2.0\nchannels: [{channel}]\nspecs: [libdemo]\nextra_envs:\n  tools:\n    specs: [demo-app]\n  second:\n    channels: [{other_channel}]\n    specs: [othertool]\n    user_requested_specs: ['othertool >=2']\n"),
        )
        .unwrap();
        std::fs::write(d.join("LICENSE.txt"), "Demo license: be nice.\n").unwrap();
        std::fs::write(d.join("pre.sh"), "echo pre >> \"$PREFIX/../script.log\"\n").unwrap();
        std::fs::write(d.join("post.sh"), "echo \"post $INSTALLER_NAME $INSTALLER_VER\" >> \"$PREFIX/../script.log\"\n").unwrap();
        std::fs::write(d.join("fail.sh"), "echo failing >&2\nexit 4\n").unwrap();
        let spec = |name: &str, post: &str| {
            format!(
                "name: {name}\nversion: 1.0.0\nchannels:\n  - {url}\nspecs:\n  - demo-app\nlicense_file: LICENSE.txt\npre_install: pre.sh\npost_install: {post}\nvirtual_specs:\n  - __glibc>=2.17\ncondarc:\n  channels:\n    - {url}\n",
                url = ch.url()
            )
        };
        std::fs::write(d.join("ok.yaml"), spec("Demo3", "post.sh")).unwrap();
        std::fs::write(d.join("fail.yaml"), spec("Failing", "fail.sh")).unwrap();
        let binary = crate::common::embedded_binary(d);
        for spec in ["ok.yaml", "fail.yaml", "envs.yaml"] {
            let out = Command::new(crate::common::bin())
                .args(["installer", "build"])
                .arg(d.join(spec))
                .arg("-o")
                .arg(d.join("out"))
                .arg("--taipan-binary")
                .arg(&binary)
                .env("HOME", d)
                .env("CONDA_ROOT_PREFIX", d.join("buildroot"))
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        Built {
            ok: d.join("out/Demo3-1.0.0-Linux-x86_64.sh"),
            failing_post: d.join("out/Failing-1.0.0-Linux-x86_64.sh"),
            envs: d.join("out/Envs3-2.0-Linux-x86_64.sh"),
            channel,
            other_channel,
            _dir: dir,
        }
    })
}

pub(crate) fn run(
    ctx: &TestContext,
    installer: &Path,
    args: &[&str],
    stdin: &str,
) -> (i32, String, String) {
    run_in(ctx, "bash", "/usr/bin:/bin", installer, args, stdin)
}

/// Runs `SHELL INSTALLER ARGS` in a clean environment with this `PATH`.
pub(crate) fn run_in(
    ctx: &TestContext,
    shell: &str,
    path: &str,
    installer: &Path,
    args: &[&str],
    stdin: &str,
) -> (i32, String, String) {
    let mut cmd = assert_cmd::Command::new(shell);
    cmd.arg(installer)
        .args(args)
        .env_clear()
        .env("HOME", &ctx.home)
        .env("PATH", path)
        .env("SHELL", "/bin/bash")
        .write_stdin(stdin);
    output(&mut cmd)
}

#[test]
fn batch_install_then_use_it() {
    let ctx = TestContext::new();
    let b = installers();
    let prefix = ctx.path("demo3");
    let (code, out, err) = run(&ctx, &b.ok, &["-b", "-p", prefix.to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("installation finished."), "{out}");
    for f in [
        "bin/conda",
        "bin/activate",
        "condabin/conda",
        "etc/profile.d/conda.sh",
        "conda-meta/initial-state.explicit.txt",
        ".condarc",
        "bin/demo-app",
    ] {
        assert!(prefix.join(f).exists(), "missing {f}");
    }
    assert!(!prefix.join("pkgs").exists(), "pkgs/ removed without -k");
    assert_eq!(
        std::fs::read_to_string(prefix.join("etc/libdemo.conf")).unwrap(),
        format!("at={}\n", prefix.display())
    );
    let history = std::fs::read_to_string(prefix.join("conda-meta/history")).unwrap();
    assert!(
        history.contains("# update specs: ['demo-app']"),
        "{history}"
    );
    let log = std::fs::read_to_string(ctx.path("script.log")).unwrap();
    assert_eq!(log, "pre\npost Demo3 1.0.0\n");
    let registry = std::fs::read_to_string(ctx.home.join(".conda/environments.txt")).unwrap();
    assert!(registry.contains(&prefix.display().to_string()));
    let script = format!(
        "source {p}/bin/activate\nconda info | grep 'base environment'\ndemo-app\nconda create -y -q -n x libdemo\nconda env list | grep -c envs/x\nconda update --update-all -y -q > /dev/null && echo updated\nconda deactivate\necho \"shlvl=$CONDA_SHLVL\"\n",
        p = prefix.display()
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &script])
        .env_clear()
        .env("HOME", &ctx.home)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "base environment : {}  (writable)",
            prefix.display()
        )),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("demo-app ok\n1\nupdated\nshlvl=0"),
        "{stdout}"
    );
}

/// `conda` of an installed prefix, isolated like the installer runs.
pub(crate) fn conda(ctx: &TestContext, prefix: &Path, args: &[&str]) -> String {
    let (code, out, err) = crate::common::installed_conda(&ctx.home, prefix, args);
    assert_eq!(code, 0, "conda {args:?}: {err}");
    out
}

/// Paths and channels of the test run replaced by stable names.
pub(crate) fn stable(text: &str, b: &Built, prefix: &Path) -> String {
    text.replace(&b.channel, "[CHANNEL]")
        .replace(&b.other_channel, "[OTHER_CHANNEL]")
        .replace(&prefix.display().to_string(), "[PREFIX]")
}

/// Installing offline from the payload still records where each package came from (as
/// constructor does): conda-meta's `channel`/`url`, `conda list` and `--explicit`.
#[test]
fn installed_records_keep_their_channel() {
    let ctx = TestContext::new();
    let b = installers();
    let prefix = ctx.path("demo3");
    let (code, out, err) = run(&ctx, &b.ok, &["-b", "-p", prefix.to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}{err}");
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(prefix.join("conda-meta/libdemo-1.0-0.json")).unwrap(),
    )
    .unwrap();
    // conda records the channel with the subdir the package came from.
    assert_eq!(meta["channel"], format!("{}/linux-64", b.channel));
    assert_eq!(
        meta["url"],
        format!("{}/linux-64/libdemo-1.0-0.conda", b.channel)
    );
    assert!(
        meta["md5"].as_str().is_some_and(|m| m.len() == 32),
        "{meta}"
    );
    let listed = [
        conda(&ctx, &prefix, &["list", "-p", prefix.to_str().unwrap()]),
        conda(
            &ctx,
            &prefix,
            &[
                "list",
                "-p",
                prefix.to_str().unwrap(),
                "--explicit",
                "--md5",
            ],
        ),
    ]
    .join("\n");
    insta::with_settings!({filters => vec![(r"#[0-9a-f]{32}", "#[MD5]")]}, {
        insta::assert_snapshot!(stable(&listed, b, &prefix));
    });
}

#[test]
fn help_and_bad_options() {
    let ctx = TestContext::new();
    let b = installers();
    let (code, out, _) = run(&ctx, &b.ok, &["-h"], "");
    assert_eq!(code, 2);
    assert!(
        out.contains("-b           run install in batch mode"),
        "{out}"
    );
    let (code, _, err) = run(&ctx, &b.ok, &["-x"], "");
    assert_eq!(code, 1);
    assert!(err.contains("did not recognize option '-x'"), "{err}");
}

#[test]
fn existing_prefix_needs_force_or_update_and_update_keeps_envs() {
    let ctx = TestContext::new();
    let b = installers();
    let prefix = ctx.path("demo3");
    let p = prefix.to_str().unwrap();
    assert_eq!(run(&ctx, &b.ok, &["-b", "-p", p], "").0, 0);
    let (code, _, err) = run(&ctx, &b.ok, &["-b", "-p", p], "");
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("ERROR: File or directory already exists: '{p}'"))
            && err.contains("use the -u option"),
        "{err}"
    );
    let conda = prefix.join("bin/conda");
    let mut create = assert_cmd::Command::new(&conda);
    create
        .env_clear()
        .env("HOME", &ctx.home)
        .env("PATH", "/usr/bin:/bin")
        .args(["create", "-y", "-q", "-n", "mine", "libdemo"])
        .assert()
        .success();
    let (code, out, err) = run(&ctx, &b.ok, &["-b", "-u", "-p", p], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        prefix.join("envs/mine/conda-meta").is_dir(),
        "user envs survive -u"
    );
    assert_eq!(run(&ctx, &b.ok, &["-b", "-f", "-p", p], "").0, 0);
}

#[test]
fn keep_pkgs_skip_scripts_self_test_and_init() {
    let ctx = TestContext::new();
    let b = installers();
    let prefix = ctx.path("demo3");
    let (code, out, err) = run(
        &ctx,
        &b.ok,
        &["-b", "-k", "-s", "-t", "-c", "-p", prefix.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(prefix.join("pkgs").is_dir());
    assert!(
        !ctx.path("script.log").exists(),
        "-s skips pre/post_install"
    );
    assert!(
        err.contains("WARNING: skipping pre_install and post_install scripts"),
        "{err}"
    );
    assert!(out.contains("Installation check: 0 failure(s)."), "{out}");
    let rc = std::fs::read_to_string(ctx.home.join(".bashrc")).unwrap();
    assert!(
        rc.contains(&format!(
            "'{}/bin/conda' 'shell.bash' 'hook'",
            prefix.display()
        )),
        "{rc}"
    );
}

#[test]
fn interactive_license_prefix_and_init_answers() {
    let ctx = TestContext::new();
    let b = installers();
    let (code, out, _) = run(&ctx, &b.ok, &[], "\nno\n");
    assert_eq!(code, 2);
    assert!(
        out.contains("Demo license: be nice.")
            && out.contains("The license agreement wasn't approved"),
        "{out}"
    );
    let prefix = ctx.path("chosen");
    let (code, out, err) = run(
        &ctx,
        &b.ok,
        &[],
        &format!("\nyes\n{}\nyes\n", prefix.display()),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("[{}/demo3] >>> ", ctx.home.display())),
        "default prefix offered: {out}"
    );
    assert!(prefix.join("bin/conda").exists());
    assert!(std::fs::read_to_string(ctx.home.join(".bashrc"))
        .unwrap()
        .contains("conda initialize"));
    assert!(out.contains("Thank you for installing Demo3!"), "{out}");
    let other = ctx.path("noinit");
    std::fs::remove_file(ctx.home.join(".bashrc")).unwrap();
    let (code, out, _) = run(
        &ctx,
        &b.ok,
        &[],
        &format!("\nyes\n{}\nno\n", other.display()),
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("You have chosen to not have conda modify your shell scripts"),
        "{out}"
    );
    assert!(!ctx.home.join(".bashrc").exists());
}

#[test]
fn bad_locations_are_refused_without_leaving_anything() {
    let ctx = TestContext::new();
    let b = installers();
    let spaced = ctx.path("with space");
    let (code, _, err) = run(&ctx, &b.ok, &["-b", "-p", spaced.to_str().unwrap()], "");
    assert_eq!(code, 1);
    assert!(
        err.contains("Cannot install into directories with spaces"),
        "{err}"
    );
    assert!(!spaced.exists());
    // A directory below a regular file cannot be created, even by root.
    let file = ctx.path("a-file");
    std::fs::write(&file, "x").unwrap();
    let below = file.join("demo3");
    let (code, _, err) = run(&ctx, &b.ok, &["-b", "-p", below.to_str().unwrap()], "");
    assert_eq!(code, 1);
    assert!(err.contains("Could not create directory"), "{err}");
    let mut cmd = assert_cmd::Command::new("bash");
    cmd.arg(&b.ok)
        .args(["-b", "-p"])
        .arg(ctx.path("old"))
        .env("CONDA_OVERRIDE_GLIBC", "2.10")
        .env("HOME", &ctx.home);
    let (code, _, err) = output(&mut cmd);
    assert_eq!(code, 1);
    assert!(
        err.contains("Installer requires GLIBC >=2.17, but system has 2.10."),
        "{err}"
    );
    assert!(!ctx.path("old").exists());
}

/// The header reads the payload in place with what each shell and tool offers; these runs
/// take the other paths: a POSIX sh (dash skips the header with `head -c`, not bash's `read`),
/// and a `tar` without `-b` (the payload is unpacked again through a pipe).
#[test]
fn installer_runs_under_dash_and_with_a_plain_tar() {
    let ctx = TestContext::new();
    let b = installers();
    let prefix = ctx.path("dash");
    let args = ["-b", "-p", prefix.to_str().unwrap()];
    let (code, out, err) = run_in(&ctx, "dash", "/usr/bin:/bin", &b.ok, &args, "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(prefix.join("bin/demo-app").exists());
    assert!(prefix.join("conda-meta/history").exists());

    let tools = ctx.path("tools");
    std::fs::create_dir_all(&tools).unwrap();
    let tar = tools.join("tar");
    std::fs::write(
        &tar,
        "#!/bin/sh
for a in \"$@\"; do [ \"$a\" = -b ] && { echo 'tar: invalid option -- b' >&2; exit 64; }; done
exec /usr/bin/tar \"$@\"
",
    )
    .unwrap();
    std::fs::set_permissions(&tar, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let prefix = ctx.path("plain-tar");
    let args = ["-b", "-p", prefix.to_str().unwrap()];
    let path = format!("{}:/usr/bin:/bin", tools.display());
    let (code, out, err) = run_in(&ctx, "bash", &path, &b.ok, &args, "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(prefix.join("bin/demo-app").exists());
    assert!(!prefix.join(".taipan-payload").exists());
}

#[test]
fn damaged_installers_are_refused() {
    let ctx = TestContext::new();
    let b = installers();
    let bytes = std::fs::read(&b.ok).unwrap();
    let truncated = ctx.path("truncated.sh");
    std::fs::write(&truncated, &bytes[..bytes.len() - 1000]).unwrap();
    let (code, _, err) = run(
        &ctx,
        &truncated,
        &["-b", "-p", ctx.path("t").to_str().unwrap()],
        "",
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("is damaged") && err.contains("Download it again"),
        "{err}"
    );
    assert!(!ctx.path("t").exists());
    let mut flipped = bytes.clone();
    let at = flipped.len() - 5000;
    flipped[at] ^= 0x40;
    let flipped_path = ctx.path("flipped.sh");
    std::fs::write(&flipped_path, &flipped).unwrap();
    let (code, _, err) = run(
        &ctx,
        &flipped_path,
        &["-b", "-p", ctx.path("f").to_str().unwrap()],
        "",
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("is corrupt") && err.contains("sha256"),
        "{err}"
    );
    assert!(!ctx.path("f").exists());
    // Interactive: refused before the first question.
    let (code, out, err) = run(
        &ctx,
        &flipped_path,
        &["-p", ctx.path("i").to_str().unwrap()],
        "yes\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("is corrupt"), "{err}");
    assert!(
        !out.contains("Welcome") && !out.contains("license"),
        "{out}"
    );
    assert!(!ctx.path("i").exists());
}

/// A package that is damaged although the payload's sha256 matches (an installer rebuilt by
/// hand, or a bad archive that slipped into the build) is caught when it is extracted: the
/// install stops with the archive named, and the fresh prefix is removed.
#[test]
fn damaged_package_behind_a_matching_checksum_is_refused() {
    let ctx = TestContext::new();
    let b = installers();
    let mut bytes = std::fs::read(&b.envs).unwrap();
    let text = String::from_utf8_lossy(&bytes[..4096]).into_owned();
    let header_size: usize = Regex::new(r"HEADER_SIZE=(\d+)")
        .unwrap()
        .captures(&text)
        .unwrap()[1]
        .parse()
        .unwrap();
    let old_sum = Regex::new(r"PAYLOAD_SHA256=([0-9a-f]{64})")
        .unwrap()
        .captures(&text)
        .unwrap()[1]
        .to_string();
    // The payload is a tar: find the `othertool` archive (512-byte headers; name, then the
    // size in octal at 124) and flip a byte in the middle of its data.
    let mut at = header_size;
    let member = loop {
        let block = &bytes[at..at + 512];
        assert!(block[0] != 0, "no othertool archive in the payload");
        let name = String::from_utf8_lossy(&block[..100])
            .trim_end_matches('\0')
            .to_string();
        let size_field = String::from_utf8_lossy(&block[124..136])
            .trim_matches(|c| c == '\0' || c == ' ')
            .to_string();
        let size = usize::from_str_radix(&size_field, 8).unwrap();
        if name.starts_with("pkgs/othertool-") && name.ends_with(".conda") {
            break (at + 512, size);
        }
        at += 512 + size.div_ceil(512) * 512;
    };
    bytes[member.0 + member.1 / 2] ^= 0x40;
    let new_sum: String =
        rattler_digest::compute_bytes_digest::<rattler_digest::Sha256>(&bytes[header_size..])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
    let header = String::from_utf8_lossy(&bytes[..header_size]).replace(&old_sum, &new_sum);
    bytes.splice(..header_size, header.into_bytes());
    let tampered = ctx.path("tampered.sh");
    std::fs::write(&tampered, &bytes).unwrap();
    let prefix = ctx.path("t");
    let (code, _, err) = run(&ctx, &tampered, &["-b", "-p", prefix.to_str().unwrap()], "");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("CondaVerificationError: installing the second environment")
            && err.contains("cannot extract")
            && err.contains("othertool-2.0")
            && err.contains("damaged"),
        "{err}"
    );
    assert!(
        !prefix.exists(),
        "a failed fresh install removes what it created"
    );
}

#[test]
fn failing_post_install_removes_a_fresh_prefix() {
    let ctx = TestContext::new();
    let b = installers();
    let prefix = ctx.path("failing");
    let (code, _, err) = run(
        &ctx,
        &b.failing_post,
        &["-b", "-p", prefix.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("executing post_install.sh failed"), "{err}");
    assert!(
        !prefix.exists(),
        "a failed fresh install removes what it created"
    );
}

#[test]
fn checksum_file_matches() {
    let b = installers();
    let sums =
        std::fs::read_to_string(b.ok.with_file_name("Demo3-1.0.0-Linux-x86_64.sh.sha256")).unwrap();
    let out = Command::new("sha256sum")
        .arg("-c")
        .arg("-")
        .current_dir(b.ok.parent().unwrap())
        .stdin(std::process::Stdio::piped())
        .spawn();
    let mut child = out.unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), sums.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "{sums}");
}

#[test]
fn bad_spec_is_a_clear_error() {
    let ctx = TestContext::new();
    let spec = ctx.path("construct.yaml");
    std::fs::write(&spec, "name: X\nversion: 1\nspecs: [a]\nbogus_key: 1\n").unwrap();
    let (code, _, err) = output(
        ctx.cmd()
            .args(["installer", "build"])
            .arg(&spec)
            .arg("-o")
            .arg(ctx.path("out")),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("construct.yaml") && err.contains("bogus_key"),
        "{err}"
    );
}

#[test]
fn default_distribution_builds_and_installs_offline() {
    let ctx = TestContext::new();
    let binary = crate::common::embedded_binary(ctx.temp.path());
    ctx.cmd()
        .args(["installer", "build", "--default"])
        .arg("-o")
        .arg(ctx.path("out"))
        .arg("--taipan-binary")
        .arg(&binary)
        .assert()
        .success();
    let installer = ctx.path("out/Taipan3-0.1.0-Linux-x86_64.sh");
    let prefix = ctx.path("taipan3");
    let (code, out, err) = run(
        &ctx,
        &installer,
        &["-b", "-p", prefix.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    let conda = prefix.join("bin/conda");
    assert!(
        std::fs::symlink_metadata(&conda).unwrap().is_file(),
        "bin/conda comes from the taipan package"
    );
    assert!(prefix.join("conda-meta/taipan-0.1.0-0.json").is_file());
    let activate = std::fs::read_to_string(prefix.join("bin/activate")).unwrap();
    assert!(
        activate.contains(&format!("_CONDA_ROOT='{}'", prefix.display())),
        "{activate}"
    );
    let rc = std::fs::read_to_string(prefix.join(".condarc")).unwrap();
    assert!(rc.contains("conda-forge"), "{rc}");
    let script = format!(
        "source {p}/bin/activate\nconda create -y -q -n web -c {ch} --override-channels dep\nconda activate web\necho \"$CONDA_DEFAULT_ENV\"\nconda deactivate\nconda deactivate\necho \"$CONDA_SHLVL\"\n",
        p = prefix.display(),
        ch = ctx.channel
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &script])
        .env_clear()
        .env("HOME", &ctx.home)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "web\n0\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The binary shipped in installers runs on RHEL 8 / CentOS 7: GLIBC 2.17 symbols at most.
/// `.ci/run` builds it with cargo-zigbuild and points `TAIPAN_PORTABLE_BINARY` at it.
#[test]
fn shipped_binary_needs_glibc_2_17_at_most() {
    let binary = std::env::var_os("TAIPAN_PORTABLE_BINARY").expect(
        "set TAIPAN_PORTABLE_BINARY to `cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.17 -p taipan` output (.ci/run does)",
    );
    let out = Command::new("objdump")
        .arg("-T")
        .arg(&binary)
        .output()
        .expect("objdump (binutils) is required");
    let text = String::from_utf8_lossy(&out.stdout);
    let highest = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter_map(|w| w.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
            Some((parts.next()??, parts.next().flatten().unwrap_or(0)))
        })
        .max()
        .expect("a dynamically linked binary with GLIBC symbols");
    assert!(
        highest <= (2, 17),
        "the shipped binary needs GLIBC_{}.{}",
        highest.0,
        highest.1
    );
    let version = Command::new(&binary).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("taipan "));
}
