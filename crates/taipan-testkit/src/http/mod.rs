//! A small HTTP/1.1 file server for tests, with request counting and fault
//! injection.
//!
//! ```no_run
//! use std::time::Duration;
//! use taipan_testkit::http::{Fault, TestServer};
//!
//! # fn main() -> std::io::Result<()> {
//! let server = TestServer::serve(std::path::Path::new("/tmp/channel"))?;
//! // The first two requests for any path ending in `repodata.json` fail.
//! server.fault("repodata.json", Fault::Status(500), 2);
//! server.fault_always(".conda", Fault::Delay(Duration::from_secs(5)));
//! let url = server.url(); // http://127.0.0.1:<port>/
//! // … run the client against `url` …
//! assert_eq!(server.requests("/noarch/repodata.json"), 3);
//! # Ok(())
//! # }
//! ```

mod wire;

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    io::{self, BufReader, Write},
    net::{Shutdown, SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, MutexGuard,
    },
    thread::JoinHandle,
    time::{Duration, UNIX_EPOCH},
};

use url::Url;

use wire::{http_date, parse_http_date, read_request, write_head, Request};

/// How long an idle keep-alive connection is kept open. Longer than reqwest's
/// 90 s pool idle timeout, so clients never reuse a connection the server is
/// just closing.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// A fault to inject into responses for matching paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Respond with this status code (and a short text body) instead of the
    /// file.
    Status(u16),
    /// Sleep this long before responding (stacks with the other faults), e.g.
    /// to trigger client timeouts.
    Delay(Duration),
    /// Declare the full `Content-Length` but close the connection after
    /// sending only this many body bytes.
    Truncate(usize),
    /// Close the connection without sending any response.
    Close,
    /// Send the headers and the first `after` body bytes, then nothing for `pause` (a
    /// stalled download), then the rest if the client is still there.
    Stall {
        /// Body bytes sent before the pause.
        after: usize,
        /// How long nothing is sent.
        pause: Duration,
    },
}

/// One request as seen by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The request method (`GET`, `HEAD`, …).
    pub method: String,
    /// The decoded request path, starting with `/`, without query string.
    pub path: String,
    /// Request headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The response status (0 when the connection was closed by a
    /// [`Fault::Close`]).
    pub status: u16,
}

impl RequestRecord {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A registered fault and how many more requests it applies to.
#[derive(Debug)]
struct FaultRule {
    suffix: String,
    fault: Fault,
    remaining: Option<usize>,
}

/// State shared between the server handle and its connection threads.
#[derive(Debug)]
struct Shared {
    root: PathBuf,
    faults: Mutex<Vec<FaultRule>>,
    log: Mutex<Vec<RequestRecord>>,
    /// Handles of accepted connections, shut down when the server stops.
    connections: Mutex<Vec<TcpStream>>,
}

/// Serves a directory over HTTP/1.1 on `127.0.0.1:<free port>` from a
/// background thread.
///
/// Supports `GET` and `HEAD`, keep-alive, `Content-Length`, `ETag` (content
/// based) and `Last-Modified`, answering `If-None-Match` /
/// `If-Modified-Since` with `304 Not Modified`. Every request is logged, and
/// faults can be injected per path suffix. Dropping the server stops it.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Arc<AtomicBool>,
    accept_thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts serving `root` on a free local port.
    pub fn serve(root: &Path) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            root: root.to_path_buf(),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            connections: Mutex::new(Vec::new()),
        });
        let shutdown = Arc::new(AtomicBool::new(false));
        let accept_thread = {
            let (shared, shutdown) = (Arc::clone(&shared), Arc::clone(&shutdown));
            std::thread::Builder::new()
                .name(format!("testkit-http-{}", addr.port()))
                .spawn(move || accept_loop(&listener, &shared, &shutdown))?
        };
        Ok(Self {
            addr,
            shared,
            shutdown,
            accept_thread: Some(accept_thread),
        })
    }

    /// The base URL, `http://127.0.0.1:<port>/`.
    ///
    /// # Panics
    ///
    /// Never: the URL is built from a socket address.
    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.addr)).expect("socket address forms a valid URL")
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The directory being served.
    pub fn root(&self) -> &Path {
        &self.shared.root
    }

    /// How many requests (any method, any outcome) were made for `path`
    /// (e.g. `/noarch/repodata.json`; the leading `/` is optional).
    pub fn requests(&self, path: &str) -> usize {
        let path = normalize(path);
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    /// How many requests for `path` were answered with `status`.
    pub fn requests_with_status(&self, path: &str, status: u16) -> usize {
        let path = normalize(path);
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.path == path && r.status == status)
            .count()
    }

    /// The total number of requests received.
    pub fn total_requests(&self) -> usize {
        lock(&self.shared.log).len()
    }

    /// A copy of the request log, oldest first.
    pub fn log(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).clone()
    }

    /// Forgets all logged requests.
    pub fn reset_log(&self) {
        lock(&self.shared.log).clear();
    }

    /// Applies `fault` to the next `times` requests whose path ends with
    /// `path_suffix`.
    pub fn fault(&self, path_suffix: &str, fault: Fault, times: usize) {
        self.add_rule(path_suffix, fault, Some(times));
    }

    /// Applies `fault` to every request whose path ends with `path_suffix`.
    pub fn fault_always(&self, path_suffix: &str, fault: Fault) {
        self.add_rule(path_suffix, fault, None);
    }

    /// Removes all registered faults.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    fn add_rule(&self, suffix: &str, fault: Fault, remaining: Option<usize>) {
        lock(&self.shared.faults).push(FaultRule {
            suffix: suffix.to_owned(),
            fault,
            remaining,
        });
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
        // Cut kept-alive connections too, so pooled clients see a dead server.
        for conn in lock(&self.shared.connections).drain(..) {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

/// Locks `mutex`, recovering the data if a connection thread panicked.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn normalize(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, shutdown: &AtomicBool) {
    for stream in listener.incoming() {
        if shutdown.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        if let Ok(handle) = stream.try_clone() {
            let mut connections = lock(&shared.connections);
            connections.retain(|c| c.peer_addr().is_ok());
            connections.push(handle);
        }
        let shared = Arc::clone(shared);
        let _ = std::thread::Builder::new()
            .name("testkit-http-conn".to_owned())
            .spawn(move || {
                let _ = serve_connection(stream, &shared);
            });
    }
}

