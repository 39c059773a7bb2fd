//! `exclude_newer` (`--exclude-newer`, alias `cooldown`) and `exclude_newer_package`: leave
//! out packages published after a cutoff, as conda 26 does. A value is a duration back from
//! now (`7d`, `3d12h`, `P1W`, or plain seconds `604800`), a date (`2026-04-01`: up to the end
//! of that UTC day) or a time (`2026-04-01T12:00:00Z`; without a zone, UTC). Empty disables.
//! The solver and `search` apply it through rattler's `ExcludeNewer`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rattler_conda_types::PackageName;
use rattler_solve::{ExcludeNewer, TimestampPolicy};
use serde_yaml::Value;

use crate::error::ErrorKind;
use crate::{CondaError, Result};

/// The cutoff `value` gives, `None` when empty (no cutoff).
pub fn parse(value: &str, now: Timestamp) -> Result<Option<Timestamp>> {
    let text = value.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Some(seconds) = duration_seconds(text)? {
        let back = jiff::SignedDuration::from_secs(seconds);
        return now
            .checked_sub(back)
            .map(Some)
            .map_err(|_| invalid(value, ""));
    }
    if let Some(t) = date_or_time(text) {
        return Ok(Some(t));
    }
    Err(invalid(
        value,
        " Use e.g. 7d, P7D, 2026-04-01, or 2026-04-01T12:00:00Z.",
    ))
}

fn invalid(value: &str, hint: &str) -> CondaError {
    CondaError::new(
        ErrorKind::CondaValueError,
        format!("Invalid exclude_newer value '{value}'.{hint}"),
    )
}

/// A duration in seconds: plain seconds, ISO-8601 `P[nW][nD][T[nH][nM][nS]]`, or compact
/// `1w2d3h4m5s` parts. `None` when the text is not a duration at all.
fn duration_seconds(text: &str) -> Result<Option<i64>> {
    if let Some(digits) = text.strip_prefix('-') {
        if duration_seconds(digits)?.is_some() {
            return Err(invalid(text, " Duration must not be negative."));
        }
        return Ok(None);
    }
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Some(n));
    }
    let lower = text.to_ascii_lowercase();
    if let Some(iso) = lower.strip_prefix('p') {
        return Ok(iso_duration(iso));
    }
    Ok(compact_duration(&lower))
}

fn unit_seconds(unit: char) -> Option<i64> {
    match unit {
        'w' => Some(7 * 86_400),
        'd' => Some(86_400),
        'h' => Some(3_600),
        'm' => Some(60),
        's' => Some(1),
        _ => None,
    }
}

/// `1w2d`, `3d 12h`: number-unit pairs and nothing else.
fn compact_duration(text: &str) -> Option<i64> {
    let mut total = 0i64;
    let mut number = String::new();
    let mut any = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
        } else if c.is_whitespace() && !number.is_empty() {
            continue;
        } else {
            let n: i64 = number.parse().ok()?;
            total = total.checked_add(n.checked_mul(unit_seconds(c)?)?)?;
            number.clear();
            any = true;
        }
    }
    (any && number.is_empty()).then_some(total)
}

/// The part after `P`: weeks and days, then after `T` hours, minutes and seconds.
fn iso_duration(text: &str) -> Option<i64> {
    let (date, time) = match text.split_once('t') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (text, None),
    };
    let mut total = 0i64;
    let mut parts = 0;
    for (part, units) in [(date, "wd"), (time.unwrap_or(""), "hms")] {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
            } else if units.contains(c) {
                let n: i64 = number.parse().ok()?;
                total = total.checked_add(n.checked_mul(unit_seconds(c)?)?)?;
                number.clear();
                parts += 1;
            } else {
                return None;
            }
        }
        if !number.is_empty() {
            return None;
        }
    }
    (parts > 0).then_some(total)
}

/// `YYYY-MM-DD` (the start of the next UTC day) or an ISO time (UTC when it has no zone).
fn date_or_time(text: &str) -> Option<Timestamp> {
    use chrono::{NaiveDate, NaiveDateTime};
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let next = date.succ_opt()?.and_hms_opt(0, 0, 0)?.and_utc();
        return Timestamp::from_second(next.timestamp()).ok();
    }
    let with_zone = text.replace(['Z', 'z'], "+00:00");
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&with_zone.replacen(' ', "T", 1)) {
        return Timestamp::from_millisecond(t.timestamp_millis()).ok();
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Timestamp::from_millisecond(t.and_utc().timestamp_millis()).ok();
        }
    }
    None
}

/// A YAML scalar as conda reads it (a number of seconds is a number in YAML).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The cutoff policy of the configuration (`exclude_newer`, `exclude_newer_package`,
/// `channel_settings`' `exclude_newer` for `channels`), if any: records without a timestamp
/// are kept, as conda keeps them.
pub fn policy(
    other: &BTreeMap<String, Value>,
    channels: &[rattler_conda_types::Channel],
) -> Result<Option<ExcludeNewer>> {
    let now = Timestamp::now();
    let global = match other.get("exclude_newer").and_then(scalar) {
        Some(v) => parse(&v, now)?,
        None => None,
    };
    let packages = package_rules(other, now)?;
    let per_channel = channel_rules(other, channels, now)?;
    if global.is_none() && packages.is_empty() && per_channel.is_empty() {
        return Ok(None);
    }
    // A package rule without a global cutoff still needs a base: the far future excludes
    // nothing else.
    let base = global.unwrap_or(Timestamp::MAX);
    let mut policy =
        ExcludeNewer::from_datetime(base).with_timestamp_policy(TimestampPolicy::AllowMissing);
    for (channel, cutoff) in per_channel {
        // A record's `channel` is its channel's URL (with or without a trailing slash).
        let base = channel.trim_end_matches('/').to_string();
        let cutoff = cutoff.unwrap_or(Timestamp::MAX);
        policy = policy
            .with_channel_cutoff(format!("{base}/"), cutoff)
            .with_channel_cutoff(base, cutoff);
    }
    for (name, rule) in packages {
        policy = match rule {
            // conda's per-package cutoff replaces the global one for that package (later or
            // earlier), which is what rattler's package cutoff does.
            #[allow(deprecated)]
            Some(cutoff) => policy.with_package_cutoff(name, cutoff),
            None => policy
                .with_exemption(rattler_conda_types::MatchSpec::from(name))
                .map_err(|e| CondaError::new(ErrorKind::CondaValueError, e.to_string()))?,
        };
    }
    Ok(Some(policy))
}

