use crate::common::{output, TestContext};

#[test]
fn list_table_json_export_and_regex() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app=1"]);
    let (code, out, _) = output(ctx.cmd().args(["list", "-p"]).arg(&prefix));
    assert_eq!(code, 0);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(out);
    });
    let (_, out, _) = output(ctx.cmd().args(["list", "--json", "-p"]).arg(&prefix));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["dist_name"], "app-1.0-0");
    let (_, out, _) = output(ctx.cmd().args(["list", "--export", "-p"]).arg(&prefix));
    assert!(out.contains("\ndep=1.0=0\n"), "{out}");
    let (_, out, _) = output(ctx.cmd().args(["list", "-f", "de", "-p"]).arg(&prefix));
    assert!(!out.contains("dep "), "full-name match only: {out}");
    let (code, _, _) = output(ctx.cmd().args(["list", "zzz", "-p"]).arg(&prefix));
    assert_eq!(code, 1);
}

#[test]
fn list_revisions() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1"]);
    ctx.cmd()
        .args(["install", "-y", "-q", "-c", &ctx.channel, "-p"])
        .arg(&prefix)
        .arg("dep=2")
        .assert()
        .success();
    let (code, out, _) = output(ctx.cmd().args(["list", "--revisions", "-p"]).arg(&prefix));
    assert_eq!(code, 0);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(out);
    });
}

#[test]
fn search_text_json_info_and_platform() {
    let ctx = TestContext::new();
    let (code, out, _) = output(ctx.cmd().args(["search", "-c", &ctx.channel, "dep"]));
    assert_eq!(code, 0);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!(out);
    });
    let (_, out, _) = output(
        ctx.cmd()
            .args(["search", "--json", "-c", &ctx.channel, "dep>=2"]),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["dep"].as_array().unwrap().len(), 1);
    let (_, out, _) = output(
        ctx.cmd()
            .args(["search", "--info", "-c", &ctx.channel, "app=1"]),
    );
    // conda's `"%-12s: %s"` with a dashlist: a space after the colon.
    assert!(out.contains("dependencies: \n  - dep 1.*"), "{out}");
    let (_, out, _) = output(ctx.cmd().args([
        "search",
        "--platform",
        "osx-arm64",
        "-c",
        &ctx.channel,
        "python",
    ]));
    assert!(
        out.contains("No match found") || !out.contains("python "),
        "{out}"
    );
    let (code, _, _) = output(
        ctx.cmd()
            .args(["search", "-c", &ctx.channel, "nothingatall"]),
    );
    assert_eq!(code, 1);
    let (_, out, _) = output(ctx.cmd().args(["search", "-c", &ctx.channel, "*ssl*"]));
    assert!(out.contains("openssl"), "{out}");
}

