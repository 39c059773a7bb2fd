//! One `.condarc` file as `conda config` changes it (conda's `ConfigurationFile`): read,
//! change the mapping with conda's rules and messages, write back atomically with comments
//! and key order kept (see [`crate::edit`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use crate::describe::{self, ParamType};
pub use crate::edit_error::{py_repr, EditError};
use crate::typify::typify;

/// A `.condarc` being edited.
#[derive(Debug, Clone)]
pub struct RcFile {
    /// Where it is written.
    pub path: PathBuf,
    /// The text it was read from (comments and all).
    text: String,
    /// The mapping as read.
    original: Mapping,
    /// The mapping as changed so far.
    pub content: Mapping,
    /// Warnings for the user (`Unknown key: 'k'`, `Warning: 'x' already in …`), in order;
    /// with `--json` they are part of the result.
    pub warnings: Vec<String>,
    /// What conda logs on stderr even with `--json` (an alias used with `--set`).
    pub log: Vec<String>,
}

fn parse(text: &str, path: &Path) -> Result<Mapping, EditError> {
    match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(m)) => Ok(m),
        Ok(Value::Null) => Ok(Mapping::new()),
        Ok(_) => Err(EditError::Generic(format!(
            "The file {} does not hold `key: value` lines; fix or remove it.",
            path.display()
        ))),
        Err(e) => Err(EditError::Generic(format!(
            "Could not read {} as YAML: {e}",
            path.display()
        ))),
    }
}

impl RcFile {
    /// The file at `path`, its content read from `read_from` (itself, or the system file
    /// when it does not exist yet, as conda does); missing files are empty.
    pub fn open(path: &Path, read_from: Option<&Path>) -> Result<Self, EditError> {
        let text = match read_from {
            Some(from) => std::fs::read_to_string(from).map_err(|e| {
                EditError::Generic(format!(
                    "Cannot read condarc file at {}\nCaused by {e}",
                    from.display()
                ))
            })?,
            None => String::new(),
        };
        let original = parse(&text, read_from.unwrap_or(path))?;
        Ok(Self {
            path: path.to_path_buf(),
            text,
            content: original.clone(),
            original,
            warnings: Vec::new(),
            log: Vec::new(),
        })
    }

    /// conda's `key_exists`: the first part of `key` is a canonical name or an alias conda
    /// resolves; warns `Unknown key: 'k'` otherwise.
    fn key_exists(&mut self, key: &str) -> bool {
        let first = key.split('.').next().unwrap_or(key);
        let exists =
            describe::by_name(first).is_some() || describe::name_for_alias(first).is_some();
        if !exists {
            self.warnings.push(format!("Unknown key: {}", py_repr(key)));
        }
        exists
    }

