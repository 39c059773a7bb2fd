//! Writing YAML the way conda does (ruamel.yaml round-trip dumper, block style, mappings
//! indented by 2, sequence items by `  - `), for the keys `conda config` writes.

use serde_yaml::{Mapping, Value};

/// A whole document: every top-level entry, in order. An empty mapping is `{}` as conda
/// writes it.
pub(crate) fn document(map: &Mapping) -> String {
    if map.is_empty() {
        return "{}\n".into();
    }
    let mut out = String::new();
    for (k, v) in map {
        for line in entry(&key_text(k), v, 0) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// The lines of `key: value` at `indent` spaces.
pub(crate) fn entry(key: &str, value: &Value, indent: usize) -> Vec<String> {
    let pad = " ".repeat(indent);
    match value {
        Value::Sequence(items) if !items.is_empty() => {
            let mut lines = vec![format!("{pad}{key}:")];
            for item in items {
                lines.extend(seq_item(item, indent + 2));
            }
            lines
        }
        Value::Mapping(m) if !m.is_empty() => {
            let mut lines = vec![format!("{pad}{key}:")];
            for (k, v) in m {
                lines.extend(entry(&key_text(k), v, indent + 2));
            }
            lines
        }
        Value::Tagged(t) => entry(key, &t.value, indent),
        _ => match scalar(value) {
            s if s.is_empty() => vec![format!("{pad}{key}:")],
            s => vec![format!("{pad}{key}: {s}")],
        },
    }
}

/// One sequence item at `indent` (where the `-` goes).
pub(crate) fn seq_item(item: &Value, indent: usize) -> Vec<String> {
    let pad = " ".repeat(indent);
    match item {
        Value::Mapping(m) if !m.is_empty() => {
            // `- first: x` then the other keys aligned under `first`.
            let mut lines = Vec::new();
            for (i, (k, v)) in m.iter().enumerate() {
                let sub = entry(&key_text(k), v, indent + 2);
                for (j, line) in sub.into_iter().enumerate() {
                    if i == 0 && j == 0 {
                        lines.push(format!("{pad}- {}", &line[indent + 2..]));
                    } else {
                        lines.push(line);
                    }
                }
            }
            lines
        }
        Value::Sequence(s) if !s.is_empty() => {
            let inner = Value::Sequence(s.clone());
            let flow = serde_json::to_string(&inner).unwrap_or_else(|_| "[]".into());
            vec![format!("{pad}- {flow}")]
        }
        _ => match scalar(item) {
            s if s.is_empty() => vec![format!("{pad}-")],
            s => vec![format!("{pad}- {s}")],
        },
    }
}

/// A mapping key as text.
fn key_text(k: &Value) -> String {
    scalar(k)
}

/// A scalar as ruamel writes it; `null` is empty (`key:`), empty collections are `[]`/`{}`.
pub(crate) fn scalar(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => py_float(f),
            _ => n.to_string(),
        },
        Value::String(s) => string(s),
        Value::Sequence(_) => "[]".into(),
        Value::Mapping(_) => "{}".into(),
        Value::Tagged(t) => scalar(&t.value),
    }
}

/// A float as Python's `repr` prints it (`60.0`, `1e+20`, `inf`).
pub(crate) fn py_float_repr(f: f64) -> String {
    match py_float(f).as_str() {
        ".nan" => "nan".into(),
        ".inf" => "inf".into(),
        "-.inf" => "-inf".into(),
        s => s.to_string(),
    }
}

/// A float as Python's `repr` (and ruamel) writes it: `3.0`, `0.1`, `1e+20`, `.inf`.
pub(crate) fn py_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    if f == f.trunc() && f.abs() < 1e16 {
        return format!("{f:.1}");
    }
    let s = format!("{f:?}");
    match s.split_once('e') {
        Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
        _ => s,
    }
}

/// A string, plain when YAML reads it back as the same string, else quoted.
pub(crate) fn string(s: &str) -> String {
    if s.chars().any(|c| c.is_control()) {
        return double_quoted(s);
    }
    if plain_ok(s) {
        return s.to_string();
    }
    if s.starts_with('\'') {
        return double_quoted(s);
    }
    format!("'{}'", s.replace('\'', "''"))
}

