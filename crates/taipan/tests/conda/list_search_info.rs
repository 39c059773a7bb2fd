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
    assert!(out.contains("dependencies:\n  - dep 1.*"), "{out}");
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
