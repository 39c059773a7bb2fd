//! `conda notices`: each configured channel's `notices.json` (file:// and http(s)), cached
//! as conda caches it — `<user cache>/conda/notices/<sha256 of the URL>.json`, used for a
//! day unless a notice in it has expired — with the ids shown recorded in `notices.cache`.
//! A channel without notices (404, no file, no network, bad JSON) has none: notices never
//! make a command fail.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use crate::context::Context;
use crate::error::Result;

/// The file a channel publishes its notices in.
pub const NOTICES_FN: &str = "notices.json";
/// The file of the ids already shown.
const NOTICES_CACHE_FN: &str = "notices.cache";
/// How long a fetched response is used (conda's `NOTICES_DECORATOR_DISPLAY_INTERVAL`).
const INTERVAL: Duration = Duration::from_secs(86400);
/// conda's request timeout for notices.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A time as conda's `datetime.fromisoformat` reads it: with or without an offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IsoTime {
    /// The local date and time as written.
    pub local: NaiveDateTime,
    /// The offset, if one was written.
    pub offset: Option<FixedOffset>,
}

impl IsoTime {
    /// Parses `2026-01-02T03:04:05+00:00`, `…Z`, `2026-01-02T03:04:05`, `2026-01-02`.
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(Self {
                local: t.naive_local(),
                offset: Some(*t.offset()),
            });
        }
        for fmt in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
        ] {
            if let Ok(local) = NaiveDateTime::parse_from_str(text, fmt) {
                return Some(Self {
                    local,
                    offset: None,
                });
            }
        }
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        Some(Self {
            local: date.and_hms_opt(0, 0, 0)?,
            offset: None,
        })
    }

    /// Python's `isoformat()`: `2026-01-02T03:04:05+00:00` (microseconds only when set).
    pub fn isoformat(&self) -> String {
        let mut out = self.local.format("%Y-%m-%dT%H:%M:%S").to_string();
        let micros = self.local.and_utc().timestamp_subsec_micros();
        if micros != 0 {
            out.push_str(&format!(".{micros:06}"));
        }
        if let Some(off) = self.offset {
            let secs = off.local_minus_utc();
            let sign = if secs < 0 { '-' } else { '+' };
            let secs = secs.abs();
            out.push_str(&format!(
                "{sign}{:02}:{:02}",
                secs / 3600,
                (secs % 3600) / 60
            ));
        }
        out
    }

    /// Python's `%c` in the C locale: `Fri Jan  2 03:04:05 2026`.
    pub fn ctime(&self) -> String {
        self.local.format("%a %b %e %H:%M:%S %Y").to_string()
    }

    fn is_past(&self) -> bool {
        let utc = match self.offset {
            Some(off) => self.local - off,
            None => self.local,
        };
        utc.and_utc() < Utc::now()
    }
}

/// One notice of a channel.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The notice's id (`undefined` when missing).
    pub id: String,
    /// The channel it came from, as conda names it.
    pub channel_name: String,
    /// The text.
    pub message: Option<String>,
    /// `critical`, `warning` or `info` (anything else is `info`).
    pub level: String,
    /// When it was written.
    pub created_at: Option<IsoTime>,
    /// When it stops being shown.
    pub expired_at: Option<IsoTime>,
    /// How often to show it, in seconds.
    pub interval: Value,
}

impl Notice {
    /// conda's JSON form (`ChannelNotice.to_dict`).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "channel_name": self.channel_name,
            "message": self.message,
            "level": self.level,
            "created_at": self.created_at.map(|t| t.isoformat()),
            "expired_at": self.expired_at.map(|t| t.isoformat()),
            "interval": self.interval,
        })
    }
}

/// The notices of a channel's `notices.json` document.
fn parse_notices(data: &Value, channel_name: &str) -> Vec<Notice> {
    let Some(list) = data.get("notices").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .map(|n| {
            let text = |key: &str| n.get(key).and_then(Value::as_str);
            let level = match text("level") {
                Some(l @ ("critical" | "warning" | "info")) => l.to_string(),
                _ => "info".to_string(),
            };
            let id = match n.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => "undefined".to_string(),
                Some(other) => other.to_string(),
            };
            Notice {
                id,
                channel_name: channel_name.to_string(),
                message: text("message").map(str::to_string),
                level,
                created_at: text("created_at").and_then(IsoTime::parse),
                expired_at: text("expires_at")
                    .or_else(|| text("expired_at"))
                    .and_then(IsoTime::parse),
                interval: n.get("interval").cloned().unwrap_or(Value::Null),
            }
        })
        .collect()
}

/// conda's notices cache directory: `$XDG_CACHE_HOME/conda/notices` or
/// `~/.cache/conda/notices`.
pub fn cache_dir(ctx: &Context) -> PathBuf {
    let base = ctx
        .env
        .get("XDG_CACHE_HOME")
        .filter(|d| Path::new(d).is_absolute())
        .map(PathBuf::from)
        .unwrap_or_else(|| ctx.home.join(".cache"));
    base.join("conda").join("notices")
}

