//! Several commands at once, on one prefix or one package cache: they wait for each other,
//! and every outcome is a consistent environment with an exit code that tells the truth.

use std::path::Path;
use std::process::Child;

use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{assert_consistent, TestContext};

fn spawn(ctx: &TestContext, args: &[&str], prefix: &Path) -> Child {
    ctx.std_cmd()
        .args(args)
        .arg("-p")
        .arg(prefix)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (i32, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Twenty packages of 200 files each, some as `.tar.bz2`: extraction takes a while, so
/// concurrent commands meet on the cache.
fn many_channel(ctx: &TestContext) -> String {
    let mut ch = ChannelBuilder::new(&ctx.path("many"));
    let mut top = PackageBuilder::new("top", "1.0");
    for i in 0..20 {
        let mut pkg = PackageBuilder::new(&format!("p{i}"), "1.0");
        for f in 0..200 {
            pkg = pkg.file(
                &format!("share/p{i}/f{f}.txt"),
                format!("{i} {f}\n").repeat(50),
            );
        }
        let format = if i % 3 == 0 {
            ArchiveFormat::TarBz2
        } else {
            ArchiveFormat::Conda
        };
        ch.add(&pkg, format);
        top = top.depends(&format!("p{i}"));
    }
    ch.add(&top, ArchiveFormat::Conda);
    ch.index().unwrap();
    ch.url().to_string()
}

#[test]
fn four_creates_on_one_cold_cache_all_succeed() {
    for round in 0..3 {
        let ctx = TestContext::new();
        let url = many_channel(&ctx);
        let prefixes: Vec<_> = (0..4)
            .map(|i| ctx.path(&format!("env{round}-{i}")))
            .collect();
        let children: Vec<Child> = prefixes
            .iter()
            .map(|p| {
                spawn(
                    &ctx,
                    &[
                        "create",
                        "-y",
                        "-q",
                        "--override-channels",
                        "-c",
                        &url,
                        "top",
                    ],
                    p,
                )
            })
            .collect();
        for (child, prefix) in children.into_iter().zip(&prefixes) {
            let (code, err) = finish(child);
            assert_eq!(code, 0, "round {round}, {}: {err}", prefix.display());
            assert_eq!(
                std::fs::read_dir(prefix.join("conda-meta"))
                    .unwrap()
                    .filter(|e| e
                        .as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "json"))
                    .count(),
                21
            );
            assert_consistent(prefix);
        }
        let leftovers: Vec<String> = std::fs::read_dir(ctx.root.join("pkgs"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.') || n.ends_with(".partial"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

/// Two processes need the same two packages, and each ends up making one of them. Each
/// then holds its own entry shared until its transaction ends, and finds the other's
/// entry missing from an earlier look. Had it waited for an exclusive hold on that entry
/// (to make it), both would wait for each other (for the 600 s patience); they look again
/// instead, find the entry made, and use it. The pauses line the two processes up so:
/// both look at both entries while the other holds its look too, and for each entry one
/// process tries to make it early (and cannot: the other is still looking) while the
/// other makes it late and keeps it.
#[test]
fn two_processes_making_entries_the_other_needs_do_not_wait_for_each_other() {
    let ctx = TestContext::new();
    let prefixes = [ctx.path("one"), ctx.path("two")];
    let pauses = [
        "entry-missing dep-1.0-0:500,entry-missing app-1.0-0:2000",
        "entry-missing dep-1.0-0:2000,entry-missing app-1.0-0:500",
    ];
    let mut children: Vec<Option<Child>> = prefixes
        .iter()
        .zip(pauses)
        .map(|(p, pause)| {
            let mut cmd = ctx.std_cmd();
            cmd.args([
                "create",
                "-y",
                "-q",
                "--override-channels",
                "-c",
                &ctx.channel,
            ])
            .arg("-p")
            .arg(p)
            .arg("app=1")
            .env("TAIPAN_TEST_PAUSE", pause)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
            Some(cmd.spawn().unwrap())
        })
        .collect();
    let start = std::time::Instant::now();
    while children
        .iter_mut()
        .flatten()
        .any(|c| c.try_wait().unwrap().is_none())
    {
        if start.elapsed() > std::time::Duration::from_secs(60) {
            for c in children.iter_mut().flatten() {
                let _ = c.kill();
            }
            panic!("two creates still wait for each other's cache entries after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for (child, prefix) in children.iter_mut().zip(&prefixes) {
        let (code, err) = finish(child.take().unwrap());
        assert_eq!(code, 0, "{err}");
        assert_eq!(ctx.installed(prefix), vec!["app-1.0-0", "dep-1.0-0"]);
    }
}

#[test]
fn install_racing_remove_leaves_a_consistent_prefix_and_true_exit_codes() {
    let ctx = TestContext::new();
    let mut ch = ChannelBuilder::new(&ctx.path("ch"));
    for v in ["1.0", "2.0"] {
        let mut pkg = PackageBuilder::new("x", v);
        for f in 0..300 {
            pkg = pkg.file(&format!("share/x/{v}/f{f}"), "x\n");
        }
        ch.add(&pkg, ArchiveFormat::Conda);
    }
    ch.add(
        &PackageBuilder::new("y", "1.0").file("share/y", "y\n"),
        ArchiveFormat::Conda,
    );
    ch.index().unwrap();
    let url = ch.url().to_string();
    for round in 0..8 {
        let prefix = ctx.path(&format!("env{round}"));
        let c = spawn(
            &ctx,
            &[
                "create",
                "-y",
                "-q",
                "--override-channels",
                "-c",
                &url,
                "x=1",
                "y",
            ],
            &prefix,
        );
        assert_eq!(finish(c).0, 0);
        let install = spawn(
            &ctx,
            &[
                "install",
                "-y",
                "-q",
                "--override-channels",
                "-c",
                &url,
                "x=2",
            ],
            &prefix,
        );
        let remove = spawn(&ctx, &["remove", "-y", "-q", "x"], &prefix);
        let (install_code, install_err) = finish(install);
        let (remove_code, remove_err) = finish(remove);
        assert_consistent(&prefix);
        let installed: Vec<String> = std::fs::read_dir(prefix.join("conda-meta"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        let has_x2 = installed.iter().any(|n| n == "x-2.0-0.json");
        let has_x = installed.iter().any(|n| n.starts_with("x-"));
        // Whichever ran second decided: x=2 installed after the removal, or removed after
        // the install. Both commands did what they said.
        assert_eq!(install_code, 0, "{install_err}");
        match remove_code {
            0 => assert!(!has_x || has_x2, "{installed:?}"),
            _ => panic!("remove failed: {remove_err}"),
        }
        assert!(!has_x || has_x2, "round {round}: {installed:?}");
    }
}

#[test]
fn a_process_linking_from_an_entry_keeps_it_while_another_replaces_it() {
    // Two channels with the same name-version-build but different files: the second
    // command needs the cache entry replaced, and must wait until the first one, which is
    // linking from it (its pre-link script sleeps), is done.
    let ctx = TestContext::new();
    let mut one = ChannelBuilder::new(&ctx.path("one"));
    let mut pkg = PackageBuilder::new("same", "1.0").pre_link("sleep 2\n");
    for f in 0..100 {
        pkg = pkg.file(&format!("share/same/one{f}"), "one\n");
    }
    one.add(&pkg, ArchiveFormat::Conda);
    one.index().unwrap();
    let mut two = ChannelBuilder::new(&ctx.path("two"));
    two.add(
        &PackageBuilder::new("same", "1.0").file("share/same/two", "two\n"),
        ArchiveFormat::Conda,
    );
    two.index().unwrap();
    let first = spawn(
        &ctx,
        &[
            "create",
            "-y",
            "-q",
            "--override-channels",
            "-c",
            one.url().as_str(),
            "same",
        ],
        &ctx.path("first"),
    );
    std::thread::sleep(std::time::Duration::from_millis(700));
    let second = spawn(
        &ctx,
        &[
            "create",
            "-y",
            "-q",
            "--override-channels",
            "-c",
            two.url().as_str(),
            "same",
        ],
        &ctx.path("second"),
    );
    let (a, a_err) = finish(first);
    let (b, b_err) = finish(second);
    assert_eq!(a, 0, "{a_err}");
    assert_eq!(b, 0, "{b_err}");
    for f in 0..100 {
        assert!(ctx.path(&format!("first/share/same/one{f}")).is_file());
    }
    assert!(ctx.path("second/share/same/two").is_file());
    assert_consistent(&ctx.path("first"));
    assert_consistent(&ctx.path("second"));
}
