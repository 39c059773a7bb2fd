//! Shapes and names that scripts read: conda 26's exception names and their `--json` fields,
//! the `--json` shapes of plans, search, env list and info, conda-meta records.

use serde_json::Value;
use taipan_testkit::PackageBuilder;

use crate::common::{channel_with, output, TestContext};

/// An object's keys in order, without `indexed_timestamp` (set when the test channel was
/// indexed; conda dumps it where a channel has it).
fn keys_but_indexed(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(|o| {
            o.keys()
                .map(|k| k.as_str())
                .filter(|k| *k != "indexed_timestamp")
                .collect()
        })
        .unwrap_or_default()
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn an_unknown_env_name_is_environment_location_not_found() {
    let ctx = TestContext::new();
    let missing = ctx.root.join("envs/nope");
    for args in [
        vec![
            "install",
            "-y",
            "-n",
            "nope",
            "-c",
            ctx.channel.as_str(),
            "leaf",
        ],
        vec!["remove", "-y", "-n", "nope", "leaf"],
        vec!["update", "-y", "-n", "nope", "--all"],
        vec!["list", "-n", "nope"],
        vec!["run", "-n", "nope", "true"],
        vec!["env", "config", "vars", "list", "-n", "nope"],
        vec!["doctor", "-n", "nope"],
        vec!["create", "-y", "-n", "copy", "--clone", "nope"],
    ] {
        let (code, out, err) = output(ctx.cmd().args(&args).arg("--json"));
        assert_eq!(code, 1, "{args:?}: {err}");
        let v = json(&out);
        assert_eq!(
            v["exception_name"], "EnvironmentLocationNotFound",
            "{args:?}"
        );
        assert_eq!(
            v["message"],
            format!("Not a conda environment: {}", missing.display()),
            "{args:?}"
        );
        assert_eq!(v["location"], missing.display().to_string(), "{args:?}");
    }
}

#[test]
fn a_missing_package_is_packages_not_found_in_channels() {
    let ctx = TestContext::new();
    let (code, out, err) = output(ctx.cmd().args([
        "create",
        "-y",
        "--json",
        "-n",
        "x",
        "-c",
        &ctx.channel,
        "--override-channels",
        "nosuch",
    ]));
    assert_eq!(code, 1, "{err}");
    let v = json(&out);
    assert_eq!(v["exception_name"], "PackagesNotFoundInChannelsError");
    let base = ctx.channel.trim_end_matches('/');
    let urls = [format!("{base}/linux-64"), format!("{base}/noarch")];
    assert_eq!(v["channel_urls"], serde_json::json!(urls));
    assert_eq!(
        v["channels_formatted"],
        format!("\n  - {}\n  - {}", urls[0], urls[1])
    );
    assert_eq!(v["packages"], serde_json::json!(["nosuch"]));
    assert_eq!(v["packages_formatted"], "\n  - nosuch");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "The following packages are not available from current channels:\n\n  - nosuch\n\nCurrent channels:\n"
        ),
        "{message}"
    );
    assert!(!ctx.root.join("envs/x").exists());
}

#[test]
fn a_missing_dependency_is_packages_not_found_in_channels() {
    let ctx = TestContext::new();
    let dir = ctx.path("chan");
    channel_with(
        &dir,
        vec![PackageBuilder::new("broken", "1.0")
            .noarch_generic()
            .depends("ghostdep >=1")],
    )
    .index()
    .unwrap();
    let channel = url::Url::from_directory_path(&dir).unwrap().to_string();
    let (code, out, err) = output(ctx.cmd().args([
        "create",
        "-y",
        "--json",
        "-n",
        "x",
        "-c",
        &channel,
        "--override-channels",
        "broken",
    ]));
    assert_eq!(code, 1, "{err}");
    let v = json(&out);
    assert_eq!(
        v["exception_name"], "PackagesNotFoundInChannelsError",
        "{v}"
    );
    assert_eq!(v["packages"], serde_json::json!(["ghostdep >=1"]));
}

#[test]
fn removing_what_is_not_installed_is_packages_not_found_in_prefix() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["leaf"]);
    let (code, out, err) = output(
        ctx.cmd()
            .args(["remove", "-y", "--json", "nosuch", "-p"])
            .arg(&prefix),
    );
    assert_eq!(code, 1, "{err}");
    let v = json(&out);
    assert_eq!(v["exception_name"], "PackagesNotFoundInPrefixError");
    assert_eq!(
        v["message"],
        format!(
            "The following packages are missing from the target environment:\n  prefix: {}\n\n  - nosuch\n",
            prefix.display()
        )
    );
    assert_eq!(v["package_name"], serde_json::json!(["nosuch"]));
    assert_eq!(v["prefix"], prefix.display().to_string());
    assert_eq!(ctx.installed(&prefix), ["dep-2.0-0", "leaf-1.0-0"]);
}

