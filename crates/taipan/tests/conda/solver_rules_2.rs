//! conda's solver rules, continued: dependency modifiers (`--no-deps`, `--only-deps`,
//! `--update-deps`, `--freeze-installed`) and python's version.

use crate::solver_rules::{pkg, pkg_build, World};

/// A python-like world: `core` 2.7.3, 2.7.5 and 3.3.2; `numlib` built for each minor.
fn deps_world() -> World {
    World::new(vec![
        pkg("sys", "5.8", &[]),
        pkg("core", "2.7.3", &["sys"]),
        pkg("core", "2.7.5", &["sys"]),
        pkg("core", "3.3.2", &["sys"]),
        pkg("nose", "1.3.0", &["core"]),
        pkg("numlib", "1.5.1", &["core 2.7.*"]),
        pkg("numlib", "1.7.0", &["core 2.7.*", "nose"]),
        pkg("numlib", "1.7.1", &["core 2.7.*", "nose"]),
        pkg("llvm", "3.2", &[]),
        pkg("numba", "0.5.0", &["numlib >=1.7", "llvm"]),
        pkg("numba", "0.8.1", &["numlib >=1.7", "llvm"]),
        pkg("unixodbc", "2.3.1", &[]),
        pkg("iopro", "1.5.0", &["numlib 1.7.*", "unixodbc"]),
        pkg("zope", "4.0.5", &["core 2.7.*"]),
        pkg("zope", "4.1.1", &["core 3.3.*"]),
    ])
}

/// conda's test_no_deps_1: `--no-deps` adds the package alone.
#[test]
fn no_deps_adds_the_package_alone() {
    let w = deps_world();
    w.ok("create", "env", &["core=2"]);
    assert_eq!(w.installed("env"), vec!["core-2.7.5-0", "sys-5.8-0"]);
    w.ok("install", "env", &["--no-deps", "numba"]);
    assert_eq!(
        w.installed("env"),
        vec!["core-2.7.5-0", "numba-0.8.1-0", "sys-5.8-0"]
    );
    w.ok("create", "deps", &["core=2"]);
    w.ok("install", "deps", &["numba"]);
    assert_eq!(
        w.installed("deps"),
        vec![
            "core-2.7.5-0",
            "llvm-3.2-0",
            "nose-1.3.0-0",
            "numba-0.8.1-0",
            "numlib-1.7.1-0",
            "sys-5.8-0"
        ]
    );
}

/// conda's test_only_deps_1 and test_only_deps_2: `--only-deps` installs the dependencies
/// but not the package, and is unsatisfiable exactly when the spec is (a history spec
/// `numlib=1.5` against `numba` needing `numlib >=1.7`), until the user names `numlib`.
#[test]
fn only_deps_is_unsatisfiable_exactly_when_the_spec_is() {
    let w = deps_world();
    w.ok("create", "fresh", &["--only-deps", "numba"]);
    assert_eq!(
        w.installed("fresh"),
        vec![
            "core-2.7.5-0",
            "llvm-3.2-0",
            "nose-1.3.0-0",
            "numlib-1.7.1-0",
            "sys-5.8-0"
        ]
    );
    w.ok("create", "env", &["numlib=1.5", "core=2.7.3"]);
    assert_eq!(
        w.installed("env"),
        vec!["core-2.7.3-0", "numlib-1.5.1-0", "sys-5.8-0"]
    );
    w.fails(
        "install",
        "env",
        &["--only-deps", "numba=0.5"],
        "UnsatisfiableError",
    );
    w.fails("install", "env", &["numba=0.5"], "UnsatisfiableError");
    // Only the requested packages nothing else needs stay out: numba goes, numlib is
    // updated.
    w.ok("install", "env", &["--only-deps", "numba=0.5", "numlib"]);
    assert_eq!(
        w.installed("env"),
        vec![
            "core-2.7.3-0",
            "llvm-3.2-0",
            "nose-1.3.0-0",
            "numlib-1.7.1-0",
            "sys-5.8-0"
        ]
    );
}

