//! The fault-injecting [`TestServer`].

use std::{
    fs,
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use super::util::{get, request};
use crate::http::{Fault, TestServer};

const BODY: &str = "{\"packages\": {}}\n";

fn server() -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("noarch")).unwrap();
    fs::write(dir.path().join("noarch/repodata.json"), BODY).unwrap();
    let server = TestServer::serve(dir.path()).unwrap();
    (dir, server)
}

#[test]
fn serves_files_with_validators() {
    let (_dir, server) = server();
    let url = server.url();
    assert_eq!(url.host_str(), Some("127.0.0.1"));
    assert_eq!(url.path(), "/");

    let res = get(server.addr(), "/noarch/repodata.json", &[]);
    assert_eq!(res.status, 200);
    assert_eq!(res.body, BODY.as_bytes());
    assert_eq!(
        res.header("content-length"),
        Some(BODY.len().to_string().as_str())
    );
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert!(res.header("etag").is_some_and(|e| e.starts_with('"')));
    assert!(res
        .header("last-modified")
        .is_some_and(|d| d.ends_with("GMT")));

    let head = request(server.addr(), "HEAD", "/noarch/repodata.json", &[]).unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(get(server.addr(), "/missing.json", &[]).status, 404);
    assert_eq!(get(server.addr(), "/../etc/passwd", &[]).status, 404);
    assert_eq!(server.requests("/noarch/repodata.json"), 2);
    assert_eq!(server.requests("noarch/repodata.json"), 2);
    assert_eq!(server.total_requests(), 4);
}

#[test]
fn conditional_requests_get_304() {
    let (dir, server) = server();
    let first = get(server.addr(), "/noarch/repodata.json", &[]);
    let etag = first.header("etag").unwrap().to_owned();
    let modified = first.header("last-modified").unwrap().to_owned();

    let res = get(
        server.addr(),
        "/noarch/repodata.json",
        &[("If-None-Match", &etag)],
    );
    assert_eq!(res.status, 304);
    assert!(res.body.is_empty());
    let res = get(
        server.addr(),
        "/noarch/repodata.json",
        &[("If-Modified-Since", &modified)],
    );
    assert_eq!(res.status, 304);
    let res = get(
        server.addr(),
        "/noarch/repodata.json",
        &[("If-None-Match", "\"other\"")],
    );
    assert_eq!(res.status, 200);

    // Changed contents change the ETag.
    fs::write(dir.path().join("noarch/repodata.json"), "{}").unwrap();
    let res = get(
        server.addr(),
        "/noarch/repodata.json",
        &[("If-None-Match", &etag)],
    );
    assert_eq!(res.status, 200);
    assert_eq!(res.body, b"{}");

    assert_eq!(server.requests_with_status("/noarch/repodata.json", 304), 2);
    let log = server.log();
    assert_eq!(log[1].header("if-none-match"), Some(etag.as_str()));
}

#[test]
fn status_faults_apply_n_times() {
    let (_dir, server) = server();
    server.fault("repodata.json", Fault::Status(500), 2);
    let statuses: Vec<u16> = (0..3)
        .map(|_| get(server.addr(), "/noarch/repodata.json", &[]).status)
        .collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert_eq!(server.requests_with_status("/noarch/repodata.json", 500), 2);

    server.fault_always(".json", Fault::Status(503));
    assert_eq!(get(server.addr(), "/noarch/repodata.json", &[]).status, 503);
    server.clear_faults();
    assert_eq!(get(server.addr(), "/noarch/repodata.json", &[]).status, 200);
}

#[test]
fn truncate_fault_closes_early() {
    let (_dir, server) = server();
    server.fault("repodata.json", Fault::Truncate(5), 1);
    let res = get(server.addr(), "/noarch/repodata.json", &[]);
    assert_eq!(res.status, 200);
    assert_eq!(
        res.header("content-length"),
        Some(BODY.len().to_string().as_str())
    );
    assert_eq!(res.body, BODY.as_bytes()[..5]);
    assert_eq!(
        get(server.addr(), "/noarch/repodata.json", &[]).body,
        BODY.as_bytes()
    );
}

#[test]
fn delay_and_close_faults() {
    let (_dir, server) = server();
    server.fault("repodata.json", Fault::Delay(Duration::from_millis(300)), 1);
    let start = Instant::now();
    assert_eq!(get(server.addr(), "/noarch/repodata.json", &[]).status, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));

    server.fault("repodata.json", Fault::Close, 1);
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .write_all(b"GET /noarch/repodata.json HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    assert!(raw.is_empty());
    assert_eq!(server.requests_with_status("/noarch/repodata.json", 0), 1);
}

#[test]
fn keep_alive_serves_several_requests_per_connection() {
    let (_dir, server) = server();
    let stream = TcpStream::connect(server.addr()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    for _ in 0..2 {
        writer
            .write_all(b"GET /noarch/repodata.json HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        assert_eq!(body, BODY.as_bytes());
    }
    assert_eq!(server.requests("/noarch/repodata.json"), 2);
}

#[test]
fn drop_stops_the_server() {
    let (_dir, server) = server();
    let addr = server.addr();
    // A kept-alive connection from before the drop must be cut as well.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    idle.write_all(b"HEAD /noarch/repodata.json HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(idle.try_clone().unwrap());
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"));
    let mut line = String::new();
    while line != "\r\n" {
        line.clear();
        reader.read_line(&mut line).unwrap();
    }

    drop(server);
    assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err());
    let _ = idle.write_all(b"GET /noarch/repodata.json HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut rest = Vec::new();
    let read = reader.read_to_end(&mut rest);
    assert!(read.is_err() || rest.is_empty(), "got {rest:?}");
}
