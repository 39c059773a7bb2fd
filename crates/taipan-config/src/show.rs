//! `conda config --show`: every parameter with its effective value, in conda's JSON shapes
//! and its `key: value` text layout (conda's `format_dict`).

use std::path::PathBuf;

use serde_json::{json, Map, Value as Json};

use crate::config::Config;
use crate::describe;

/// What `--show` needs besides the merged configuration.
#[derive(Debug, Clone)]
pub struct ShowInputs {
    /// The root prefix.
    pub root_prefix: PathBuf,
    /// The user's home directory.
    pub home: PathBuf,
    /// Whether the root prefix is writable (where `croot` goes).
    pub root_writable: bool,
    /// The platform (`linux-64`, …).
    pub subdir: String,
    /// The package cache directories in use.
    pub pkgs_dirs: Vec<PathBuf>,
    /// The environment directories in use.
    pub envs_dirs: Vec<PathBuf>,
    /// `--json` was given (conda's `json` and `console` show it).
    pub json: bool,
}

/// Every parameter's effective value, sorted by name, as conda's `--show --json` prints it.
pub fn effective(config: &Config, inputs: &ShowInputs) -> Map<String, Json> {
    let mut values: Map<String, Json> = describe::all()
        .iter()
        .map(|p| (p.name().to_string(), p.default_value().clone()))
        .collect();
    if let Ok(Json::Object(set)) = serde_json::to_value(config) {
        for (k, v) in set {
            if values.contains_key(&k) {
                values.insert(k, v);
            }
        }
    }
    computed(config, inputs, &mut values);
    let mut sorted: Vec<(String, Json)> = values.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.into_iter().collect()
}

/// The values conda computes rather than reads: directories, platforms, thread counts,
/// channel objects.
fn computed(config: &Config, i: &ShowInputs, v: &mut Map<String, Json>) {
    let paths = |p: &[PathBuf]| {
        json!(p
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>())
    };
    v.insert("pkgs_dirs".into(), paths(&i.pkgs_dirs));
    v.insert("envs_dirs".into(), paths(&i.envs_dirs));
    v.insert(
        "root_prefix".into(),
        json!(i.root_prefix.display().to_string()),
    );
    v.insert("subdir".into(), json!(i.subdir));
    if config.subdirs.is_empty() {
        v.insert("subdirs".into(), json!([i.subdir, "noarch"]));
    }
    if v["export_platforms"].as_array().is_some_and(Vec::is_empty) {
        v.insert("export_platforms".into(), json!([i.subdir]));
    }
    let croot = if i.root_writable {
        i.root_prefix.join("conda-bld")
    } else {
        i.home.join("conda-bld")
    };
    if v["croot"] == json!("") {
        v.insert("croot".into(), json!(croot.display().to_string()));
    }
    // 0 means "automatic": conda shows what it uses.
    for (name, auto) in [
        ("default_threads", Json::Null),
        ("repodata_threads", Json::Null),
        ("fetch_threads", json!(5)),
        ("verify_threads", json!(1)),
        ("execute_threads", json!(1)),
    ] {
        if v[name] == json!(0) {
            v.insert(name.into(), auto);
        }
    }
    if i.json {
        v.insert("json".into(), json!(true));
        v.insert("console".into(), json!("json"));
    }
    channels(config, v);
}

/// conda shows channels as `Channel` objects in JSON.
fn channel(url: &str, name: Option<&str>) -> Json {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let rest = rest.trim_end_matches('/');
    let (location, path) = match name {
        Some(_) => (rest, ""),
        None => rest.split_once('/').unwrap_or((rest, "")),
    };
    json!({
        "auth": null,
        "location": location,
        "name": name.unwrap_or(path),
        "package_filename": null,
        "platform": null,
        "scheme": scheme,
        "token": null,
    })
}

