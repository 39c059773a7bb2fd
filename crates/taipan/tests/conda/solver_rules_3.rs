//! conda's solver rules, continued: aggressive updates, conda in the root prefix, pins,
//! python's major version, inconsistent environments, forced reinstalls.

use crate::solver_rules::{pkg, pkg_build, World};

/// conda's test_aggressive_update_packages: a member of `aggressive_update_packages` floats
/// to the newest whenever the environment changes, over its history spec (`libpng=1.2`) and
/// when it came in as a dependency; with the setting empty it stays; one not installed is
/// not added.
#[test]
fn aggressive_update_packages_float_when_installed() {
    let w = World::new(vec![
        pkg("libpng", "1.2.50", &[]),
        pkg("libpng", "1.5.13", &[]),
        pkg("cmake", "2.8.9", &[]),
        pkg("cmake", "2.8.10.2", &[]),
        pkg("tool", "1.0", &["libpng <1.5"]),
        pkg("tool", "2.0", &["libpng"]),
    ]);
    let on = [("CONDA_AGGRESSIVE_UPDATE_PACKAGES", "libpng")];
    let off = [("CONDA_AGGRESSIVE_UPDATE_PACKAGES", "")];
    let ok = |cmd: &str, env: &str, args: &[&str], vars: &[(&str, &str)]| {
        let (code, out, err) = w.run_env(cmd, env, args, vars);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        w.installed(env)
    };
    for env in ["a", "b"] {
        ok("create", env, &["libpng=1.2"], &off);
    }
    assert_eq!(
        ok("install", "a", &["cmake=2.8.9"], &on),
        vec!["cmake-2.8.9-0", "libpng-1.5.13-0"]
    );
    assert_eq!(
        ok("install", "b", &["cmake=2.8.9"], &off),
        vec!["cmake-2.8.9-0", "libpng-1.2.50-0"]
    );
    assert_eq!(
        ok("install", "b", &["cmake>2.8.9"], &on),
        vec!["cmake-2.8.10.2-0", "libpng-1.5.13-0"]
    );
    // Installed as a dependency, not requested.
    for env in ["c", "d"] {
        ok("create", env, &["tool=1.0"], &off);
    }
    assert_eq!(
        ok("install", "c", &["tool=2.0"], &on),
        vec!["libpng-1.5.13-0", "tool-2.0-0"]
    );
    assert_eq!(
        ok("install", "d", &["tool=2.0"], &off),
        vec!["libpng-1.2.50-0", "tool-2.0-0"]
    );
    // Not installed: not added.
    ok("create", "e", &["cmake=2.8.9"], &off);
    assert_eq!(
        ok("install", "e", &["cmake"], &on),
        vec!["cmake-2.8.10.2-0"]
    );
}

fn conda_world() -> World {
    let w = World::new(vec![
        pkg("conda", "1.3.5", &[]),
        pkg("conda", "1.5.2", &[]),
        pkg("pytz", "2013b", &[]),
        pkg("thing", "1.0", &[]),
        pkg("thing", "2.0", &["conda <1.5"]),
    ]);
    let root = w.prefix("root");
    std::fs::create_dir_all(root.join("conda-meta")).unwrap();
    std::fs::write(root.join("conda-meta/history"), "").unwrap();
    w
}

/// conda's test_auto_update_conda: in the root prefix, `auto_update_conda` floats conda to
/// the newest on any change, over a history spec `conda=1.3`; switched off, or in another
/// environment, conda stays.
#[test]
fn auto_update_conda_floats_conda_in_the_root_only() {
    let w = conda_world();
    let yes = [("CONDA_AUTO_UPDATE_CONDA", "yes")];
    let no = [("CONDA_AUTO_UPDATE_CONDA", "no")];
    let ok = |cmd: &str, env: &str, args: &[&str], vars: &[(&str, &str)]| {
        let (code, out, err) = w.run_env(cmd, env, args, vars);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        w.installed(env)
    };
    ok("install", "root", &["conda=1.3"], &no);
    assert_eq!(
        ok("install", "root", &["pytz"], &no),
        vec!["conda-1.3.5-0", "pytz-2013b-0"]
    );
    assert_eq!(
        ok("install", "root", &["thing=1.0"], &yes),
        vec!["conda-1.5.2-0", "pytz-2013b-0", "thing-1.0-0"]
    );
    ok("create", "env", &["conda=1.3"], &yes);
    assert_eq!(
        ok("install", "env", &["pytz"], &yes),
        vec!["conda-1.3.5-0", "pytz-2013b-0"]
    );
}

