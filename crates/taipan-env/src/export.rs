//! `conda export` / `conda env export` and `conda list --explicit/--export`: an environment
//! written as conda writes it, in one of conda 26's four formats.
//!
//! - `environment-yaml` (aliases `yaml`, `yml`, `env.yml`) and `environment-json` (`json`):
//!   `name`, `channels`, `dependencies` (`name=version=build`, a `- pip:` list), `variables`,
//!   `prefix`.
//! - `explicit`: `@EXPLICIT` and the package URLs, dependencies first (conda's order).
//! - `requirements` (`reqs`, `txt`): the requested match specs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rattler_conda_types::PrefixRecord;
use serde_json::{json, Value};

use crate::dist::channel_name;
use crate::error::{CondaError, ErrorKind, Result};
use crate::pip::PipDist;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `environment-yaml`.
    EnvironmentYaml,
    /// `environment-json`.
    EnvironmentJson,
    /// `explicit`.
    Explicit,
    /// `requirements`.
    Requirements,
}

/// Format names and aliases, sorted as conda lists them in `--format`'s choices.
pub const FORMAT_NAMES: [&str; 10] = [
    "env.yml",
    "environment-json",
    "environment-yaml",
    "explicit",
    "json",
    "reqs",
    "requirements",
    "txt",
    "yaml",
    "yml",
];

impl Format {
    /// The format a `--format` name or alias stands for.
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name {
            "environment-yaml" | "yaml" | "yml" | "env.yml" => Format::EnvironmentYaml,
            "environment-json" | "json" => Format::EnvironmentJson,
            "explicit" => Format::Explicit,
            "requirements" | "reqs" | "txt" => Format::Requirements,
            _ => return None,
        })
    }

    /// The format's name.
    pub fn name(self) -> &'static str {
        match self {
            Format::EnvironmentYaml => "environment-yaml",
            Format::EnvironmentJson => "environment-json",
            Format::Explicit => "explicit",
            Format::Requirements => "requirements",
        }
    }

    fn default_filenames(self) -> &'static [&'static str] {
        match self {
            Format::EnvironmentYaml => &["environment.yaml", "environment.yml"],
            Format::EnvironmentJson => &["environment.json"],
            Format::Explicit => &["explicit.txt"],
            Format::Requirements => &["requirements.txt", "spec.txt"],
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Format::EnvironmentYaml => &["yaml", "yml", "env.yml"],
            Format::EnvironmentJson => &["json"],
            Format::Explicit => &[],
            Format::Requirements => &["reqs", "txt"],
        }
    }

    const ALL: [Format; 4] = [
        Format::EnvironmentYaml,
        Format::EnvironmentJson,
        Format::Explicit,
        Format::Requirements,
    ];

    /// The format conda picks for `--file NAME` without `--format`: by the file's base name,
    /// matched against each format's standard file names.
    pub fn detect(file: &Path) -> Result<Format> {
        let base = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Format::ALL
            .into_iter()
            .find(|f| f.default_filenames().contains(&base.as_str()))
            .ok_or_else(|| not_detected(&base))
    }
}

/// conda's `EnvironmentExporterNotDetected`.
fn not_detected(base: &str) -> CondaError {
    let mut msg = format!(
        "No environment exporter plugin found for filename '{base}'.\n\nSupported filenames:"
    );
    for f in Format::ALL {
        for name in f.default_filenames() {
            msg.push_str(&format!("\n  - {name:<20} (format: {})", f.name()));
        }
    }
    msg.push_str("\n\nAvailable formats:");
    for f in Format::ALL {
        let aliases = f.aliases();
        if aliases.is_empty() {
            msg.push_str(&format!("\n  - {}", f.name()));
        } else {
            msg.push_str(&format!(
                "\n  - {:<20} (aliases: {})",
                f.name(),
                aliases.join(", ")
            ));
        }
    }
    msg.push_str("\n\nUse conda export --format=FORMAT to specify the export format explicitly, or rename your file to match a supported filename pattern.");
    CondaError::new(ErrorKind::EnvironmentExporterNotDetected, msg)
}

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    /// The environment.
    pub prefix: PathBuf,
    /// Its name as conda shows it (`base`, the name, or the path).
    pub name: String,
    /// The platform (`# platform:`).
    pub subdir: String,
    /// The configured channels (`-c` first), listed after the packages' own channels.
    pub channels: Vec<String>,
    /// `--from-history`: the requested specs instead of the installed packages.
    pub from_history: bool,
    /// `--no-builds`.
    pub no_builds: bool,
    /// `--ignore-channels`.
    pub ignore_channels: bool,
}

