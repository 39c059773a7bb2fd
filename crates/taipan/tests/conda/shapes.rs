//! Shapes and names that scripts read: conda 26's exception names and their `--json` fields,
//! the `--json` shapes of plans, search, env list and info, conda-meta records.

use serde_json::Value;
use taipan_testkit::PackageBuilder;

use crate::common::{channel_with, output, TestContext};

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