/// Where a channel's response is cached: the sha256 of its URL.
fn cache_key(url: &str, dir: &Path) -> PathBuf {
    let digest = rattler_digest::compute_bytes_digest::<rattler_digest::Sha256>(url.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}.json"))
}

/// The `notices.json` URL and conda's name of every configured channel (`defaults` and
/// multichannels keep their own name for each of their channels).
fn channel_urls(ctx: &Context) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for name in &ctx.config.channels {
        let Ok(channels) = crate::channels::resolve_one(ctx, name) else {
            continue;
        };
        let multi = name == "defaults" || ctx.config.custom_multichannels.contains_key(name);
        for ch in channels {
            let base = ch.base_url.as_str().trim_end_matches('/').to_string();
            let shown = if multi {
                name.clone()
            } else if name.contains("://") || name.starts_with(['/', '.', '~']) {
                base.rsplit('/').next().unwrap_or(&base).to_string()
            } else {
                name.trim_end_matches('/').to_string()
            };
            let url = format!("{base}/{NOTICES_FN}");
            if !out.iter().any(|(u, _)| *u == url) {
                out.push((url, shown));
            }
        }
    }
    out
}

/// A cached response, if it is younger than a day and none of its notices has expired.
fn from_cache(path: &Path, name: &str) -> Option<Vec<Notice>> {
    let age = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())?;
    if age >= INTERVAL {
        return None;
    }
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let notices = parse_notices(&data, name);
    let expired = notices.is_empty()
        || notices
            .iter()
            .any(|n| n.expired_at.is_none_or(|t| t.is_past()));
    (!expired).then_some(notices)
}

/// Fetches one `notices.json`: `None` when there is none or it cannot be had.
async fn fetch(
    client: Option<&reqwest_middleware::ClientWithMiddleware>,
    url: &str,
) -> Option<Value> {
    let parsed = url::Url::parse(url).ok()?;
    let body = if parsed.scheme() == "file" {
        std::fs::read(parsed.to_file_path().ok()?).ok()?
    } else {
        let resp = client?.get(url).timeout(TIMEOUT).send().await.ok()?;
        if resp.status().as_u16() >= 300 {
            tracing::info!("Received {} when trying to GET {url}", resp.status());
            return None;
        }
        resp.bytes().await.ok()?.to_vec()
    };
    // conda keeps a response that is not JSON as one without notices.
    Some(serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Retrieves the notices of the configured channels (cached for a day), marks them viewed
/// in `notices.cache`, and returns them in channel order.
pub async fn notices(ctx: &Context) -> Result<Vec<Notice>> {
    let dir = cache_dir(ctx);
    let cache_ok = std::fs::create_dir_all(&dir).is_ok();
    let urls = channel_urls(ctx);
    let client = if urls.iter().any(|(u, _)| !u.starts_with("file:")) {
        crate::net::client(ctx).ok()
    } else {
        None
    };
    let client = client.as_ref().map(|c| c.client().clone());
    let mut all = Vec::new();
    for (url, name) in &urls {
        let key = cache_key(url, &dir);
        if let Some(cached) = from_cache(&key, name) {
            all.extend(cached);
            continue;
        }
        let Some(data) = fetch(client.as_ref(), url).await else {
            continue;
        };
        if cache_ok {
            let _ = crate::fsutil::write_atomic(&key, data.to_string().as_bytes());
        }
        all.extend(parse_notices(&data, name));
    }
    if cache_ok {
        mark_viewed(&dir.join(NOTICES_CACHE_FN), &all);
    }
    Ok(all)
}

/// Adds the ids shown to `notices.cache` (which is touched either way: its time is when
/// notices were last looked at).
fn mark_viewed(path: &Path, shown: &[Notice]) {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let mut ids: Vec<&str> = old.lines().filter(|l| !l.is_empty()).collect();
    for n in shown {
        if !ids.contains(&n.id.as_str()) {
            ids.push(&n.id);
        }
    }
    ids.sort_unstable();
    let _ = std::fs::write(path, ids.join("\n"));
}

#[cfg(test)]
mod tests {
    use super::IsoTime;

    #[test]
    fn times_read_and_print_as_python_does() {
        let t = IsoTime::parse("2026-01-02T03:04:05+00:00").unwrap();
        assert_eq!(t.isoformat(), "2026-01-02T03:04:05+00:00");
        assert_eq!(t.ctime(), "Fri Jan  2 03:04:05 2026");
        let z = IsoTime::parse("2026-01-02T03:04:05Z").unwrap();
        assert_eq!(z.isoformat(), "2026-01-02T03:04:05+00:00");
        let naive = IsoTime::parse("2026-11-12T13:14:15.5").unwrap();
        assert_eq!(naive.isoformat(), "2026-11-12T13:14:15.500000");
        assert!(IsoTime::parse("2000-01-01").unwrap().is_past());
        assert!(IsoTime::parse("not a time").is_none());
    }
}