/// Serves requests on one connection until it closes or goes idle.
fn serve_connection(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader)? {
        let keep_alive = respond(&mut writer, &request, shared)?;
        writer.flush()?;
        if !keep_alive || request.close {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
    Ok(())
}

/// The faults that apply to `path`, consuming one use of each rule.
fn take_faults(shared: &Shared, path: &str) -> Vec<Fault> {
    let mut rules = lock(&shared.faults);
    let mut faults = Vec::new();
    for rule in rules.iter_mut().filter(|r| path.ends_with(&r.suffix)) {
        match &mut rule.remaining {
            Some(0) => continue,
            Some(n) => *n -= 1,
            None => {}
        }
        faults.push(rule.fault.clone());
    }
    faults
}

/// What the server is going to answer to one request.
enum Plan {
    /// Close the connection without answering.
    Close,
    /// Answer with a status code and a short text body.
    Status(u16),
    /// Answer `304 Not Modified` for the file.
    NotModified(FileInfo),
    /// Send the file, optionally cut off after this many body bytes, optionally pausing.
    File(FileInfo, Option<usize>, Option<(usize, Duration)>),
}

impl Plan {
    /// The status logged for this plan (0 for a dropped connection).
    fn status(&self) -> u16 {
        match self {
            Plan::Close => 0,
            Plan::Status(code) => *code,
            Plan::NotModified(_) => 304,
            Plan::File(..) => 200,
        }
    }
}

/// Writes the response for `request`; returns whether the connection may be
/// reused. The request is logged before anything is sent, so a client that
/// has seen the response also sees it counted.
fn respond(out: &mut TcpStream, request: &Request, shared: &Shared) -> io::Result<bool> {
    let faults = take_faults(shared, &request.path);
    for fault in &faults {
        if let Fault::Delay(delay) = fault {
            std::thread::sleep(*delay);
        }
    }
    let terminal = faults.into_iter().find(|f| !matches!(f, Fault::Delay(_)));
    let plan = plan(request, shared, terminal)?;
    record(shared, request, plan.status());
    execute(out, request, plan)
}

/// Decides the answer from the (non-delay) fault and the file system.
fn plan(request: &Request, shared: &Shared, fault: Option<Fault>) -> io::Result<Plan> {
    let (truncate, stall) = match fault {
        Some(Fault::Close) => return Ok(Plan::Close),
        Some(Fault::Status(code)) => return Ok(Plan::Status(code)),
        Some(Fault::Truncate(n)) => (Some(n), None),
        Some(Fault::Stall { after, pause }) => (None, Some((after, pause))),
        Some(Fault::Delay(_)) | None => (None, None),
    };
    if request.method != "GET" && request.method != "HEAD" {
        return Ok(Plan::Status(405));
    }
    let Some(path) = resolve(&shared.root, &request.path) else {
        return Ok(Plan::Status(404));
    };
    let file = load(&path)?;
    if not_modified(request, &file) {
        return Ok(Plan::NotModified(file));
    }
    Ok(Plan::File(file, truncate, stall))
}

/// Sends the planned answer; returns whether the connection may be reused.
fn execute(out: &mut TcpStream, request: &Request, plan: Plan) -> io::Result<bool> {
    match plan {
        Plan::Close => Ok(false),
        Plan::Status(code) => send_status(out, request, code).map(|()| true),
        Plan::NotModified(file) => {
            write_head(out, 304, &validators(&file), request.close)?;
            Ok(true)
        }
        Plan::File(file, truncate, stall) => {
            send_file(out, request, &file, truncate, stall)?;
            Ok(truncate.is_none() && stall.is_none())
        }
    }
}

fn record(shared: &Shared, request: &Request, status: u16) {
    lock(&shared.log).push(RequestRecord {
        method: request.method.clone(),
        path: request.path.clone(),
        headers: request.headers.clone(),
        status,
    });
}

/// Sends `status` with a short plain-text body.
fn send_status(out: &mut TcpStream, request: &Request, status: u16) -> io::Result<()> {
    let body = format!("{status} {}\n", wire::reason(status));
    let headers = [
        ("Content-Type", "text/plain".to_owned()),
        ("Content-Length", body.len().to_string()),
    ];
    write_head(out, status, &headers, request.close)?;
    if request.method != "HEAD" {
        out.write_all(body.as_bytes())?;
    }
    Ok(())
}

/// A file resolved from a request path, with its validators.
struct FileInfo {
    contents: Vec<u8>,
    etag: String,
    modified_secs: i64,
    content_type: &'static str,
}

/// Maps a request path onto a regular file below `root`, refusing `..`. A directory
/// stands for its `index.html` (a PEP 503 "simple" index page, for pip).
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let rel = path.trim_start_matches('/');
    if rel.split('/').any(|c| c == "..") {
        return None;
    }
    let full = root.join(rel);
    if full.is_dir() {
        let index = full.join("index.html");
        return index.is_file().then_some(index);
    }
    full.is_file().then_some(full)
}