/// conda's test_explicit_conda_downgrade and test_conda_downgrade: in the root prefix an
/// explicit older conda is honoured (with `auto_update_conda` on or off), an implicit
/// downgrade never happens (the newest `thing` needs `conda <1.5`, so the older `thing` is
/// taken), also when `conda` is named without a version.
#[test]
fn conda_in_the_root_goes_down_only_when_asked() {
    let w = conda_world();
    for auto in ["yes", "no"] {
        let vars = [("CONDA_AUTO_UPDATE_CONDA", auto)];
        let (code, _, err) = w.run_env("install", "root", &["conda=1.5"], &vars);
        assert_eq!(code, 0, "{err}");
        assert_eq!(w.installed("root"), vec!["conda-1.5.2-0"]);
        let (code, _, err) = w.run_env("install", "root", &["conda=1.3"], &vars);
        assert_eq!(code, 0, "{err}");
        assert_eq!(w.installed("root"), vec!["conda-1.3.5-0"], "{auto}");
    }
    w.ok("install", "root", &["conda=1.5"]);
    w.ok("install", "root", &["thing"]);
    assert_eq!(w.installed("root"), vec!["conda-1.5.2-0", "thing-1.0-0"]);
    w.ok("install", "root", &["thing", "conda"]);
    assert_eq!(w.installed("root"), vec!["conda-1.5.2-0", "thing-1.0-0"]);
    w.ok("install", "root", &["thing=2", "conda<1.5"]);
    assert_eq!(w.installed("root"), vec!["conda-1.3.5-0", "thing-2.0-0"]);
}

fn python_world() -> World {
    let mut pkgs = vec![
        pkg_build("system", "5.8", "0", &[]),
        pkg_build("system", "5.8", "1", &[]).build_number(1),
        pkg("llvm", "3.2", &[]),
    ];
    for (v, py) in [("2.6.8", "py26"), ("2.7.5", "py27"), ("3.3.2", "py33")] {
        let minor = &v[..3];
        let dep = format!("python {minor}.*");
        pkgs.push(pkg("python", v, &["system"]));
        pkgs.push(pkg_build("numlib", "1.7.1", &format!("{py}_0"), &[&dep]));
        pkgs.push(pkg_build(
            "numba",
            "0.8.1",
            &format!("np17{py}_0"),
            &[&dep, "numlib 1.7.*", "llvm"],
        ));
    }
    pkgs.push(pkg_build(
        "sklearn",
        "0.13",
        "py27_0",
        &["python 2.7.*", "numlib"],
    ));
    World::new(pkgs)
}

