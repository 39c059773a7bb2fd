//! Sharded repodata (CEP-16) over HTTP (Part 10), read through taipan's shard reader: only
//! the shards a request reaches are fetched, a republished shard is seen, a shard whose bytes
//! do not match the hash the shard index lists is refused, not cached, and fetched again once
//! the server is right; the shard index is decoded once per version (a 304 keeps its table,
//! offline asks nothing), damaged cache files are fetched again, and the cache is shared
//! safely between two processes and between members of a group.

use std::path::{Path, PathBuf};

use taipan_testkit::http::TestServer;
use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

use crate::common::{output, TestContext};

/// The standard packages as a sharded channel, served by the test server.
fn sharded(ctx: &TestContext) -> (ChannelBuilder, TestServer) {
    let dir = ctx.path("sharded");
    let ch = crate::common::channel_with(&dir, Vec::new()).with_shards(true);
    ch.index().unwrap();
    let server = TestServer::serve(&dir).unwrap();
    (ch, server)
}

/// `create --dry-run --json SPEC` against the channel: the packages it would link.
fn plan(ctx: &TestContext, url: &str, spec: &str) -> (i32, Vec<String>, String) {
    plan_with(ctx, url, spec, &[])
}

fn plan_with(
    ctx: &TestContext,
    url: &str,
    spec: &str,
    extra: &[&str],
) -> (i32, Vec<String>, String) {
    let (code, out, err) = output(
        ctx.cmd()
            .env("CONDA_ADD_PIP_AS_PYTHON_DEPENDENCY", "false")
            .args([
                "create",
                "--dry-run",
                "--json",
                "--override-channels",
                "-c",
                url,
            ])
            .args(extra)
            .arg("-p")
            .arg(ctx.path("env"))
            .arg(spec),
    );
    let links = serde_json::from_str::<serde_json::Value>(&out)
        .ok()
        .and_then(|v| v["actions"]["LINK"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|l| l["dist_name"].as_str().map(String::from))
        .collect::<Vec<_>>();
    let mut links = links;
    links.sort();
    (code, links, format!("{out}{err}"))
}

fn shard_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("noarch/shards"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn shard_requests(server: &TestServer) -> Vec<String> {
    server
        .log()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.contains("/shards/"))
        .collect()
}

#[test]
fn only_the_shards_a_request_reaches_are_fetched() {
    let ctx = TestContext::new();
    let (ch, server) = sharded(&ctx);
    let url = server.url().to_string();
    let (code, links, out) = plan(&ctx, &url, "app=1");
    assert_eq!(code, 0, "{out}");
    assert_eq!(links, vec!["app-1.0-0", "dep-1.0-0"]);
    // app and dep: two of the channel's noarch shards (pip, dep, app, leaf, …).
    let fetched = shard_requests(&server);
    assert_eq!(fetched.len(), 2, "{fetched:#?}");
    assert!(shard_files(ch.root()).len() > 2);
}

#[test]
fn a_republished_shard_is_seen() {
    let ctx = TestContext::new();
    let (mut ch, server) = sharded(&ctx);
    let url = server.url().to_string();
    let (code, links, out) = plan(&ctx, &url, "app=1");
    assert_eq!(code, 0, "{out}");
    assert_eq!(links, vec!["app-1.0-0", "dep-1.0-0"]);
    ch.add(
        &PackageBuilder::new("dep", "1.5").noarch_generic(),
        ArchiveFormat::Conda,
    );
    ch.index().unwrap();
    let (code, links, out) = plan(&ctx, &url, "app=1");
    assert_eq!(code, 0, "{out}");
    assert_eq!(links, vec!["app-1.0-0", "dep-1.5-0"]);
}

#[test]
fn a_shard_that_does_not_match_its_hash_is_refused_and_fetched_again() {
    let ctx = TestContext::new();
    let (ch, server) = sharded(&ctx);
    let url = server.url().to_string();
    let files = shard_files(ch.root());
    let originals: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    // Every shard now holds the first one's bytes: all but one differ from their hash.
    for f in &files[1..] {
        std::fs::write(f, &originals[0]).unwrap();
    }
    let (code, _, out) = plan(&ctx, &url, "app=1");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("but the shard index lists") && out.contains("run the command again"),
        "the error names the mismatch and what to do: {out}"
    );
    assert!(!ctx.path("env").exists());
    for (f, bytes) in files.iter().zip(&originals) {
        std::fs::write(f, bytes).unwrap();
    }
    server.reset_log();
    let (code, links, out) = plan(&ctx, &url, "app=1");
    assert_eq!(code, 0, "{out}");
    assert_eq!(links, vec!["app-1.0-0", "dep-1.0-0"]);
    assert!(
        !shard_requests(&server).is_empty(),
        "the refused shard was not cached"
    );
}

