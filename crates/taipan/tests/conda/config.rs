//! Configuration that changes where things go: `envs_dirs`, `channel_alias`,
//! `custom_channels`.

use std::path::PathBuf;

use taipan_testkit::http::TestServer;

use crate::common::{channel_with, output, TestContext};

// ---------------------------------------------------------------------------------------------
// 6. envs_dirs
// ---------------------------------------------------------------------------------------------

#[test]
fn envs_dirs_from_condarc_places_named_envs() {
    let ctx = TestContext::new();
    let myenvs = ctx.path("myenvs");
    std::fs::write(
        ctx.home.join(".condarc"),
        format!("envs_dirs:\n  - {}\n", myenvs.display()),
    )
    .unwrap();
    ctx.cmd()
        .args(["create", "-y", "-q", "-n", "x", "-c", &ctx.channel, "dep=1"])
        .assert()
        .success();
    let env = myenvs.join("x");
    assert_eq!(ctx.installed(&env), vec!["dep-1.0-0"]);
    assert!(!ctx.root.join("envs/x").exists());

    let (code, out, err) = output(ctx.cmd().args(["env", "list"]));
    assert_eq!(code, 0, "{err}");
    let shown = out.lines().any(|l| {
        let t: Vec<&str> = l.split_whitespace().collect();
        t.first() == Some(&"x") && t.last() == Some(&env.display().to_string().as_str())
    });
    assert!(shown, "env list must show `x  {}`:\n{out}", env.display());

    // and `-n x` finds it again
    ctx.cmd()
        .args(["install", "-y", "-q", "-n", "x", "-c", &ctx.channel, "leaf"])
        .assert()
        .success();
    assert_eq!(ctx.installed(&env), vec!["dep-1.0-0", "leaf-1.0-0"]);
}

// ---------------------------------------------------------------------------------------------
// 7. channel_alias / custom_channels
// ---------------------------------------------------------------------------------------------

fn served_parent(ctx: &TestContext, sub: &str) -> PathBuf {
    let parent = ctx.path("served");
    let ch = channel_with(&parent.join(sub), Vec::new());
    ch.index().unwrap();
    parent
}

#[test]
fn channel_alias_resolves_channel_names() {
    let ctx = TestContext::new();
    let parent = served_parent(&ctx, "stdchan");
    let server = TestServer::serve(&parent).unwrap();
    let alias = server.url().to_string().trim_end_matches('/').to_string();
    std::fs::write(
        ctx.home.join(".condarc"),
        format!("channel_alias: {alias}\n"),
    )
    .unwrap();
    let prefix = ctx.path("env");
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", "stdchan", "-p"])
            .arg(&prefix)
            .arg("dep=1"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(ctx.installed(&prefix), vec!["dep-1.0-0"]);
    assert!(server.requests("/stdchan/noarch/dep-1.0-0.conda") >= 1);
    let (_, list, _) = output(ctx.cmd().args(["list", "-p"]).arg(&prefix));
    assert!(
        list.lines()
            .any(|l| l.starts_with("dep") && l.trim_end().ends_with("stdchan")),
        "the channel is shown by its name:\n{list}"
    );
}

#[test]
fn custom_channels_resolve_channel_names() {
    let ctx = TestContext::new();
    let parent = served_parent(&ctx, "under/mychan");
    let server = TestServer::serve(&parent).unwrap();
    let base = server.url().to_string();
    // channel_alias points at the server root, where there is no `mychan`: only
    // custom_channels can make `-c mychan` work.
    std::fs::write(
        ctx.home.join(".condarc"),
        format!(
            "channel_alias: {}\ncustom_channels:\n  mychan: {base}under\n",
            base.trim_end_matches('/')
        ),
    )
    .unwrap();
    let prefix = ctx.path("env");
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", "mychan", "-p"])
            .arg(&prefix)
            .arg("dep=1"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(ctx.installed(&prefix), vec!["dep-1.0-0"]);
    assert!(server.requests("/under/mychan/noarch/dep-1.0-0.conda") >= 1);
}
