//! Turning one configuration source (a file, the environment, the command line) into
//! type-checked [`Entry`]s.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use crate::error::ConfigError;
use crate::expand::{expand_value, expand_vars};
use crate::merge::Entry;
use crate::params::{lookup, Kind, Param};
use crate::scan::{scan, Flag, KeyMarks};
use crate::value::{first_bad_child, from_env, from_yaml, BadChild, Norm};

/// Where a piece of configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// A configuration file.
    File(PathBuf),
    /// `CONDA_*` environment variables (conda calls this source `envvars`).
    EnvVars,
    /// Command-line flags (conda calls this source `cmd_line`).
    CmdLine,
}

impl fmt::Display for SourceKind {
    /// The path, `envvars` or `cmd_line`, as in `conda config --show-sources`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceKind::File(path) => write!(f, "{}", path.display()),
            SourceKind::EnvVars => f.write_str("envvars"),
            SourceKind::CmdLine => f.write_str("cmd_line"),
        }
    }
}

/// One configuration source that was read, with the known keys it sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Where the values came from.
    pub kind: SourceKind,
    /// Every known key the source sets (as written, possibly an alias) with its type-checked
    /// value (after `$VAR` expansion), sorted by key. Unknown keys are not included.
    pub values: BTreeMap<String, Value>,
}

/// A source with the parameter each entry sets.
pub(crate) struct RawSource {
    pub kind: SourceKind,
    pub entries: Vec<(&'static Param, Entry)>,
}

impl RawSource {
    /// The public view of this source.
    pub fn to_source(&self) -> Source {
        let values = self
            .entries
            .iter()
            .map(|(_, e)| (e.key.clone(), e.value.to_yaml()))
            .collect();
        Source {
            kind: self.kind.clone(),
            values,
        }
    }

    /// Fails if two entries set the same parameter under different names.
    fn check_aliases(&self) -> Result<(), ConfigError> {
        for (i, (param, _)) in self.entries.iter().enumerate() {
            let dups: Vec<&str> = self.entries[i..]
                .iter()
                .filter(|(p, _)| p.name == param.name)
                .map(|(_, e)| e.key.as_str())
                .collect();
            if dups.len() > 1 && self.entries[..i].iter().all(|(p, _)| p.name != param.name) {
                return Err(ConfigError::MultipleKeys {
                    source_name: self.kind.to_string(),
                    keys: dups.join(", "),
                    name: param.name.to_string(),
                });
            }
        }
        Ok(())
    }
}

fn plain_entry(key: String, value: Norm, is_final: bool) -> Entry {
    Entry {
        key,
        value,
        is_final,
        item_flags: Vec::new(),
        final_entries: Vec::new(),
    }
}

/// Reads and type-checks one configuration file. Unknown keys add a warning.
pub(crate) fn load_file(
    path: &Path,
    env: &HashMap<String, String>,
    warnings: &mut Vec<String>,
) -> Result<RawSource, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = utf8(path, bytes)?;
    let doc = parse_doc(path, &text)?;
    let marks = scan(&text);
    let mut entries = Vec::new();
    for (k, v) in &doc {
        let key = key_string(k);
        let km = marks.get(&key).cloned().unwrap_or_default();
        let line = km.line.max(1);
        match lookup(&key) {
            Some(param) => entries.push((param, file_entry(path, param, key, v, &km, env)?)),
            None => warnings.push(format!(
                "Unknown key: '{key}' (in {}, line {line})",
                path.display()
            )),
        }
    }
    let source = RawSource {
        kind: SourceKind::File(path.to_path_buf()),
        entries,
    };
    source.check_aliases()?;
    Ok(source)
}

fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, ConfigError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let column = valid.iter().rev().take_while(|b| **b != b'\n').count() + 1;
        ConfigError::InvalidYaml {
            path: path.to_path_buf(),
            line,
            column,
            message: "the file is not valid UTF-8".into(),
        }
    })
}

fn parse_doc(path: &Path, text: &str) -> Result<Mapping, ConfigError> {
    let value: Value = serde_yaml::from_str(text).map_err(|e| yaml_error(path, text, &e))?;
    match value {
        Value::Null => Ok(Mapping::new()),
        Value::Mapping(m) => Ok(m),
        other => Err(ConfigError::NotAMapping {
            path: path.to_path_buf(),
            line: first_content_line(text),
            found: match other {
                Value::Sequence(_) => "list",
                Value::Tagged(_) => "tagged value",
                _ => "plain value",
            },
        }),
    }
}

fn yaml_error(path: &Path, text: &str, e: &serde_yaml::Error) -> ConfigError {
    let (mut line, mut column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    let message = strip_location(&e.to_string());
    if let Some(dup_line) = duplicate_key_line(&message, text) {
        (line, column) = (dup_line, 1);
    }
    ConfigError::InvalidYaml {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

/// Removes serde_yaml's ` at line N column M` from a message (the error carries it apart).
fn strip_location(message: &str) -> String {
    let Some(start) = message.find(" at line ") else {
        return message.to_string();
    };
    let after = &message[start + " at line ".len()..];
    let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let mut end = digits(after);
    if let Some(rest) = after[end..].strip_prefix(" column ") {
        end += " column ".len() + digits(rest);
    }
    format!("{}{}", &message[..start], &after[end..])
}

/// For `duplicate entry with key "k"`, the line of the second top-level `k:` (serde_yaml
/// reports the start of the mapping instead).
fn duplicate_key_line(message: &str, text: &str) -> Option<usize> {
    let key = message
        .strip_prefix("duplicate entry with key \"")?
        .strip_suffix('"')?;
    let prefixes = [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ];
    text.lines()
        .enumerate()
        .filter(|(_, l)| prefixes.iter().any(|p| l.starts_with(p.as_str())))
        .nth(1)
        .map(|(i, _)| i + 1)
}

fn first_content_line(text: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && t != "---"
        })
        .map_or(1, |i| i + 1)
}

fn key_string(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
    }
}

