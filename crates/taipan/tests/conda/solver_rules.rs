//! conda's solver rules (Part 9), each situation built with the test kit and checked
//! through the CLI against the environment conda's own tests expect.

use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{output, TestContext};

fn channel(ctx: &TestContext, dir: &str, pkgs: Vec<PackageBuilder>) -> String {
    let mut ch = ChannelBuilder::new(&ctx.path(dir));
    for p in pkgs {
        ch.add(&p, ArchiveFormat::Conda);
    }
    ch.index().unwrap();
    ch.url().to_string()
}

/// conda's `update --all` takes versioned specs too (`conda update --all numba=0.6`): they
/// hold while everything else moves to the newest; a plain `update` takes names only
/// (`CondaUpdatePackageError`).
#[test]
fn update_all_takes_versioned_specs() {
    let ctx = TestContext::new();
    let prefix = ctx.create("env", &["app=1", "leaf"]);
    let update = |args: &[&str]| {
        output(
            ctx.cmd()
                .args(["update", "-y", "-q", "-c", &ctx.channel, "-p"])
                .arg(&prefix)
                .args(args),
        )
    };
    let (code, _, err) = update(&["dep=1"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("CondaUpdatePackageError: `conda update` only supports name-only spec, but received: dep=1"),
        "{err}"
    );
    let (code, _, err) = update(&["--all", "dep=1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        ctx.installed(&prefix),
        vec!["app-1.0-0", "dep-1.0-0", "leaf-1.0-0"]
    );
    let (code, _, err) = update(&["--all"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        ctx.installed(&prefix),
        vec!["app-2.0-0", "dep-2.0-0", "leaf-1.0-0"]
    );
}

/// Specs that select by key with a wildcard name (`*[track_features=mkl]`) and `remove
/// --features mkl` remove the packages that track the feature, and only those.
#[test]
fn remove_by_track_feature() {
    let ctx = TestContext::new();
    let ch = channel(
        &ctx,
        "features",
        vec![
            PackageBuilder::new("fast", "1.0")
                .noarch_generic()
                .track_feature("mkl"),
            PackageBuilder::new("fast-too", "1.0")
                .noarch_generic()
                .track_feature("mkl"),
            PackageBuilder::new("plain", "1.0").noarch_generic(),
        ],
    );
    let make = |env: &str| {
        let prefix = ctx.path(env);
        ctx.cmd()
            .args(["create", "-y", "-q", "--override-channels", "-c", &ch, "-p"])
            .arg(&prefix)
            .args(["fast", "fast-too", "plain"])
            .assert()
            .success();
        prefix
    };
    let a = make("a");
    ctx.cmd()
        .args(["remove", "-y", "-q", "--features", "-p"])
        .arg(&a)
        .arg("mkl")
        .assert()
        .success();
    assert_eq!(ctx.installed(&a), vec!["plain-1.0-0"]);
    let b = make("b");
    ctx.cmd()
        .args(["remove", "-y", "-q", "-p"])
        .arg(&b)
        .arg("*[track_features=mkl]")
        .assert()
        .success();
    assert_eq!(ctx.installed(&b), vec!["plain-1.0-0"]);
    // A feature nothing tracks: the not-installed error, nothing removed.
    let (code, _, err) = output(
        ctx.cmd()
            .args(["remove", "-y", "--features", "-p"])
            .arg(&b)
            .arg("nosuch"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("PackagesNotFoundInPrefixError") || err.contains("missing"),
        "{err}"
    );
    assert_eq!(ctx.installed(&b), vec!["plain-1.0-0"]);
}
