use std::time::Duration;

use taipan_testkit::http::{Fault, TestServer};
use taipan_testkit::nginx::Nginx;

use crate::common::{output, TestContext};

fn standard_on_disk(ctx: &TestContext) -> std::path::PathBuf {
    let dir = ctx.path("served");
    let mut ch = taipan_testkit::ChannelBuilder::new(&dir);
    for (pkg, fmt) in crate::common::standard_packages() {
        ch.add(&pkg, fmt);
    }
    ch.index().unwrap();
    dir
}

#[test]
fn http_channel_with_transient_500s_is_retried() {
    let ctx = TestContext::new();
    let server = TestServer::serve(&standard_on_disk(&ctx)).unwrap();
    server.fault("noarch/repodata.json.zst", Fault::Status(500), 2);
    server.fault("dep-1.0-0.conda", Fault::Status(500), 1);
    let prefix = ctx.path("env");
    let url = server.url().to_string();
    ctx.cmd()
        .args(["create", "-y", "-q", "-c", &url, "-p"])
        .arg(&prefix)
        .arg("dep=1")
        .assert()
        .success();
    assert_eq!(ctx.installed(&prefix), vec!["dep-1.0-0"]);
    assert_eq!(
        server.requests_with_status("/noarch/dep-1.0-0.conda", 500),
        1
    );
    assert!(server.requests_with_status("/noarch/dep-1.0-0.conda", 200) >= 1);
}

#[test]
fn http_truncated_package_is_a_clean_error() {
    let ctx = TestContext::new();
    let server = TestServer::serve(&standard_on_disk(&ctx)).unwrap();
    server.fault_always("dep-2.0-0.tar.bz2", Fault::Truncate(50));
    let prefix = ctx.path("env");
    let url = server.url().to_string();
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", &url, "-p"])
            .arg(&prefix)
            .arg("dep=2"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("dep-2.0-0"), "{err}");
    assert!(!prefix.exists());
}

#[test]
fn http_timeouts_respect_remote_read_timeout() {
    let ctx = TestContext::new();
    let server = TestServer::serve(&standard_on_disk(&ctx)).unwrap();
    server.fault_always("noarch/repodata.json", Fault::Delay(Duration::from_secs(5)));
    server.fault_always(
        "noarch/repodata.json.zst",
        Fault::Delay(Duration::from_secs(5)),
    );
    std::fs::write(
        ctx.home.join(".condarc"),
        "remote_read_timeout_secs: 0.5\nremote_max_retries: 1\n",
    )
    .unwrap();
    let url = server.url().to_string();
    let start = std::time::Instant::now();
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", &url, "-p"])
            .arg(ctx.path("env"))
            .arg("dep"),
    );
    assert_eq!(code, 1, "{err}");
    assert!(start.elapsed() < Duration::from_secs(20));
}

/// Offline, the cached index and cached packages are used and the server is never asked;
/// a package that is not cached is refused with `OfflineError`, not downloaded.
#[test]
fn offline_uses_the_caches_and_never_the_network() {
    let ctx = TestContext::new();
    let server = TestServer::serve(&standard_on_disk(&ctx)).unwrap();
    let url = server.url().to_string();
    ctx.cmd()
        .args(["create", "-y", "-q", "-c", &url, "-p"])
        .arg(ctx.path("one"))
        .arg("dep=1")
        .assert()
        .success();
    let online = server.log().len();
    let prefix = ctx.path("two");
    ctx.cmd()
        .args(["create", "-y", "-q", "--offline", "-c", &url, "-p"])
        .arg(&prefix)
        .arg("dep=1")
        .assert()
        .success();
    assert_eq!(ctx.installed(&prefix), vec!["dep-1.0-0"]);
    // dep 2.0 is in the cached index but its package was never downloaded.
    let refused = ctx.path("three");
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "--offline", "-c", &url, "-p"])
            .arg(&refused)
            .arg("dep=2"),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("OfflineError"), "{err}");
    assert!(err.contains("dep-2.0-0"), "{err}");
    assert!(!refused.exists());
    let offline: Vec<String> = server.log()[online..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert!(
        offline.is_empty(),
        "offline runs asked the server for {offline:?}"
    );
}

