//! The real nginx wrapper (fails when nginx is not installed: CI must have it).

use std::fs;

use super::util::get;
use crate::nginx::Nginx;

#[test]
fn nginx_serves_and_revalidates() {
    require_nginx();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("noarch")).unwrap();
    fs::write(
        dir.path().join("noarch/repodata.json"),
        "{\"packages\": {}}",
    )
    .unwrap();
    let nginx = Nginx::serve(dir.path()).unwrap();
    let url = nginx.url();
    let addr = (url.host_str().unwrap(), url.port().unwrap());
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&addr)
        .unwrap()
        .next()
        .unwrap();

    let first = get(addr, "/noarch/repodata.json", &[]);
    assert_eq!(first.status, 200);
    assert_eq!(first.body, b"{\"packages\": {}}");
    assert_eq!(first.header("content-type"), Some("application/json"));
    let etag = first.header("etag").unwrap().to_owned();

    let second = get(addr, "/noarch/repodata.json", &[("If-None-Match", &etag)]);
    assert_eq!(second.status, 304);
    assert_eq!(get(addr, "/noarch/missing.json", &[]).status, 404);

    assert_eq!(nginx.requests("/noarch/repodata.json"), 2);
    assert_eq!(nginx.requests_with_status("/noarch/repodata.json", 304), 1);
    assert!(nginx
        .access_log()
        .contains("\"GET /noarch/missing.json HTTP/1.1\" 404"));
}

#[test]
fn nginx_is_killed_on_drop() {
    require_nginx();
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::serve(dir.path()).unwrap();
    let url = nginx.url();
    let port = url.port().unwrap();
    drop(nginx);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    assert!(
        std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200)).is_err()
    );
}

fn require_nginx() {
    assert!(
        Nginx::available(),
        "{} not found: apt-get install -y nginx (.ci/run installs it), or set TAIPAN_TEST_NGINX",
        Nginx::binary().display()
    );
}
