//! `conda install --revision N` through the CLI: the environment returns to a revision's
//! package set from `conda-meta/history`, as a transaction recorded in the history;
//! `list --revisions` in conda's shapes; packages found nowhere stop the command with
//! nothing changed; `update`/`remove` refuse `--revision` as conda's parser does.

use std::path::Path;

use taipan_testkit::PackageBuilder;

use crate::common::{channel_with, output, tree, TestContext};

fn history(prefix: &Path) -> String {
    std::fs::read_to_string(prefix.join("conda-meta/history")).unwrap()
}

/// The last history block without its date and command lines.
fn last_block(prefix: &Path) -> String {
    let h = history(prefix);
    let block = h.rsplit("==> ").next().unwrap_or_default();
    block
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with("# conda version"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// rev 0: create dep=1.0; rev 1: update dep (2.0); rev 2: install leaf; rev 3: remove leaf.
fn four_revisions(ctx: &TestContext) -> std::path::PathBuf {
    let prefix = ctx.create("env", &["dep=1.0"]);
    let p = prefix.to_str().unwrap();
    let ch = ctx.channel.as_str();
    for args in [
        vec!["update", "-y", "-q", "-c", ch, "-p", p, "dep"],
        vec!["install", "-y", "-q", "-c", ch, "-p", p, "leaf"],
        vec!["remove", "-y", "-q", "-p", p, "leaf"],
    ] {
        let (code, _, stderr) = output(ctx.cmd().args(&args));
        assert_eq!(code, 0, "{args:?}: {stderr}");
    }
    assert_eq!(ctx.installed(&prefix), ["dep-2.0-0"]);
    prefix
}

#[test]
fn revision_rollback_across_install_update_and_remove() {
    let ctx = TestContext::new();
    let prefix = four_revisions(&ctx);
    let p = prefix.to_str().unwrap().to_string();
    let ch = ctx.channel.clone();

    // list --revisions: conda's pretty_diff lines and object_log items.
    let (code, text, _) = output(ctx.cmd().args(["list", "--revisions", "-p", &p]));
    assert_eq!(code, 0);
    let (code, json, _) = output(ctx.cmd().args(["list", "--revisions", "--json", "-p", &p]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 4);
    // conda's `name-version-build-channel/subdir`.
    let new = v[1]["upgrade"][0]["new"].as_str().unwrap();
    assert!(
        new.starts_with("dep-2.0-0-file://") && new.ends_with("/noarch"),
        "{new}"
    );
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("list_revisions_text", text);
        insta::assert_snapshot!("list_revisions_json", json);
    });

    // Back to revision 2 (dep 2.0 and leaf): leaf comes back.
    let (code, stdout, stderr) =
        output(
            ctx.cmd()
                .args(["install", "--revision", "2", "-y", "-c", &ch, "-p", &p]),
        );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ctx.installed(&prefix), ["dep-2.0-0", "leaf-1.0-0"]);
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("revert_to_2_text", stdout);
    });
    // conda records the revert with the specs the environment asks for now.
    insta::with_settings!({filters => ctx.filters()}, {
        insta::assert_snapshot!("revert_to_2_history", last_block(&prefix));
    });

    // Back to revision 0 (dep 1.0 only), shown first with --dry-run --json.
    let before = tree(&prefix);
    let (code, stdout, _) = output(ctx.cmd().args([
        "install",
        "--revision",
        "0",
        "--dry-run",
        "--json",
        "-c",
        &ch,
        "-p",
        &p,
    ]));
    assert_eq!(code, 0);
    assert_eq!(tree(&prefix), before, "a dry run changes nothing");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    let names = |key: &str| -> Vec<String> {
        let mut n: Vec<String> = v["actions"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["dist_name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names("LINK"), ["dep-1.0-0"]);
    assert_eq!(names("UNLINK"), ["dep-2.0-0", "leaf-1.0-0"]);
    let (code, _, stderr) = output(ctx.cmd().args([
        "install",
        "--revision",
        "0",
        "-y",
        "-q",
        "-c",
        &ch,
        "-p",
        &p,
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ctx.installed(&prefix), ["dep-1.0-0"]);
    assert!(prefix.join("share/dep/v1").is_file());
    assert!(!prefix.join("share/leaf").exists());

    // -1 is the last revision (Python indexing, as conda): nothing to do.
    let (code, stdout, _) =
        output(
            ctx.cmd()
                .args(["install", "--revision", "-1", "-y", "-c", &ch, "-p", &p]),
        );
    assert_eq!(code, 0);
    assert!(
        stdout.contains("# All requested packages already installed."),
        "{stdout}"
    );
    // The reverts are revisions themselves: 4 and 5.
    let (_, json, _) = output(ctx.cmd().args(["list", "--revisions", "--json", "-p", &p]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 6);
}

#[test]
fn revision_whose_package_is_in_no_channel_and_no_cache_changes_nothing() {
    let ctx = TestContext::new();
    let dir = ctx.path("own-channel");
    let gone = PackageBuilder::new("gone", "1.0")
        .noarch_generic()
        .file("share/gone", "gone\n");
    let ch = channel_with(&dir, vec![gone]);
    ch.index().unwrap();
    let url = ch.url().to_string();
    let prefix = ctx.path("env");
    let p = prefix.to_str().unwrap();
    for args in [
        vec!["create", "-y", "-q", "-c", &url, "-p", p, "gone", "dep=1.0"],
        vec!["remove", "-y", "-q", "-p", p, "gone"],
    ] {
        let (code, _, stderr) = output(ctx.cmd().args(&args));
        assert_eq!(code, 0, "{args:?}: {stderr}");
    }
    // The package leaves the channel.
    for pkg in ch.packages() {
        if pkg
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("gone-")
        {
            std::fs::remove_file(pkg).unwrap();
        }
    }
    let rebuilt = channel_with(&dir, Vec::new());
    rebuilt.index().unwrap();

    // Still in the package cache: the revision is restored from there.
    let (code, stdout, stderr) = output(ctx.cmd().args([
        "install",
        "--revision",
        "0",
        "--dry-run",
        "-c",
        &url,
        "-p",
        p,
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("gone-1.0-0"), "{stdout}");

    // Gone from the cache too: an error naming it, and the environment as it was.
    let pkgs = ctx.root.join("pkgs");
    for e in std::fs::read_dir(&pkgs).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("gone-") {
            let path = e.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
    let before = tree(&prefix);
    let (code, stdout, stderr) =
        output(
            ctx.cmd()
                .args(["install", "--revision", "0", "-y", "-c", &url, "-p", p]),
        );
    assert_eq!(code, 1);
    assert_eq!(tree(&prefix), before);
    let (code, json, _) = output(ctx.cmd().args([
        "install",
        "--revision",
        "0",
        "-y",
        "--json",
        "-c",
        &url,
        "-p",
        p,
    ]));
    assert_eq!(code, 1);
    assert_eq!(tree(&prefix), before);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["exception_name"], "PackagesNotFoundInChannelsError");
    let mut filters = ctx.filters();
    let own = regex::escape(url.trim_end_matches('/'));
    filters.push((Box::leak(own.into_boxed_str()), "[OWN_CHANNEL]"));
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!("gone_text", format!("{stdout}---\n{stderr}"));
        insta::assert_snapshot!("gone_json", json);
    });
}

#[test]
fn revision_refusals_are_condas() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["dep=1.0"]);
    let p = prefix.to_str().unwrap();
    let before = tree(&prefix);
    let (code, _, stderr) = output(
        ctx.cmd()
            .args(["install", "--revision", "9", "-y", "-p", p]),
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("CondaIndexError: no such revision: 9"),
        "{stderr}"
    );
    let (code, _, stderr) =
        output(
            ctx.cmd()
                .args(["install", "--revision", "0", "leaf", "-y", "-p", p]),
        );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("CondaValueError: too many arguments, must supply one of command line packages, --file or --revision"),
        "{stderr}"
    );
    for cmd in ["update", "remove"] {
        let (code, stdout, stderr) =
            output(ctx.cmd().args([cmd, "--revision", "0", "-y", "-p", p]));
        assert_eq!(code, 2, "{cmd}");
        assert_eq!(stdout, "");
        assert_eq!(
            stderr,
            "usage: conda [-h] [-v] [--no-plugins] [-V] COMMAND ...\nconda: error: unrecognized arguments: --revision\n"
        );
    }
    assert_eq!(tree(&prefix), before);
}
