//! A real nginx serving a directory, for end-to-end HTTP caching tests.
//!
//! ```no_run
//! use taipan_testkit::nginx::Nginx;
//!
//! # fn main() -> anyhow::Result<()> {
//! if !Nginx::available() {
//!     panic!("nginx is required (apt-get install -y nginx)");
//! }
//! let nginx = Nginx::serve(std::path::Path::new("/tmp/channel"))?;
//! // … fetch nginx.url().join("noarch/repodata.json") twice …
//! assert_eq!(nginx.requests_with_status("/noarch/repodata.json", 304), 1);
//! # Ok(())
//! # }
//! ```

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;
use url::Url;

/// Where Debian's `nginx` package installs the binary.
const DEFAULT_BINARY: &str = "/usr/sbin/nginx";

/// Environment variable that overrides the nginx binary path.
pub const NGINX_BIN_ENV: &str = "TAIPAN_TEST_NGINX";

/// How long to wait for nginx to accept connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The access log format: `"<request line>" <status> <body bytes>`.
const LOG_FORMAT: &str = r#"'"$request" $status $body_bytes_sent'"#;

/// A non-daemon nginx child process serving a directory on
/// `127.0.0.1:<free port>` with `etag on`. Its configuration, logs, pid file
/// and temp paths live in a private temporary directory. Dropping the value
/// kills the process.
#[derive(Debug)]
pub struct Nginx {
    child: Child,
    dir: TempDir,
    addr: SocketAddr,
    https: bool,
}

impl Nginx {
    /// The nginx binary used: `$TAIPAN_TEST_NGINX` or `/usr/sbin/nginx`.
    pub fn binary() -> PathBuf {
        std::env::var_os(NGINX_BIN_ENV).map_or_else(|| PathBuf::from(DEFAULT_BINARY), PathBuf::from)
    }

    /// Whether the nginx binary exists.
    pub fn available() -> bool {
        Self::binary().is_file()
    }

    /// Starts nginx serving `root` and waits until it accepts connections.
    pub fn serve(root: &Path) -> Result<Self> {
        Self::serve_with(root, None)
    }

    /// Like [`Nginx::serve`], answering with `Cache-Control: max-age=<secs>` (nginx's
    /// `expires`), as CDNs in front of real channels do.
    pub fn serve_cached(root: &Path, max_age_secs: u32) -> Result<Self> {
        Self::serve_with(root, Some(max_age_secs))
    }

    /// Serves `root` over HTTPS with `tls`'s server certificate, and only to clients that
    /// present a certificate its CA signed (mutual TLS).
    pub fn serve_mtls(root: &Path, tls: &crate::tls::TlsFiles) -> Result<Self> {
        Self::start(root, None, Some(tls))
    }

    fn serve_with(root: &Path, max_age_secs: Option<u32>) -> Result<Self> {
        Self::start(root, max_age_secs, None)
    }

    fn start(
        root: &Path,
        max_age_secs: Option<u32>,
        tls: Option<&crate::tls::TlsFiles>,
    ) -> Result<Self> {
        let root = root
            .canonicalize()
            .with_context(|| format!("serving {}", root.display()))?;
        let dir = tempfile::Builder::new().prefix("testkit-nginx").tempdir()?;
        let addr = free_local_addr()?;
        let mut conf = config(dir.path(), &root, addr, max_age_secs);
        if let Some(tls) = tls {
            conf = conf.replacen(
                &format!("listen {addr};"),
                &format!(
                    "listen {addr} ssl;\n        ssl_certificate {};\n        ssl_certificate_key {};\n        ssl_client_certificate {};\n        ssl_verify_client on;",
                    quote(&tls.server_cert),
                    quote(&tls.server_key),
                    quote(&tls.ca)
                ),
                1,
            );
        }
        fs_err::write(dir.path().join("nginx.conf"), conf)?;
        let child = spawn(dir.path())?;
        let https = tls.is_some();
        let mut nginx = Self {
            child,
            dir,
            addr,
            https,
        };
        nginx.wait_until_ready()?;
        Ok(nginx)
    }