/// The environment as the formats see it.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// `name:`.
    pub name: String,
    /// The platform.
    pub subdir: String,
    /// `channels:`.
    pub channels: Vec<String>,
    /// Requested specs, in conda's match spec form (`chan::name==1.0=b`).
    pub requested: Vec<String>,
    /// Installed records, dependencies first.
    pub records: Vec<PrefixRecord>,
    /// pip distributions no conda record owns.
    pub pip: Vec<PipDist>,
    /// `variables:`.
    pub variables: serde_json::Map<String, Value>,
    /// `prefix:`.
    pub prefix: PathBuf,
}

/// Reads an environment for export.
pub fn environment(req: &ExportRequest) -> Result<Environment> {
    let installed = crate::prefix::records(&req.prefix)?;
    let pip = crate::pip::installed_dists(&req.prefix, &installed);
    let mut channels: Vec<String> = Vec::new();
    let requested = if req.from_history {
        let (revs, _) = crate::history::read(&req.prefix)?;
        crate::history::requested_specs(&revs)
            .into_values()
            .collect()
    } else {
        installed
            .iter()
            .map(|r| {
                let p = &r.repodata_record.package_record;
                let mut spec = if req.no_builds {
                    format!("{}={}", p.name.as_normalized(), p.version)
                } else {
                    format!("{}=={}={}", p.name.as_normalized(), p.version, p.build)
                };
                let channel = channel_name(&r.repodata_record);
                if !req.ignore_channels && !channel.is_empty() {
                    spec = format!("{}::{spec}", short_channel_name(&channel));
                    channels.push(channel);
                }
                spec
            })
            .collect()
    };
    channels.extend(req.channels.iter().cloned());
    let mut seen = HashSet::new();
    channels.retain(|c| seen.insert(c.clone()));
    Ok(Environment {
        name: req.name.clone(),
        subdir: req.subdir.clone(),
        channels,
        requested,
        records: conda_order(installed),
        pip,
        // conda's `get_environment_env_vars`: variables marked unset are left out.
        variables: crate::prefix::env_vars(&req.prefix)
            .into_iter()
            .filter(|(_, v)| v.as_str() != Some(crate::prefix::UNSET_VAR))
            .collect(),
        prefix: req.prefix.clone(),
    })
}

/// The environment in a format; `Err` when the format cannot hold it (conda's messages).
pub fn render(env: &Environment, format: Format) -> Result<String> {
    let text = match format {
        Format::EnvironmentYaml => yaml(&to_value(env)),
        Format::EnvironmentJson => serde_json::to_string_pretty(&to_value(env)).unwrap_or_default(),
        Format::Explicit => explicit_export(env)?,
        Format::Requirements => requirements(env)?,
    };
    Ok(format!("{}\n", text.trim_end()))
}

/// conda's warning when pip packages are in the environment.
pub fn pip_warning(env: &Environment) -> Option<String> {
    if env.pip.is_empty() {
        return None;
    }
    let n = env.pip.len();
    let mut msg = format!(
        "The exported environment contains 3rd party Python packages.\n\nYour environment contains {n} package{} installed via pip. Conda cannot reliably lock these packages for reproducible environments.\n\nDetected packages:",
        if n > 1 { "s" } else { "" }
    );
    for d in &env.pip {
        msg.push_str(&format!("\n  - {}=={}", d.name, d.version));
    }
    msg.push_str("\n\nLearn more: https://docs.conda.io/projects/conda/en/stable/user-guide/configuration/pip-interoperability.html");
    Some(msg)
}

