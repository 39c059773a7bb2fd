//! `conda config`: read the merged configuration (`--show`, `--show-sources`, `--describe`,
//! `--validate`) or change one `.condarc` file (`--set`, `--add`, …) with the
//! `taipan_config` library, printed as conda prints it.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value as Json};
use taipan_config::show::{self, ShowInputs};
use taipan_config::{describe, EditError, RcFile};
use taipan_env::context::Context;
use taipan_env::error::ErrorKind;
use taipan_env::{CondaError, Result};

use super::helpers::Load;
use crate::cli::ConfigArgs;

/// Runs `conda config`.
pub fn run(a: ConfigArgs) -> Result<u8> {
    let argv = super::helpers::argv();
    let mut load = Load::new(&argv, &a.output);
    let target = crate::cli::Target {
        name: a.name.clone(),
        prefix: a.prefix.clone(),
    };
    load.target = Some(&target);
    let json = a.output.is_json();
    // `--file` with `--show`/`--describe` reads only that file, as conda does.
    let ctx = if a.file.is_some() && (a.show.is_some() || a.describe.is_some()) {
        file_only_context(&argv, &a)?
    } else {
        load.context()?
    };
    if a.show_sources {
        print_sources(&ctx, json);
        return Ok(0);
    }
    if let Some(keys) = &a.show {
        return show(&ctx, keys, json);
    }
    if let Some(keys) = &a.describe {
        return describe_params(keys, json);
    }
    if a.validate {
        // Loading the context validated every source.
        return Ok(0);
    }
    let rc_path = rc_path(&ctx, &a)?;
    if a.write_default {
        return write_default(&rc_path);
    }
    edit(&ctx, &a, &rc_path)
}

/// A context whose only configuration file is `--file`.
fn file_only_context(argv: &[String], a: &ConfigArgs) -> Result<Context> {
    let file = a.file.clone().unwrap_or_default();
    let mut opts = taipan_env::context::ContextOptions {
        exe: super::helpers::exe_path(argv),
        env: std::env::vars().collect(),
        ..Default::default()
    };
    opts.env
        .insert("TAIPAN_CONDARC_ONLY".into(), file.display().to_string());
    Context::load(&opts)
}

/// The file `conda config` writes: `--system`, `--env`, `--file`, `-n/-p`, else `~/.condarc`.
/// conda does not write `$CONDARC`: it only reads it.
fn rc_path(ctx: &Context, a: &ConfigArgs) -> Result<PathBuf> {
    let user = ctx.home.join(".condarc");
    if a.system {
        return Ok(ctx.root_prefix.join(".condarc"));
    }
    if a.env {
        return Ok(ctx.active_prefix().map_or(user, |p| p.join(".condarc")));
    }
    if let Some(file) = &a.file {
        return Ok(file.clone());
    }
    if a.name.is_some() || a.prefix.is_some() {
        let prefix = ctx.target_prefix(a.name.as_deref(), a.prefix.as_deref())?;
        ctx.require_env(&prefix, a.name.as_deref())?;
        return Ok(prefix.join(".condarc"));
    }
    Ok(user)
}

/// An edit error as the conda exception it is.
fn conda_error(e: EditError) -> CondaError {
    let message = e.to_string();
    match e {
        EditError::Key { key, .. } => CondaError::new(ErrorKind::CondaKeyError, &message)
            .with("key", key)
            .with("msg", message),
        EditError::Value(_) => CondaError::new(ErrorKind::CondaValueError, message),
        EditError::Validation {
            name,
            value,
            source_name,
            ..
        } => CondaError::new(ErrorKind::CustomValidationError, message)
            .with("parameter_name", name)
            .with("parameter_value", value)
            .with("source", source_name),
        EditError::Parse(_) => CondaError::new(ErrorKind::ParseError, message),
        EditError::Generic(_) => CondaError::generic(message),
    }
}

/// Pairs of `KEY VALUE` from a repeated two-value flag.
fn pairs(flat: &[String]) -> impl Iterator<Item = (&str, &str)> {
    flat.chunks(2).filter_map(|c| match c {
        [k, v] => Some((k.as_str(), v.as_str())),
        _ => None,
    })
}

