//! Installers with `extra_envs`: environments shipped beside the base.

use std::process::Command;

use crate::common::{output, TestContext};
use crate::installer::*;

/// `extra_envs`: each env is solved at build time against its own channels, shipped once
/// (packages shared with the base are not duplicated) and installed offline as
/// `PREFIX/envs/NAME` with its own conda-meta and history, registered like the base.
#[test]
fn extra_envs_are_installed_next_to_the_base() {
    let ctx = TestContext::new();
    let b = installers();
    let prefix = ctx.path("envs3");
    let p = prefix.to_str().unwrap();
    let (code, out, err) = run(&ctx, &b.envs, &["-b", "-p", p], "");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(ctx.installed(&prefix), ["libdemo-1.0-0"]);
    assert_eq!(
        ctx.installed(&prefix.join("envs/tools")),
        ["demo-app-1.0-0", "libdemo-1.0-0"]
    );
    assert_eq!(
        ctx.installed(&prefix.join("envs/second")),
        ["othertool-2.0-0"]
    );
    let out = Command::new(prefix.join("envs/tools/bin/demo-app"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "demo-app ok\n");
    // Extracted at install time from the shipped archive, still recorded with its origin.
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(prefix.join("envs/second/conda-meta/othertool-2.0-0.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        meta["url"],
        format!("{}/noarch/othertool-2.0-0.conda", b.other_channel)
    );
    assert!(
        meta["md5"].as_str().is_some_and(|m| m.len() == 32),
        "{meta}"
    );
    let histories: Vec<String> = [
        "conda-meta",
        "envs/tools/conda-meta",
        "envs/second/conda-meta",
    ]
    .iter()
    .map(|d| {
        let h = std::fs::read_to_string(prefix.join(d).join("history")).unwrap();
        let state =
            std::fs::read_to_string(prefix.join(d).join("initial-state.explicit.txt")).unwrap();
        format!("--- {d}\n{h}{state}")
    })
    .collect();
    let listed = conda(&ctx, &prefix, &["list", "-n", "second"]);
    let envs = conda(&ctx, &prefix, &["env", "list"]);
    let registry = std::fs::read_to_string(ctx.home.join(".conda/environments.txt")).unwrap();
    insta::with_settings!({filters => vec![
        (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "[DATE]"),
        (r"#[0-9a-f]{32}", "#[MD5]"),
    ]}, {
        insta::assert_snapshot!(stable(&format!("{}\n{listed}\n{envs}\n{registry}", histories.join("\n")), b, &prefix));
    });
    // Updating in place keeps the envs and appends to their histories.
    let (code, out, err) = run(&ctx, &b.envs, &["-b", "-u", "-p", p], "");
    assert_eq!(code, 0, "{out}{err}");
    let h = std::fs::read_to_string(prefix.join("envs/tools/conda-meta/history")).unwrap();
    assert_eq!(h.matches("# update specs: ['demo-app']").count(), 2, "{h}");
}

/// Packages used by several envs are in the payload once.
#[test]
fn extra_envs_share_packages_in_the_payload() {
    let b = installers();
    let bytes = std::fs::read(&b.envs).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let size: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("HEADER_SIZE="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    let listing = Command::new("sh")
        .arg("-c")
        .arg(format!("tail -c +{} \"$0\" | tar -tf -", size + 1))
        .arg(&b.envs)
        .output()
        .unwrap();
    let mut names: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter_map(|l| {
            let entry = l.strip_prefix("pkgs/")?;
            let archive = !entry.contains('/') && entry.ends_with(".conda");
            archive
                .then_some(entry)
                .or_else(|| entry.strip_suffix("/info/index.json"))
        })
        .map(str::to_string)
        .collect();
    names.sort();
    // Small packages travel extracted; a well-compressed one as its archive.
    assert_eq!(
        names,
        ["demo-app-1.0-0", "libdemo-1.0-0", "othertool-2.0-0.conda"]
    );
}

#[test]
fn unsupported_extra_env_keys_are_named() {
    let ctx = TestContext::new();
    let spec = ctx.path("construct.yaml");
    for (env, expect) in [
        (
            "    specs: [a]\n    exclude: [b]\n",
            "extra_envs.py: `exclude` is not supported by taipan yet",
        ),
        (
            "    specs: [a]\n    colour: red\n",
            "extra_envs.py: unknown key `colour`",
        ),
        ("    specs: []\n", "extra_envs.py: `specs` is empty"),
        (
            "    specs: [a]\n    channels: []\n",
            "extra_envs.py: `channels` is empty",
        ),
    ] {
        std::fs::write(
            &spec,
            format!(
                "name: X\nversion: 1\nchannels: [{}]\nspecs: [a]\nextra_envs:\n  py:\n{env}",
                ctx.channel
            ),
        )
        .unwrap();
        let (code, _, err) = output(
            ctx.cmd()
                .args(["installer", "build"])
                .arg(&spec)
                .arg("-o")
                .arg(ctx.path("out")),
        );
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains("construct.yaml") && err.contains(expect),
            "{err}"
        );
    }
}
