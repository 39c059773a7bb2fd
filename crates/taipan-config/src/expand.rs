//! `$VAR` / `${VAR}` and `~` expansion, with the variables taken from a map (never the process).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Python's `posixpath.expandvars`: replaces `$NAME` and `${NAME}` (NAME = `[A-Za-z0-9_]+`)
/// with the variable's value; unknown variables are left as written.
pub(crate) fn expand_vars(s: &str, env: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, consumed) = var_at(after);
        match name.and_then(|n| env.get(n)) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[pos..pos + 1 + consumed]),
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

/// The variable name right after a `$`, and how many bytes of `after` the reference spans.
fn var_at(after: &str) -> (Option<&str>, usize) {
    if let Some(braced) = after.strip_prefix('{') {
        return match braced.find('}') {
            Some(end) => (Some(&braced[..end]), end + 2),
            None => (None, 0),
        };
    }
    let len = after
        .find(|c: char| !is_name_char(c))
        .unwrap_or(after.len());
    if len == 0 {
        (None, 0)
    } else {
        (Some(&after[..len]), len)
    }
}

/// Expands variables in every string of a YAML value (mapping values, not keys).
pub(crate) fn expand_value(v: &Value, env: &HashMap<String, String>) -> Value {
    match v {
        Value::String(s) => Value::String(expand_vars(s, env)),
        Value::Sequence(items) => {
            Value::Sequence(items.iter().map(|i| expand_value(i, env)).collect())
        }
        Value::Mapping(m) => Value::Mapping(
            m.iter()
                .map(|(k, val)| (k.clone(), expand_value(val, env)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Replaces a leading `~` (alone or followed by `/`) with `home`; other paths are unchanged.
pub(crate) fn expand_user(path: &str, home: Option<&Path>) -> PathBuf {
    match (path, home) {
        ("~", Some(home)) => home.to_path_buf(),
        (p, Some(home)) if p.starts_with("~/") => home.join(&p[2..]),
        (p, _) => PathBuf::from(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_like_posixpath_expandvars() {
        let env: HashMap<String, String> = [("A".to_string(), "x".to_string())].into();
        assert_eq!(
            expand_vars("$A/${A}/$B/${B}/$/${/$$", &env),
            "x/x/$B/${B}/$/${/$$"
        );
        assert_eq!(expand_vars("pre$A-post", &env), "prex-post");
        assert_eq!(expand_vars("no vars", &env), "no vars");
    }

    #[test]
    fn expands_leading_tilde_only() {
        let home = Path::new("/h");
        assert_eq!(expand_user("~", Some(home)), PathBuf::from("/h"));
        assert_eq!(expand_user("~/a", Some(home)), PathBuf::from("/h/a"));
        assert_eq!(expand_user("/a/~", Some(home)), PathBuf::from("/a/~"));
        assert_eq!(expand_user("~/a", None), PathBuf::from("~/a"));
    }
}
