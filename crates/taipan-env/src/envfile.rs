//! `environment.yml` files: `name`, `prefix`, `channels`, `dependencies` (match specs and a
//! `- pip:` list) and `variables`, read with conda's rules. A key with a value of the wrong
//! shape or a spec that does not parse is an error naming the file, line and key; an unknown
//! top-level key is ignored with conda's `EnvironmentSectionNotValid` warning (conda does the
//! same, and files written for other tools carry such keys).

use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::error::{CondaError, ErrorKind, Result};

/// A parsed environment file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// `name:`.
    pub name: Option<String>,
    /// `prefix:`.
    pub prefix: Option<PathBuf>,
    /// `channels:` without `nodefaults`.
    pub channels: Vec<String>,
    /// `nodefaults` was among the channels: the configured channels are left out.
    pub nodefaults: bool,
    /// The conda match specs of `dependencies:`, as written.
    pub specs: Vec<String>,
    /// The `- pip:` requirements, as written.
    pub pip: Vec<String>,
    /// `variables:`, in file order, with their YAML types (conda keeps `1` a number).
    pub variables: Vec<(String, serde_json::Value)>,
    /// Warnings to show (unknown keys).
    pub warnings: Vec<String>,
}

/// Whether `--file PATH` names an environment file rather than a spec list: conda picks
/// the YAML reader for `.yml`/`.yaml` names.
pub fn is_env_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml")
    )
}

/// Reads and checks an environment file.
pub fn read(path: &Path) -> Result<EnvFile> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::EnvironmentFileNotFound
        } else {
            ErrorKind::CondaFileIOError
        };
        let message = if kind == ErrorKind::EnvironmentFileNotFound {
            format!(
                "'{}' file not found",
                crate::context::absolute(path).display()
            )
        } else {
            format!("'{}'. {e}", path.display())
        };
        CondaError::new(kind, message)
    })?;
    parse(path, &text)
}

/// Parses an environment file's text (`path` names it in errors).
pub fn parse(path: &Path, text: &str) -> Result<EnvFile> {
    let value: Value = serde_yaml::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        invalid(format!(
            "{}{at}: not valid YAML: {e}\n  Fix the file's syntax.",
            path.display()
        ))
    })?;
    let map = match value {
        Value::Null => {
            return Err(CondaError::new(
                ErrorKind::EnvironmentFileEmpty,
                format!("Environment file '{}' is empty.", path.display()),
            ))
        }
        Value::Mapping(m) => m,
        _ => {
            return Err(invalid(format!(
                "{}: an environment file is a mapping of keys (name, channels, dependencies, …), not a {}",
                path.display(),
                kind_name(&value)
            )))
        }
    };
    let file = Located { path, text };
    let mut env = EnvFile {
        path: path.to_path_buf(),
        ..EnvFile::default()
    };
    let mut unknown = Vec::new();
    for (key, value) in &map {
        let Some(key) = key.as_str() else {
            unknown.push(format!("{key:?}"));
            continue;
        };
        match key {
            "name" => env.name = Some(file.string(key, value)?),
            "prefix" => env.prefix = Some(PathBuf::from(file.string(key, value)?)),
            "channels" => read_channels(&file, value, &mut env)?,
            "dependencies" => read_dependencies(&file, value, &mut env)?,
            "variables" => env.variables = read_variables(&file, value)?,
            other => unknown.push(other.to_string()),
        }
    }
    if !map.contains_key("dependencies") {
        return Err(invalid(format!(
            "{}: Missing required field 'dependencies'\n  Add a `dependencies:` list (it may be empty: `dependencies: []`).",
            path.display()
        )));
    }
    if !unknown.is_empty() {
        env.warnings.push(unknown_keys_warning(path, &unknown));
    }
    add_pip(&mut env);
    Ok(env)
}

/// A pip section needs pip from conda: conda adds it (first) and nags.
fn add_pip(env: &mut EnvFile) {
    if env.pip.is_empty() || env.specs.iter().any(|s| is_pip_spec(s)) {
        return;
    }
    env.warnings.push("Warning: you have pip-installed dependencies in your environment file, but you do not list pip itself as one of your conda dependencies.  Conda may not use the correct pip to install your packages, and they may end up in the wrong place.  Please add an explicit pip dependency.  I'm adding one for you, but still nagging you.".into());
    env.specs.insert(0, "pip".into());
}