#[test]
fn fetch_items_are_full_records_and_link_items_short_dists() {
    let ctx = TestContext::new();
    let (code, out, err) = output(ctx.cmd().args([
        "create",
        "-y",
        "--json",
        "--dry-run",
        "-n",
        "x",
        "-c",
        &ctx.channel,
        "leaf",
    ]));
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let leaf = v["actions"]["FETCH"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "leaf")
        .unwrap_or_else(|| panic!("{v}"));
    let keys = keys_but_indexed(leaf);
    assert_eq!(
        keys,
        [
            "name",
            "version",
            "build",
            "build_number",
            "channel",
            "subdir",
            "fn",
            "md5",
            "url",
            "sha256",
            "arch",
            "platform",
            "depends",
            "constrains",
            "noarch",
            "package_type",
            "timestamp",
            "size"
        ],
        "{leaf}"
    );
    let base = ctx.channel.trim_end_matches('/');
    assert_eq!(leaf["channel"], format!("{base}/noarch"));
    assert_eq!(leaf["fn"], "leaf-1.0-0.conda");
    assert_eq!(leaf["url"], format!("{base}/noarch/leaf-1.0-0.conda"));
    assert_eq!(leaf["depends"], serde_json::json!(["dep"]));
    assert_eq!(leaf["package_type"], "noarch_generic");
    assert!(leaf["size"].as_u64().is_some_and(|s| s > 0), "{leaf}");
    let link = v["actions"]["LINK"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "leaf")
        .unwrap_or_else(|| panic!("{v}"));
    let short: Vec<&str> = link
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        short,
        [
            "base_url",
            "build_number",
            "build_string",
            "channel",
            "dist_name",
            "name",
            "platform",
            "version"
        ]
    );
    assert_eq!(link["base_url"], base);
    // conda's `Channel.name` of a file:// channel: its last path component.
    assert_eq!(link["channel"], base.rsplit('/').next().unwrap());
}

#[test]
fn remove_all_json_lists_the_unlinked_packages() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["leaf"]);
    for dry_run in [true, false] {
        let mut cmd = ctx.cmd();
        cmd.args(["remove", "--all", "-y", "--json", "-p"])
            .arg(&prefix);
        if dry_run {
            cmd.arg("--dry-run");
        }
        let (code, out, err) = output(&mut cmd);
        assert_eq!(code, 0, "{err}");
        let v = json(&out);
        let names: Vec<&str> = v["actions"]["UNLINK"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .map(|r| r["dist_name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["dep-2.0-0", "leaf-1.0-0"]);
        assert_eq!(v["actions"]["FETCH"], serde_json::json!([]));
        assert_eq!(v["actions"]["PREFIX"], prefix.display().to_string());
        assert_eq!(v["dry_run"].as_bool(), dry_run.then_some(true));
        assert_eq!(v["success"], true);
        assert_eq!(prefix.exists(), dry_run);
    }
}

#[test]
fn search_json_items_are_full_records() {
    let ctx = TestContext::new();
    let (code, out, err) = output(
        ctx.cmd()
            .args(["search", "--json", "-c", &ctx.channel, "leaf"]),
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let leaf = &v["leaf"][0];
    for key in [
        "arch",
        "platform",
        "constrains",
        "package_type",
        "fn",
        "url",
        "md5",
        "sha256",
    ] {
        assert!(leaf.get(key).is_some(), "{key} missing: {leaf}");
    }
    assert_eq!(leaf["arch"], Value::Null);
    assert_eq!(leaf["platform"], Value::Null);
    assert_eq!(leaf["constrains"], serde_json::json!([]));
    assert_eq!(leaf["package_type"], "noarch_generic");
    let base = ctx.channel.trim_end_matches('/');
    assert_eq!(leaf["channel"], format!("{base}/noarch"));
}

/// Python's `isoformat()` of a UTC time: `2026-12-02T17:00:14.145735+00:00`.
fn is_isoformat(v: &Value) -> bool {
    let re = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$").unwrap();
    v.as_str().is_some_and(|s| re.is_match(s))
}

#[test]
fn env_list_and_info_json_carry_envs_details_with_times() {
    let ctx = TestContext::new();
    let (code, _, err) = output(ctx.cmd().args([
        "create",
        "-y",
        "-q",
        "-n",
        "made",
        "-c",
        &ctx.channel,
        "leaf",
    ]));
    assert_eq!(code, 0, "{err}");
    let made = ctx.root.join("envs/made");
    let stamp = std::fs::read_to_string(made.join("conda-meta/created_at")).unwrap();
    assert!(stamp.trim().parse::<f64>().is_ok(), "{stamp}");
    let (code, out, err) = output(ctx.cmd().args(["env", "list", "--json"]));
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let d = &v["envs_details"][made.display().to_string()];
    let keys: Vec<&str> = d.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "name",
            "created",
            "last_modified",
            "active",
            "base",
            "frozen",
            "writable"
        ]
    );
    assert!(is_isoformat(&d["created"]), "{d}");
    assert!(is_isoformat(&d["last_modified"]), "{d}");
    assert_eq!(d["name"], "made");
    let (code, out, err) = output(ctx.cmd().args(["info", "--json"]));
    assert_eq!(code, 0, "{err}");
    let info = json(&out);
    assert_eq!(info["envs_details"], v["envs_details"]);
    assert_eq!(
        info["solver"],
        serde_json::json!({"name": "resolvo", "user_agent": "solver/resolvo", "default": true})
    );
}

#[test]
fn conda_meta_records_are_written_as_conda_writes_them() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app=1.0", "leaf >=1"]);
    let read = |name: &str| -> Value {
        json(&std::fs::read_to_string(prefix.join("conda-meta").join(name)).unwrap())
    };
    let app = read("app-1.0-0.json");
    assert_eq!(app["requested_spec"], "app=1.0");
    assert_eq!(app["requested_specs"], serde_json::json!(["app=1.0"]));
    assert_eq!(
        read("leaf-1.0-0.json")["requested_spec"],
        "leaf[version='>=1']"
    );
    assert_eq!(app["package_type"], "noarch_generic");
    assert_eq!(app["constrains"], serde_json::json!([]));
    let keys = keys_but_indexed(&app);
    let expected = [
        "name",
        "version",
        "build",
        "build_number",
        "channel",
        "subdir",
        "fn",
        "md5",
        "url",
        "sha256",
        "depends",
        "constrains",
        "noarch",
        "package_type",
        "timestamp",
        "size",
        "requested_spec",
    ];
    assert_eq!(&keys[..expected.len()], expected, "{keys:?}");
    assert_eq!(keys.last(), Some(&"requested_specs"), "{keys:?}");
    let history = std::fs::read_to_string(prefix.join("conda-meta/history")).unwrap();
    assert!(
        history.contains("# update specs: ['app=1.0', \"leaf[version='>=1']\"]\n"),
        "{history}"
    );
    // The dependency was not requested: no requested_spec, as conda writes it.
    assert!(read("dep-1.0-0.json").get("requested_spec").is_none());
    // taipan reads the records back as before.
    assert_eq!(
        ctx.installed(&prefix),
        ["app-1.0-0", "dep-1.0-0", "leaf-1.0-0"]
    );
    let (code, out, err) = output(ctx.cmd().args(["list", "--json", "-p"]).arg(&prefix));
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out).as_array().map(Vec::len), Some(3));
}

