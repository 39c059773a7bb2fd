//! Rewriting a `.condarc` after a change while keeping what conda's ruamel round trip
//! keeps: comments, key order and keys that were not touched.
//!
//! The caller changes the parsed mapping (as conda changes its dict); [`apply`] then edits
//! the text: untouched top-level entries stay byte for byte, removed ones are cut out,
//! new ones are appended in conda's style. A changed block sequence or block mapping is
//! edited item by item, so the comments of the items that stay are kept, and a changed
//! scalar keeps the comment after it (`#!final`). Anything this line-based editor does not
//! understand (flow collections at the top level, anchors, multi-line scalars that
//! change) is re-rendered from the data, and the result is always checked by parsing it
//! back: if it does not read as the intended mapping, the whole file is rendered from the
//! data instead, so the content is right even when a comment has to go.

use serde_yaml::{Mapping, Value};

use crate::render;

/// One entry of a block collection in the text: its first line and the line after it,
/// with the comment and blank lines before it (`lead`) as part of it.
#[derive(Debug, Clone)]
struct Span {
    /// The key (mappings) or the item's text (sequences), unquoted as far as needed.
    key: String,
    lead: usize,
    start: usize,
    end: usize,
}

/// The new text of a file whose content went from `old` (parsed from `text`) to `new`.
pub(crate) fn apply(text: &str, old: &Mapping, new: &Mapping) -> String {
    if old == new && !text.trim().is_empty() {
        return text.to_string();
    }
    match edit(text, old, new) {
        Some(out) if reads_as(&out, new) => out,
        _ => render::document(new),
    }
}

fn reads_as(text: &str, want: &Mapping) -> bool {
    match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(m)) => &m == want,
        Ok(Value::Null) => want.is_empty(),
        _ => false,
    }
}

fn edit(text: &str, old: &Mapping, new: &Mapping) -> Option<String> {
    if old.is_empty()
        && text
            .lines()
            .all(|l| l.trim().is_empty() || l.starts_with('#'))
    {
        // Only comments (or nothing): keep them, then the new entries.
        return Some(join_append(text, &render::document(new), new.is_empty()));
    }
    let lines: Vec<&str> = text.lines().collect();
    let spans = spans(&lines, 0, 0, lines.len(), false);
    if spans
        .iter()
        .map(|s| s.key.as_str())
        .ne(old.keys().filter_map(Value::as_str))
    {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let mut pos = 0;
    for span in &spans {
        out.extend(lines[pos..span.start].iter().map(|l| l.to_string()));
        pos = span.end;
        let key = Value::String(span.key.clone());
        let Some(value) = new.get(&key) else {
            continue;
        };
        let block = &lines[span.start..span.end];
        if old.get(&key) == Some(value) {
            out.extend(block.iter().map(|l| l.to_string()));
        } else {
            out.extend(edit_entry(block, &span.key, old.get(&key)?, value, 0)?);
        }
    }
    out.extend(lines[pos..].iter().map(|l| l.to_string()));
    let mut body = out.join("\n");
    if !body.is_empty() {
        body.push('\n');
    }
    for (k, v) in new {
        if !old.contains_key(k) {
            body.push_str(&render::entry(k.as_str()?, v, 0).join("\n"));
            body.push('\n');
        }
    }
    Some(body)
}

/// Comments or nothing, then a rendered document (or nothing if the result is empty and
/// there were comments to keep).
fn join_append(text: &str, doc: &str, empty: bool) -> String {
    let kept = text.trim_end();
    if kept.is_empty() {
        return doc.to_string();
    }
    if empty {
        return format!("{kept}\n{{}}\n");
    }
    format!("{kept}\n{doc}")
}

/// The entries of the block collection whose items start at column `indent` in
/// `lines[from..to]`: each item's line range, comment and blank lines before it included.
fn spans(lines: &[&str], indent: usize, from: usize, to: usize, seq: bool) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut lead = from;
    let mut i = from;
    while i < to {
        let line = lines[i];
        let depth = line.len() - line.trim_start().len();
        let blank_or_comment = line.trim().is_empty() || line.trim_start().starts_with('#');
        // In a mapping, `- item` lines at the key's own indent are the key's sequence.
        let own_items = !seq && depth == indent && line.trim_start().starts_with("- ");
        if blank_or_comment || depth > indent || own_items {
            if !blank_or_comment {
                if let Some(last) = out.last_mut() {
                    last.end = i + 1;
                }
                lead = i + 1;
            }
            i += 1;
            continue;
        }
        out.push(Span {
            key: item_key(line.trim_start()),
            lead,
            start: i,
            end: i + 1,
        });
        lead = i + 1;
        i += 1;
    }
    out
}

/// The key of `key: …`, or the whole text of a `- item`, unquoted.
fn item_key(line: &str) -> String {
    if let Some(item) = line.strip_prefix('-') {
        return item.trim().to_string();
    }
    let (key, _) = split_key(line).unwrap_or((line, ""));
    unquote(key.trim())
}

