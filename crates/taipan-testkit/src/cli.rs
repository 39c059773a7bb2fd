//! The harness of taipan's CLI tests: [`TestContext`] (temp dirs, an isolated HOME, root
//! prefix and package cache, the standard test channel, insta filters for paths and times),
//! "unchanged" snapshots of a directory ([`tree`]), and running an installed `conda`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;

use crate::{ArchiveFormat, ChannelBuilder, PackageBuilder};

/// An isolated world for one test.
pub struct TestContext {
    /// Everything of the test lives below this.
    pub temp: tempfile::TempDir,
    /// `$HOME`.
    pub home: PathBuf,
    /// The root prefix (`CONDA_ROOT_PREFIX`; its `pkgs/` is the package cache).
    pub root: PathBuf,
    /// The standard test channel's URL.
    pub channel: String,
    /// The taipan binary under test.
    pub bin: PathBuf,
}

/// Directories of fixtures kept in statics, removed when the test process exits.
static AT_EXIT: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

extern "C" fn remove_fixture_dirs() {
    if let Ok(dirs) = AT_EXIT.lock() {
        for dir in dirs.iter() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Removes `dir` when the process exits. A static is never dropped, so a `TempDir` built
/// once per process (nextest runs every test in its own) would otherwise stay in the temp
/// directory.
pub fn remove_at_exit(dir: &Path) {
    let mut dirs = AT_EXIT.lock().unwrap_or_else(|e| e.into_inner());
    if dirs.is_empty() {
        // SAFETY: registers a plain `extern "C" fn` that only touches the file system.
        unsafe { libc::atexit(remove_fixture_dirs) };
    }
    dirs.push(dir.to_path_buf());
}

/// The standard test channel, built once per test process.
fn standard_channel() -> &'static Path {
    static CHANNEL: OnceLock<tempfile::TempDir> = OnceLock::new();
    CHANNEL
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            remove_at_exit(dir.path());
            build_standard_channel(dir.path());
            dir
        })
        .path()
}

/// Packages every test can use.
pub fn standard_packages() -> Vec<(PackageBuilder, ArchiveFormat)> {
    use ArchiveFormat::{Conda, TarBz2};
    vec![
        (
            PackageBuilder::new("pip", "23.0")
                .noarch_generic()
                .file("share/pip", "pip\n"),
            Conda,
        ),
        (
            PackageBuilder::new("dep", "1.0")
                .noarch_generic()
                .file("share/dep/v1", "dep 1\n"),
            Conda,
        ),
        (
            PackageBuilder::new("dep", "2.0")
                .noarch_generic()
                .file("share/dep/v2", "dep 2\n"),
            TarBz2,
        ),
        (
            PackageBuilder::new("app", "1.0")
                .noarch_generic()
                .depends("dep 1.*")
                .file("share/app/v1", "app 1\n"),
            Conda,
        ),
        (
            PackageBuilder::new("app", "2.0")
                .noarch_generic()
                .depends("dep >=2")
                .file("share/app/v2", "app 2\n"),
            Conda,
        ),
        (
            PackageBuilder::new("leaf", "1.0")
                .noarch_generic()
                .depends("dep")
                .file("share/leaf", "leaf\n"),
            Conda,
        ),
        (
            PackageBuilder::new("python", "3.11.0")
                .build("h0")
                .subdir("linux-64")
                .executable("bin/python3.11", "#!/bin/sh\nexec python3.11 \"$@\"\n")
                .file("lib/python3.11/os.py", "\n"),
            Conda,
        ),
        (
            PackageBuilder::new("python", "3.12.0")
                .build("h0")
                .subdir("linux-64")
                .file("bin/python3.12", "#!/bin/sh\n")
                .file("lib/python3.12/os.py", "\n"),
            Conda,
        ),
        (
            PackageBuilder::new("pylib", "1.0")
                .build("py_0")
                .noarch_python()
                .depends("python")
                .file("site-packages/pylib/__init__.py", "X = 1\n")
                .entry_point("pylib-cli = pylib:main"),
            Conda,
        ),
        (
            PackageBuilder::new("prefixed", "1.0")
                .subdir("linux-64")
                .text_prefix_file("etc/prefixed.conf", "prefix=@PREFIX@\n")
                .binary_prefix_file(
                    "lib/prefixed.bin",
                    b"\x00\x01@PREFIX@/lib\x00tail\x00".to_vec(),
                ),
            TarBz2,
        ),
        (
            PackageBuilder::new("badpost", "1.0")
                .noarch_generic()
                .file("share/badpost", "x\n")
                .post_link("echo about to fail >> \"$PREFIX/.messages.txt\"\nexit 3\n"),
            Conda,
        ),
        (
            PackageBuilder::new("chatty", "1.0")
                .noarch_generic()
                .file("share/chatty", "x\n")
                .post_link(
                    "echo \"hello from $PKG_NAME $PKG_VERSION\" >> \"$PREFIX/.messages.txt\"\n",
                ),
            Conda,
        ),
        (
            PackageBuilder::new("feat", "2.0")
                .noarch_generic()
                .track_feature("slow")
                .file("share/feat2", "x\n"),
            Conda,
        ),
        (
            PackageBuilder::new("feat", "1.0")
                .noarch_generic()
                .file("share/feat1", "x\n"),
            Conda,
        ),
        (
            PackageBuilder::new("openssl", "1.0")
                .noarch_generic()
                .file("share/ossl1", "x\n"),
            Conda,
        ),
        (
            PackageBuilder::new("openssl", "1.1")
                .noarch_generic()
                .file("share/ossl11", "x\n"),
            Conda,
        ),
        (
            PackageBuilder::new("clash", "1.0")
                .noarch_generic()
                .depends("dep 2.*")
                .constrains("app <2")
                .file("share/clash", "x\n"),
            Conda,
        ),
    ]
}