/// The dictionary both environment formats write, in conda's key order.
fn to_value(env: &Environment) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("name".into(), json!(env.name));
    if !env.channels.is_empty() {
        out.insert("channels".into(), json!(env.channels));
    }
    let mut deps: Vec<Value> = env.requested.iter().map(|s| json!(env_form(s))).collect();
    if !env.pip.is_empty() && !env.requested.is_empty() {
        let pip: Vec<String> = env
            .pip
            .iter()
            .map(|d| format!("{}=={}", d.name, d.version))
            .collect();
        deps.push(json!({ "pip": pip }));
    }
    out.insert("dependencies".into(), Value::Array(deps));
    if !env.variables.is_empty() {
        out.insert("variables".into(), Value::Object(env.variables.clone()));
    }
    out.insert("prefix".into(), json!(env.prefix.display().to_string()));
    Value::Object(out)
}

/// conda's `Channel.name`: a canonical name as it is (`conda-forge`, `pkgs/main`), a local
/// channel's last path component, a URL's path.
fn short_channel_name(canonical: &str) -> String {
    match url::Url::parse(canonical) {
        Ok(u) if u.scheme() == "file" => u
            .path_segments()
            .and_then(|mut s| s.rfind(|p| !p.is_empty()))
            .unwrap_or_default()
            .to_string(),
        Ok(u) => u.path().trim_matches('/').to_string(),
        Err(_) => canonical.to_string(),
    }
}

/// A match spec in `conda env export`'s form: no channel, `name=version=build`.
fn env_form(spec: &str) -> String {
    let spec = spec.split_once("::").map_or(spec, |(_, s)| s);
    spec.replacen("==", "=", 1)
}

fn header(subdir: &str) -> String {
    format!(
        "# This file may be used to create an environment using:\n# $ conda create --name <env> --file <this file>\n# platform: {subdir}\n# created-by: conda {}\n",
        crate::history::CONDA_COMPAT_VERSION
    )
}

/// The `explicit` exporter: URLs only, no pip packages allowed.
fn explicit_export(env: &Environment) -> Result<String> {
    if env.records.is_empty() {
        return Err(CondaError::new(ErrorKind::CondaValueError, "Cannot export explicit format: no explicit packages with installation metadata found. Use 'requirements' format for environments with only requested packages, or ensure the environment has been solved and installed."));
    }
    if !env.pip.is_empty() {
        return Err(CondaError::new(ErrorKind::CondaValueError, "Cannot export explicit format: environment contains external packages that cannot be represented in explicit format. Use a different format to include external packages."));
    }
    let mut out = header(&env.subdir);
    out.push_str("@EXPLICIT\n");
    for r in &env.records {
        out.push_str(&format!("{}\n", r.repodata_record.url));
    }
    Ok(out)
}

fn requirements(env: &Environment) -> Result<String> {
    if env.requested.is_empty() {
        return Err(CondaError::new(ErrorKind::CondaValueError, "Cannot export requirements format: no requested packages found. Use 'explicit' format for environments with installed packages, or ensure the environment has package specifications."));
    }
    let mut out = header(&env.subdir);
    out.push_str("# Note: This is a conda requirements file (MatchSpec format)\n# Contains conda package specifications, not pip requirements\n\n");
    for s in &env.requested {
        out.push_str(s);
        out.push('\n');
    }
    Ok(out)
}

/// Which checksum `conda list --explicit` appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// None.
    None,
    /// `--md5`: `#<md5>`.
    Md5,
    /// `--sha256`: `#<sha256>` (conda 26 writes the bare hex, no `sha256:` tag).
    Sha256,
}