/// `key: rest` → (`key`, `rest`), quotes in the key respected.
fn split_key(line: &str) -> Option<(&str, &str)> {
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') if i == 0 => quote = Some(c),
            (None, ':') if line[i + 1..].is_empty() || line[i + 1..].starts_with(' ') => {
                return Some((&line[..i], &line[i + 1..]));
            }
            _ => {}
        }
    }
    None
}

fn unquote(s: &str) -> String {
    match serde_yaml::from_str::<Value>(s) {
        Ok(Value::String(v)) if s.starts_with(['\'', '"']) => v,
        _ => s.to_string(),
    }
}

/// The comment at the end of a line (`  # …`), outside quotes.
fn trailing_comment(line: &str) -> Option<&str> {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') if prev == ' ' || prev == ':' => quote = Some(c),
            (None, '#') if prev == ' ' || prev == '\t' => return Some(line[i..].trim_end()),
            _ => {}
        }
        prev = c;
    }
    None
}

/// A changed `key: value` block (its first line at `indent`), edited in place where
/// possible.
fn edit_entry(
    block: &[&str],
    key: &str,
    old: &Value,
    new: &Value,
    indent: usize,
) -> Option<Vec<String>> {
    let head = block.first()?;
    let (key_part, rest) = split_key(head.trim_start())?;
    let comment = trailing_comment(rest);
    let value_on_line = comment
        .map_or(rest, |c| &rest[..rest.len() - c.len()])
        .trim();
    let keep = |mut lines: Vec<String>| {
        if let (Some(c), Some(first)) = (comment, lines.first_mut()) {
            first.push_str("  ");
            first.push_str(c);
        }
        lines
    };
    let pad = " ".repeat(indent);
    let header = format!("{pad}{key_part}:");
    let block_style = value_on_line.is_empty() && block.len() > 1;
    match (old, new) {
        (Value::Sequence(a), Value::Sequence(b)) if block_style && !b.is_empty() => {
            let mut lines = vec![header.clone()];
            lines.extend(edit_sequence(&block[1..], a, b)?);
            Some(keep(lines))
        }
        (Value::Mapping(a), Value::Mapping(b)) if block_style && !b.is_empty() => {
            let mut lines = vec![header.clone()];
            lines.extend(edit_mapping(&block[1..], a, b)?);
            Some(keep(lines))
        }
        _ if block.len() == 1
            || !value_on_line.is_empty() && !value_on_line.starts_with(['|', '>']) =>
        {
            let mut lines = render::entry(key, new, indent);
            if let Some(first) = lines.first_mut() {
                // Keep the key as it was written (quotes and all).
                *first = first.replacen(&format!("{pad}{key}:"), &header, 1);
            }
            Some(keep(lines))
        }
        _ => Some(keep(render::entry(key, new, indent))),
    }
}

/// The items of a block sequence (`body` = the lines after `key:`) as `new`: items that
/// stay keep their lines and comments, new ones get the file's item indent.
fn edit_sequence(body: &[&str], old: &[Value], new: &[Value]) -> Option<Vec<String>> {
    let indent = body
        .iter()
        .find(|l| l.trim_start().starts_with('-'))
        .map(|l| l.len() - l.trim_start().len())?;
    let spans = spans(body, indent, 0, body.len(), true);
    if spans.len() != old.len()
        || spans
            .iter()
            .any(|s| !body[s.start].trim_start().starts_with('-'))
    {
        return None;
    }
    let mut used = vec![false; spans.len()];
    let mut out = Vec::new();
    for item in new {
        let found = (0..spans.len()).find(|&i| !used[i] && old[i] == *item);
        match found {
            Some(i) => {
                used[i] = true;
                out.extend(
                    body[spans[i].lead..spans[i].end]
                        .iter()
                        .map(|l| l.to_string()),
                );
            }
            None => out.extend(render::seq_item(item, indent)),
        }
    }
    let tail = spans.last().map_or(0, |s| s.end);
    out.extend(body[tail..].iter().map(|l| l.to_string()));
    Some(out)
}

