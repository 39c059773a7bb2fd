//! Remote channels through the persistent index (Part 10): the cached repodata of an HTTP
//! channel is indexed once per version of the file, revalidated with the server, repaired
//! when damaged, shared safely between processes and between members of a group.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use taipan_testkit::nginx::Nginx;
use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::TestContext;

/// A channel with the standard packages, served by nginx (ETag, no Cache-Control: every run
/// revalidates).
fn served(ctx: &TestContext) -> (ChannelBuilder, Nginx) {
    assert!(
        Nginx::available(),
        "nginx is required for this test (apt-get install -y nginx); .ci/run installs it"
    );
    let dir = ctx.path("served");
    let mut ch = ChannelBuilder::new(&dir);
    for (pkg, fmt) in crate::common::standard_packages() {
        ch.add(&pkg, fmt);
    }
    ch.index().unwrap();
    let nginx = Nginx::serve(&dir).unwrap();
    (ch, nginx)
}

fn cache_dir(ctx: &TestContext) -> PathBuf {
    ctx.root.join("pkgs/cache")
}

/// The index files and their modification times.
fn indexes(ctx: &TestContext) -> BTreeMap<PathBuf, (i64, i64)> {
    let dir = cache_dir(ctx).join("taipan-index");
    std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                .map(|p| {
                    let m = std::fs::metadata(&p).unwrap();
                    (p, (m.mtime(), m.mtime_nsec()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The gateway's cached copies of the channel's repodata (`<key>.json`).
fn cached_repodata(ctx: &TestContext) -> Vec<PathBuf> {
    std::fs::read_dir(cache_dir(ctx))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            name.ends_with(".json") && !name.ends_with(".info.json")
        })
        .collect()
}

fn dry_run(ctx: &TestContext, url: &str, spec: &str) -> Vec<String> {
    let (code, out, err) = crate::common::output(
        ctx.cmd()
            .args(["create", "--dry-run", "--json", "-c", url, "-p"])
            .arg(ctx.path("env"))
            .arg(spec),
    );
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["actions"]["LINK"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["dist_name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// GETs of `path` answered with `status` (HEADs only probe which variants exist).
fn requests(nginx: &Nginx, path: &str, status: u16) -> usize {
    let line = format!("\"GET {path} HTTP/1.1\" {status} ");
    nginx.access_log().matches(&line).count()
}

/// Revalidations of `path` the server answered "not modified" (a conditional GET or HEAD).
fn not_modified(nginx: &Nginx, path: &str) -> usize {
    let line = format!("{path} HTTP/1.1\" 304 ");
    nginx.access_log().matches(&line).count()
}

/// 200 → cached and indexed; the next run gets a 304 and reuses the index untouched; a
/// changed repodata is downloaded, indexed again, and its new package is seen.
#[test]
fn the_cached_repodata_is_indexed_once_per_version() {
    let ctx = TestContext::new();
    let (mut ch, nginx) = served(&ctx);
    let url = nginx.url().to_string();
    assert_eq!(dry_run(&ctx, &url, "dep"), vec!["dep-2.0-0"]);
    let first = indexes(&ctx);
    assert!(!first.is_empty(), "no index was written");
    assert_eq!(dry_run(&ctx, &url, "dep"), vec!["dep-2.0-0"]);
    let log = nginx.access_log();
    assert_eq!(
        not_modified(&nginx, "/noarch/repodata.json.zst"),
        1,
        "{log}"
    );
    assert_eq!(
        requests(&nginx, "/noarch/repodata.json.zst", 200),
        1,
        "{log}"
    );
    assert_eq!(indexes(&ctx), first, "a 304 must not rebuild the index");
    ch.add(
        &PackageBuilder::new("dep", "3.0").noarch_generic(),
        ArchiveFormat::Conda,
    );
    ch.index().unwrap();
    assert_eq!(dry_run(&ctx, &url, "dep"), vec!["dep-3.0-0"]);
    assert_eq!(requests(&nginx, "/noarch/repodata.json.zst", 200), 2);
    assert_ne!(
        indexes(&ctx),
        first,
        "changed repodata must be indexed again"
    );
}

/// A truncated or corrupted cache file is detected (it no longer matches what was
/// downloaded) and fetched again.
#[test]
fn a_damaged_cache_file_is_fetched_again() {
    let ctx = TestContext::new();
    let (_ch, nginx) = served(&ctx);
    let url = nginx.url().to_string();
    assert_eq!(dry_run(&ctx, &url, "dep"), vec!["dep-2.0-0"]);
    let files = cached_repodata(&ctx);
    assert!(!files.is_empty());
    for (i, file) in files.iter().enumerate() {
        let whole = std::fs::read(file).unwrap();
        if i % 2 == 0 {
            std::fs::write(file, &whole[..whole.len() / 2]).unwrap();
        } else {
            let mut bad = whole.clone();
            bad[whole.len() / 2] = b'#';
            std::fs::write(file, bad).unwrap();
        }
    }
    assert_eq!(dry_run(&ctx, &url, "dep"), vec!["dep-2.0-0"]);
    for file in cached_repodata(&ctx) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            serde_json::from_str::<serde_json::Value>(&text).is_ok(),
            "{} was not repaired",
            file.display()
        );
    }
}

/// `--offline` (and `--use-index-cache`) read the index without asking the server anything.
#[test]
fn offline_reads_the_index_without_a_request() {
    let ctx = TestContext::new();
    let (_ch, nginx) = served(&ctx);
    let url = nginx.url().to_string();
    assert_eq!(dry_run(&ctx, &url, "dep=1"), vec!["dep-1.0-0"]);
    let before = nginx.access_log().lines().count();
    let first = indexes(&ctx);
    for flag in ["--offline", "--use-index-cache"] {
        let (code, out, err) = crate::common::output(
            ctx.cmd()
                .args(["create", "--dry-run", "--json", flag, "-c", &url, "-p"])
                .arg(ctx.path("env"))
                .arg("dep=1"),
        );
        assert_eq!(code, 0, "{flag}: {out}{err}");
        assert!(out.contains("dep-1.0-0"), "{out}");
    }
    let log = nginx.access_log();
    assert_eq!(log.lines().count(), before, "requests were made: {log}");
    assert_eq!(indexes(&ctx), first);
}

/// Two processes filling one empty cache at once both succeed and leave whole files.
#[test]
fn two_processes_fill_one_cache_at_once() {
    let ctx = TestContext::new();
    let (_ch, nginx) = served(&ctx);
    let url = nginx.url().to_string();
    dry_runs_at_once(&ctx, &url, "app", "app-2.0-0");
    for file in cached_repodata(&ctx) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
    }
    assert_eq!(dry_run(&ctx, &url, "app"), vec!["dep-2.0-0", "app-2.0-0"]);
}

/// Cache and index files follow the umask, so a group-shared package cache (umask 002) can
/// be read and refreshed by every member; with the default umask they are world-readable.
#[test]
fn cache_files_follow_the_umask() {
    let ctx = TestContext::new();
    let (_ch, nginx) = served(&ctx);
    let url = nginx.url().to_string();
    let run = |umask: &str| {
        let mut c = std::process::Command::new("sh");
        ctx.isolate_std(&mut c);
        let status = c
            .arg("-c")
            .arg(format!(
                "umask {umask}; exec \"$0\" create --dry-run --json -c {url} -p {} dep",
                ctx.path("env").display()
            ))
            .arg(&ctx.bin)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    };
    let modes = |dir: &Path| -> Vec<(String, u32)> {
        let mut out = Vec::new();
        for sub in [dir.to_path_buf(), dir.join("taipan-index")] {
            for e in std::fs::read_dir(&sub).unwrap().flatten() {
                let p = e.path();
                if p.is_file() {
                    let name = p.file_name().unwrap().to_string_lossy().to_string();
                    out.push((name, e.metadata().unwrap().permissions().mode() & 0o777));
                }
            }
        }
        out
    };
    run("002");
    let shared = modes(&cache_dir(&ctx));
    assert!(
        shared.iter().any(|(n, _)| n.ends_with(".idx")),
        "{shared:?}"
    );
    assert!(
        shared.iter().any(|(n, _)| n.ends_with(".info.json")),
        "{shared:?}"
    );
    for (name, mode) in &shared {
        assert_eq!(*mode, 0o664, "{name} with umask 002: {mode:o}");
    }
    std::fs::remove_dir_all(cache_dir(&ctx)).unwrap();
    run("022");
    for (name, mode) in modes(&cache_dir(&ctx)) {
        assert_eq!(mode, 0o644, "{name} with umask 022: {mode:o}");
    }
}

/// Two `create --dry-run --json SPEC` runs started together against `url`: both succeed and
/// plan `expected`.
pub(crate) fn dry_runs_at_once(ctx: &TestContext, url: &str, spec: &str, expected: &str) {
    let spawn = |env: &str| {
        let mut c = ctx.std_cmd();
        c.env("CONDA_ADD_PIP_AS_PYTHON_DEPENDENCY", "false")
            .args(["create", "--dry-run", "--json", "-c", url, "-p"])
            .arg(ctx.path(env))
            .arg(spec)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c.spawn().unwrap()
    };
    let children = [spawn("a"), spawn("b")];
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(expected), "{stdout}");
    }
}

/// The shared installation of a group `gid`: everything readable, the package cache
/// group-writable and setgid, so files created in it belong to the group.
pub(crate) fn share_with_group(ctx: &TestContext, gid: u32) {
    std::fs::create_dir_all(&ctx.root).unwrap();
    for dir in [ctx.temp.path(), ctx.root.as_path()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let pkgs = ctx.root.join("pkgs");
    std::fs::create_dir_all(&pkgs).unwrap();
    std::os::unix::fs::chown(&pkgs, None, Some(gid)).unwrap();
    std::fs::set_permissions(&pkgs, std::fs::Permissions::from_mode(0o2775)).unwrap();
}

/// Runs taipan as user `uid` of group `gid` with umask 002 (a member of a shared
/// installation, as `taipan deploy --shared` sets up), with its own home.
pub(crate) fn as_member(
    ctx: &TestContext,
    uid: u32,
    gid: u32,
    args: &[&str],
) -> (i32, String, String) {
    let home = ctx.path(&format!("home-{uid}"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut c = std::process::Command::new("setpriv");
    c.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg(format!("--groups={gid}"))
        .args(["--", "sh", "-c", "umask 002; exec \"$0\" \"$@\""])
        .arg(&ctx.bin)
        .args(args);
    ctx.isolate_std(&mut c);
    c.env("HOME", &home);
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("setpriv (util-linux) is needed to switch users: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Two members of a group share one package cache: what one downloads and indexes the other
/// reads (revalidated, not downloaded again), and a newer repodata one member fetches
/// replaces the other's files in place of failing on them.
#[test]
fn group_members_share_one_cache() {
    if !crate::common::root_or_skip("group_members_share_one_cache") {
        return;
    }
    const GROUP: u32 = 4242;
    let (alice, bob) = (4201, 4202);
    let ctx = TestContext::new();
    let (mut ch, nginx) = served(&ctx);
    let url = nginx.url().to_string();
    share_with_group(&ctx, GROUP);
    let dry_run = |uid: u32, env: &str| -> String {
        let env = ctx.path(env);
        let env = env.to_str().unwrap();
        let args = [
            "create",
            "--dry-run",
            "--json",
            "-c",
            &url,
            "-p",
            env,
            "dep",
        ];
        let (code, out, err) = as_member(&ctx, uid, GROUP, &args);
        assert_eq!(code, 0, "uid {uid}: {out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["actions"]["LINK"][0]["dist_name"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let owners = || -> Vec<(String, u32, u32)> {
        let mut out = Vec::new();
        let cache = cache_dir(&ctx);
        for dir in [cache.clone(), cache.join("taipan-index")] {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let m = e.metadata().unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                out.push((name, m.uid(), m.gid()));
            }
        }
        out
    };
    let zst_200 = || requests(&nginx, "/noarch/repodata.json.zst", 200);

    assert_eq!(dry_run(alice, "a"), "dep-2.0-0");
    let filled = owners();
    assert!(
        filled.iter().any(|(n, ..)| n.ends_with(".idx")),
        "{filled:?}"
    );
    for (name, uid, gid) in &filled {
        assert_eq!((*uid, *gid), (alice, GROUP), "{name}");
    }
    let index = indexes(&ctx);

    // The other member reads the cache and index as they are: one revalidation, no download.
    assert_eq!(dry_run(bob, "b"), "dep-2.0-0");
    assert_eq!(zst_200(), 1, "{}", nginx.access_log());
    assert_eq!(indexes(&ctx), index, "the index was rebuilt");
    assert!(
        !ctx.path(&format!("home-{bob}/.conda/pkgs")).exists(),
        "the second member fell back to a private cache"
    );

    // A newer repodata: the second member replaces the first one's files.
    ch.add(
        &PackageBuilder::new("dep", "3.0").noarch_generic(),
        ArchiveFormat::Conda,
    );
    ch.index().unwrap();
    assert_eq!(dry_run(bob, "b"), "dep-3.0-0");
    assert_eq!(zst_200(), 2);
    assert_ne!(indexes(&ctx), index, "the new repodata was not indexed");
    assert_eq!(dry_run(alice, "a"), "dep-3.0-0");
    assert_eq!(zst_200(), 2, "{}", nginx.access_log());
    for (name, _, gid) in owners() {
        assert_eq!(gid, GROUP, "{name} left the group");
    }
}

/// `conda search` reads a remote channel through the same index as a solve: the first search
/// indexes the download, later ones (exact names and globs) reuse it.
#[test]
fn search_reads_through_the_index() {
    let ctx = TestContext::new();
    let (_ch, nginx) = served(&ctx);
    let url = nginx.url().to_string();
    let search = |query: &str| -> Vec<String> {
        let (code, out, err) = crate::common::output(
            ctx.cmd()
                .args(["search", "--json", "--override-channels", "-c", &url])
                .arg(query),
        );
        assert_eq!(code, 0, "{query}: {out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let mut found: Vec<String> = v
            .as_object()
            .unwrap()
            .values()
            .flat_map(|rs| rs.as_array().unwrap().clone())
            .map(|r| {
                format!(
                    "{}-{}",
                    r["name"].as_str().unwrap(),
                    r["version"].as_str().unwrap()
                )
            })
            .collect();
        found.sort();
        found
    };
    assert_eq!(search("dep"), vec!["dep-1.0", "dep-2.0"]);
    let first = indexes(&ctx);
    assert!(!first.is_empty(), "search did not index the channel");
    assert_eq!(search("de*"), vec!["dep-1.0", "dep-2.0"]);
    assert_eq!(search("dep>=2"), vec!["dep-2.0"]);
    assert_eq!(indexes(&ctx), first, "a warm search rebuilt the index");
    assert_eq!(
        requests(&nginx, "/noarch/repodata.json.zst", 200),
        1,
        "{}",
        nginx.access_log()
    );
}

/// A search of a channel that cannot be reached names the URL and what to do; offline, a
/// channel with nothing cached has no packages, as in conda (`PackagesNotFoundInChannelsError`,
/// compared with conda 26.7.1), and the server is not asked.
#[test]
fn search_of_an_unreachable_or_uncached_channel() {
    let ctx = TestContext::new();
    let (code, out, err) = crate::common::output(ctx.cmd().args([
        "search",
        "--override-channels",
        "-c",
        "http://127.0.0.1:1/nothing",
        "dep",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    let text = format!("{out}{err}");
    assert!(text.contains("UnavailableInvalidChannel"), "{text}");
    assert!(text.contains("http://127.0.0.1:1/nothing/"), "{text}");
    assert!(
        text.contains("Check that the channel URL is right"),
        "{text}"
    );

    let (_ch, nginx) = served(&ctx);
    let url = nginx.url().to_string();
    let (code, out, err) = crate::common::output(
        ctx.cmd()
            .args(["search", "--offline", "--override-channels", "-c", &url])
            .arg("dep"),
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("PackagesNotFoundInChannelsError"),
        "{out}{err}"
    );
    assert_eq!(
        nginx.access_log().lines().count(),
        0,
        "{}",
        nginx.access_log()
    );
}