/// conda's test_pinned_1: a pin in `conda-meta/pinned` (`python=2.6`) holds on install and
/// `--update-deps` (`--no-pin` lifts it); a request that needs another python is refused; a
/// build pin (`system=5.8=0`) holds, a version pin (`system=5.8`) lets `update --all` take the
/// highest build inside it; without pins, naming python moves it to the next major.
#[test]
fn pins_hold_and_updates_take_the_highest_build_inside_them() {
    let w = python_world();
    let pin = |env: &str, pins: &str| {
        std::fs::write(w.prefix(env).join("conda-meta/pinned"), pins).unwrap();
    };
    for env in ["a", "b", "c"] {
        w.ok("create", env, &["system=5.8=0"]);
        pin(env, "python=2.6\n");
    }
    w.ok("install", "a", &["--no-pin", "python"]);
    assert_eq!(w.installed("a"), vec!["python-3.3.2-0", "system-5.8-0"]);
    w.ok("install", "b", &["python"]);
    assert_eq!(w.installed("b"), vec!["python-2.6.8-0", "system-5.8-0"]);
    // Only the pin stands in the way (python is not installed yet): conda's classic
    // SpecsConfigurationConflictError naming the request and the pin.
    let (code, out, err) = w.run("install", "c", &["sklearn==0.13"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("SpecsConfigurationConflictError")
            && err.contains("- sklearn==0.13")
            && err.contains("- python=2.6"),
        "{err}"
    );
    w.ok("install", "b", &["numba"]);
    let numba_26 = [
        "llvm-3.2-0",
        "numba-0.8.1-np17py26_0",
        "numlib-1.7.1-py26_0",
        "python-2.6.8-0",
    ];
    assert_eq!(
        w.installed("b"),
        [&numba_26[..], &["system-5.8-0"]].concat()
    );
    w.ok("install", "b", &["--update-deps", "python"]);
    assert_eq!(
        w.installed("b"),
        [&numba_26[..], &["system-5.8-1"]].concat()
    );
    // A build pin holds on update --all; a version pin takes the highest build.
    w.ok("install", "c", &["python", "numba"]);
    pin("c", "python=2.6\nsystem=5.8=0\n");
    w.ok("update", "c", &["--all"]);
    assert_eq!(
        w.installed("c"),
        [&numba_26[..], &["system-5.8-0"]].concat()
    );
    pin("c", "python=2.6\nsystem=5.8\n");
    w.ok("update", "c", &["--all"]);
    assert_eq!(
        w.installed("c"),
        [&numba_26[..], &["system-5.8-1"]].concat()
    );
    // Without pins, naming python with update --all moves it across majors.
    pin("c", "");
    w.ok("update", "c", &["--all", "python"]);
    assert_eq!(
        w.installed("c"),
        vec![
            "llvm-3.2-0",
            "numba-0.8.1-np17py33_0",
            "numlib-1.7.1-py33_0",
            "python-3.3.2-0",
            "system-5.8-1"
        ]
    );
}

/// conda's test_python2_update: a requested python of another major takes the environment
/// with it (packages rebuilt for it), over the history spec `python=2`; unrequested, python
/// keeps its minor.
#[test]
fn python_moves_major_only_when_requested() {
    let w = python_world();
    w.ok("create", "env", &["numlib", "python=2"]);
    assert_eq!(
        w.installed("env"),
        vec!["numlib-1.7.1-py27_0", "python-2.7.5-0", "system-5.8-1"]
    );
    w.ok("install", "env", &["numba"]);
    assert!(w.installed("env").contains(&"python-2.7.5-0".to_string()));
    w.ok("install", "env", &["python=3.3"]);
    assert_eq!(
        w.installed("env"),
        vec![
            "llvm-3.2-0",
            "numba-0.8.1-np17py33_0",
            "numlib-1.7.1-py33_0",
            "python-3.3.2-0",
            "system-5.8-1"
        ]
    );
}

/// conda's test_broken_install: in an inconsistent environment (`num` replaced by a build
/// for another `core`), an unrelated install keeps the broken package as it is; naming it
/// repairs it.
#[test]
fn broken_install_keeps_what_the_request_does_not_touch() {
    let w = World::new(vec![
        pkg("core", "2.7.5", &[]),
        pkg("core", "3.3.2", &[]),
        pkg("num", "1.6.2", &["core 2.7.*"]),
        pkg("num", "1.7.1", &["core 3.3.*"]),
        pkg("frame", "0.11.0", &["num 1.6.*", "core 2.7.*"]),
        pkg("web", "0.9", &["core 2.7.*"]),
    ]);
    let consistent = ["core-2.7.5-0", "frame-0.11.0-0", "num-1.6.2-0"];
    // As conda's test does, the installed record is swapped for the other build.
    w.ok("create", "src", &["num=1.7.1"]);
    let record = "conda-meta/num-1.7.1-0.json";
    for env in ["a", "b"] {
        w.ok("create", env, &["frame=0.11", "core=2.7"]);
        assert_eq!(w.installed(env), consistent);
        std::fs::remove_file(w.prefix(env).join("conda-meta/num-1.6.2-0.json")).unwrap();
        std::fs::copy(w.prefix("src").join(record), w.prefix(env).join(record)).unwrap();
    }
    w.ok("install", "a", &["web"]);
    assert_eq!(
        w.installed("a"),
        vec!["core-2.7.5-0", "frame-0.11.0-0", "num-1.7.1-0", "web-0.9-0"]
    );
    w.ok("install", "b", &["web", "num 1.6.*"]);
    assert_eq!(
        w.installed("b"),
        vec!["core-2.7.5-0", "frame-0.11.0-0", "num-1.6.2-0", "web-0.9-0"]
    );
}

/// conda's test_force_reinstall_1 and _2: asking again for what is installed changes
/// nothing; `--force-reinstall` relinks the named package (one unlink, one link of the
/// same record); on a new environment it is a plain install.
#[test]
fn force_reinstall_relinks_only_the_named_package() {
    let w = World::new(vec![pkg("core", "2.7.5", &["sys"]), pkg("sys", "5.8", &[])]);
    let plan = |cmd: &str, args: &[&str]| {
        let (code, out, err) = w.run(cmd, "env", &[&["--dry-run", "--json"][..], args].concat());
        assert_eq!(code, 0, "{out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let names = |key: &str| -> Vec<String> {
            v["actions"][key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|d| d["dist_name"].as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        (names("UNLINK"), names("LINK"))
    };
    w.ok("create", "env", &[]);
    let (unlink, link) = plan("install", &["--force-reinstall", "core=2"]);
    assert!(unlink.is_empty(), "{unlink:?}");
    assert_eq!(link.len(), 2, "{link:?}");
    w.ok("install", "env", &["core=2"]);
    let nothing: (Vec<String>, Vec<String>) = (vec![], vec![]);
    assert_eq!(plan("install", &["core=2"]), nothing);
    let (unlink, link) = plan("install", &["--force-reinstall", "core=2"]);
    assert_eq!(unlink, link);
    assert_eq!(link.len(), 1, "{link:?}");
    assert_eq!(plan("install", &["core=2"]), nothing);
}

/// conda's test_freeze_deps_1: with history `six=1.7 python=3.4`, `bokeh` resolves to the
/// newest build for the installed python; a `bokeh` only other pythons offer is
/// unsatisfiable (also with `--freeze-installed`) until python is named, and then six's
/// history spec keeps python at the minor that has it; `--freeze-installed` adds only what
/// is needed.
#[test]
fn freeze_installed_adds_nothing_unneeded() {
    let mut pkgs = Vec::new();
    for v in ["2.7.13", "3.4.5", "3.6.2"] {
        pkgs.push(pkg("python", v, &[]));
    }
    pkgs.extend([
        pkg_build("six", "1.7.3", "py27_0", &["python 2.7.*"]),
        pkg_build("six", "1.7.3", "py34_0", &["python 3.4.*"]),
        pkg_build("six", "1.10.0", "py36_0", &["python 3.6.*"]),
        pkg_build("bokeh", "0.12.4", "py34_0", &["python 3.4.*", "six"]),
        pkg_build("bokeh", "0.12.5", "py27_1", &["python 2.7.*", "six"]),
        pkg_build("bokeh", "0.12.5", "py36_1", &["python 3.6.*", "six"]),
    ]);
    let w = World::new(pkgs);
    let base = ["python-3.4.5-0", "six-1.7.3-py34_0"];
    for env in ["a", "b", "c"] {
        w.ok("create", env, &["six=1.7", "python=3.4"]);
        assert_eq!(w.installed(env), base);
    }
    w.ok("install", "a", &["bokeh"]);
    assert_eq!(
        w.installed("a"),
        [&["bokeh-0.12.4-py34_0"][..], &base].concat()
    );
    w.ok("install", "c", &["--freeze-installed", "bokeh"]);
    assert_eq!(
        w.installed("c"),
        [&["bokeh-0.12.4-py34_0"][..], &base].concat()
    );
    w.fails("install", "b", &["bokeh=0.12.5"], "UnsatisfiableError");
    w.fails(
        "install",
        "b",
        &["--freeze-installed", "bokeh=0.12.5"],
        "UnsatisfiableError",
    );
    w.ok("install", "b", &["bokeh=0.12.5", "python"]);
    assert_eq!(
        w.installed("b"),
        vec!["bokeh-0.12.5-py27_1", "python-2.7.13-0", "six-1.7.3-py27_0"]
    );
}
