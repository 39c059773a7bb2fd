//! Minimal HTTP/1.1 wire handling: request parsing, response heads, dates.

use std::{
    io::{self, BufRead, Read, Write},
    time::{SystemTime, UNIX_EPOCH},
};

use chrono::{DateTime, Utc};

/// Upper bound on the size of a request head, to fail fast on garbage.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A parsed request head.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// The method, e.g. `GET`.
    pub(crate) method: String,
    /// The percent-decoded path without query string, starting with `/`.
    pub(crate) path: String,
    /// Header names (lower-cased) and values in arrival order.
    pub(crate) headers: Vec<(String, String)>,
    /// Whether the client asked to close the connection after this request.
    pub(crate) close: bool,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request head (and discards any body). `Ok(None)` on a clean EOF.
pub(crate) fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("malformed request line"));
    };
    let (method, version) = (method.to_owned(), version.to_owned());
    // A client talking to a proxy sends the absolute URL (`GET http://host/path`); serve its
    // path, so tests can use the server as an HTTP proxy.
    let target = strip_origin(target);
    let path = decode_path(target.split(['?', '#']).next().unwrap_or("/"));
    let headers = read_headers(reader)?;
    discard_body(reader, &headers)?;
    let mut request = Request {
        method,
        path,
        headers,
        close: version == "HTTP/1.0",
    };
    if let Some(conn) = request.header("connection") {
        request.close = conn.eq_ignore_ascii_case("close");
    }
    Ok(Some(request))
}

fn read_headers(reader: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    let mut total = 0;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        total += n;
        if n == 0 || total > MAX_HEAD_BYTES {
            return Err(invalid("truncated or oversized request head"));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Ok(headers);
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
}

fn discard_body(reader: &mut impl BufRead, headers: &[(String, String)]) -> io::Result<()> {
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .unwrap_or(0);
    io::copy(&mut reader.take(length), &mut io::sink())?;
    Ok(())
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

/// `http://host:port/path` → `/path`; origin-form targets are returned unchanged.
fn strip_origin(target: &str) -> &str {
    match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    }
}

/// Percent-decodes a URL path (invalid escapes are kept verbatim).
pub(crate) fn decode_path(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| {
            std::str::from_utf8(h)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        });
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The reason phrase for common status codes.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Writes a status line plus `headers`, `Date`, `Server` and the blank line.
pub(crate) fn write_head(
    out: &mut impl Write,
    status: u16,
    headers: &[(&str, String)],
    close: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    head.push_str(&format!("Date: {}\r\n", http_date(SystemTime::now())));
    head.push_str("Server: taipan-testkit\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}

/// Formats `time` as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn http_date(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// Parses an HTTP date to Unix seconds.
pub(crate) fn parse_http_date(value: &str) -> Option<i64> {
    DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|d| d.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parses_request_with_query_and_escapes() {
        let raw = "GET /a%20b/c.json?x=1 HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"e\"\r\n\r\n";
        let req = read_request(&mut raw.as_bytes()).unwrap().unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/a b/c.json");
        assert_eq!(
            strip_origin("http://example.invalid:8080/x/y.json"),
            "/x/y.json"
        );
        assert_eq!(strip_origin("/x"), "/x");
        assert_eq!(req.header("IF-NONE-MATCH"), Some("\"e\""));
        assert!(!req.close);
    }

    #[test]
    fn dates_round_trip() {
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let s = http_date(t);
        assert_eq!(s, "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date(&s), Some(784_111_777));
    }
}