#[test]
fn env_config_vars_unset_marks_the_variable_as_conda_does() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["leaf"]);
    let vars = |args: &[&str]| {
        let (code, out, err) = output(
            ctx.cmd()
                .args(["env", "config", "vars"])
                .args(args)
                .arg("-p")
                .arg(&prefix),
        );
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    // Not the active environment: conda says nothing.
    assert_eq!(vars(&["set", "A=1", "B=2"]), "");
    assert_eq!(vars(&["unset", "A", "NOPE"]), "");
    let state = json(&std::fs::read_to_string(prefix.join("conda-meta/state")).unwrap());
    assert_eq!(
        state["env_vars"],
        serde_json::json!({"A": "***unset***", "B": "2"})
    );
    assert_eq!(vars(&["list"]), "B = 2\n");
    assert_eq!(
        json(&vars(&["list", "--json"])),
        serde_json::json!({"B": "2"})
    );
    let (code, out, err) = output(ctx.cmd().args(["env", "export", "-p"]).arg(&prefix));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("variables:\n  B: '2'\n") || out.contains("variables:\n  B: \"2\"\n"),
        "{out}"
    );
    assert!(!out.contains("***unset***"), "{out}");
}

#[test]
fn search_table_columns_are_condas() {
    let ctx = TestContext::new();
    let (code, out, err) = output(ctx.cmd().args(["search", "-c", &ctx.channel, "app"]));
    assert_eq!(code, 0, "{err}");
    let name = ctx
        .channel
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let header = format!(
        "# {:<18} {:>15} {:>15}  {:<20}",
        "Name", "Version", "Build", "Channel"
    );
    let row = |v: &str| format!("{:<20} {:>15} {:>15}  {:<20}", "app", v, "0", name);
    let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with("Loading")).collect();
    assert_eq!(lines, [header, row("1.0"), row("2.0")]);
    // Fixed columns: the build is right-aligned in 15 characters.
    assert!(
        lines[1].starts_with("app                              1.0               0  "),
        "{out}"
    );
}