/// Whether a spec names pip (`pip`, `pip>=23`, `conda-forge::pip`).
fn is_pip_spec(spec: &str) -> bool {
    let name = spec
        .split(|c: char| "<>~=".contains(c) || c.is_whitespace())
        .next()
        .unwrap_or("");
    name.rsplit("::").next() == Some("pip")
}

/// conda's `EnvironmentSectionNotValid` text for keys it ignores.
fn unknown_keys_warning(path: &Path, keys: &[String]) -> String {
    let (verb, plural) = if keys.len() == 1 {
        ("is", "")
    } else {
        ("are", "s")
    };
    let mut out = format!(
        "\nEnvironmentSectionNotValid: The following section{plural} on '{}' {verb} invalid and will be ignored:",
        path.display()
    );
    for k in keys {
        out.push_str(&format!("\n - {k}"));
    }
    out.push('\n');
    out
}

fn read_channels(file: &Located, value: &Value, env: &mut EnvFile) -> Result<()> {
    for item in file.list("channels", value)? {
        let channel = file.item_string("channels", item)?;
        if channel == "nodefaults" {
            env.nodefaults = true;
        } else if !env.channels.contains(&channel) {
            env.channels.push(channel);
        }
    }
    Ok(())
}

fn read_dependencies(file: &Located, value: &Value, env: &mut EnvFile) -> Result<()> {
    if value.is_null() {
        return Ok(());
    }
    for item in file.list("dependencies", value)? {
        match item {
            Value::Mapping(m) => read_subsection(file, m, env)?,
            Value::String(_) | Value::Number(_) => {
                let spec = file.item_string("dependencies", item)?;
                crate::spec::parse_spec(&spec).map_err(|e| {
                    invalid(format!(
                        "{}:{}: dependencies: '{spec}' is not a valid match spec: {}",
                        file.path.display(),
                        file.line_of(&spec),
                        e.message
                    ))
                })?;
                env.specs.push(spec);
            }
            other => {
                return Err(invalid(format!(
                    "{}:{}: dependencies: '{}' is an invalid type for a 'dependency'\n  Each entry is a match spec string or a `pip:` list.",
                    file.path.display(),
                    file.line_of("dependencies"),
                    scalar_text(other)
                )))
            }
        }
    }
    Ok(())
}

/// `- pip: [...]`.
fn read_subsection(file: &Located, m: &serde_yaml::Mapping, env: &mut EnvFile) -> Result<()> {
    for (key, value) in m {
        // conda 26 reads only `pip:`; other installers' lists are ignored.
        if key.as_str() != Some("pip") {
            continue;
        }
        if value.is_null() {
            continue;
        }
        for item in file.list("pip", value)? {
            env.pip.push(file.item_string("pip", item)?);
        }
    }
    Ok(())
}

fn read_variables(file: &Located, value: &Value) -> Result<Vec<(String, serde_json::Value)>> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let Value::Mapping(m) = value else {
        return Err(file.wrong_type("variables", "mapping of NAME: value", value));
    };
    m.iter()
        .map(|(k, v)| {
            let name = scalar_text(k);
            match v {
                Value::Mapping(_) | Value::Sequence(_) => {
                    Err(file.wrong_type("variables", "mapping of NAME: value", v))
                }
                _ => Ok((name, serde_json::to_value(v).unwrap_or_default())),
            }
        })
        .collect()
}

/// The file's text, to name lines in errors.
struct Located<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Located<'_> {
    /// The 1-based line where `needle` first appears (a key at the start of a line first).
    fn line_of(&self, needle: &str) -> usize {
        let key = format!("{needle}:");
        let at_start = self
            .text
            .lines()
            .position(|l| l.starts_with(&key) || l.trim_start().starts_with(&key));
        at_start
            .or_else(|| self.text.lines().position(|l| l.contains(needle)))
            .map_or(1, |i| i + 1)
    }

    fn wrong_type(&self, key: &str, expected: &str, value: &Value) -> CondaError {
        invalid(format!(
            "{}:{}: Invalid type for '{key}', expected a {expected}, found a {}",
            self.path.display(),
            self.line_of(key),
            kind_name(value)
        ))
    }

    fn string(&self, key: &str, value: &Value) -> Result<String> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(self.wrong_type(key, "str", other)),
        }
    }

    fn list<'v>(&self, key: &str, value: &'v Value) -> Result<&'v Vec<Value>> {
        match value {
            Value::Sequence(items) => Ok(items),
            other => Err(self.wrong_type(key, "list", other)),
        }
    }

    fn item_string(&self, key: &str, value: &Value) -> Result<String> {
        match value {
            Value::String(s) => Ok(s.trim().to_string()),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(invalid(format!(
                "{}:{}: `{key}` must only contain strings. Found '{}'",
                self.path.display(),
                self.line_of(key),
                scalar_text(other)
            ))),
        }
    }
}