/// `conda list --explicit`: header, `@EXPLICIT`, URLs dependencies first.
/// `keep_auth` (`--auth`) leaves credentials and tokens in the URLs.
pub fn list_explicit(
    records: Vec<PrefixRecord>,
    subdir: &str,
    checksum: Checksum,
    keep_auth: bool,
) -> String {
    let mut out = header(subdir);
    out.push_str("@EXPLICIT\n");
    for r in conda_order(records) {
        let rr = &r.repodata_record;
        let hash = match checksum {
            Checksum::None => None,
            Checksum::Md5 => rr.package_record.md5.map(|h| crate::hex(&h)),
            Checksum::Sha256 => rr.package_record.sha256.map(|h| crate::hex(&h)),
        };
        let url = if keep_auth {
            rr.url.to_string()
        } else {
            without_auth(&rr.url)
        };
        match hash {
            Some(h) => out.push_str(&format!("{url}#{h}\n")),
            None => out.push_str(&format!("{url}\n")),
        }
    }
    out
}

/// `conda list --export`: the header and one `name=version=build` line per spec given.
pub fn list_export(specs: &[String], subdir: &str) -> String {
    let mut out = header(subdir);
    for s in specs {
        out.push_str(s);
        out.push('\n');
    }
    out
}

/// A URL without user, password or `/t/<token>` (conda removes them).
fn without_auth(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let path = url.path().to_string();
    if let Some(rest) = path.strip_prefix("/t/") {
        if let Some((_, after)) = rest.split_once('/') {
            url.set_path(&format!("/{after}"));
        }
    }
    url.to_string()
}

/// conda's `PrefixGraph` order: first the records that neither depend on nor are needed by
/// another (by name), then repeatedly the records none of whose dependencies are left (by
/// name); a cycle is broken at the record with the fewest dependencies left (then by
/// name). python's dependency on pip is ignored, so python comes first.
pub fn conda_order(records: Vec<PrefixRecord>) -> Vec<PrefixRecord> {
    let names: HashSet<String> = records.iter().map(|r| name_of(r).to_string()).collect();
    let mut parents: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    let mut by_name: HashMap<String, PrefixRecord> = HashMap::new();
    for r in records {
        let name = name_of(&r).to_string();
        let deps = r
            .repodata_record
            .package_record
            .depends
            .iter()
            .map(|d| crate::history::spec_name(d))
            .filter(|d| names.contains(d) && *d != name && !(name == "python" && d == "pip"))
            .collect();
        parents.insert(name.clone(), deps);
        by_name.insert(name, r);
    }
    let needed: HashSet<String> = parents.values().flatten().cloned().collect();
    let alone: Vec<String> = parents
        .iter()
        .filter(|(n, p)| p.is_empty() && !needed.contains(*n))
        .map(|(n, _)| n.clone())
        .collect();
    let mut out: Vec<PrefixRecord> = Vec::new();
    take(&mut parents, &alone, &mut by_name, &mut out);
    while !parents.is_empty() {
        let mut ready: Vec<String> = parents
            .iter()
            .filter(|(_, p)| p.is_empty())
            .map(|(n, _)| n.clone())
            .collect();
        if ready.is_empty() {
            // A cycle: the fewest parents left, then the first name (BTreeMap order).
            let fewest = parents.values().map(HashSet::len).min().unwrap_or(0);
            ready = parents
                .iter()
                .find(|(_, p)| p.len() == fewest)
                .map(|(n, _)| vec![n.clone()])
                .unwrap_or_default();
        }
        take(&mut parents, &ready, &mut by_name, &mut out);
    }
    out
}

/// Moves the records named `ready` (in order) to `out` and out of the graph.
fn take(
    parents: &mut BTreeMap<String, HashSet<String>>,
    ready: &[String],
    by_name: &mut HashMap<String, PrefixRecord>,
    out: &mut Vec<PrefixRecord>,
) {
    for n in ready {
        parents.remove(n);
    }
    for p in parents.values_mut() {
        for n in ready {
            p.remove(n);
        }
    }
    out.extend(ready.iter().filter_map(|n| by_name.remove(n)));
}

fn name_of(r: &PrefixRecord) -> &str {
    r.repodata_record.package_record.name.as_normalized()
}