    /// `--add`/`--prepend` (`prepend`) and `--append`: one item into a sequence parameter
    /// (or a list under a map parameter's key, `custom_multichannels.name`).
    pub fn add(&mut self, key: &str, item: &str, prepend: bool) -> Result<(), EditError> {
        let (name, sub) = match key.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (key, None),
        };
        let kind = describe::by_name(name).map(|p| p.param_type());
        let list = match (kind, sub) {
            (Some(ParamType::Sequence), _) => {
                entry(&mut self.content, name, Value::Sequence(vec![]))
            }
            (Some(ParamType::Map), _) => {
                let map = entry(&mut self.content, name, Value::Mapping(Mapping::new()));
                let Value::Mapping(map) = map else {
                    return Err(not_a_list(name, map));
                };
                entry(map, sub.unwrap_or("None"), Value::Sequence(vec![]))
            }
            _ => {
                return Err(EditError::Value(format!(
                    "Key '{name}' is not a known sequence parameter."
                )))
            }
        };
        let Value::Sequence(items) = list else {
            return Err(not_a_list(name, list));
        };
        let item = Value::String(item.to_string());
        if items.contains(&item) {
            let place = if prepend { "top" } else { "bottom" };
            let shown = sub.map_or(name.to_string(), |s| format!("{name}.{s}"));
            let text = item.as_str().unwrap_or_default();
            items.retain(|i| *i != item);
            self.warnings.push(format!(
                "Warning: '{text}' already in '{shown}' list, moving to the {place}"
            ));
        }
        if prepend {
            items.insert(0, item);
        } else {
            items.push(item);
        }
        Ok(())
    }

    /// `--set KEY VALUE`: a primitive parameter (typed as conda types it) or one key of a
    /// map parameter (`proxy_servers.http`).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), EditError> {
        if !self.key_exists(key) {
            return Err(EditError::key(key, "unknown parameter"));
        }
        let key = match describe::name_for_alias(key) {
            Some(canonical) => {
                // conda's logger line, source location included.
                self.log.push(format!(
                    "WARNING conda.cli.condarc:set_key(521): Key {key} is an alias of {canonical}; setting value with latter"
                ));
                canonical.to_string()
            }
            None => key.to_string(),
        };
        let mut parts = key.split('.');
        let name = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        let info =
            describe::by_name(name).ok_or_else(|| EditError::key(&key, "unknown parameter"))?;
        match (info.param_type(), rest.as_slice()) {
            (ParamType::Primitive, []) => {
                let typed = typify(info, value, "--set parameter")?;
                self.content.insert(Value::String(name.into()), typed);
                Ok(())
            }
            (ParamType::Map, [sub]) => {
                let map = entry(&mut self.content, name, Value::Mapping(Mapping::new()));
                let Value::Mapping(map) = map else {
                    return Err(EditError::Generic(format!(
                        "key {} should be a mapping, not {}.",
                        py_repr(name),
                        py_type(map)
                    )));
                };
                map.insert(
                    Value::String(sub.to_string()),
                    Value::String(value.to_string()),
                );
                Ok(())
            }
            _ => Err(EditError::key(&key, "invalid parameter")),
        }
    }

    /// `--remove KEY VALUE`: every occurrence of a value from a sequence parameter.
    pub fn remove_item(&mut self, key: &str, item: &str) -> Result<(), EditError> {
        let (name, has_rest) = match key.split_once('.') {
            Some((n, _)) => (n, true),
            None => (key, false),
        };
        let info =
            describe::by_name(name).ok_or_else(|| EditError::key(key, "unknown parameter"))?;
        if info.param_type() != ParamType::Sequence || has_rest {
            return Err(EditError::key(key, "invalid parameter"));
        }
        let k = Value::String(name.into());
        if !self.content.contains_key(&k) {
            if name != "channels" {
                return Err(EditError::key(key, "undefined in config"));
            }
            // conda assumes the implicit `defaults` of old conda versions.
            self.content.insert(
                k.clone(),
                Value::Sequence(vec![Value::String("defaults".into())]),
            );
        }
        let item = Value::String(item.to_string());
        let Some(Value::Sequence(items)) = self.content.get_mut(&k) else {
            return Err(EditError::key(
                name,
                format!(
                    "value {} not present in config",
                    py_repr(item.as_str().unwrap_or_default())
                ),
            ));
        };
        if !items.contains(&item) {
            return Err(EditError::key(
                name,
                format!(
                    "value {} not present in config",
                    py_repr(item.as_str().unwrap_or_default())
                ),
            ));
        }
        items.retain(|i| *i != item);
        Ok(())
    }

    /// `--clear KEY`: a sequence parameter set to `[]`.
    pub fn clear(&mut self, key: &str) -> Result<(), EditError> {
        if !self.key_exists(key) {
            return Err(EditError::key(key, "unknown parameter"));
        }
        let (key, alias) = match describe::name_for_alias(key) {
            Some(c) => (c.to_string(), Some(key)),
            None => (key.to_string(), None),
        };
        let info =
            describe::by_name(&key).ok_or_else(|| EditError::key(&key, "invalid parameter"))?;
        if info.param_type() != ParamType::Sequence {
            return Err(EditError::key(&key, "invalid parameter"));
        }
        let k = Value::String(key.clone());
        if let Some(v) = self.content.get(&k) {
            if !matches!(v, Value::Sequence(_)) {
                return Err(not_a_list(&key, v));
            }
        }
        if let Some(a) = alias {
            self.content.remove(a);
        }
        self.content.insert(k, Value::Sequence(vec![]));
        Ok(())
    }

    /// `--remove-key KEY`: a key (or `map.sub`) and its values.
    pub fn remove_key(&mut self, key: &str) -> Result<(), EditError> {
        if remove_path(&mut self.content, key) {
            return Ok(());
        }
        if let Some(alias) = describe::name_for_alias(key) {
            if remove_path(&mut self.content, alias) {
                return Ok(());
            }
        }
        Err(EditError::key(key, "undefined in config"))
    }

    /// `--get KEY`: the value in this file, `None` when absent (or unknown, with a warning).
    pub fn get(&mut self, key: &str) -> Option<(String, Value)> {
        if !self.key_exists(key) {
            return None;
        }
        let key = describe::name_for_alias(key).map_or(key.to_string(), str::to_string);
        let mut cur = Value::Mapping(self.content.clone());
        for part in key.split('.') {
            cur = cur.as_mapping()?.get(part)?.clone();
        }
        Some((key, cur))
    }

    /// Every top-level key of the file, sorted (what `--get` without keys shows).
    pub fn keys_sorted(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .content
            .keys()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect();
        keys.sort();
        keys
    }

    /// `--stdin`: YAML whose top-level keys replace the file's.
    pub fn update_from_yaml(&mut self, text: &str) -> Result<(), EditError> {
        match serde_yaml::from_str::<Value>(text) {
            Ok(Value::Mapping(m)) => {
                for (k, v) in m {
                    self.content.insert(k, v);
                }
                Ok(())
            }
            Ok(Value::Null) => Ok(()),
            _ => Err(EditError::Parse(text.to_string())),
        }
    }

    #[cfg(test)]
    pub(crate) fn append_for_test(&mut self) {
        self.add("pkgs_dirs", "/opt/pkgs", false).unwrap();
    }

    /// The file's new text: the old text with the changes applied (see [`crate::edit`]).
    pub fn render(&self) -> String {
        crate::edit::apply(&self.text, &self.original, &self.content)
    }

    /// Writes the file atomically (a temporary file in the same directory, renamed over
    /// it), keeping an existing file's permissions.
    pub fn write(&self) -> Result<(), EditError> {
        write_atomic(&self.path, self.render().as_bytes()).map_err(|e| {
            EditError::Generic(format!(
                "Cannot write to condarc file at {}\nCaused by {e}",
                self.path.display()
            ))
        })
    }
}

