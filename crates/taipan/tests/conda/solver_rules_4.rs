//! conda's solver rules, continued: virtual packages (`__cuda`, `__glibc`), unfreezing,
//! timestamps, channel churn, explicit specs over history.

use crate::solver_rules::{pkg, pkg_build, World};

/// conda's cuda index: toolkits that need a driver, a package that only constrains it, one
/// that needs cuda and constrains glibc.
fn cuda_world() -> World {
    World::new(vec![
        pkg("cudatoolkit", "9.0", &["__cuda >=9.0"]),
        pkg("cudatoolkit", "10.0", &["__cuda >=10.0"]),
        pkg("cuda-constrain", "10.0", &[]).constrains("__cuda >=10.0,<11"),
        pkg("cuda-constrain", "11.0", &[]).constrains("__cuda >=11.0,<12"),
        pkg("cuda-glibc", "10.0", &["__cuda >=10.0,<11"]).constrains("__glibc >=2.17"),
        pkg("python", "2.7.5", &["readline 6.2"]),
        pkg("readline", "5.0", &[]),
        pkg("readline", "6.2", &[]),
    ])
}

/// Creates `env` from `spec` with the machine the variables describe.
fn solve_on(w: &World, env: &str, spec: &[&str], vars: &[(&str, &str)]) -> (i32, String) {
    let (code, out, err) = w.run_env("create", env, spec, vars);
    (code, format!("{out}{err}"))
}

/// conda's test_cuda_1, test_cuda_2, test_virtual_package_solver: the toolkit the driver
/// allows (`CONDA_OVERRIDE_CUDA`), the newest when both fit.
#[test]
fn cuda_toolkit_follows_the_driver() {
    let w = cuda_world();
    for (cuda, want) in [("9.2", "cudatoolkit-9.0-0"), ("10.0", "cudatoolkit-10.0-0")] {
        let env = format!("cuda{cuda}");
        let (code, out) = solve_on(&w, &env, &["cudatoolkit"], &[("CONDA_OVERRIDE_CUDA", cuda)]);
        assert_eq!(code, 0, "{out}");
        assert_eq!(w.installed(&env), vec![want]);
    }
}

/// conda's test_cuda_fail_1 and test_cuda_fail_2: no toolkit fits an 8.0 driver, or a
/// machine without one: conda's "incompatible with your system" and the installed version.
#[test]
fn cuda_toolkit_fails_on_the_wrong_system() {
    let w = cuda_world();
    for (cuda, installed) in [("8.0", "8.0"), ("", "not available")] {
        let (code, out) = solve_on(
            &w,
            "env",
            &["cudatoolkit"],
            &[("CONDA_OVERRIDE_CUDA", cuda)],
        );
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("UnsatisfiableError: The following specifications were found to be incompatible with your system:"), "{out}");
        // The rattler-solver's expectations in conda's test.
        assert!(
            out.contains("cudatoolkit * cannot be installed because there are no viable options:"),
            "{out}"
        );
        assert!(
            out.contains("__cuda >=9.0, for which no candidates were found."),
            "{out}"
        );
        assert!(
            out.contains(&format!("Your installed version is: {installed}")),
            "{out}"
        );
        assert!(!w.prefix("env").exists());
    }
}

/// conda's test_cuda_constrain_absent/_sat/_unsat: a constraint on `__cuda` does not need a
/// driver; with one, it must fit.
#[test]
fn cuda_constraints_apply_only_with_a_driver() {
    let w = cuda_world();
    for (cuda, want) in [
        ("", "cuda-constrain-11.0-0"),
        ("10.0", "cuda-constrain-10.0-0"),
    ] {
        let env = format!("c{cuda}");
        let (code, out) = solve_on(
            &w,
            &env,
            &["cuda-constrain"],
            &[("CONDA_OVERRIDE_CUDA", cuda)],
        );
        assert_eq!(code, 0, "{out}");
        assert_eq!(w.installed(&env), vec![want]);
    }
    let (code, out) = solve_on(
        &w,
        "c8",
        &["cuda-constrain"],
        &[("CONDA_OVERRIDE_CUDA", "8.0")],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("incompatible with your system"), "{out}");
    assert!(out.contains("Your installed version is: 8.0"), "{out}");
}