/// taipan's table of a shard index (`<pkgs>/cache/taipan-index/*.shards`) with its inode.
fn shard_tables(ctx: &TestContext) -> Vec<(PathBuf, u64)> {
    use std::os::unix::fs::MetadataExt;
    let dir = ctx.root.join("pkgs/cache/taipan-index");
    let mut tables: Vec<(PathBuf, u64)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "shards"))
                .map(|p| {
                    let ino = std::fs::metadata(&p).unwrap().ino();
                    (p, ino)
                })
                .collect()
        })
        .unwrap_or_default();
    tables.sort();
    tables
}

fn cached_shards(ctx: &TestContext) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(ctx.root.join("pkgs/cache/shards-v1"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The shard index is decoded once per version: the next run revalidates it (304), keeps
/// the table it built (same file), and reads the shards it has from the cache; offline, no
/// request at all.
#[test]
fn the_shard_index_is_decoded_once_and_revalidated() {
    let ctx = TestContext::new();
    let (_ch, server) = sharded(&ctx);
    let url = server.url().to_string();
    let (code, links, out) = plan(&ctx, &url, "app=1");
    assert_eq!(code, 0, "{out}");
    assert_eq!(links, vec!["app-1.0-0", "dep-1.0-0"]);
    let tables = shard_tables(&ctx);
    assert!(!tables.is_empty(), "no shard table was written");
    assert_eq!(cached_shards(&ctx).len(), 2);
    server.reset_log();
    let (code, again, out) = plan(&ctx, &url, "app=1");
    assert_eq!(code, 0, "{out}");
    assert_eq!(again, links);
    assert_eq!(
        server.requests_with_status("/noarch/repodata_shards.msgpack.zst", 304),
        1,
        "{:#?}",
        server.log()
    );
    assert!(shard_requests(&server).is_empty(), "{:#?}", server.log());
    assert_eq!(
        shard_tables(&ctx),
        tables,
        "a 304 must not rebuild the table"
    );
    server.reset_log();
    let (code, offline, out) = plan_with(&ctx, &url, "app=1", &["--offline"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(offline, links);
    assert_eq!(server.total_requests(), 0, "{:#?}", server.log());
}

/// A cached shard damaged on disk is fetched again; a damaged table is rebuilt from a fresh
/// download of the shard index.
#[test]
fn damaged_cached_shards_and_tables_are_fetched_again() {
    let ctx = TestContext::new();
    let (_ch, server) = sharded(&ctx);
    let url = server.url().to_string();
    let (code, links, out) = plan(&ctx, &url, "app=1");
    assert_eq!(code, 0, "{out}");
    for shard in cached_shards(&ctx) {
        std::fs::write(&shard, b"\xc1 not msgpack").unwrap();
    }
    for (table, _) in shard_tables(&ctx) {
        let bytes = std::fs::read(&table).unwrap();
        std::fs::write(&table, &bytes[..bytes.len() / 2]).unwrap();
    }
    server.reset_log();
    let (code, again, out) = plan(&ctx, &url, "app=1");
    assert_eq!(code, 0, "{out}");
    assert_eq!(again, links);
    assert_eq!(shard_requests(&server).len(), 2, "{:#?}", server.log());
    assert_eq!(
        server.requests_with_status("/noarch/repodata_shards.msgpack.zst", 200),
        1,
        "{:#?}",
        server.log()
    );
}

/// Offline, a shard that was never fetched is an error that says so; nothing is created.
#[test]
fn offline_without_the_shard_cached_is_an_error() {
    let ctx = TestContext::new();
    let (_ch, server) = sharded(&ctx);
    let url = server.url().to_string();
    let (code, _, out) = plan(&ctx, &url, "dep");
    assert_eq!(code, 0, "{out}");
    let (code, _, out) = plan_with(&ctx, &url, "app=1", &["--offline"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("not in the cache") && out.contains("offline"),
        "{out}"
    );
    assert!(!ctx.path("env").exists());
}

/// Two runs filling one cache at once: both succeed, and what they leave is whole (a later
/// run reads every shard from it).
#[test]
fn two_processes_fill_one_shard_cache_at_once() {
    let ctx = TestContext::new();
    let (_ch, server) = sharded(&ctx);
    let url = server.url().to_string();
    crate::remote_index::dry_runs_at_once(&ctx, &url, "app=1", "app-1.0-0");
    server.reset_log();
    let (code, links, out) = plan(&ctx, &url, "app=1");
    assert_eq!(code, 0, "{out}");
    assert_eq!(links, vec!["app-1.0-0", "dep-1.0-0"]);
    assert!(shard_requests(&server).is_empty(), "{:#?}", server.log());
}

/// Two members of a group share one package cache (umask 002, setgid directory): the shard
/// table and shards one fills are group-writable and the other reads them without
/// downloading a shard; a republished index one member fetches replaces the table for both.
#[test]
fn group_members_share_one_shard_cache() {
    use std::os::unix::fs::MetadataExt;
    if !crate::common::root_or_skip("group_members_share_one_shard_cache") {
        return;
    }
    const GROUP: u32 = 4243;
    let (alice, bob) = (4211, 4212);
    let ctx = TestContext::new();
    let (mut ch, server) = sharded(&ctx);
    let url = server.url().to_string();
    crate::remote_index::share_with_group(&ctx, GROUP);
    let dry_run = |uid: u32, env: &str| -> Vec<String> {
        let env = ctx.path(env);
        let args = [
            "create",
            "--dry-run",
            "--json",
            "--override-channels",
            "-c",
            &url,
            "-p",
            env.to_str().unwrap(),
            "app",
        ];
        let (code, out, err) = crate::remote_index::as_member(&ctx, uid, GROUP, &args);
        assert_eq!(code, 0, "uid {uid}: {out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let mut links: Vec<String> = v["actions"]["LINK"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["dist_name"].as_str().unwrap().to_string())
            .collect();
        links.sort();
        links
    };
    let first = dry_run(alice, "a");
    assert!(first.contains(&"app-2.0-0".to_string()), "{first:?}");
    let tables = shard_tables(&ctx);
    let shards = cached_shards(&ctx);
    assert!(!tables.is_empty() && !shards.is_empty());
    for file in tables.iter().map(|t| &t.0).chain(&shards) {
        let m = std::fs::metadata(file).unwrap();
        assert_eq!((m.uid(), m.gid()), (alice, GROUP), "{}", file.display());
        assert_eq!(m.mode() & 0o777, 0o664, "{}", file.display());
    }
    server.reset_log();
    assert_eq!(dry_run(bob, "b"), first);
    assert!(shard_requests(&server).is_empty(), "{:#?}", server.log());
    assert_eq!(shard_tables(&ctx), tables, "the table was rebuilt");
    assert!(
        !ctx.path(&format!("home-{bob}/.conda/pkgs")).exists(),
        "the second member fell back to a private cache"
    );
    ch.add(
        &PackageBuilder::new("app", "3.0")
            .noarch_generic()
            .depends("dep"),
        ArchiveFormat::Conda,
    );
    ch.index().unwrap();
    let newer = dry_run(bob, "b");
    assert!(newer.contains(&"app-3.0-0".to_string()), "{newer:?}");
    assert_ne!(shard_tables(&ctx), tables, "the new index was not read");
    assert_eq!(dry_run(alice, "a"), newer);
}