/// The modifiers, in conda's order: get, stdin, prepend, append, set, remove, clear,
/// remove-key; then the file is written (unless `--get`) and the result printed.
fn edit(ctx: &Context, a: &ConfigArgs, rc_path: &Path) -> Result<u8> {
    let sys_rc = ctx.root_prefix.join(".condarc");
    let read_from = if rc_path.exists() {
        Some(rc_path)
    } else if sys_rc.exists() {
        // conda starts from the system file when the target does not exist yet.
        Some(sys_rc.as_path())
    } else {
        None
    };
    let mut rc = RcFile::open(rc_path, read_from).map_err(conda_error)?;
    let mut got: Vec<(String, taipan_config::YamlValue)> = Vec::new();
    if let Some(keys) = &a.get {
        let keys = if keys.is_empty() {
            rc.keys_sorted()
        } else {
            keys.clone()
        };
        got = keys.iter().filter_map(|k| rc.get(k)).collect();
    }
    let result = apply_modifiers(&mut rc, a);
    for line in &rc.log {
        eprintln!("{line}");
    }
    if !a.output.is_json() {
        for w in &rc.warnings {
            eprintln!("{w}");
        }
    }
    match result {
        Ok(true) => {}
        Ok(false) => return Ok(0),
        Err(e) => return Err(conda_error(e)),
    }
    // conda writes unless keys were given to `--get` (a bare `--get` writes too).
    if a.get.as_ref().is_none_or(|k| k.is_empty()) {
        rc.write().map_err(conda_error)?;
    }
    if a.output.is_json() {
        print_success(rc_path, &rc.warnings, &got);
    } else {
        for (k, v) in &got {
            print_config_item(k, v);
        }
    }
    Ok(0)
}

/// Applies every modifier; `Ok(false)` when `--stdin` was empty (conda then stops without
/// writing or printing).
fn apply_modifiers(rc: &mut RcFile, a: &ConfigArgs) -> std::result::Result<bool, EditError> {
    if a.stdin {
        let mut text = String::new();
        let _ = std::io::stdin().read_to_string(&mut text);
        if text.is_empty() {
            return Ok(false);
        }
        rc.update_from_yaml(&text)?;
    }
    for (k, v) in pairs(&a.prepend) {
        rc.add(k, v, true)?;
    }
    for (k, v) in pairs(&a.append) {
        rc.add(k, v, false)?;
    }
    for (k, v) in pairs(&a.set) {
        rc.set(k, v)?;
    }
    for (k, v) in pairs(&a.remove) {
        rc.remove_item(k, v)?;
    }
    for k in &a.clear {
        rc.clear(k)?;
    }
    for k in &a.remove_key {
        rc.remove_key(k)?;
    }
    Ok(true)
}

/// conda's `stdout_json_success`: keys in this order, no trailing newline.
fn print_success(rc_path: &Path, warnings: &[String], got: &[(String, taipan_config::YamlValue)]) {
    let mut get = Map::new();
    for (k, v) in got {
        get.insert(k.clone(), serde_json::to_value(v).unwrap_or(Json::Null));
    }
    let mut doc = Map::new();
    doc.insert("success".into(), json!(true));
    doc.insert("rc_path".into(), json!(rc_path.display().to_string()));
    doc.insert("warnings".into(), json!(warnings));
    doc.insert("get".into(), Json::Object(get));
    print!(
        "{}",
        serde_json::to_string_pretty(&Json::Object(doc)).unwrap_or_default()
    );
}

/// conda's `print_config_item`: `--set k v` for scalars, `--add k 'item'` for lists
/// (reversed, so running the lines rebuilds the list), maps as `k.sub`.
fn print_config_item(key: &str, value: &taipan_config::YamlValue) {
    use taipan_config::YamlValue as Y;
    match value {
        Y::Mapping(m) => {
            for (k, v) in m {
                if let Some(k) = k.as_str() {
                    print_config_item(&format!("{key}.{k}"), v);
                }
            }
        }
        Y::Bool(b) => println!("--set {key} {}", if *b { "True" } else { "False" }),
        // conda prints ints and strings; floats and nulls are left out.
        Y::Number(n) if !n.is_f64() => println!("--set {key} {n}"),
        Y::String(s) => println!("--set {key} {s}"),
        Y::Sequence(items) => {
            let n = items.len();
            for (q, item) in items.iter().rev().enumerate() {
                let repr = py_repr_value(item);
                if key == "channels" && (q == 0 || q + 1 == n) {
                    let note = if q == 0 {
                        "  # lowest priority"
                    } else {
                        "  # highest priority"
                    };
                    println!("--add {key} {repr} {note}");
                } else {
                    println!("--add {key} {repr}");
                }
            }
        }
        _ => {}
    }
}