fn require_nginx() {
    assert!(
        Nginx::available(),
        "nginx is required for this test (apt-get install -y nginx); .ci/run installs it"
    );
}

/// GETs of the noarch index answered with `status` (HEADs probe which variants exist); for
/// 304, conditional HEADs too (how a warm run revalidates the cached index).
fn repodata_requests(nginx: &Nginx, status: u16) -> usize {
    let get = format!("\"GET /noarch/repodata.json.zst HTTP/1.1\" {status} ");
    let head = format!("\"HEAD /noarch/repodata.json.zst HTTP/1.1\" {status} ");
    let log = nginx.access_log();
    log.matches(&get).count()
        + if status == 304 {
            log.matches(&head).count()
        } else {
            0
        }
}

/// nginx sends an ETag and no Cache-Control: every run revalidates. An unchanged index costs
/// a 304; a changed one is downloaded and its new package is seen.
#[test]
fn nginx_channel_revalidates_with_etag() {
    require_nginx();
    let ctx = TestContext::new();
    let dir = ctx.path("served");
    let mut ch = taipan_testkit::ChannelBuilder::new(&dir);
    for (pkg, fmt) in crate::common::standard_packages() {
        ch.add(&pkg, fmt);
    }
    ch.index().unwrap();
    let nginx = Nginx::serve(&dir).unwrap();
    let url = nginx.url().to_string();
    let create = |env: &str| {
        let prefix = ctx.path(env);
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", &url, "-p"])
            .arg(&prefix)
            .arg("dep")
            .assert()
            .success();
        ctx.installed(&prefix)
    };
    assert_eq!(create("one"), vec!["dep-2.0-0"]);
    assert_eq!(create("two"), vec!["dep-2.0-0"]);
    let log = nginx.access_log();
    assert_eq!(repodata_requests(&nginx, 200), 1, "{log}");
    assert_eq!(repodata_requests(&nginx, 304), 1, "{log}");
    ch.add(
        &taipan_testkit::PackageBuilder::new("dep", "3.0")
            .noarch_generic()
            .file("share/dep/v3", "dep 3\n"),
        taipan_testkit::ArchiveFormat::Conda,
    );
    ch.index().unwrap();
    assert_eq!(create("three"), vec!["dep-3.0-0"]);
    assert_eq!(repodata_requests(&nginx, 200), 2, "{}", nginx.access_log());
}

/// A server that says `max-age=600` is not asked again within that time (conda's default
/// `local_repodata_ttl: 1`); `local_repodata_ttl: 0` fetches the index every time.
#[test]
fn nginx_max_age_is_honoured_unless_local_repodata_ttl_is_zero() {
    require_nginx();
    let ctx = TestContext::new();
    let nginx = Nginx::serve_cached(&standard_on_disk(&ctx), 600).unwrap();
    let url = nginx.url().to_string();
    let create = |env: &str| {
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", &url, "-p"])
            .arg(ctx.path(env))
            .arg("dep")
            .assert()
            .success();
    };
    create("one");
    create("two");
    let log = nginx.access_log();
    assert_eq!(repodata_requests(&nginx, 200), 1, "{log}");
    assert_eq!(repodata_requests(&nginx, 304), 0, "{log}");
    std::fs::write(ctx.home.join(".condarc"), "local_repodata_ttl: 0\n").unwrap();
    create("three");
    assert_eq!(repodata_requests(&nginx, 200), 2, "{}", nginx.access_log());
}

