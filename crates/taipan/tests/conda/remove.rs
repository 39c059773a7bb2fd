use crate::common::{output, TestContext};

#[test]
fn remove_drops_dependents_and_orphans() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["leaf", "openssl"]);
    ctx.cmd()
        .args(["remove", "-y", "-q", "-p"])
        .arg(&prefix)
        .arg("leaf")
        .assert()
        .success();
    assert_eq!(ctx.installed(&prefix), vec!["openssl-1.1-0"]);
    assert!(!prefix.join("share/leaf").exists());
    let prefix2 = ctx.create("env2", &["leaf"]);
    ctx.cmd()
        .args(["uninstall", "-y", "-q", "-p"])
        .arg(&prefix2)
        .arg("dep")
        .assert()
        .success();
    assert!(ctx.installed(&prefix2).is_empty());
}

#[test]
fn remove_force_only_removes_the_named_package() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["leaf"]);
    ctx.cmd()
        .args(["remove", "-y", "-q", "--force", "-p"])
        .arg(&prefix)
        .arg("dep")
        .assert()
        .success();
    assert_eq!(ctx.installed(&prefix), vec!["leaf-1.0-0"]);
}

#[test]
fn remove_missing_package_is_an_error() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep"]);
    let (code, out, _) = output(
        ctx.cmd()
            .args(["remove", "-y", "--json", "-p"])
            .arg(&prefix)
            .arg("nope"),
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["exception_name"], "PackagesNotFoundInPrefixError");
}

#[test]
fn remove_all_deletes_env_and_unregisters() {
    let ctx = TestContext::new();
    ctx.cmd()
        .args([
            "create",
            "-n",
            "gone",
            "-y",
            "-q",
            "-c",
            &ctx.channel,
            "dep",
        ])
        .assert()
        .success();
    let prefix = ctx.root.join("envs/gone");
    assert!(prefix.exists());
    ctx.cmd()
        .args(["remove", "-n", "gone", "--all", "-y", "-q"])
        .assert()
        .success();
    assert!(!prefix.exists());
    let registry =
        std::fs::read_to_string(ctx.home.join(".conda/environments.txt")).unwrap_or_default();
    assert!(!registry.contains("gone"), "{registry}");
}

#[test]
fn remove_dry_run_changes_nothing() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["leaf"]);
    let before = crate::common::tree(&prefix);
    ctx.cmd()
        .args(["remove", "--dry-run", "-p"])
        .arg(&prefix)
        .arg("leaf")
        .assert()
        .success();
    assert_eq!(crate::common::tree(&prefix), before);
}