fn py_repr_value(v: &taipan_config::YamlValue) -> String {
    match v {
        taipan_config::YamlValue::String(s) => taipan_config::rcfile::py_repr(s),
        taipan_config::YamlValue::Bool(b) => (if *b { "True" } else { "False" }).into(),
        taipan_config::YamlValue::Null => "None".into(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// `--show-sources`: each source with the keys it sets.
fn print_sources(ctx: &Context, json: bool) {
    let mut all = Map::new();
    for s in &ctx.config.sources {
        let values: Map<String, Json> = s
            .values
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(Json::Null)))
            .collect();
        all.insert(s.kind.to_string(), Json::Object(values));
    }
    if json {
        print_json(&Json::Object(all));
        return;
    }
    let mut lines = Vec::new();
    for (source, values) in &all {
        lines.push(format!("==> {source} <=="));
        if let Json::Object(m) = values {
            lines.extend(show::format_dict(m));
        }
        lines.push(String::new());
    }
    println!("{}", lines.join("\n"));
}

/// `--show [KEYS]`.
fn show(ctx: &Context, keys: &[String], json: bool) -> Result<u8> {
    let inputs = ShowInputs {
        root_prefix: ctx.root_prefix.clone(),
        home: ctx.home.clone(),
        // conda's notion: the root's history file can be appended to.
        root_writable: taipan_config::root_writable(&ctx.root_prefix),
        subdir: ctx.subdir.as_str().to_string(),
        pkgs_dirs: ctx.pkgs_dirs.clone(),
        envs_dirs: ctx.envs_dirs.clone(),
        json,
    };
    let all = show::effective(&ctx.config, &inputs);
    let values: Map<String, Json> = if keys.is_empty() {
        all
    } else {
        let names = canonical_names(keys)?;
        let mut picked: Vec<(String, Json)> = names
            .iter()
            .filter_map(|n| all.get(n).map(|v| (n.clone(), v.clone())))
            .collect();
        picked.sort_by(|a, b| a.0.cmp(&b.0));
        picked.into_iter().collect()
    };
    if json {
        print_json(&Json::Object(values));
    } else {
        println!("{}", show::text(&values));
    }
    Ok(0)
}

/// Names (or aliases) given to `--show`/`--describe`, as canonical names without
/// duplicates; unknown ones are conda's `ArgumentError`.
fn canonical_names(keys: &[String]) -> Result<Vec<String>> {
    let mut unknown: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| !describe::is_listed_name(k))
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        unknown.dedup();
        return Err(CondaError::argument(format!(
            "Invalid configuration parameters: {}",
            taipan_env::error::dashlist(unknown)
        )));
    }
    let mut names: Vec<String> = Vec::new();
    for k in keys {
        let name = describe::name_for_alias(k).map_or(k.clone(), str::to_string);
        let name = describe::all()
            .iter()
            .find(|p| p.name() == name || p.aliases().any(|a| a == name))
            .map_or(name, |p| p.name().to_string());
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// `--describe [KEYS]`.
fn describe_params(keys: &[String], json: bool) -> Result<u8> {
    if keys.is_empty() {
        if json {
            print_json(&json!(describe::describe_all_json()));
        } else {
            // conda prints the parameters, then its (empty) plugin parameters.
            println!("{}", describe::describe_all_text());
            println!();
        }
        return Ok(0);
    }
    let names = canonical_names(keys)?;
    let params: Vec<&describe::ParamInfo> =
        names.iter().filter_map(|n| describe::by_name(n)).collect();
    if json {
        let list: Vec<&Json> = params.iter().map(|p| &p.describe).collect();
        print_json(&json!(list));
    } else {
        let lines: Vec<&str> = params
            .iter()
            .flat_map(|p| p.text.iter().map(String::as_str))
            .collect();
        println!("{}", lines.join("\n"));
    }
    Ok(0)
}

/// `--write-default`: the descriptions of every parameter, into an empty or missing file.
fn write_default(rc_path: &Path) -> Result<u8> {
    if let Ok(existing) = std::fs::read_to_string(rc_path) {
        if !existing.trim().is_empty() {
            return Err(CondaError::generic(format!(
                "The file '{}' already contains configuration information.\nRemove the file to proceed.\nUse `conda config --describe` to display default configuration.",
                rc_path.display()
            )));
        }
    }
    let text = describe::describe_all_text();
    taipan_config::rcfile::write_atomic(rc_path, text.as_bytes()).map_err(|e| {
        CondaError::generic(format!(
            "Cannot write to condarc file at {}\nCaused by {e}",
            rc_path.display()
        ))
    })?;
    Ok(0)
}

/// JSON as conda's `--show`/`--describe`/`--show-sources` print it: sorted keys, 2-space
/// indent, one newline.
fn print_json(v: &Json) {
    println!(
        "{}",
        serde_json::to_string_pretty(&show::sort_keys(v)).unwrap_or_default()
    );
}