/// A channel at `dir` holding the standard packages plus `extra` (not indexed yet).
pub fn channel_with(dir: &Path, extra: Vec<PackageBuilder>) -> ChannelBuilder {
    let mut ch = ChannelBuilder::new(dir);
    for (pkg, fmt) in standard_packages() {
        ch.add(&pkg, fmt);
    }
    for pkg in extra {
        ch.add(&pkg, ArchiveFormat::Conda);
    }
    ch
}

fn build_standard_channel(dir: &Path) {
    let mut channel = ChannelBuilder::new(dir);
    for (pkg, fmt) in standard_packages() {
        channel.add(&pkg, fmt);
    }
    channel.index().expect("index the standard channel");
}

impl TestContext {
    /// A fresh context using the standard channel, for the taipan binary `bin` (a test
    /// binary passes `env!("CARGO_BIN_EXE_taipan")`).
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        let temp = tempfile::tempdir().expect("tempdir");
        let home = temp.path().join("home");
        let root = temp.path().join("root");
        std::fs::create_dir_all(&home).expect("home");
        let channel = url::Url::from_directory_path(standard_channel())
            .expect("url")
            .to_string();
        Self {
            temp,
            home,
            root,
            channel,
            bin: bin.into(),
        }
    }

    /// A path inside the temp dir.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.temp.path().join(rel)
    }

    /// `taipan ARGS` with the isolated environment.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        self.isolate(&mut cmd);
        cmd
    }

    /// Applies the isolated environment to any command.
    pub fn isolate(&self, cmd: &mut Command) {
        for (k, _) in std::env::vars() {
            if k.starts_with("CONDA") || k == "CONDARC" || k.starts_with("XDG_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("HOME", &self.home)
            .env("CONDA_ROOT_PREFIX", &self.root)
            .env("CONDA_OVERRIDE_GLIBC", "2.36")
            .env("CONDA_OVERRIDE_CUDA", "")
            .env("TAIPAN_SYSTEM_CONFIG_DIRS", self.path("etc-conda"))
            .current_dir(self.temp.path());
    }

    /// The same isolation as [`TestContext::isolate`], for a `std::process::Command` (which
    /// can be spawned, run concurrently and signalled).
    pub fn isolate_std(&self, cmd: &mut std::process::Command) {
        for (k, _) in std::env::vars() {
            if k.starts_with("CONDA") || k == "CONDARC" || k.starts_with("XDG_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("HOME", &self.home)
            .env("CONDA_ROOT_PREFIX", &self.root)
            .env("CONDA_OVERRIDE_GLIBC", "2.36")
            .env("CONDA_OVERRIDE_CUDA", "")
            .env("TAIPAN_SYSTEM_CONFIG_DIRS", self.path("etc-conda"))
            .current_dir(self.temp.path());
    }

    /// `taipan` as a `std::process::Command`, isolated.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(&self.bin);
        self.isolate_std(&mut cmd);
        cmd
    }

    /// Runs taipan with `args` as the unprivileged user `nobody` (uid 65534), isolated like
    /// [`TestContext::cmd`], so file permissions apply as they do to users (root ignores
    /// them). The test's directories become enterable by others. `None` when the tests do
    /// not run as root (then the test's own user is unprivileged already).
    pub fn as_nobody<I, S>(&self, args: I) -> Option<(i32, String, String)>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return None;
        }
        use std::os::unix::fs::PermissionsExt;
        for dir in [self.temp.path(), &self.home, &self.root] {
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
        }
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&self.bin)
            .args(args);
        self.isolate_std(&mut cmd);
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("setpriv (util-linux) is needed to run as nobody: {e}"));
        Some((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    /// `create -p PREFIX -c CHANNEL SPECS -y -q`, asserting success.
    pub fn create(&self, env: &str, specs: &[&str]) -> PathBuf {
        let prefix = self.path(env);
        self.cmd()
            .args(["create", "-y", "-q", "-c", &self.channel, "-p"])
            .arg(&prefix)
            .args(specs)
            .assert()
            .success();
        prefix
    }

    /// Names and versions installed in a prefix, sorted.
    pub fn installed(&self, prefix: &Path) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(prefix.join("conda-meta"))
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| {
                        e.file_name()
                            .to_str()
                            .and_then(|n| n.strip_suffix(".json"))
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// Insta filters: temp paths, dates, sizes that depend on compression.
    pub fn filter_pairs(&self) -> Vec<(String, String)> {
        let temp = self.temp.path().display().to_string();
        let channel = standard_channel().display().to_string();
        let channel_name = standard_channel()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        vec![
            (
                regex_escape(&format!("file://{channel}")),
                "[CHANNEL]".into(),
            ),
            (regex_escape(&channel), "[CHANNEL_DIR]".into()),
            (regex_escape(&temp), "[TEMP]".into()),
            (
                r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}".into(),
                "[DATE]".into(),
            ),
            (r"\d+(\.\d)? (KB|bytes)".into(), "[SIZE]".into()),
            // Checksums and sizes of built packages in JSON records.
            (
                r#""md5": "[0-9a-f]{32}""#.into(),
                r#""md5": "[MD5]""#.into(),
            ),
            (
                r#""sha256": "[0-9a-f]{64}""#.into(),
                r#""sha256": "[SHA256]""#.into(),
            ),
            (r#""size": \d+"#.into(), r#""size": "[SIZE]""#.into()),
            (
                r#""indexed_timestamp": \d+"#.into(),
                r#""indexed_timestamp": "[TIMESTAMP]""#.into(),
            ),
            // conda's `Channel.name` of the standard channel: its directory's name (last,
            // after the full paths were replaced).
            (regex_escape(&channel_name), "[CHANNEL_NAME]".into()),
        ]
    }
}

fn regex_escape(s: &str) -> String {
    regex::escape(s)
}

/// A snapshot of every path under a directory, for "unchanged" checks: each file with its
/// mode and the sha256 of its contents, each link with its target, each directory.
pub fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let rel = p.strip_prefix(base).unwrap_or(&p).display().to_string();
        if rel.ends_with(".guard") {
            continue;
        }
        let meta = std::fs::symlink_metadata(&p).expect("metadata");
        if meta.is_dir() {
            out.push(format!("{rel}/"));
            walk(base, &p, out);
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&p).unwrap_or_default();
            out.push(format!("{rel} -> {}", target.display()));
        } else {
            use std::os::unix::fs::PermissionsExt;
            let content = std::fs::read(&p).unwrap_or_default();
            let digest = rattler_digest::compute_bytes_digest::<rattler_digest::Sha256>(&content);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            out.push(format!(
                "{rel} {:o} {} {}",
                meta.permissions().mode() & 0o7777,
                content.len(),
                &hex[..16]
            ));
        }
    }
}

