//! `kill -9` at every step of a transaction. The debug build's `TAIPAN_TEST_CRASH_AT=N` hook
//! kills the command at its N-th step; for N = 1, 2, … until the command finishes on its own,
//! the prefix must be exactly its old or its new state once the next commands ran, with no
//! journal and no temporary file left, and `conda list` in between must not show a mixed
//! state. (`bench/crash_sweep.py` does the same at random times with large packages.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{output, tree, TestContext};

/// Packages for transactions with every kind of step: replaced files, links, a directory
/// link with files below it, prefix replacement, a link script, noarch python (`.pyc`).
fn channel(ctx: &TestContext) -> String {
    let mut ch = ChannelBuilder::new(&ctx.path("crash-channel"));
    for version in ["1.0", "2.0"] {
        ch.add(
            &PackageBuilder::new("a", version)
                .file(&format!("share/a/{version}.txt"), "a\n")
                .file("share/a/common.txt", format!("a {version}\n"))
                .file("lib/liba.so.1", "ELF a\n")
                .symlink("lib/liba.so", "liba.so.1")
                .text_prefix_file("etc/a.conf", "prefix=@PREFIX@\n"),
            ArchiveFormat::Conda,
        );
    }
    ch.add(
        &PackageBuilder::new("b", "1.0")
            .depends("a")
            .file("share/b/b.txt", "b\n")
            .post_link("echo \"b linked\" >> \"$PREFIX/.messages.txt\"\n"),
        ArchiveFormat::TarBz2,
    );
    ch.add(
        &PackageBuilder::new("failing", "1.0")
            .depends("a")
            .file("share/failing.txt", "f\n")
            .post_link("exit 1\n"),
        ArchiveFormat::Conda,
    );
    ch.add(
        &PackageBuilder::new("c", "1.0")
            .symlink("lib64", "lib")
            .file("lib/c.txt", "c\n"),
        ArchiveFormat::Conda,
    );
    ch.add(
        &PackageBuilder::new("d", "1.0")
            .depends("c")
            .file("lib64/d.txt", "d\n"),
        ArchiveFormat::Conda,
    );
    for (pkg, fmt) in crate::common::standard_packages() {
        if ["python", "pip", "pylib"].contains(&pkg.name()) {
            ch.add(&pkg, fmt);
        }
    }
    ch.index().expect("index the crash channel");
    ch.url().to_string()
}

/// A prefix's state for comparison: the tree, with history's date lines left out, the
/// creation time's content (`conda-meta/created_at`, a timestamp) not compared, and the lock
/// file ignored (`tree` skips it).
fn state(prefix: &Path) -> Vec<String> {
    if !prefix.exists() {
        return vec!["<absent>".into()];
    }
    let mut out: Vec<String> = tree(prefix)
        .into_iter()
        .filter(|l| !l.starts_with("conda-meta/history "))
        .map(|l| {
            if l.starts_with("conda-meta/created_at ") {
                "conda-meta/created_at".to_string()
            } else {
                l
            }
        })
        .collect();
    if let Ok(history) = std::fs::read_to_string(prefix.join("conda-meta/history")) {
        out.extend(
            history
                .lines()
                .filter(|l| !l.starts_with("==>"))
                .map(|l| format!("history: {l}")),
        );
    }
    out
}

struct Sweep<'a> {
    ctx: &'a TestContext,
    url: String,
    prefix: PathBuf,
    template: PathBuf,
}

impl<'a> Sweep<'a> {
    /// Builds the old state with `setup` (none: the prefix does not exist).
    fn new(ctx: &'a TestContext, setup: Option<&[&str]>) -> Self {
        let url = channel(ctx);
        let prefix = ctx.path("env");
        let template = ctx.path("template");
        if let Some(specs) = setup {
            ctx.cmd()
                .args([
                    "create",
                    "-y",
                    "-q",
                    "--override-channels",
                    "-c",
                    &url,
                    "-p",
                ])
                .arg(&prefix)
                .args(specs)
                .assert()
                .success();
            std::fs::rename(&prefix, &template).unwrap();
        }
        Self {
            ctx,
            url,
            prefix,
            template,
        }
    }