#[test]
fn info_json_and_envs() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep"]);
    let (code, out, _) = output(ctx.cmd().args(["info", "--json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["root_prefix"], ctx.root.display().to_string());
    assert!(v["virtual_pkgs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p[0] == "__glibc" && p[1] == "2.36"));
    let (_, out, _) = output(ctx.cmd().args(["info", "--envs"]));
    assert!(out.contains(&prefix.display().to_string()), "{out}");
    let (_, out, _) = output(ctx.cmd().args(["info", "--base"]));
    assert_eq!(out.trim(), ctx.root.display().to_string());
}

#[test]
fn conda_symlink_in_a_prefix_uses_that_prefix_as_root() {
    let ctx = TestContext::new();
    let root = ctx.path("install");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("conda-meta")).unwrap();
    std::fs::write(root.join("conda-meta/history"), "").unwrap();
    std::os::unix::fs::symlink(crate::common::bin(), root.join("bin/conda")).unwrap();
    let mut cmd = assert_cmd::Command::new(root.join("bin/conda"));
    ctx.isolate(&mut cmd);
    cmd.env_remove("CONDA_ROOT_PREFIX");
    let (code, out, _) = output(cmd.args(["info", "--base"]));
    assert_eq!(code, 0);
    assert_eq!(out.trim(), root.display().to_string());
}

/// `list --fields/--size/--canonical/--reverse/--show-channel-urls`, and conda's errors for
/// an unknown field, a regex that matches nothing and `-f` of a package not installed.
#[test]
fn list_fields_size_canonical_reverse() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app=1"]);
    let list = |args: &[&str]| output(ctx.cmd().arg("list").args(args).arg("-p").arg(&prefix));

    let (code, out, _) = list(&["--fields", "name,version,fn,depends,subdir,package_type"]);
    assert_eq!(code, 0);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("list_fields", out);
    });

    // Sizes: each package's files plus its record, and the environment's total.
    let (code, out, _) = list(&["--size"]);
    assert_eq!(code, 0);
    let sized: Vec<&str> = out.lines().filter(|l| l.starts_with("app ")).collect();
    assert!(
        sized.len() == 1 && sized[0].trim_end().ends_with(" B"),
        "{out}"
    );
    assert!(out.contains("\n# environment size: "), "{out}");
    let (_, json, _) = list(&["--size", "--json"]);
    let items: serde_json::Value = serde_json::from_str(&json).unwrap();
    let app_size = items[0]["size"].as_u64().unwrap();
    let record = std::fs::metadata(prefix.join("conda-meta/app-1.0-0.json"))
        .unwrap()
        .len();
    assert!(app_size > record, "files and record: {app_size} > {record}");

    let (_, out, _) = list(&["--canonical"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].ends_with("/noarch::app-1.0-0"), "{out}");
    let (_, out, _) = list(&["-c", "--reverse"]);
    assert!(
        out.lines().next().unwrap().ends_with("::dep-1.0-0"),
        "{out}"
    );

    // A local channel's canonical name is its URL; --show-channel-urls shows it as well.
    let (_, out, _) = list(&["--show-channel-urls", "--fields", "name,channel_name"]);
    let url = ctx.channel.trim_end_matches('/');
    assert!(out.contains(&format!("app     {url}\n")), "{out}");

    let (code, _, err) = list(&["--fields", "name,nope"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("CustomValidationError: Parameter list_fields = ('name', 'nope') declared in --fields is invalid.\nInvalid value(s): ['nope']."),
        "{err}"
    );
    let (code, _, err) = list(&["zzz"]);
    assert_eq!(code, 1);
    assert!(err.contains("No packages match 'zzz'."), "{err}");
    let (code, _, err) = list(&["-f", "ap"]);
    assert_eq!(code, 1);
    assert!(err.contains("Package is not installed in prefix."), "{err}");
}

/// `info --unsafe-channels` shows the configured channels as written (tokens included),
/// the details mask them; `--system` lists the variables conda lists (proxies only as
/// `<set>`); `--all` is details, environments and system together; with `--json`,
/// `--all`/`--system` print the whole info dictionary.
#[test]
fn info_all_system_and_unsafe_channels() {
    let ctx = TestContext::new();
    ctx.create("env", &["dep"]);
    let condarc = ctx.path("condarc-tokens/.condarc");
    std::fs::create_dir_all(condarc.parent().unwrap()).unwrap();
    std::fs::write(
        &condarc,
        "channels:\n  - https://conda.anaconda.org/t/tk-secret-1/private\n  - conda-forge\n",
    )
    .unwrap();
    let info = |args: &[&str]| {
        output(
            ctx.cmd()
                .env("CONDARC", &condarc)
                .env("HTTPS_PROXY", "http://user:pw@proxy:3128")
                .arg("info")
                .args(args),
        )
    };
    let (code, out, _) = info(&["--unsafe-channels"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "https://conda.anaconda.org/t/tk-secret-1/private\nconda-forge\n"
    );
    let (_, out, _) = info(&["--unsafe-channels", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["channels"][0],
        "https://conda.anaconda.org/t/tk-secret-1/private"
    );
    assert_eq!(v.as_object().unwrap().len(), 1);

    let (_, out, _) = info(&[]);
    assert!(
        out.contains(
            "           channel URLs : https://conda.anaconda.org/t/<TOKEN>/private/linux-64\n"
        ),
        "{out}"
    );
    assert!(
        !out.contains("tk-secret-1") && !out.contains("sys.version"),
        "{out}"
    );

    let (code, out, _) = info(&["--system"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("sys.version: taipan "), "{out}");
    assert!(out.contains("\nCIO_TEST: <not set>\n"), "{out}");
    assert!(out.contains("\nHTTPS_PROXY: <set>\n"), "{out}");
    assert!(
        !out.contains("pw@proxy") && !out.contains("active environment"),
        "{out}"
    );

    let (_, out, _) = info(&["--all"]);
    let details = out.find("     active environment : ").unwrap();
    let envs = out.find("# conda environments:").unwrap();
    let system = out.find("sys.version: ").unwrap();
    assert!(details < envs && envs < system, "{out}");

    for flags in [
        &["--json"][..],
        &["--all", "--json"],
        &["--system", "--json"],
    ] {
        let (_, out, _) = info(flags);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys[0], "platform", "{flags:?}");
        assert_eq!(v["env_vars"]["HTTPS_PROXY"], "<set>");
        assert_eq!(v["conda_shlvl"], -1);
        assert!(v["envs_details"].is_object());
    }
}

/// `search --envs` looks in every known environment (name globs work), `--info` and
/// `--json` too, and a spec no environment has is conda's `PackagesNotFoundError`;
/// `--skip-flexible-search` stops the `*NAME*` retry, which keeps version constraints.
#[test]
fn search_envs_and_flexible_search() {
    let ctx = TestContext::new();
    let one = ctx.create("one", &["app=1"]);
    let two = ctx.create("two", &["dep=2"]);
    let search = |args: &[&str]| output(ctx.cmd().arg("search").args(args));

    let (code, out, _) = search(&["de*", "--envs"]);
    assert_eq!(code, 0);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip_while(|l| !l.starts_with("# Name"))
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let one_s = one.display().to_string();
    let two_s = two.display().to_string();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(rows[0][0..3], ["dep", "1.0", "0"]);
    assert_eq!(rows[0][4], one_s);
    assert_eq!(rows[1][0..2], ["dep", "2.0"]);
    assert_eq!(rows[1][4], two_s);

    let (_, out, _) = search(&["app", "--envs", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["location"], one_s);
    assert_eq!(v[0]["package_records"][0]["name"], "app");
    let (_, out, _) = search(&["app", "--envs", "--info"]);
    assert!(out.contains("\nfile name   : app-1.0-0.conda\n"), "{out}");

    let (code, _, err) = search(&["nosuch", "--envs"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("PackagesNotFoundError: The following packages are missing from the target environment:\n\n  - nosuch\n"),
        "{err}"
    );

    // Flexible search: `ap` is not a name, `*ap*` finds app; its constraint is kept.
    let (code, out, _) = search(&["-c", &ctx.channel, "ap>=2"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("No match found for: ap>=2. Search: *ap*[version='>=2']\n"),
        "{out}"
    );
    assert!(out.contains("\napp ") && !out.contains(" 1.0 "), "{out}");
    let (code, out, err) = search(&["-c", &ctx.channel, "ap", "--skip-flexible-search"]);
    assert_eq!(code, 1);
    assert!(!out.contains("No match found"), "{out}");
    assert!(err.contains("PackagesNotFoundInChannelsError"), "{err}");
    // An exact name that exists is not widened.
    let (_, out, _) = search(&["-c", &ctx.channel, "dep"]);
    assert!(!out.contains("No match found"), "{out}");
}

/// conda sorts a channel search by name, version and build string; the build number does not
/// come first (compared with conda 26.7.1 on anaconda's r-essentials 1.1: `r3.2.1_0a`, number
/// 1, is listed before `r3.2.2_0`, number 0).
#[test]
fn search_orders_builds_by_their_string_as_conda() {
    let ctx = TestContext::new();
    let dir = ctx.path("chan");
    let pkg = |build: &str, n: u64| {
        taipan_testkit::PackageBuilder::new("tool", "1.1")
            .build(build)
            .build_number(n)
            .noarch_generic()
    };
    let ch = crate::common::channel_with(&dir, vec![pkg("r3.2.2_0", 0), pkg("r3.2.1_0a", 1)]);
    ch.index().unwrap();
    let url = ch.url().to_string();
    let (code, out, err) = output(ctx.cmd().args([
        "search",
        "--json",
        "--override-channels",
        "-c",
        &url,
        "tool",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let builds: Vec<&str> = v["tool"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["build"].as_str().unwrap())
        .collect();
    assert_eq!(builds, vec!["r3.2.1_0a", "r3.2.2_0"]);
}

/// `__archspec`: the host's is detected once per build and CPU and remembered in the package
/// cache; an override is taken as given, as conda does (conda 26.7.1 shows
/// `CONDA_OVERRIDE_ARCHSPEC=not-a-cpu` as `__archspec=1=not-a-cpu`, exit 0).
#[test]
fn archspec_host_is_remembered_and_overrides_are_taken_as_given() {
    let ctx = TestContext::new();
    let archspec = |env: &[(&str, &str)]| {
        let mut cmd = ctx.cmd();
        cmd.args(["info", "--json"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let (code, out, err) = output(&mut cmd);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let found: Vec<String> = v["virtual_pkgs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p[0] == "__archspec")
            .map(|p| p[2].as_str().unwrap().to_string())
            .collect();
        found
    };
    let memos = || -> Vec<std::path::PathBuf> {
        let dir = ctx.root.join("pkgs/cache/taipan-index");
        let mut found: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        found.retain(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("archspec-"))
        });
        found
    };
    // `info` alone does not create a package cache for it.
    let host = archspec(&[]);
    assert_eq!(host.len(), 1, "{host:?}");
    assert!(!ctx.root.join("pkgs").exists());
    // A solve does; the host's answer is remembered, and a later run gives the same one.
    ctx.cmd()
        .args(["create", "--dry-run", "-n", "x", "-c", &ctx.channel, "dep"])
        .assert()
        .success();
    let all = memos();
    assert_eq!(all.len(), 1);
    assert_eq!(std::fs::read_to_string(&all[0]).unwrap(), host[0]);
    assert_eq!(archspec(&[]), host);
    // The remembered answer is what later runs use: change it and they report the change.
    std::fs::write(&all[0], "haswell").unwrap();
    assert_eq!(archspec(&[]), vec!["haswell"]);
    // Garbage in a memo is ignored and replaced by a fresh detection.
    std::fs::write(&all[0], "../../etc").unwrap();
    assert_eq!(archspec(&[]), host);
    assert_eq!(std::fs::read_to_string(&all[0]).unwrap(), host[0]);

    // Overrides, known to archspec or not, are used as given and need no memo.
    assert_eq!(
        archspec(&[("CONDA_OVERRIDE_ARCHSPEC", "skylake")]),
        vec!["skylake"]
    );
    assert_eq!(
        archspec(&[("CONDA_OVERRIDE_ARCHSPEC", "not-a-cpu")]),
        vec!["not-a-cpu"]
    );
    assert_eq!(archspec(&[("CONDA_OVERRIDE_ARCHSPEC", "0")]), vec!["0"]);
    // Empty means no `__archspec`, as in conda.
    assert_eq!(
        archspec(&[("CONDA_OVERRIDE_ARCHSPEC", "")]),
        Vec::<String>::new()
    );
    assert_eq!(memos().len(), 1);
}