/// `channel_settings`: per channel (its name, canonical name or URL, or a glob over its URL)
/// the last matching entry's `exclude_newer`; a false-y value exempts the channel.
fn channel_rules(
    other: &BTreeMap<String, Value>,
    channels: &[rattler_conda_types::Channel],
    now: Timestamp,
) -> Result<Vec<(String, Option<Timestamp>)>> {
    let Some(Value::Sequence(items)) = other.get("channel_settings") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for channel in channels {
        let url = channel
            .base_url
            .url()
            .as_str()
            .trim_end_matches('/')
            .to_string();
        let names = [
            crate::naming::naming().name(&url),
            crate::naming::naming().canonical(&url),
            url.clone(),
        ];
        let rule = items
            .iter()
            .rev()
            .filter_map(Value::as_mapping)
            .find_map(|item| {
                let pattern = item.get("channel").and_then(Value::as_str)?;
                let setting = item
                    .get("exclude_newer")
                    .or_else(|| item.get("exclude-newer"))?;
                let matches = names.iter().any(|n| n == pattern.trim_end_matches('/'))
                    || glob_matches(pattern, &url);
                matches.then(|| setting.clone())
            });
        let Some(setting) = rule else { continue };
        let cutoff = match &setting {
            Value::Bool(false) | Value::Null => None,
            v => match scalar(v) {
                Some(text) if !text.trim().is_empty() && text != "false" => parse(&text, now)?,
                _ => None,
            },
        };
        out.push((url, cutoff));
    }
    Ok(out)
}

/// `*` and `?` globs over a channel URL (conda matches `channel_settings` patterns so).
fn glob_matches(pattern: &str, text: &str) -> bool {
    fn matches(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| matches(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && matches(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && matches(rest, &t[1..]),
        }
    }
    if !pattern.contains(['*', '?']) {
        return false;
    }
    let p: Vec<char> = pattern.trim_end_matches('/').chars().collect();
    let t: Vec<char> = text.chars().collect();
    matches(&p, &t)
}

/// `exclude_newer_package`: per package a cutoff, or `false` (never excluded).
fn package_rules(
    other: &BTreeMap<String, Value>,
    now: Timestamp,
) -> Result<Vec<(PackageName, Option<Timestamp>)>> {
    let Some(Value::Mapping(map)) = other.get("exclude_newer_package") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (k, v) in map {
        let Some(name) = k.as_str() else { continue };
        let name = PackageName::try_from(name).map_err(|e| {
            CondaError::new(
                ErrorKind::CondaValueError,
                format!("Invalid package name '{name}' in exclude_newer_package: {e}"),
            )
        })?;
        let rule = match v {
            Value::Bool(false) => None,
            other => match scalar(other) {
                Some(text) => match parse(&text, now)? {
                    Some(cutoff) => Some(cutoff),
                    None => continue,
                },
                None => continue,
            },
        };
        out.push((name, rule));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn durations_dates_and_times() {
        let now = at("2026-12-02T12:00:00Z");
        let p = |v: &str| parse(v, now).unwrap();
        assert_eq!(p(""), None);
        assert_eq!(p("7d"), Some(at("2026-11-25T12:00:00Z")));
        assert_eq!(p("P7D"), Some(at("2026-11-25T12:00:00Z")));
        assert_eq!(p("p1w"), Some(at("2026-11-25T12:00:00Z")));
        assert_eq!(p("3d12h"), Some(at("2026-11-29T00:00:00Z")));
        assert_eq!(p("PT1H30M"), Some(at("2026-12-02T10:30:00Z")));
        assert_eq!(p("86400"), Some(at("2026-12-01T12:00:00Z")));
        assert_eq!(p("0"), Some(now));
        assert_eq!(p("2026-07-27"), Some(at("2026-07-28T00:00:00Z")));
        assert_eq!(
            p("2026-07-28T22:11:57.300Z"),
            Some(at("2026-07-28T22:11:57.300Z"))
        );
        assert_eq!(p("2026-07-28T22:10:33"), Some(at("2026-07-28T22:10:33Z")));
        assert_eq!(
            p("2026-07-28T23:00:00+01:00"),
            Some(at("2026-07-28T22:00:00Z"))
        );
    }

    #[test]
    fn bad_values_are_condas_errors() {
        let now = Timestamp::now();
        let err = parse("soon", now).unwrap_err().to_string();
        assert!(
            err.contains("Invalid exclude_newer value 'soon'. Use e.g. 7d"),
            "{err}"
        );
        let err = parse("-5", now).unwrap_err().to_string();
        assert!(err.contains("Duration must not be negative."), "{err}");
        assert!(parse("P", now).is_err());
        assert!(parse("3x", now).is_err());
    }
}