/// Runs `PREFIX/bin/conda ARGS` as a user of an installation would: a clean environment
/// with only `HOME` and a system `PATH`. Returns (code, stdout, stderr).
pub fn installed_conda(home: &Path, prefix: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(prefix.join("bin/conda"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}/bin/conda: {e}", prefix.display()));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A copy of `binary` without its debug symbols, in `dir`, to embed in installers (a debug
/// build is ~300 MB; stripped it is a tenth).
pub fn stripped_copy(binary: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("taipan-embedded");
    let status = std::process::Command::new("strip")
        .arg("-o")
        .arg(&out)
        .arg(binary)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        std::fs::copy(binary, &out)
            .unwrap_or_else(|e| panic!("cannot copy {}: {e}", binary.display()));
    }
    out
}

/// Whether the tests run as root; a root-only test that does not prints why it is skipped.
pub fn root_or_skip(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!(
            "SKIPPED {test}: needs root (it creates users, mounts or runs the package manager); bash .ci/run runs as root"
        );
    }
    root
}

/// Every file a record lists exists, and every file in the prefix belongs to a record.
pub fn assert_consistent(prefix: &Path) {
    let mut owned = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(prefix.join("conda-meta"))
        .unwrap()
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for file in record["files"].as_array().unwrap() {
            let rel = file.as_str().unwrap();
            assert!(
                std::fs::symlink_metadata(prefix.join(rel)).is_ok(),
                "{} lists {rel}, which is missing",
                path.display()
            );
            owned.insert(rel.to_string());
        }
    }
    let mut stack = vec![prefix.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            let rel = p.strip_prefix(prefix).unwrap().display().to_string();
            if rel == "conda-meta" {
                continue;
            }
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                assert!(owned.contains(&rel), "{rel} belongs to no record");
            }
        }
    }
    assert!(!prefix.join(".taipan-transaction").exists());
}

/// Runs a command and returns (code, stdout, stderr).
pub fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

impl TestContext {
    /// Filters borrowed for `insta::with_settings!`.
    pub fn filters(&self) -> Vec<(&'static str, &'static str)> {
        // Leaked once per test: a handful of short strings, fine for a test process.
        self.filter_pairs()
            .into_iter()
            .map(|(a, b)| {
                (
                    &*Box::leak(a.into_boxed_str()),
                    &*Box::leak(b.into_boxed_str()),
                )
            })
            .collect()
    }
}