fn load(path: &Path) -> io::Result<FileInfo> {
    let contents = std::fs::read(path)?;
    let modified = std::fs::metadata(path)?.modified()?;
    let modified_secs = modified
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut hasher = DefaultHasher::new();
    contents.hash(&mut hasher);
    let etag = format!("\"{:x}-{:016x}\"", contents.len(), hasher.finish());
    let content_type = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => "application/json",
        Some("html") => "text/html",
        _ => "application/octet-stream",
    };
    Ok(FileInfo {
        contents,
        etag,
        modified_secs,
        content_type,
    })
}

/// Whether the request's validators match the file (→ 304).
fn not_modified(request: &Request, file: &FileInfo) -> bool {
    if let Some(tags) = request.header("if-none-match") {
        return tags.split(',').map(str::trim).any(|tag| {
            tag == "*" || tag.trim_start_matches("W/") == file.etag.trim_start_matches("W/")
        });
    }
    request
        .header("if-modified-since")
        .and_then(parse_http_date)
        .is_some_and(|since| file.modified_secs <= since)
}

/// The caching headers of `file`.
fn validators(file: &FileInfo) -> Vec<(&'static str, String)> {
    let modified = UNIX_EPOCH + Duration::from_secs(file.modified_secs.unsigned_abs());
    vec![
        ("ETag", file.etag.clone()),
        ("Last-Modified", http_date(modified)),
        ("Cache-Control", "public, max-age=0".to_owned()),
    ]
}

/// Sends `200 OK` with the file body, cut off after `truncate` bytes if set.
fn send_file(
    out: &mut TcpStream,
    request: &Request,
    file: &FileInfo,
    truncate: Option<usize>,
    stall: Option<(usize, Duration)>,
) -> io::Result<()> {
    let mut headers = validators(file);
    headers.push(("Content-Type", file.content_type.to_owned()));
    headers.push(("Content-Length", file.contents.len().to_string()));
    write_head(out, 200, &headers, request.close)?;
    if request.method == "GET" {
        let end = truncate.map_or(file.contents.len(), |n| n.min(file.contents.len()));
        let mut start = 0;
        if let Some((after, pause)) = stall {
            start = after.min(end);
            out.write_all(&file.contents[..start])?;
            out.flush()?;
            std::thread::sleep(pause);
        }
        out.write_all(&file.contents[start..end])?;
    }
    Ok(())
}
