//! `TestContext`: temp dirs, isolated HOME and root prefix, a standard test channel, and
//! insta filters for paths and times.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

/// An isolated world for one test.
pub struct TestContext {
    pub temp: tempfile::TempDir,
    pub home: PathBuf,
    pub root: PathBuf,
    pub channel: String,
}

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_taipan"))
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

fn build_standard_channel(dir: &Path) {
    let mut channel = ChannelBuilder::new(dir);
    for (pkg, fmt) in standard_packages() {
        channel.add(&pkg, fmt);
    }
    channel.index().expect("index the standard channel");
}

impl TestContext {
    /// A fresh context using the standard channel.
    pub fn new() -> Self {
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
        }
    }

    /// A path inside the temp dir.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.temp.path().join(rel)
    }

    /// `taipan ARGS` with the isolated environment.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(bin());
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