/// conda's test_update_deps_1: a plain install adds `iopro` and leaves its dependencies
/// where they are; `--update-deps` moves them to the newest that fit, over their history
/// specs (python-like `core` keeps its minor); with `--only-deps` too, `iopro` itself stays
/// out.
#[test]
fn update_deps_moves_the_dependency_chain() {
    let w = deps_world();
    let base = ["numlib=1.7.0", "core=2.7.3"];
    w.ok("create", "plain", &base);
    w.ok("install", "plain", &["iopro"]);
    assert_eq!(
        w.installed("plain"),
        vec![
            "core-2.7.3-0",
            "iopro-1.5.0-0",
            "nose-1.3.0-0",
            "numlib-1.7.0-0",
            "sys-5.8-0",
            "unixodbc-2.3.1-0"
        ]
    );
    w.ok("create", "deps", &base);
    w.ok("install", "deps", &["--update-deps", "iopro"]);
    assert_eq!(
        w.installed("deps"),
        vec![
            "core-2.7.5-0",
            "iopro-1.5.0-0",
            "nose-1.3.0-0",
            "numlib-1.7.1-0",
            "sys-5.8-0",
            "unixodbc-2.3.1-0"
        ]
    );
    w.ok("create", "only", &base);
    w.ok(
        "install",
        "only",
        &["--update-deps", "--only-deps", "iopro"],
    );
    assert_eq!(
        w.installed("only"),
        vec![
            "core-2.7.5-0",
            "nose-1.3.0-0",
            "numlib-1.7.1-0",
            "sys-5.8-0",
            "unixodbc-2.3.1-0"
        ]
    );
}

/// conda's test_update_deps_2: `update web` is held back by the history spec `tmpl==2.8`;
/// with `--update-deps` the dependency moves too.
#[test]
fn update_deps_lifts_history_specs_of_dependencies() {
    let w = World::new(vec![
        pkg("tmpl", "2.8", &[]),
        pkg("tmpl", "2.10", &[]),
        pkg("web", "0.12", &["tmpl >=2.4"]),
        pkg("web", "0.12.2", &["tmpl >=2.4"]),
        pkg("web", "1.0.2", &["tmpl >=2.10"]),
    ]);
    for env in ["plain", "deps"] {
        w.ok("create", env, &["web==0.12", "tmpl==2.8"]);
        assert_eq!(w.installed(env), vec!["tmpl-2.8-0", "web-0.12-0"]);
    }
    w.ok("update", "plain", &["web"]);
    assert_eq!(w.installed("plain"), vec!["tmpl-2.8-0", "web-0.12.2-0"]);
    w.ok("update", "deps", &["--update-deps", "web"]);
    assert_eq!(w.installed("deps"), vec!["tmpl-2.10-0", "web-1.0.2-0"]);
}

/// conda's test_no_update_deps_1: an installed python-like `core=2` history keeps `zope` at
/// the build for its minor; a `zope` only the next major offers is unsatisfiable until
/// `core` is named too.
#[test]
fn freeze_deps_keeps_the_installed_minor() {
    let w = deps_world();
    w.ok("create", "env", &["core=2"]);
    w.ok("install", "env", &["zope"]);
    assert_eq!(
        w.installed("env"),
        vec!["core-2.7.5-0", "sys-5.8-0", "zope-4.0.5-0"]
    );
    w.fails("install", "env", &["zope>4.1"], "UnsatisfiableError");
    w.ok("install", "env", &["zope>4.1", "core"]);
    assert_eq!(
        w.installed("env"),
        vec!["core-3.3.2-0", "sys-5.8-0", "zope-4.1.1-0"]
    );
}

/// conda's reduced index (the bench's `python=3.7 pandas=0.20` on conda's index4, compared
/// with conda 26.7.1): a requested package whose builds all need another version of a
/// requested name is a conflict, even when one of those builds also needs something no
/// channel has; only what the request can reach counts as missing.
#[test]
fn missing_only_counts_what_the_request_reaches() {
    let w = World::new(vec![
        pkg("core", "2.7.5", &[]),
        pkg("core", "3.7.0", &[]),
        pkg("lib", "1.0", &["core 2.7.*"]),
        pkg_build("lib", "1.0", "1", &["core 2.7.*", "revoked"]),
        pkg("tool", "1.0", &["core", "absent"]),
    ]);
    w.fails("create", "a", &["core=3.7", "lib"], "UnsatisfiableError");
    w.fails(
        "create",
        "b",
        &["core=3.7", "tool"],
        "PackagesNotFoundInChannelsError",
    );
    let (_, _, err) = w.run("create", "b", &["core=3.7", "tool"]);
    assert!(err.contains("- absent"), "{err}");
}