fn file_entry(
    path: &Path,
    param: &Param,
    key: String,
    raw: &Value,
    km: &KeyMarks,
    env: &HashMap<String, String>,
) -> Result<Entry, ConfigError> {
    let expanded;
    let value = if param.expand {
        expanded = expand_value(raw, env);
        &expanded
    } else {
        raw
    };
    let norm = from_yaml(param.kind, value).map_err(|reason| ConfigError::InvalidValue {
        path: path.to_path_buf(),
        line: error_line(param, value, km),
        key: key.clone(),
        reason,
    })?;
    let item_flags = match &norm {
        Norm::Seq(items) if items.len() == km.items.len() => {
            km.items.iter().map(|(_, f)| *f).collect()
        }
        _ => Vec::new(),
    };
    let final_entries = km
        .entries
        .iter()
        .filter(|(_, _, f)| *f == Some(Flag::Final))
        .map(|(k, _, _)| k.clone())
        .collect();
    Ok(Entry {
        item_flags,
        final_entries,
        ..plain_entry(key, norm, km.flag == Some(Flag::Final))
    })
}

/// The line to blame for a value that failed type checking: the bad list item's or mapping
/// entry's line when the scan found it, else the key's line.
fn error_line(param: &Param, value: &Value, km: &KeyMarks) -> usize {
    let child_line = match first_bad_child(param.kind, value) {
        Some(BadChild::Index(i)) => km.items.get(i).map(|(line, _)| *line),
        Some(BadChild::Key(k)) => km
            .entries
            .iter()
            .find(|(sub, _, _)| *sub == k)
            .map(|(_, line, _)| *line),
        None => None,
    };
    child_line.unwrap_or(km.line).max(1)
}

/// Expands `$VAR` in every item of a normalised sequence.
fn expand_items(norm: Norm, env: &HashMap<String, String>) -> Norm {
    match norm {
        Norm::Seq(items) => Norm::Seq(items.iter().map(|s| expand_vars(s, env)).collect()),
        other => other,
    }
}

/// The `CONDA_*` environment variables that name a parameter, as one source.
pub(crate) fn env_source(env: &HashMap<String, String>) -> Result<RawSource, ConfigError> {
    let mut vars: Vec<(&String, String, &String)> = env
        .iter()
        .filter_map(|(k, v)| Some((k, k.strip_prefix("CONDA_")?.to_ascii_lowercase(), v)))
        .collect();
    vars.sort();
    let mut entries = Vec::new();
    for (var, key, raw) in vars {
        let Some(param) = lookup(&key) else {
            continue;
        };
        entries.push((param, env_entry(var, param, key, raw, env)?));
    }
    let source = RawSource {
        kind: SourceKind::EnvVars,
        entries,
    };
    source.check_aliases()?;
    Ok(source)
}

fn env_entry(
    var: &str,
    param: &Param,
    key: String,
    raw: &str,
    env: &HashMap<String, String>,
) -> Result<Entry, ConfigError> {
    let mut parts = raw.split("!important");
    let value = parts.next().unwrap_or_default();
    let is_final = parts.next().is_some();
    let is_seq = matches!(param.kind, Kind::Seq(_));
    let value = if param.expand && !is_seq {
        expand_vars(value, env)
    } else {
        value.to_string()
    };
    let norm = from_env(param.kind, &value).map_err(|reason| ConfigError::InvalidEnvVar {
        var: var.to_string(),
        key: param.name.to_string(),
        reason,
    })?;
    let norm = if param.expand && is_seq {
        expand_items(norm, env)
    } else {
        norm
    };
    Ok(plain_entry(key, norm, is_final))
}

/// Builds the command-line source from `(canonical name, value)` pairs.
pub(crate) fn cli_source(
    pairs: Vec<(String, Value)>,
    env: &HashMap<String, String>,
) -> Result<RawSource, ConfigError> {
    let mut entries = Vec::new();
    for (key, raw) in pairs {
        let invalid = |reason: String| ConfigError::InvalidCliValue {
            key: key.clone(),
            reason,
        };
        let param = lookup(&key).ok_or_else(|| invalid("unknown parameter".into()))?;
        let value = if param.expand {
            expand_value(&raw, env)
        } else {
            raw
        };
        let norm = from_yaml(param.kind, &value).map_err(invalid)?;
        entries.push((param, plain_entry(key, norm, false)));
    }
    let source = RawSource {
        kind: SourceKind::CmdLine,
        entries,
    };
    source.check_aliases()?;
    Ok(source)
}