fn invalid(message: String) -> CondaError {
    CondaError::new(ErrorKind::EnvironmentFileInvalid, message)
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "str",
        Value::Sequence(_) => "list",
        Value::Mapping(_) => "mapping",
        Value::Tagged(_) => "tagged value",
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<EnvFile> {
        parse(Path::new("environment.yml"), text)
    }

    #[test]
    fn reads_every_key() {
        let env = p("name: demo\nchannels:\n  - conda-forge\n  - nodefaults\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n      - tpdemo==1.0\nvariables:\n  FOO: bar\n  N: 3\nprefix: /opt/x\n").unwrap();
        assert_eq!(env.name.as_deref(), Some("demo"));
        assert_eq!(env.channels, ["conda-forge"]);
        assert!(env.nodefaults);
        assert_eq!(env.specs, ["python=3.11", "pip"]);
        assert_eq!(env.pip, ["tpdemo==1.0"]);
        assert_eq!(
            env.variables,
            [
                ("FOO".into(), serde_json::json!("bar")),
                ("N".into(), serde_json::json!(3))
            ]
        );
        assert_eq!(env.prefix, Some(PathBuf::from("/opt/x")));
        assert!(env.warnings.is_empty());
    }

    #[test]
    fn bad_spec_names_file_line_and_key() {
        let e = p("name: x\ndependencies:\n  - python\n  - 'numpy >>=1'\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::EnvironmentFileInvalid);
        assert!(
            e.message
                .starts_with("environment.yml:4: dependencies: 'numpy >>=1'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn wrong_shapes_are_errors_with_lines() {
        let e = p("name: x\nchannels: conda-forge\ndependencies: []\n").unwrap_err();
        assert!(e
            .message
            .contains("environment.yml:2: Invalid type for 'channels'"));
        let e = p("name: x\ndependencies:\n  - a\nvariables:\n  - A\n").unwrap_err();
        assert!(e
            .message
            .contains("environment.yml:4: Invalid type for 'variables'"));
        let e = p("name: x\n").unwrap_err();
        assert!(e.message.contains("Missing required field 'dependencies'"));
        let e = p("name: [x\n").unwrap_err();
        assert!(e.message.starts_with("environment.yml:2:"), "{}", e.message);
        assert_eq!(p("").unwrap_err().kind, ErrorKind::EnvironmentFileEmpty);
    }

    #[test]
    fn unknown_keys_warn_as_conda_does() {
        let env = p("name: x\ndescription: hi\ndependencies: [a]\n").unwrap();
        assert_eq!(env.specs, ["a"]);
        assert!(env.warnings[0].contains("The following section on 'environment.yml' is invalid and will be ignored:\n - description"));
    }
}

#[cfg(test)]
mod pip_tests {
    use super::*;

    #[test]
    fn a_pip_section_without_pip_adds_it_with_conda_warning() {
        let env = parse(
            Path::new("e.yml"),
            "name: x\ndependencies:\n  - python\n  - pip:\n      - a==1\n  - other:\n      - ignored\n",
        )
        .unwrap();
        assert_eq!(env.specs, ["pip", "python"]);
        assert!(env.warnings[0].starts_with("Warning: you have pip-installed dependencies"));
        let env = parse(
            Path::new("e.yml"),
            "name: x\ndependencies:\n  - conda-forge::pip>=23\n  - pip:\n      - a==1\n",
        )
        .unwrap();
        assert_eq!(env.specs, ["conda-forge::pip>=23"]);
        assert!(env.warnings.is_empty());
    }
}
