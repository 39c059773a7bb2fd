//! Reading one field of a package record whose JSON serde_json has already checked, without
//! parsing the record: the cold scan of a 250 MB repodata needs only each record's name.

use std::borrow::Cow;

/// The `name` of one record, found by walking the record's top-level keys and stopping at
/// `name`. The record is JSON serde_json has already checked (a `RawValue`), so the walk only
/// has to find where each value ends; parsing the record again to read one field was a fifth
/// of a cold scan.
pub(super) fn record_name(raw: &str) -> Result<Cow<'_, str>, &'static str> {
    let b = raw.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err("a package record must be an object");
    }
    i += 1;
    loop {
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b',') => {
                i += 1;
                continue;
            }
            Some(b'"') => {}
            _ => return Err("the package record has no `name`"),
        }
        let key_end = string_end(b, i).ok_or("unterminated string")?;
        let key = json_str(&raw[i..key_end]).ok_or("bad string")?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return Err("expected `:` after a key");
        }
        i = skip_ws(b, i + 1);
        let end = value_end(b, i).ok_or("unterminated value")?;
        if key == "name" {
            return json_str(&raw[i..end]).ok_or("`name` must be a string");
        }
        i = end;
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// Just past the closing quote of the string that opens at `start`.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        let j = i + memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[j] == b'"' {
            return Some(j + 1);
        }
        i = j + 2;
    }
}

/// Just past the value that starts at `start`.
fn value_end(b: &[u8], start: usize) -> Option<usize> {
    match *b.get(start)? {
        b'"' => string_end(b, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            loop {
                match *b.get(i)? {
                    b'"' => {
                        i = string_end(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = start;
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            {
                i += 1;
            }
            Some(i)
        }
    }
}

/// A JSON string token (quotes included) as text: borrowed unless it has escapes.
fn json_str(token: &str) -> Option<Cow<'_, str>> {
    let inner = token.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(token).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_name_walks_only_the_top_level_keys() {
        let name = |raw: &str| record_name(raw).map(|n| n.into_owned());
        let tricky = r#"{"build":"py_0","depends":["a }", "b \" ]", "{"],
            "extra_depends": {"name": ["not-this"]}, "run_exports": {"weak": ["x"]},
            "size": 12, "noarch": null, "ok": true, "ratio": -1.5e3,
            "name" : "Foo", "version": "1"}"#;
        assert_eq!(name(tricky).as_deref(), Ok("Foo"));
        assert_eq!(name(r#"{"na\u006de":"x"}"#).as_deref(), Ok("x"));
        assert_eq!(name(r#"{"name":"a\u0062"}"#).as_deref(), Ok("ab"));
        assert_eq!(name("{\n  \"name\":\t\"p\"\n}").as_deref(), Ok("p"));
        assert!(name(r#"{"version":"1"}"#).is_err());
        assert!(name(r#"{"name":3}"#).is_err());
        assert!(name(r#"["name","x"]"#).is_err());
    }
}