/// YAML as conda writes it (ruamel, `indent(mapping=2, sequence=4, offset=2)`, block
/// style): sequences indented by two under their key, dashes followed by one space.
pub fn yaml(value: &Value) -> String {
    let mut out = String::new();
    if let Value::Object(map) = value {
        for (k, v) in map {
            write_entry(&mut out, 0, k, v);
        }
    }
    out
}

fn write_entry(out: &mut String, indent: usize, key: &str, value: &Value) {
    let pad = " ".repeat(indent);
    match value {
        Value::Array(items) if items.is_empty() => out.push_str(&format!("{pad}{key}: []\n")),
        Value::Object(m) if m.is_empty() => out.push_str(&format!("{pad}{key}: {{}}\n")),
        Value::Array(items) => {
            out.push_str(&format!("{pad}{key}:\n"));
            for item in items {
                write_item(out, indent + 2, item);
            }
        }
        Value::Object(m) => {
            out.push_str(&format!("{pad}{key}:\n"));
            for (k, v) in m {
                write_entry(out, indent + 2, k, v);
            }
        }
        scalar => out.push_str(&format!("{pad}{key}: {}\n", yaml_scalar(scalar))),
    }
}

/// A sequence item at `indent` (the dash's column); a mapping item's keys follow the dash.
fn write_item(out: &mut String, indent: usize, item: &Value) {
    let pad = " ".repeat(indent);
    match item {
        Value::Object(m) => {
            let mut first = true;
            for (k, v) in m {
                let mut entry = String::new();
                write_entry(&mut entry, indent + 2, k, v);
                if first {
                    // `- key: ...` replaces the first line's indentation.
                    out.push_str(&format!("{pad}- {}", &entry[indent + 2..]));
                    first = false;
                } else {
                    out.push_str(&entry);
                }
            }
        }
        scalar => out.push_str(&format!("{pad}- {}\n", yaml_scalar(scalar))),
    }
}

/// A scalar plain when YAML reads it back as the same string, else single-quoted.
fn yaml_scalar(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Null => return "null".into(),
        other => return other.to_string(),
    };
    let plain = !text.is_empty()
        && !text.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !text.contains(" #")
        && serde_yaml::from_str::<serde_yaml::Value>(&text)
            .is_ok_and(|v| v.as_str() == Some(text.as_str()));
    if plain {
        text
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_is_conda_layout() {
        let v = json!({"name": "x", "channels": ["file:///c"], "dependencies": ["a=1=0", {"pip": ["b==2"]}], "variables": {"N": "3"}, "prefix": "/p"});
        assert_eq!(
            yaml(&v),
            "name: x\nchannels:\n  - file:///c\ndependencies:\n  - a=1=0\n  - pip:\n      - b==2\nvariables:\n  N: '3'\nprefix: /p\n"
        );
    }

    #[test]
    fn formats_by_file_name() {
        assert_eq!(
            Format::detect(Path::new("/x/environment.yml")).unwrap(),
            Format::EnvironmentYaml
        );
        assert_eq!(
            Format::detect(Path::new("spec.txt")).unwrap(),
            Format::Requirements
        );
        assert_eq!(
            Format::detect(Path::new("explicit.txt")).unwrap(),
            Format::Explicit
        );
        let e = Format::detect(Path::new("env.yml")).unwrap_err();
        assert!(e
            .message
            .starts_with("No environment exporter plugin found for filename 'env.yml'."));
    }

    #[test]
    fn channel_names_as_conda_shortens_them() {
        assert_eq!(
            short_channel_name("file:///w/shared/conda-test-channel"),
            "conda-test-channel"
        );
        assert_eq!(short_channel_name("conda-forge"), "conda-forge");
        assert_eq!(
            short_channel_name("https://example.com/org/chan"),
            "org/chan"
        );
    }

    #[test]
    fn env_form_drops_channel_and_double_equals() {
        assert_eq!(env_form("file:///c::a==1.0=h_0"), "a=1.0=h_0");
        assert_eq!(env_form("a=1.0"), "a=1.0");
    }
}