/// The value at `key` in `map`, inserted as `default` if absent.
fn entry<'a>(map: &'a mut Mapping, key: &str, default: Value) -> &'a mut Value {
    map.entry(Value::String(key.to_string())).or_insert(default)
}

/// Python's type name for a YAML value, as conda's messages show it.
fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Sequence(_) => "CommentedSeq",
        Value::Mapping(_) => "CommentedMap",
        Value::Tagged(_) => "TaggedScalar",
    }
}

fn not_a_list(key: &str, v: &Value) -> EditError {
    EditError::Generic(format!(
        "key {} should be a list, not {}.",
        py_repr(key),
        py_type(v)
    ))
}

/// Removes `a.b.c` from nested mappings; whether it was there.
fn remove_path(map: &mut Mapping, key: &str) -> bool {
    match key.split_once('.') {
        None => map.remove(key).is_some(),
        Some((first, rest)) => match map.get_mut(first) {
            Some(Value::Mapping(sub)) => remove_path(sub, rest),
            _ => false,
        },
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// a reader never sees half a file; an existing file's mode is kept.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let mode = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut tmp = tempfile::Builder::new()
        .prefix(".condarc.")
        .tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    let perms = match mode {
        Some(p) => p,
        None => default_permissions(),
    };
    tmp.as_file().set_permissions(perms)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A new file's permissions: 0666 less the umask, as `open(…, "w")` gives.
fn default_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: umask is read by setting and restoring it; no other thread creates files
    // while `conda config` writes its one file.
    let mask = unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    };
    std::fs::Permissions::from_mode(0o666 & !(mask as u32))
}