fn channels(config: &Config, v: &mut Map<String, Json>) {
    v.insert(
        "channel_alias".into(),
        channel(&config.channel_alias, Some("")),
    );
    let defaults: Vec<Json> = config
        .default_channels
        .iter()
        .map(|u| channel(u, None))
        .collect();
    v.insert("default_channels".into(), json!(defaults));
    let mut custom = Map::new();
    for c in &defaults {
        let name = c["name"].as_str().unwrap_or_default().to_string();
        custom.insert(name, c.clone());
    }
    for (name, url) in &config.custom_channels {
        custom.insert(name.clone(), channel(url, Some(name)));
    }
    v.insert("custom_channels".into(), Json::Object(custom));
    let mut multi = Map::new();
    multi.insert("defaults".into(), json!(defaults));
    multi.insert("local".into(), json!([]));
    for (name, list) in &config.custom_multichannels {
        let alias = config.channel_alias.trim_end_matches('/');
        let items: Vec<Json> = list
            .iter()
            .map(|c| {
                if c.contains("://") {
                    channel(c, None)
                } else {
                    channel(&format!("{alias}/{c}"), None)
                }
            })
            .collect();
        multi.insert(name.clone(), json!(items));
    }
    v.insert("custom_multichannels".into(), Json::Object(multi));
}

/// A JSON value as Python's `str()` shows it (`True`, `None`, `60.0`).
pub fn py_str(v: &Json) -> String {
    match v {
        Json::Null => "None".into(),
        Json::Bool(true) => "True".into(),
        Json::Bool(false) => "False".into(),
        Json::Number(n) if n.is_f64() => n
            .as_f64()
            .map_or_else(|| n.to_string(), crate::render::py_float_repr),
        Json::Number(n) => n.to_string(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A channel object as conda's text shows it: its URL.
fn channel_url(c: &Json) -> String {
    let scheme = c["scheme"].as_str().unwrap_or("https");
    let location = c["location"].as_str().unwrap_or_default();
    match c["name"].as_str().unwrap_or_default() {
        "" => format!("{scheme}://{location}"),
        name => format!("{scheme}://{location}/{name}"),
    }
}

/// The text form: conda's custom formatting of channel values, then `format_dict`.
pub fn text(values: &Map<String, Json>) -> String {
    let mut v = values.clone();
    if let Some(Json::Object(custom)) = v.get_mut("custom_channels") {
        for (_, c) in custom.iter_mut() {
            let url = format!(
                "{}://{}",
                c["scheme"].as_str().unwrap_or("https"),
                c["location"].as_str().unwrap_or_default()
            );
            *c = json!(url);
        }
    }
    if let Some(Json::Object(multi)) = v.get_mut("custom_multichannels") {
        for (_, list) in multi.iter_mut() {
            let urls: String = list
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| format!("\n    - {}", channel_url(c)))
                .collect();
            *list = json!(urls);
        }
    }
    for key in ["channel_alias"] {
        if let Some(c) = v.get_mut(key) {
            *c = json!(channel_url(c));
        }
    }
    if let Some(Json::Array(list)) = v.get_mut("default_channels") {
        for c in list.iter_mut() {
            *c = json!(channel_url(c));
        }
    }
    format_dict(&v).join("\n")
}

/// conda's `format_dict`.
pub fn format_dict(d: &Map<String, Json>) -> Vec<String> {
    let mut lines = Vec::new();
    for (k, v) in d {
        match v {
            Json::Object(m) if m.is_empty() => lines.push(format!("{k}: {{}}")),
            Json::Object(m) => {
                lines.push(format!("{k}:"));
                lines.extend(m.iter().map(|(mk, mv)| format!("  {mk}: {}", py_str(mv))));
            }
            Json::Array(a) if a.is_empty() => lines.push(format!("{k}: []")),
            Json::Array(a) => {
                lines.push(format!("{k}:"));
                for item in a {
                    match item {
                        Json::Object(m) => {
                            let sub = format_dict(m);
                            if let Some((first, rest)) = sub.split_first() {
                                lines.push(format!("  - {first}"));
                                lines.extend(rest.iter().map(|l| format!("    {l}")));
                            }
                        }
                        other => lines.push(format!("  - {}", py_str(other))),
                    }
                }
            }
            other => lines.push(format!("{k}: {}", py_str(other))),
        }
    }
    lines
}

/// A JSON value with every object's keys sorted, as Python's `json.dumps(sort_keys=True)`.
pub fn sort_keys(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut items: Vec<(&String, &Json)> = m.iter().collect();
            items.sort_by(|a, b| a.0.cmp(b.0));
            Json::Object(
                items
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sort_keys(v)))
                    .collect(),
            )
        }
        Json::Array(a) => Json::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}