/// The entries of a block mapping (`body` = the lines after `key:`) as `new`.
fn edit_mapping(body: &[&str], old: &Mapping, new: &Mapping) -> Option<Vec<String>> {
    let indent = body
        .iter()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| l.len() - l.trim_start().len())?;
    let spans = spans(body, indent, 0, body.len(), false);
    if spans
        .iter()
        .map(|s| s.key.as_str())
        .ne(old.keys().filter_map(Value::as_str))
    {
        return None;
    }
    let mut out = Vec::new();
    let mut pos = 0;
    for span in &spans {
        out.extend(body[pos..span.start].iter().map(|l| l.to_string()));
        pos = span.end;
        let key = Value::String(span.key.clone());
        let Some(value) = new.get(&key) else {
            continue;
        };
        let lines = &body[span.start..span.end];
        if old.get(&key) == Some(value) {
            out.extend(lines.iter().map(|l| l.to_string()));
        } else {
            out.extend(edit_entry(lines, &span.key, old.get(&key)?, value, indent)?);
        }
    }
    out.extend(body[pos..].iter().map(|l| l.to_string()));
    for (k, v) in new {
        if !old.contains_key(k) {
            out.extend(render::entry(k.as_str()?, v, indent));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use crate::rcfile::RcFile;

    /// A `.condarc` as conda writes it (ruamel block style), with a user's comments.
    const CONDA_WRITTEN: &str = "\
# my settings
channels:  #!final
  - conda-forge  # first
  # the default ones
  - defaults
always_yes: true  # no prompts
proxy_servers:
  http: http://p:8080

# trailing note
ssl_verify: false
";

    fn edited(text: &str, f: impl FnOnce(&mut RcFile)) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".condarc");
        std::fs::write(&path, text).unwrap();
        let mut rc = RcFile::open(&path, Some(&path)).unwrap();
        f(&mut rc);
        rc.render()
    }

    #[test]
    fn prepend_keeps_comments_and_order() {
        let out = edited(CONDA_WRITTEN, |rc| {
            rc.add("channels", "bioconda", true).unwrap()
        });
        assert_eq!(
            out,
            CONDA_WRITTEN.replace("channels:  #!final\n", "channels:  #!final\n  - bioconda\n")
        );
    }

    #[test]
    fn moving_an_item_keeps_its_comment() {
        let out = edited(CONDA_WRITTEN, |rc| {
            rc.add("channels", "defaults", true).unwrap()
        });
        assert!(out.starts_with(
            "# my settings\nchannels:  #!final\n  # the default ones\n  - defaults\n  - conda-forge  # first\nalways_yes"
        ), "{out}");
    }

    #[test]
    fn set_scalar_keeps_inline_comment() {
        let out = edited(CONDA_WRITTEN, |rc| rc.set("always_yes", "no").unwrap());
        assert_eq!(
            out,
            CONDA_WRITTEN.replace(
                "always_yes: true  # no prompts",
                "always_yes: false  # no prompts"
            )
        );
    }

    #[test]
    fn map_entries_are_added_and_removed_in_place() {
        let out = edited(CONDA_WRITTEN, |rc| {
            rc.set("proxy_servers.https", "https://q").unwrap()
        });
        assert_eq!(
            out,
            CONDA_WRITTEN.replace(
                "  http: http://p:8080\n",
                "  http: http://p:8080\n  https: https://q\n"
            )
        );
        let out = edited(CONDA_WRITTEN, |rc| {
            rc.remove_key("proxy_servers.http").unwrap()
        });
        assert!(
            out.contains("proxy_servers: {}\n\n# trailing note\n"),
            "{out}"
        );
    }

    #[test]
    fn remove_key_and_append_new_key() {
        let out = edited(CONDA_WRITTEN, |rc| {
            rc.remove_key("always_yes").unwrap();
            rc.append_for_test();
        });
        assert!(!out.contains("always_yes"));
        assert!(
            out.ends_with("ssl_verify: false\npkgs_dirs:\n  - /opt/pkgs\n"),
            "{out}"
        );
        assert!(out.contains("# trailing note\n"));
    }

    #[test]
    fn removing_the_last_item_leaves_an_empty_list() {
        let text = "channels:\n- a\n";
        let out = edited(text, |rc| rc.remove_item("channels", "a").unwrap());
        assert_eq!(out, "channels: []\n");
        // another indent style is kept for the items that stay
        let out = edited("channels:\n- a\n- b\n", |rc| {
            rc.add("channels", "c", false).unwrap()
        });
        assert_eq!(out, "channels:\n- a\n- b\n- c\n");
    }

    #[test]
    fn flow_and_odd_files_are_rendered_from_the_data() {
        let out = edited("channels: [a, b]  # mine\n", |rc| {
            rc.add("channels", "c", true).unwrap()
        });
        assert_eq!(out, "channels:  # mine\n  - c\n  - a\n  - b\n");
        let out = edited("{channels: [a]}\n", |rc| {
            rc.set("always_yes", "true").unwrap()
        });
        assert_eq!(out, "channels:\n  - a\nalways_yes: true\n");
        let out = edited("", |rc| rc.set("always_yes", "true").unwrap());
        assert_eq!(out, "always_yes: true\n");
        let out = edited("# only a comment\n", |rc| {
            rc.add("channels", "x", true).unwrap()
        });
        assert_eq!(out, "# only a comment\nchannels:\n  - x\n");
    }

    #[test]
    fn unchanged_file_is_byte_identical() {
        assert_eq!(edited(CONDA_WRITTEN, |_| {}), CONDA_WRITTEN);
    }
}
