//! conda's solver rules (Part 9), each situation built with the test kit and checked
//! through the CLI against the environment conda's own tests expect.

use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{output, TestContext};

fn channel(ctx: &TestContext, dir: &str, pkgs: Vec<PackageBuilder>) -> String {
    let mut ch = ChannelBuilder::new(&ctx.path(dir));
    for p in pkgs {
        ch.add(&p, ArchiveFormat::Conda);
    }
    ch.index().unwrap();
    ch.url().to_string()
}

/// conda's `update --all` takes versioned specs too (`conda update --all numba=0.6`): they
/// hold while everything else moves to the newest; a plain `update` takes names only
/// (`CondaUpdatePackageError`).
#[test]
fn update_all_takes_versioned_specs() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app=1", "leaf"]);
    let update = |args: &[&str]| {
        output(
            ctx.cmd()
                .args(["update", "-y", "-q", "-c", &ctx.channel, "-p"])
                .arg(&prefix)
                .args(args),
        )
    };
    let (code, _, err) = update(&["dep=1"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("CondaUpdatePackageError: `conda update` only supports name-only spec, but received: dep=1"),
        "{err}"
    );
    let (code, _, err) = update(&["--all", "dep=1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        ctx.installed(&prefix),
        vec!["app-1.0-0", "dep-1.0-0", "leaf-1.0-0"]
    );
    let (code, _, err) = update(&["--all"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        ctx.installed(&prefix),
        vec!["app-2.0-0", "dep-2.0-0", "leaf-1.0-0"]
    );
}

/// Specs that select by key with a wildcard name (`*[track_features=mkl]`) and `remove
/// --features mkl` remove the packages that track the feature, and only those.
#[test]
fn remove_by_track_feature() {
    let ctx = TestContext::new();
    let ch = channel(
        &ctx,
        "features",
        vec![
            PackageBuilder::new("fast", "1.0")
                .noarch_generic()
                .track_feature("mkl"),
            PackageBuilder::new("fast-too", "1.0")
                .noarch_generic()
                .track_feature("mkl"),
            PackageBuilder::new("plain", "1.0").noarch_generic(),
        ],
    );
    let make = |env: &str| {
        let prefix = ctx.path(env);
        ctx.cmd()
            .args(["create", "-y", "-q", "--override-channels", "-c", &ch, "-p"])
            .arg(&prefix)
            .args(["fast", "fast-too", "plain"])
            .assert()
            .success();
        prefix
    };
    let a = make("a");
    ctx.cmd()
        .args(["remove", "-y", "-q", "--features", "-p"])
        .arg(&a)
        .arg("mkl")
        .assert()
        .success();
    assert_eq!(ctx.installed(&a), vec!["plain-1.0-0"]);
    let b = make("b");
    ctx.cmd()
        .args(["remove", "-y", "-q", "-p"])
        .arg(&b)
        .arg("*[track_features=mkl]")
        .assert()
        .success();
    assert_eq!(ctx.installed(&b), vec!["plain-1.0-0"]);
    // A feature nothing tracks: the not-installed error, nothing removed.
    let (code, _, err) = output(
        ctx.cmd()
            .args(["remove", "-y", "--features", "-p"])
            .arg(&b)
            .arg("nosuch"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("PackagesNotFoundInPrefixError") || err.contains("missing"),
        "{err}"
    );
    assert_eq!(ctx.installed(&b), vec!["plain-1.0-0"]);
}

// ---------------------------------------------------------------------------------------------
// Helpers for the rules below: a channel of small noarch packages, commands against it.
// ---------------------------------------------------------------------------------------------

/// A noarch package with dependencies.
pub(crate) fn pkg(name: &str, version: &str, deps: &[&str]) -> PackageBuilder {
    deps.iter().fold(
        PackageBuilder::new(name, version).noarch_generic(),
        |p, d| p.depends(d),
    )
}

/// A noarch package with a build string and number.
pub(crate) fn pkg_build(name: &str, version: &str, build: &str, deps: &[&str]) -> PackageBuilder {
    let n = build
        .rsplit('_')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    pkg(name, version, deps).build(build).build_number(n)
}

/// A test world: its context and one channel.
pub(crate) struct World {
    pub ctx: TestContext,
    pub ch: String,
}

impl World {
    pub fn new(pkgs: Vec<PackageBuilder>) -> Self {
        let ctx = TestContext::new();
        let ch = channel(&ctx, "rules", pkgs);
        Self { ctx, ch }
    }

    /// `taipan CMD -y -q --override-channels -c CH -p ENV ARGS` with extra variables.
    pub fn run_env(
        &self,
        cmd: &str,
        env: &str,
        args: &[&str],
        vars: &[(&str, &str)],
    ) -> (i32, String, String) {
        let mut c = self.ctx.cmd();
        // conda's solver tests run without pip as a python dependency.
        c.env("CONDA_ADD_PIP_AS_PYTHON_DEPENDENCY", "false")
            .args([cmd, "-y", "-q", "--override-channels", "-c", &self.ch, "-p"])
            .arg(self.prefix(env))
            .args(args);
        for (k, v) in vars {
            c.env(k, v);
        }
        output(&mut c)
    }

    pub fn run(&self, cmd: &str, env: &str, args: &[&str]) -> (i32, String, String) {
        self.run_env(cmd, env, args, &[])
    }

    /// Runs and asserts success.
    pub fn ok(&self, cmd: &str, env: &str, args: &[&str]) {
        let (code, out, err) = self.run(cmd, env, args);
        assert_eq!(code, 0, "{cmd} {args:?}: {out}{err}");
    }

    /// Runs and asserts conda's `UnsatisfiableError` (or another named failure), nothing
    /// changed.
    pub fn fails(&self, cmd: &str, env: &str, args: &[&str], error: &str) {
        let before = self.installed(env);
        let (code, out, err) = self.run(cmd, env, args);
        assert_eq!(code, 1, "{cmd} {args:?} must fail: {out}{err}");
        assert!(err.contains(error), "{cmd} {args:?}: {err}");
        assert_eq!(self.installed(env), before);
    }

    pub fn prefix(&self, env: &str) -> std::path::PathBuf {
        self.ctx.path(env)
    }

    pub fn installed(&self, env: &str) -> Vec<String> {
        self.ctx.installed(&self.prefix(env))
    }
}

/// The core of a python-like stack: `core` (two minors), with `lib`s depending on it.
fn prune_world() -> World {
    World::new(vec![
        pkg("core", "2.7.3", &["sys"]),
        pkg("core", "2.7.5", &["sys"]),
        pkg("sys", "5.8", &[]),
        pkg("numlib", "1.7.1", &["core 2.7.*"]),
        pkg("accel", "1.1.0", &["numlib", "mkl", "numbapro"]),
        pkg("numbapro", "0.11.0", &["numlib", "llvm"]),
        pkg("llvm", "3.2", &[]),
        pkg("mkl", "11.0", &[]),
        pkg_build("numexpr", "2.0.1", "b_2", &["numlib"]),
        pkg_build("numexpr", "2.0.1", "b_3", &["numlib"]),
    ])
}

/// conda's test_update_prune_1..4: `--prune` solves the request alone (history and the
/// installed packages are not considered) and drops what it does not need, also with
/// `--freeze-installed`, and keeps what the remaining specs still need (test_update_prune_3).
#[test]
fn prune_drops_what_only_history_needed() {
    let w = prune_world();
    let full = [
        "accel-1.1.0-0",
        "core-2.7.3-0",
        "llvm-3.2-0",
        "mkl-11.0-0",
        "numbapro-0.11.0-0",
        "numlib-1.7.1-0",
        "sys-5.8-0",
    ];
    for (env, args, want) in [
        (
            "p1",
            &["core=2.7.3"][..],
            &["core-2.7.3-0", "sys-5.8-0"][..],
        ),
        (
            "p3",
            &["numlib", "core=2.7.3"][..],
            &["core-2.7.3-0", "numlib-1.7.1-0", "sys-5.8-0"][..],
        ),
        (
            "p4",
            &["--freeze-installed", "core=2.7.3"][..],
            &["core-2.7.3-0", "sys-5.8-0"][..],
        ),
    ] {
        w.ok("create", env, &["numlib", "core=2.7.3", "accel"]);
        assert_eq!(w.installed(env), full);
        w.ok("install", env, &[&["--prune"][..], args].concat());
        assert_eq!(w.installed(env), want, "{env}");
    }
    // Without --prune, history keeps everything.
    w.ok("create", "keep", &["numlib", "core=2.7.3", "accel"]);
    w.ok("install", "keep", &["core=2.7.3"]);
    assert_eq!(w.installed("keep"), full);
}

/// conda's test_update_prune_5: with `--prune` the installed build a history spec pinned does
/// not constrain the request.
#[test]
fn prune_ignores_installed_builds() {
    let w = prune_world();
    w.ok("create", "env", &["core=2.7", "numexpr==2.0.1=b_3"]);
    w.ok(
        "install",
        "env",
        &["--prune", "core=2.7", "numexpr==2.0.1=b_2"],
    );
    assert_eq!(
        w.installed("env"),
        vec![
            "core-2.7.5-0",
            "numexpr-2.0.1-b_2",
            "numlib-1.7.1-0",
            "sys-5.8-0"
        ]
    );
}

/// conda's test_prune_1 (the removal part) and test_remove_with_constrained_dependencies:
/// removing a package removes what depends on it, even when requested, and the dependencies
/// nothing else needs; what history asked for stays.
#[test]
fn remove_takes_dependents_and_orphans() {
    let w = prune_world();
    w.ok("create", "env", &["numlib", "core=2.7.3", "accel"]);
    w.ok("remove", "env", &["numbapro"]);
    assert_eq!(
        w.installed("env"),
        vec!["core-2.7.3-0", "numlib-1.7.1-0", "sys-5.8-0"]
    );
}

/// conda's test_force_remove_1: removing `core` takes its dependents and orphaned
/// dependencies, but an installed `aggressive_update_packages` member (openssl) stays;
/// `--force` removes the named package only, and a later solve puts it back.
#[test]
fn force_remove_removes_only_the_named_package() {
    let w = World::new(vec![
        pkg("core", "2.7.5", &["sys", "openssl"]),
        pkg("sys", "5.8", &[]),
        pkg("openssl", "1.0.1", &[]),
        pkg("numlib", "1.7.1", &["core 2.7.*"]),
    ]);
    let all = [
        "core-2.7.5-0",
        "numlib-1.7.1-0",
        "openssl-1.0.1-0",
        "sys-5.8-0",
    ];
    w.ok("create", "a", &["numlib"]);
    assert_eq!(w.installed("a"), all);
    w.ok("remove", "a", &["core"]);
    assert_eq!(w.installed("a"), vec!["openssl-1.0.1-0"]);
    w.ok("create", "b", &["numlib"]);
    w.ok("remove", "b", &["--force", "core"]);
    assert_eq!(
        w.installed("b"),
        vec!["numlib-1.7.1-0", "openssl-1.0.1-0", "sys-5.8-0"]
    );
    w.ok("update", "b", &["--all"]);
    assert_eq!(w.installed("b"), all);
}