/// conda's test_cuda_glibc_sat/_unsat_depend/_unsat_constrain: both the dependency on the
/// driver and the constraint on the C library must hold.
#[test]
fn cuda_and_glibc_both_hold() {
    let w = cuda_world();
    let machine = |cuda, glibc| {
        [
            ("CONDA_OVERRIDE_CUDA", cuda),
            ("CONDA_OVERRIDE_GLIBC", glibc),
        ]
    };
    let (code, out) = solve_on(&w, "sat", &["cuda-glibc"], &machine("10.0", "2.23"));
    assert_eq!(code, 0, "{out}");
    assert_eq!(w.installed("sat"), vec!["cuda-glibc-10.0-0"]);
    let (code, out) = solve_on(&w, "dep", &["cuda-glibc"], &machine("8.0", "2.23"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Your installed version is: 8.0"), "{out}");
    let (code, out) = solve_on(&w, "con", &["cuda-glibc"], &machine("10.0", "2.12"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("UnsatisfiableError"), "{out}");
    assert!(out.contains("Your installed version is: 2.12"), "{out}");
}

/// conda's test_solve_msgs_exclude_vp: a conflict between packages says nothing about the
/// machine's virtual packages.
#[test]
fn conflict_messages_leave_out_unrelated_virtual_packages() {
    let w = cuda_world();
    let (code, out) = solve_on(
        &w,
        "env",
        &["python=2.7.5", "readline=5.0"],
        &[("CONDA_OVERRIDE_CUDA", "10.0")],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("incompatible with each other"), "{out}");
    assert!(!out.contains("__cuda"), "{out}");
}

/// conda's test_unfreeze_when_required: `qux` needs the older `foobar`; installing it into
/// an environment with the newest `foobar` moves `foobar` back instead of failing.
#[test]
fn installed_packages_unfreeze_when_the_request_needs_it() {
    let w = World::new(vec![
        pkg("libfoo", "1.0", &[]),
        pkg("libfoo", "2.0", &[]),
        pkg("libbar", "1.0", &[]),
        pkg("libbar", "2.0", &[]),
        pkg("foobar", "1.0", &["libfoo 1.0", "libbar 2.0"]),
        pkg("foobar", "2.0", &["libfoo 2.0", "libbar 2.0"]),
        pkg("qux", "1.0", &["libfoo 1.0", "libbar 2.0"]),
        pkg("qux", "2.0", &["libfoo 2.0", "libbar 1.0"]),
    ]);
    let both = ["foobar-1.0-0", "libbar-2.0-0", "libfoo-1.0-0", "qux-1.0-0"];
    w.ok("create", "both", &["foobar", "qux"]);
    assert_eq!(w.installed("both"), both);
    w.ok("create", "env", &["foobar"]);
    assert_eq!(
        w.installed("env"),
        vec!["foobar-2.0-0", "libbar-2.0-0", "libfoo-2.0-0"]
    );
    w.ok("install", "env", &["qux"]);
    assert_eq!(w.installed("env"), both);
}

/// conda's test_timestamps_1: between two builds with the same version and build number the
/// later one wins, whatever its build string.
#[test]
fn the_later_build_wins_a_tie() {
    let w = World::new(vec![
        pkg_build("python", "3.6.2", "hca45abc_19", &[]).timestamp_ms(1_530_000_000_000),
        pkg_build("python", "3.6.2", "hda45abc_19", &[]).timestamp_ms(1_520_000_000_000),
    ]);
    w.ok("create", "env", &["python=3.6.2"]);
    assert_eq!(w.installed("env"), vec!["python-3.6.2-hca45abc_19"]);
}

/// conda's test_fast_update_with_update_modifier_not_set: naming `python` again replaces the
/// history's `python=2`, so python moves to 3 and its dependencies follow; naming a
/// dependency (`sqlite`) updates it while python stays at 2, where the history holds it.
#[test]
fn a_new_spec_replaces_the_history_spec_of_the_same_name() {
    let w = World::new(vec![
        pkg("python", "2.7.14", &["sqlite >=3.20", "openssl 1.0.*"]),
        pkg("python", "3.6.4", &["sqlite >=3.20", "openssl 1.0.*"]),
        pkg("sqlite", "3.21.0", &[]),
        pkg("sqlite", "3.24.0", &[]),
        pkg("openssl", "1.0.2l", &[]),
        pkg("openssl", "1.0.2p", &[]),
    ]);
    for env in ["a", "b"] {
        w.ok(
            "create",
            env,
            &["python=2", "openssl==1.0.2l", "sqlite=3.21"],
        );
    }
    w.ok("install", "a", &["python"]);
    let a = w.installed("a");
    assert!(a.contains(&"python-3.6.4-0".to_string()), "{a:?}");
    w.ok("install", "b", &["sqlite"]);
    let b = w.installed("b");
    assert!(b.contains(&"python-2.7.14-0".to_string()), "{b:?}");
    assert!(b.contains(&"sqlite-3.24.0-0".to_string()), "{b:?}");
}

/// conda's test_downgrade_python_prevented_with_sane_message: a package that needs another
/// python than the history's `python=2.6` fails, naming both, and nothing changes.
#[test]
fn history_python_is_not_changed_implicitly() {
    let w = World::new(vec![
        pkg("python", "2.6.8", &[]),
        pkg("python", "2.7.5", &[]),
        pkg("scikit-learn", "0.13", &["python 2.7*"]),
    ]);
    w.ok("create", "env", &["python=2.6"]);
    let before = w.installed("env");
    let (code, out, err) = w.run("install", "env", &["scikit-learn==0.13"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("UnsatisfiableError"), "{err}");
    assert!(err.contains("python") && err.contains("2.6"), "{err}");
    assert!(
        err.contains("scikit-learn") && err.contains("0.13"),
        "{err}"
    );
    assert_eq!(w.installed("env"), before);
}

/// conda's test_indirect_dep_optimized_by_version_over_package_count: a newer metapackage
/// with fewer dependencies is preferred; the packages only the old one needed go.
#[test]
fn a_newer_metapackage_wins_over_fewer_changes() {
    let w = World::new(vec![
        pkg(
            "anaconda",
            "1.4.0",
            &["_impl 1.0", "bzip2", "zeromq 2.2.0 0"],
        ),
        pkg("anaconda", "1.5.0", &["_impl 2.0"]),
        pkg("_impl", "1.0", &["bzip2"]),
        pkg("_impl", "2.0", &[]),
        pkg("bzip2", "1.0.6", &[]),
        pkg_build("zeromq", "2.2.0", "0", &[]),
        pkg_build("zeromq", "2.2.0", "1", &[]),
    ]);
    w.ok("create", "env", &["anaconda=1.4"]);
    assert!(w.installed("env").contains(&"zeromq-2.2.0-0".to_string()));
    // conda's solver test runs with `UPDATE_SPECS`; conda's `install` freezes first and
    // changes nothing here (checked with conda 26.7.1), so does taipan.
    w.ok("install", "env", &["zeromq", "anaconda"]);
    assert!(w.installed("env").contains(&"anaconda-1.4.0-0".to_string()));
    w.ok("install", "env", &["--update-specs", "zeromq", "anaconda"]);
    assert_eq!(
        w.installed("env"),
        vec!["_impl-2.0-0", "anaconda-1.5.0-0", "zeromq-2.2.0-1"]
    );
}

/// conda's test_globstr_matchspec_compatible/_non_compatible: two specs for one name must
/// both hold; compatible build globs solve, incompatible ones fail without changing anything.
#[test]
fn two_build_globs_for_one_name_must_both_match() {
    let w = World::new(vec![
        pkg_build("accelerate", "1.0.0", "np17py27_p0", &[]),
        pkg_build("accelerate", "1.0.0", "np16py27_p0", &[]),
        pkg_build("accelerate", "1.0.0", "np15py26_p0", &[]),
    ]);
    for (env, specs) in [
        ("a", ["accelerate=*=np17*", "accelerate=*=*np17*"]),
        ("b", ["accelerate=*=np17*", "accelerate=*=np17py27*"]),
    ] {
        w.ok("create", env, &specs);
        assert_eq!(w.installed(env), vec!["accelerate-1.0.0-np17py27_p0"]);
    }
    for specs in [
        ["accelerate=*=np17*", "accelerate=*=np16*"],
        ["accelerate=*=np17*", "accelerate=*=*np16*"],
        ["accelerate=*=*np15*", "accelerate=*=*py27*"],
    ] {
        let (code, out, err) = w.run("create", "bad", &specs);
        assert_eq!(code, 1, "{specs:?}: {out}{err}");
        assert!(!w.prefix("bad").exists());
    }
}

/// conda's test_pinned_specs_CONDA_PINNED_PACKAGES, _conda_meta_pinned, _condarc and _all:
/// pins from `CONDA_PINNED_PACKAGES` (`&`-separated), `conda-meta/pinned` and the active
/// environment's `.condarc` (`config --env --add pinned_packages`) all hold at once; a pin
/// does not install its package; `--no-pin` lifts them.
#[test]
fn pins_from_every_source_hold_together() {
    let w = World::new(vec![
        pkg("numpy", "1.11", &[]),
        pkg("numpy", "1.12", &[]),
        pkg("python", "2.7.15", &[]),
        pkg("python", "3.6.5", &[]),
        pkg("scipy", "0.14.2", &[]),
        pkg("scipy", "0.15.1", &[]),
        pkg("requests", "2.13.0", &[]),
        pkg("requests", "2.14.2", &[]),
        pkg("openjdk", "8.0", &[]),
    ]);
    w.ok("create", "env", &[]);
    let prefix = w.prefix("env");
    std::fs::write(
        prefix.join("conda-meta/pinned"),
        "scipy ==0.14.2\nopenjdk >=8\n",
    )
    .unwrap();
    w.ctx
        .cmd()
        .env("CONDA_PREFIX", &prefix)
        .args([
            "config",
            "--env",
            "--add",
            "pinned_packages",
            "requests=2.13",
        ])
        .assert()
        .success();
    let vars = [
        ("CONDA_PINNED_PACKAGES", "numpy 1.11&python >3"),
        ("CONDA_PREFIX", prefix.to_str().unwrap()),
    ];
    let (code, out, err) = w.run_env(
        "install",
        "env",
        &["numpy", "python", "scipy", "requests"],
        &vars,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        w.installed("env"),
        vec![
            "numpy-1.11-0",
            "python-3.6.5-0",
            "requests-2.13.0-0",
            "scipy-0.14.2-0"
        ]
    );
    let (code, out, err) = w.run_env("update", "env", &["--no-pin", "--all"], &vars);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        w.installed("env"),
        vec![
            "numpy-1.12-0",
            "python-3.6.5-0",
            "requests-2.14.2-0",
            "scipy-0.15.1-0"
        ]
    );
}

/// conda's test_channel_priority_churn_minimized: with the channels swapped, a forced
/// reinstall of one package under `--freeze-installed` takes it from the now-first channel
/// and changes nothing else (one unlink, one link).
#[test]
fn swapping_channels_changes_only_the_reinstalled_package() {
    let ctx = crate::common::TestContext::new();
    let make = |dir: &str, pkgs: Vec<taipan_testkit::PackageBuilder>| {
        let mut ch = taipan_testkit::ChannelBuilder::new(&ctx.path(dir));
        for p in pkgs {
            ch.add(&p, taipan_testkit::ArchiveFormat::Conda);
        }
        ch.index().unwrap();
        ch.url().to_string()
    };
    let four = make(
        "channel-4",
        vec![
            pkg("conda-build", "3.12.1", &["itsdangerous", "jinja2"]),
            pkg("jinja2", "2.10", &[]),
            pkg_build("itsdangerous", "0.24", "py_0", &[]),
        ],
    );
    let two = make(
        "channel-2",
        vec![
            pkg("jinja2", "2.9", &[]),
            pkg_build("itsdangerous", "0.24", "py_1", &[]),
        ],
    );
    let prefix = ctx.path("env");
    let run = |args: &[&str], channels: [&str; 2]| {
        let mut c = ctx.cmd();
        c.args(args)
            .args([
                "-y",
                "--override-channels",
                "-c",
                channels[0],
                "-c",
                channels[1],
                "-p",
            ])
            .arg(&prefix);
        crate::common::output(&mut c)
    };
    let (code, out, err) = run(&["create", "conda-build", "itsdangerous"], [&four, &two]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(
        &[
            "install",
            "--json",
            "--dry-run",
            "--freeze-installed",
            "--force-reinstall",
            "itsdangerous",
        ],
        [&two, &four],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names = |key: &str| -> Vec<String> {
        v["actions"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["dist_name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("UNLINK"), vec!["itsdangerous-0.24-py_0"]);
    assert_eq!(names("LINK"), vec!["itsdangerous-0.24-py_1"]);
}

/// An old channel's BLAS stack: `numpy`/`scipy` builds with the legacy `features: nomkl`
/// field beside builds that use mkl, and the `nomkl` package that tracks the feature.
fn nomkl_world() -> World {
    World::new(vec![
        pkg("python", "2.7.13", &[]),
        pkg("nomkl", "1.0", &[]).track_feature("nomkl"),
        pkg("mkl", "2017.0.3", &[]),
        pkg("openblas", "0.2.19", &[]),
        pkg_build("numpy", "1.13.1", "py27_0", &["python 2.7*", "mkl"]),
        pkg_build(
            "numpy",
            "1.13.1",
            "py27_nomkl_0",
            &["python 2.7*", "openblas"],
        )
        .legacy_features("nomkl"),
        pkg_build("scipy", "0.19.1", "py27_0", &["numpy", "mkl"]),
        pkg_build("scipy", "0.19.1", "py27_nomkl_0", &["numpy", "openblas"])
            .legacy_features("nomkl"),
    ])
}

/// The legacy `features` field as conda 26.7.1 treats it (recorded side by side on the same
/// channel; conda's test_features_solve_1 pins the same preference): a featured build
/// needs its feature in `track_features`, and then wins over the featureless one, with or
/// without the `nomkl` package; without it the featured builds are never chosen, a request
/// for one fails naming the setting, and an installed one is replaced on the next solve.
#[test]
fn legacy_features_follow_track_features() {
    let w = nomkl_world();
    let tracked = [("CONDA_TRACK_FEATURES", "nomkl")];
    let create = |env: &str, specs: &[&str], vars: &[(&str, &str)]| {
        let (code, out, err) = w.run_env("create", env, specs, vars);
        assert_eq!(code, 0, "{specs:?}: {out}{err}");
        w.installed(env)
    };
    let mkl = vec!["mkl-2017.0.3-0", "numpy-1.13.1-py27_0", "python-2.7.13-0"];
    assert_eq!(create("a", &["python=2.7", "numpy"], &[]), mkl);
    let mut with_nomkl = mkl.clone();
    with_nomkl.insert(1, "nomkl-1.0-0");
    assert_eq!(
        create("b", &["python=2.7", "numpy", "nomkl"], &[]),
        with_nomkl
    );
    assert_eq!(
        create("c", &["python=2.7", "numpy", "nomkl"], &tracked),
        vec![
            "nomkl-1.0-0",
            "numpy-1.13.1-py27_nomkl_0",
            "openblas-0.2.19-0",
            "python-2.7.13-0"
        ]
    );
    let stack = vec![
        "numpy-1.13.1-py27_nomkl_0",
        "openblas-0.2.19-0",
        "python-2.7.13-0",
        "scipy-0.19.1-py27_nomkl_0",
    ];
    assert_eq!(
        create("d", &["python=2.7", "numpy", "scipy"], &tracked),
        stack
    );
    // Not tracked: the featured build is out of reach, and the error says how to allow it.
    let (code, out, err) = w.run("create", "e", &["numpy=*=*nomkl*"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("UnsatisfiableError"), "{err}");
    assert!(err.contains("track_features"), "{err}");
    assert!(!w.prefix("e").exists());
    // An environment built with the feature tracked moves off it once it is not.
    w.ok("update", "d", &["--all"]);
    assert_eq!(
        w.installed("d"),
        vec![
            "mkl-2017.0.3-0",
            "numpy-1.13.1-py27_0",
            "python-2.7.13-0",
            "scipy-0.19.1-py27_0"
        ]
    );
}

/// conda's test_notify_conda_outdated_update_message: after a solve, a newer `conda` in the
/// channel the root prefix's conda came from is announced with the command that updates it
/// (`conda self update` with `conda-self`, `--override-frozen` for a frozen root); not when
/// the solve installs it into the root, not with `notify_outdated_conda: false`, `-q` or
/// `--json`.
#[test]
fn a_newer_conda_is_announced() {
    let w = World::new(vec![
        pkg("conda", "1.0", &[]),
        pkg("conda", "2.0", &[]),
        pkg("conda-self", "1.0", &[]),
        pkg("leaf", "1.0", &[]),
    ]);
    let root = w.ctx.root.clone();
    let run = |prefix: &std::path::Path, args: &[&str], vars: &[(&str, &str)]| {
        let mut c = w.ctx.cmd();
        c.args(["install", "-y", "--override-channels", "-c", &w.ch, "-p"])
            .arg(prefix)
            .args(args);
        for (k, v) in vars {
            c.env(k, v);
        }
        let (code, out, err) = crate::common::output(&mut c);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        err
    };
    std::fs::create_dir_all(root.join("conda-meta")).unwrap();
    run(
        &root,
        &["conda=1.0"],
        &[("CONDA_NOTIFY_OUTDATED_CONDA", "false")],
    );
    w.ok("create", "env", &[]);
    let env = w.prefix("env");
    let err = run(&env, &["leaf"], &[]);
    let channel = w.ch.trim_end_matches('/');
    assert!(
        err.contains(&format!(
            "==> WARNING: A newer version of conda exists. <==\ncurrent version: 1.0\nlatest version: 2.0\n\nPlease update conda by running\n\n    $ conda update -n base -c {channel} conda\n"
        )),
        "{err}"
    );
    w.ok("remove", "env", &["leaf"]);
    for quiet in [&["leaf", "-q"][..], &["leaf", "--json"][..]] {
        let err = run(&env, quiet, &[]);
        assert!(!err.contains("newer version of conda"), "{err}");
        w.ok("remove", "env", &["leaf"]);
    }
    let err = run(&env, &["leaf"], &[("CONDA_NOTIFY_OUTDATED_CONDA", "false")]);
    assert!(!err.contains("newer version of conda"), "{err}");
    w.ok("remove", "env", &["leaf"]);
    std::fs::write(root.join("conda-meta/frozen"), "{}").unwrap();
    let err = run(&env, &["leaf"], &[]);
    assert!(err.contains("conda --override-frozen"), "{err}");
    std::fs::remove_file(root.join("conda-meta/frozen")).unwrap();
    w.ok("remove", "env", &["leaf"]);
    // (auto_update_conda would float conda in the root.)
    run(
        &root,
        &["conda-self", "conda=1.0"],
        &[("CONDA_NOTIFY_OUTDATED_CONDA", "false")],
    );
    let err = run(&env, &["leaf"], &[]);
    assert!(err.contains("    $ conda self update\n"), "{err}");
    // Installing the newer conda into the root: nothing to announce.
    let err = run(&root, &["conda=2.0"], &[]);
    assert!(!err.contains("newer version of conda"), "{err}");
}