fn double_quoted(s: &str) -> String {
    // JSON string escapes are valid YAML double-quoted escapes.
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// Whether `s` can be written without quotes.
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s || s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    // Indicators that start something else; `-`, `?`, `:` only when followed by a space
    // or alone.
    if "!&*[]{}#|>@`'\"%,".contains(first) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && s.chars().nth(1).is_none_or(|c| c == ' ') {
        return false;
    }
    if resolves_to_non_string(s) {
        return false;
    }
    // Belt and braces: what our own reader makes of it.
    matches!(
        serde_yaml::from_str::<Value>(&format!("k: {s}")),
        Ok(Value::Mapping(m)) if m.get("k") == Some(&Value::String(s.to_string()))
    )
}

/// Whether ruamel's resolver reads `s` as a bool, null, number or timestamp.
fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False", "FALSE",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    looks_numeric(unsigned) || looks_like_date(s)
}

/// Integers (also `0x…`, `0o…`, with `_`) and floats (`1.5`, `3.10`, `1e3`, `.5`).
fn looks_numeric(s: &str) -> bool {
    if let Some(hex) = s.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit() || c == '_');
    }
    if let Some(oct) = s.strip_prefix("0o") {
        return !oct.is_empty() && oct.chars().all(|c| ('0'..='7').contains(&c) || c == '_');
    }
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    let digits = mantissa.chars().filter(|c| c.is_ascii_digit()).count();
    let dots = mantissa.chars().filter(|&c| c == '.').count();
    exp_ok
        && digits > 0
        && dots <= 1
        && mantissa
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
}

/// `YYYY-MM-DD…`: ruamel resolves timestamps.
fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[5].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What ruamel (conda's writer) produced for these strings, recorded from conda 26.7.
    #[test]
    fn strings_are_quoted_like_ruamel() {
        let cases = [
            ("plain", "plain"),
            ("true", "'true'"),
            ("yes", "yes"),
            ("null", "'null'"),
            ("~", "'~'"),
            ("1", "'1'"),
            ("3.10", "'3.10'"),
            ("1e3", "'1e3'"),
            ("0x1F", "'0x1F'"),
            ("a: b", "'a: b'"),
            ("a:b", "a:b"),
            ("a #b", "'a #b'"),
            ("a#b", "a#b"),
            ("#x", "'#x'"),
            ("-x", "-x"),
            ("- x", "'- x'"),
            ("[x", "'[x'"),
            ("*x", "'*x'"),
            ("'x", "\"'x\""),
            ("x'y", "x'y"),
            (" x", "' x'"),
            ("", "''"),
            ("http://p:8080", "http://p:8080"),
            ("({name}) ", "'({name}) '"),
            ("a\tb", "\"a\\tb\""),
            ("é", "é"),
            ("~/x", "~/x"),
            ("2024-01-01", "'2024-01-01'"),
            ("x:", "'x:'"),
            ("|x", "'|x'"),
            ("1_000", "'1_000'"),
            (".inf", "'.inf'"),
            ("pkg >=1.0", "pkg >=1.0"),
            ("-", "'-'"),
            ("?", "'?'"),
            ("a b", "a b"),
        ];
        for (input, want) in cases {
            assert_eq!(string(input), want, "{input:?}");
        }
    }

    #[test]
    fn floats_like_python() {
        assert_eq!(py_float(3.0), "3.0");
        assert_eq!(py_float(9.15), "9.15");
        assert_eq!(py_float(1e20), "1e+20");
        assert_eq!(py_float(0.1), "0.1");
    }

    #[test]
    fn documents_in_conda_block_style() {
        let doc: Mapping = serde_yaml::from_str(
            "a: true\nchannels: [x, 'y']\nmap: {k: v, n: null}\nempty: []\nnone: null\n\
             settings: [{channel: c, platform: p}]\n",
        )
        .unwrap();
        assert_eq!(
            document(&doc),
            "a: true\nchannels:\n  - x\n  - y\nmap:\n  k: v\n  n:\nempty: []\nnone:\n\
             settings:\n  - channel: c\n    platform: p\n"
        );
        assert_eq!(document(&Mapping::new()), "{}\n");
    }
}