    /// The base URL, `http://127.0.0.1:<port>/`.
    ///
    /// # Panics
    ///
    /// Never: the URL is built from a socket address.
    pub fn url(&self) -> Url {
        let scheme = if self.https { "https" } else { "http" };
        Url::parse(&format!("{scheme}://{}/", self.addr)).expect("socket address forms a valid URL")
    }

    /// The contents of the access log: one `"<request line>" <status>
    /// <bytes>` line per request.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// The contents of the error log.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// How many requests for `path` (e.g. `/noarch/repodata.json`) the access
    /// log shows.
    pub fn requests(&self, path: &str) -> usize {
        self.statuses(path).len()
    }

    /// How many requests for `path` were answered with `status`.
    pub fn requests_with_status(&self, path: &str, status: u16) -> usize {
        self.statuses(path)
            .into_iter()
            .filter(|&s| s == status)
            .count()
    }

    /// Statuses of the access log entries whose request path is `path`.
    fn statuses(&self, path: &str) -> Vec<u16> {
        let path = format!("/{}", path.trim_start_matches('/'));
        self.access_log()
            .lines()
            .filter_map(parse_log_line)
            .filter(|(p, _)| p.split('?').next() == Some(path.as_str()))
            .map(|(_, status)| status)
            .collect()
    }

    fn wait_until_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("nginx exited with {status}:\n{}", self.error_log());
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!(
            "nginx did not start listening on {}:\n{}",
            self.addr,
            self.error_log()
        )
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parses `"<METHOD> <path> <proto>" <status> <bytes>` into path and status.
fn parse_log_line(line: &str) -> Option<(String, u16)> {
    let rest = line.strip_prefix('"')?;
    let (request, tail) = rest.split_once("\" ")?;
    let path = request.split_whitespace().nth(1)?.to_owned();
    let status = tail.split_whitespace().next()?.parse().ok()?;
    Some((path, status))
}

/// A currently free port on 127.0.0.1 (released again before nginx binds).
fn free_local_addr() -> Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?)
}

fn spawn(dir: &Path) -> Result<Child> {
    let binary = Nginx::binary();
    Command::new(&binary)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))
}

/// Quotes `path` for an nginx configuration file.
fn quote(path: &Path) -> String {
    let raw = path.to_string_lossy();
    format!("\"{}\"", raw.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The nginx configuration: single process, everything inside `dir`.
fn config(dir: &Path, root: &Path, addr: SocketAddr, max_age_secs: Option<u32>) -> String {
    let p = |name: &str| quote(&dir.join(name));
    let expires = max_age_secs.map_or_else(String::new, |s| format!("expires {s}s;"));
    format!(
        "daemon off;
master_process off;
worker_processes 1;
pid {pid};
error_log {error_log} info;
events {{ worker_connections 256; }}
http {{
    log_format testkit {LOG_FORMAT};
    access_log {access_log} testkit;
    client_body_temp_path {body};
    proxy_temp_path {proxy};
    fastcgi_temp_path {fastcgi};
    uwsgi_temp_path {uwsgi};
    scgi_temp_path {scgi};
    types {{ application/json json; }}
    default_type application/octet-stream;
    sendfile on;
    etag on;
    server {{
        listen {addr};
        server_name localhost;
        root {root};
        {expires}
    }}
}}
",
        pid = p("nginx.pid"),
        error_log = p("error.log"),
        access_log = p("access.log"),
        body = p("client_body_temp"),
        proxy = p("proxy_temp"),
        fastcgi = p("fastcgi_temp"),
        uwsgi = p("uwsgi_temp"),
        scgi = p("scgi_temp"),
        root = quote(root),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_access_log_lines() {
        let line = r#""GET /noarch/repodata.json HTTP/1.1" 304 0"#;
        assert_eq!(
            parse_log_line(line),
            Some(("/noarch/repodata.json".to_owned(), 304))
        );
        assert_eq!(parse_log_line("garbage"), None);
    }
}