#[test]
fn proxy_servers_route_channel_requests() {
    let ctx = TestContext::new();
    let proxy = TestServer::serve(&standard_on_disk(&ctx)).unwrap();
    // The channel's host does not exist: only the proxy can answer.
    std::fs::write(
        ctx.home.join(".condarc"),
        format!("proxy_servers:\n  http: {}\n", proxy.url()),
    )
    .unwrap();
    let prefix = ctx.path("env");
    ctx.cmd()
        .args(["create", "-y", "-q", "-c", "http://channel.invalid/", "-p"])
        .arg(&prefix)
        .arg("dep=1")
        .assert()
        .success();
    assert_eq!(ctx.installed(&prefix), vec!["dep-1.0-0"]);
    assert!(proxy
        .log()
        .iter()
        .any(|r| r.path == "/noarch/dep-1.0-0.conda"));
}

#[test]
fn bad_proxy_setting_is_a_clear_error() {
    let ctx = TestContext::new();
    std::fs::write(
        ctx.home.join(".condarc"),
        "proxy_servers:\n  http: 'not a url'\n",
    )
    .unwrap();
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-c", "http://channel.invalid/", "-p"])
            .arg(ctx.path("env"))
            .arg("dep"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("proxy_servers"), "{err}");
}

#[test]
fn sharded_repodata_over_http() {
    let ctx = TestContext::new();
    let dir = ctx.path("sharded");
    let ch = crate::common::channel_with(&dir, Vec::new()).with_shards(true);
    ch.index().unwrap();
    assert!(dir.join("noarch/repodata_shards.msgpack.zst").exists());
    let server = TestServer::serve(&dir).unwrap();
    let url = server.url().to_string();
    let prefix = ctx.path("env");
    let (code, _, err) = output(
        ctx.cmd()
            .args(["create", "-y", "-q", "-c", &url, "-p"])
            .arg(&prefix)
            .arg("app=1"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(ctx.installed(&prefix), vec!["app-1.0-0", "dep-1.0-0"]);
    let paths: Vec<String> = server.log().into_iter().map(|r| r.path).collect();
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("repodata_shards.msgpack.zst")),
        "the sharded index must be requested; requests: {paths:#?}"
    );
}

/// `client_ssl_cert` / `client_ssl_cert_key`: a channel behind mutual TLS (nginx with
/// `ssl_verify_client on`) is reachable with the client certificate and refused without it;
/// a key without a certificate is conda's `ValidationError`.
#[test]
fn client_certificate_reaches_a_mutual_tls_channel() {
    let ctx = TestContext::new();
    let tls = taipan_testkit::tls::TlsFiles::generate(&ctx.path("pki")).unwrap();
    let nginx = Nginx::serve_mtls(&standard_on_disk(&ctx), &tls).unwrap();
    let url = nginx.url().to_string();
    let condarc = |extra: &str| {
        std::fs::write(
            ctx.home.join(".condarc"),
            format!("ssl_verify: {}\n{extra}", tls.ca.display()),
        )
        .unwrap();
    };
    let install = |env: &str| {
        output(
            ctx.cmd()
                .args([
                    "create",
                    "-y",
                    "-q",
                    "--override-channels",
                    "-c",
                    &url,
                    "-n",
                    env,
                ])
                .arg("dep=1"),
        )
    };
    condarc("");
    let (code, _, err) = install("without");
    assert_eq!(code, 1, "no client certificate, no channel: {err}");
    assert!(nginx.requests_with_status("/noarch/repodata.json", 200) == 0);

    condarc(&format!(
        "client_ssl_cert: {}\nclient_ssl_cert_key: {}\n",
        tls.client_cert.display(),
        tls.client_key.display()
    ));
    let (code, _, err) = install("with");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        ctx.installed(&ctx.root.join("envs/with")),
        vec!["dep-1.0-0"]
    );

    condarc(&format!(
        "client_ssl_cert_key: {}\n",
        tls.client_key.display()
    ));
    let (code, _, err) = install("key-only");
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "ValidationError: 'client_ssl_cert' is required when 'client_ssl_cert_key' is defined"
        ),
        "{err}"
    );
}
