//! A line-based scan of a `.condarc` file's raw text for conda's priority markers
//! (`#!final`, `#!top`, `#!bottom`) and for the line of every top-level key.
//!
//! `serde_yaml` drops comments, so this recovers what conda reads from ruamel's comment
//! tokens: the comment on a key's line, on each block-sequence item's line, and on each
//! block-mapping entry's line.

use std::collections::HashMap;

/// A priority marker found in a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flag {
    /// `#!final`: lower-precedence sources win over higher ones for this key / item.
    Final,
    /// `#!top`: move the list item to the top of the merged list.
    Top,
    /// `#!bottom`: move the list item to the bottom of the merged list.
    Bottom,
}

/// What the scan found for one top-level key.
#[derive(Debug, Default, Clone)]
pub(crate) struct KeyMarks {
    /// 1-based line of the key.
    pub line: usize,
    /// The marker in the comment on the key's line.
    pub flag: Option<Flag>,
    /// Block-sequence items below the key: (line, marker).
    pub items: Vec<(usize, Option<Flag>)>,
    /// Block-mapping entries below the key: (sub key, line, marker).
    pub entries: Vec<(String, usize, Option<Flag>)>,
}

/// conda's `ParameterFlag.from_string`: the comment stripped of whitespace, `!` and `#`.
fn parse_flag(comment: Option<&str>) -> Option<Flag> {
    match comment?.trim().trim_matches(|c| c == '!' || c == '#') {
        "final" => Some(Flag::Final),
        "top" => Some(Flag::Top),
        "bottom" => Some(Flag::Bottom),
        _ => None,
    }
}

/// Splits a line into its code and its comment (`#` at the start or after whitespace,
/// outside quotes).
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let mut quote: Option<char> = None;
    let mut prev_ws = true;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '#') if prev_ws => return (&line[..i], Some(&line[i..])),
            (None, '\'' | '"') if prev_ws => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        prev_ws = c.is_whitespace() || (quote.is_none() && matches!(c, '[' | '{' | ','));
    }
    (line, None)
}

/// Parses `key: rest` (plain or quoted key); returns the key and the text after the colon.
fn parse_key(body: &str) -> Option<(String, &str)> {
    if let Some(q) = body.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let end = body[1..].find(q)? + 1;
        let rest = body[end + 1..].trim_start().strip_prefix(':')?;
        return Some((body[1..end].to_string(), rest));
    }
    let mut search = 0;
    while let Some(pos) = body[search..].find(':') {
        let colon = search + pos;
        let after = &body[colon + 1..];
        if after.is_empty() || after.starts_with([' ', '\t']) {
            return Some((body[..colon].trim_end().to_string(), after));
        }
        search = colon + 1;
    }
    None
}

fn is_seq_item(body: &str) -> bool {
    body == "-" || body.starts_with("- ") || body.starts_with("-\t")
}

/// State while walking the lines below one top-level key.
struct Current {
    key: String,
    accepts_children: bool,
    child_indent: Option<usize>,
}

/// Scans `text` and returns the marks of every top-level key.
pub(crate) fn scan(text: &str) -> HashMap<String, KeyMarks> {
    let mut marks: HashMap<String, KeyMarks> = HashMap::new();
    let mut current: Option<Current> = None;
    for (idx, raw) in text.lines().enumerate() {
        let (code, comment) = split_comment(raw);
        if code.trim().is_empty() {
            continue;
        }
        let indent = code.len() - code.trim_start_matches([' ', '\t']).len();
        let body = code[indent..].trim_end();
        let line = idx + 1;
        if indent == 0 && !is_seq_item(body) {
            current = start_key(&mut marks, body, line, parse_flag(comment));
            continue;
        }
        if let Some(cur) = current.as_mut() {
            add_child(&mut marks, cur, indent, body, line, parse_flag(comment));
        }
    }
    marks
}

fn start_key(
    marks: &mut HashMap<String, KeyMarks>,
    body: &str,
    line: usize,
    flag: Option<Flag>,
) -> Option<Current> {
    let (key, rest) = parse_key(body)?;
    let entry = KeyMarks {
        line,
        flag,
        ..KeyMarks::default()
    };
    marks.entry(key.clone()).or_insert(entry);
    Some(Current {
        key,
        accepts_children: rest.trim().is_empty(),
        child_indent: None,
    })
}

fn add_child(
    marks: &mut HashMap<String, KeyMarks>,
    cur: &mut Current,
    indent: usize,
    body: &str,
    line: usize,
    flag: Option<Flag>,
) {
    if !cur.accepts_children || *cur.child_indent.get_or_insert(indent) != indent {
        return;
    }
    let Some(km) = marks.get_mut(&cur.key) else {
        return;
    };
    if is_seq_item(body) {
        km.items.push((line, flag));
    } else if let Some((sub, _)) = parse_key(body) {
        km.entries.push((sub, line, flag));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_key_lines_and_flags() {
        let text = "# header\nalways_yes: true  #!final\nchannels:   #!final\n  - a  #!top\n  - 'b # c'\n  - c #!bottom\nproxy_servers:\n  http: x #!final\n  https: y\n";
        let m = scan(text);
        assert_eq!(m["always_yes"].line, 2);
        assert_eq!(m["always_yes"].flag, Some(Flag::Final));
        let ch = &m["channels"];
        assert_eq!(ch.flag, Some(Flag::Final));
        assert_eq!(
            ch.items,
            vec![(4, Some(Flag::Top)), (5, None), (6, Some(Flag::Bottom))]
        );
        let ps = &m["proxy_servers"];
        assert_eq!(ps.entries.len(), 2);
        assert_eq!(ps.entries[0], ("http".into(), 8, Some(Flag::Final)));
    }

    #[test]
    fn sequence_at_column_zero_and_quoted_keys() {
        let m = scan("\"channels\":\n- a #!bottom\n- b\nurl: http://x/#frag\n");
        assert_eq!(
            m["channels"].items,
            vec![(2, Some(Flag::Bottom)), (3, None)]
        );
        assert_eq!(m["url"].line, 4);
        assert_eq!(m["url"].flag, None);
    }

    #[test]
    fn comment_detection() {
        assert_eq!(split_comment("a: 'x #y' # z"), ("a: 'x #y' ", Some("# z")));
        assert_eq!(split_comment("a: b#c"), ("a: b#c", None));
        assert_eq!(parse_flag(Some("# !final")), None);
        assert_eq!(parse_flag(Some("#!final")), Some(Flag::Final));
    }
}