    fn restore(&self) {
        let _ = std::fs::remove_dir_all(&self.prefix);
        let _ = std::fs::remove_dir_all(self.ctx.root.join("pkgs"));
        if self.template.exists() {
            let ok = std::process::Command::new("cp")
                .arg("-a")
                .arg(&self.template)
                .arg(&self.prefix)
                .status()
                .unwrap()
                .success();
            assert!(ok);
        }
    }

    fn run(&self, args: &[&str], crash_at: Option<usize>, log: &Path) -> (Option<i32>, String) {
        let mut cmd = self.ctx.cmd();
        cmd.args(args)
            .args(["--override-channels", "-c", &self.url, "-p"])
            .arg(&self.prefix)
            .env("TAIPAN_TEST_CRASH_LOG", log);
        if let Some(n) = crash_at {
            cmd.env("TAIPAN_TEST_CRASH_AT", n.to_string());
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Kills `args` at each of its steps in turn and checks every outcome. Returns the
    /// number of steps.
    fn sweep(&self, args: &[&str]) -> usize {
        let log = self.ctx.path("crash.log");
        self.restore();
        let old = state(&self.prefix);
        let (code, err) = self.run(args, None, &log);
        assert_eq!(code, Some(0), "the command itself fails: {err}");
        let new = state(&self.prefix);
        assert_ne!(old, new, "the command changes nothing");
        let mut seen = BTreeSet::new();
        for n in 1.. {
            self.restore();
            let _ = std::fs::remove_file(&log);
            let (code, err) = self.run(args, Some(n), &log);
            let steps = std::fs::read_to_string(&log).unwrap_or_default();
            let step = steps.lines().last().unwrap_or("").to_string();
            if code.is_some() {
                assert_eq!(code, Some(0), "step {n}: {err}");
                assert_eq!(state(&self.prefix), new);
                assert!(n > 3, "too few steps: {steps}");
                eprintln!("{} steps: {:?}", n - 1, seen);
                return n - 1;
            }
            seen.insert(step.clone());
            self.check_after_kill(n, &step, &old, &new);
        }
        unreachable!()
    }

    /// Kills a command that fails on its own (its transaction is rolled back) at each step:
    /// the prefix always ends in its old state.
    fn sweep_failing(&self, args: &[&str]) -> usize {
        let log = self.ctx.path("crash.log");
        self.restore();
        let old = state(&self.prefix);
        let (code, err) = self.run(args, None, &log);
        assert_eq!(code, Some(1), "the command should fail: {err}");
        assert_eq!(state(&self.prefix), old);
        for n in 1.. {
            self.restore();
            let _ = std::fs::remove_file(&log);
            let (code, err) = self.run(args, Some(n), &log);
            let steps = std::fs::read_to_string(&log).unwrap_or_default();
            let step = steps.lines().last().unwrap_or("").to_string();
            if code.is_some() {
                assert_eq!(code, Some(1), "step {n}: {err}");
                assert!(steps.contains("rollback-restored"), "{steps}");
                eprintln!("{} steps", n - 1);
                return n - 1;
            }
            self.check_after_kill(n, &step, &old, &old);
        }
        unreachable!()
    }

    fn check_after_kill(&self, n: usize, step: &str, old: &[String], new: &[String]) {
        let journal = self.prefix.join(".taipan-transaction").exists();
        // A read-only command shows no mixed state.
        let (code, out, err) = output(self.ctx.cmd().args(["list", "-p"]).arg(&self.prefix));
        if journal {
            assert_eq!(code, 1, "step {n} ({step}): list showed\n{out}");
            assert!(err.contains("CorruptedEnvironmentError"), "{err}");
        }
        // The next commands recover: `env list` finishes removals, a dry run takes the lock.
        self.ctx.cmd().args(["env", "list"]).assert().success();
        let (code, _, err) = output(
            self.ctx
                .cmd()
                .args([
                    "install",
                    "--dry-run",
                    "--override-channels",
                    "-c",
                    &self.url,
                    "-p",
                ])
                .arg(&self.prefix)
                .arg("a"),
        );
        assert!(!err.contains("panicked"), "{err}");
        let _ = code;
        let now = state(&self.prefix);
        assert!(
            now == old || now == new,
            "step {n} ({step}): neither the old nor the new state\n{}",
            diff(&now, if now.len() > old.len() { new } else { old })
        );
        assert!(!self.prefix.join(".taipan-transaction").exists());
        let leftovers: Vec<String> = std::fs::read_dir(self.ctx.temp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("conda-removing"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "step {n} ({step}): {leftovers:?}; registry: {:?}",
            std::fs::read_to_string(self.ctx.home.join(".conda/environments.txt"))
        );
        let pkgs = self.ctx.root.join("pkgs");
        if let Ok(rd) = std::fs::read_dir(&pkgs) {
            let temps: Vec<String> = rd
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| (n.starts_with('.') && n != ".") || n.ends_with(".partial"))
                .collect();
            assert!(
                temps.is_empty(),
                "step {n} ({step}): cache leftovers {temps:?}"
            );
        }
    }
}

fn diff(a: &[String], b: &[String]) -> String {
    let a: BTreeSet<&String> = a.iter().collect();
    let b: BTreeSet<&String> = b.iter().collect();
    let mut out = String::new();
    for x in a.difference(&b) {
        out.push_str(&format!("+ {x}\n"));
    }
    for x in b.difference(&a) {
        out.push_str(&format!("- {x}\n"));
    }
    out
}

#[test]
fn killed_create_is_undone_or_complete() {
    let ctx = TestContext::new();
    let sweep = Sweep::new(&ctx, None);
    let steps = sweep.sweep(&[
        "create",
        "-y",
        "-q",
        "a=1",
        "b",
        "d",
        "pylib",
        "python=3.11",
    ]);
    assert!(steps >= 10, "{steps} steps");
}

#[test]
fn killed_install_is_undone_or_complete() {
    let ctx = TestContext::new();
    let sweep = Sweep::new(&ctx, Some(&["a=1", "b", "pylib", "python=3.11"]));
    sweep.sweep(&["install", "-y", "-q", "a=2", "d"]);
}

#[test]
fn killed_update_is_undone_or_complete() {
    let ctx = TestContext::new();
    let sweep = Sweep::new(&ctx, Some(&["a=1", "b"]));
    std::fs::write(sweep.template.join("conda-meta/history"), {
        // Let `update --all` float `a`: the request named only `b`.
        let h = std::fs::read_to_string(sweep.template.join("conda-meta/history")).unwrap();
        h.replace("# update specs: ['a=1', 'b']", "# update specs: ['b']")
    })
    .unwrap();
    sweep.sweep(&["update", "-y", "-q", "--all"]);
}

#[test]
fn killed_remove_is_undone_or_complete() {
    let ctx = TestContext::new();
    let sweep = Sweep::new(&ctx, Some(&["a=1", "b", "d", "pylib", "python=3.11"]));
    sweep.sweep(&["remove", "-y", "-q", "b", "d", "pylib"]);
}

#[test]
fn killed_remove_all_is_undone_or_complete() {
    let ctx = TestContext::new();
    let sweep = Sweep::new(&ctx, Some(&["a=1", "b", "d"]));
    sweep.sweep(&["remove", "-y", "-q", "--all"]);
}

#[test]
fn killed_rollback_is_finished_by_the_next_command() {
    let ctx = TestContext::new();
    let sweep = Sweep::new(&ctx, Some(&["a=1", "b"]));
    let steps = sweep.sweep_failing(&["install", "-y", "-q", "a=2", "d", "failing"]);
    assert!(steps >= 10, "{steps} steps");
}
