//! conda's activation semantics, independent of any shell syntax.
//!
//! State lives in environment variables: `CONDA_SHLVL` counts activations, `CONDA_PREFIX` is
//! the active prefix, `CONDA_PREFIX_<n>` remembers the prefix active at level `n`, and
//! `CONDA_STACKED_<n>=true` marks a level that kept the previous env on PATH (`--stack`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// What the shell must do; rendered by [`crate::render`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Changes {
    /// New PATH, if it changes.
    pub path: Option<String>,
    /// Variables to unset.
    pub unset: Vec<String>,
    /// Shell (not exported) variables to set, e.g. `PS1`.
    pub set: Vec<(String, String)>,
    /// Variables to export, in order.
    pub export: Vec<(String, String)>,
    /// Scripts to source before the variables change (deactivate.d).
    pub deactivate_scripts: Vec<PathBuf>,
    /// Scripts to source after (activate.d).
    pub activate_scripts: Vec<PathBuf>,
    /// Restore PATH before running the deactivate scripts (conda does on deactivation).
    pub path_first: bool,
}

/// Settings from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `changeps1`.
    pub changeps1: bool,
    /// `env_prompt`, e.g. `({default_env}) `.
    pub env_prompt: String,
    /// `auto_stack`.
    pub auto_stack: u64,
    /// The root prefix.
    pub root_prefix: PathBuf,
    /// The conda executable to export as `CONDA_EXE`.
    pub conda_exe: PathBuf,
    /// `envs_dirs`, to tell env names from paths.
    pub envs_dirs: Vec<PathBuf>,
    /// Script extension of the target shell.
    pub script_ext: &'static str,
}

/// Why activation failed; the CLI turns these into conda's errors.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A name that is no environment.
    NameNotFound(String),
    /// A path that is no environment.
    NotAnEnvironment(PathBuf),
}

fn env_var(env: &HashMap<String, String>, key: &str) -> Option<String> {
    env.get(key).filter(|v| !v.is_empty()).cloned()
}

fn shlvl(env: &HashMap<String, String>) -> u64 {
    env.get("CONDA_SHLVL")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn bin(prefix: &Path) -> String {
    prefix.join("bin").display().to_string()
}

/// `CONDA_DEFAULT_ENV`: `base` for the root, the name for envs in an envs dir, else the path.
pub fn default_env(prefix: &Path, s: &Settings) -> String {
    if prefix == s.root_prefix {
        return "base".into();
    }
    let parent = prefix.parent();
    let in_envs_dir = parent.is_some_and(|p| {
        s.envs_dirs.iter().any(|d| d == p) || p.file_name().is_some_and(|n| n == "envs")
    });
    match (in_envs_dir, prefix.file_name()) {
        (true, Some(n)) => n.to_string_lossy().into_owned(),
        _ => prefix.display().to_string(),
    }
}

fn prompt_modifier(prefix: &Path, stacked_on: Option<&Path>, s: &Settings) -> String {
    if !s.changeps1 {
        return String::new();
    }
    let name = prefix
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let default = default_env(prefix, s);
    let stacked = match stacked_on {
        Some(p) => format!("{}|{default}", default_env(p, s)),
        None => default.clone(),
    };
    s.env_prompt
        .replace("{default_env}", &default)
        .replace("{stacked_env}", &stacked)
        .replace("{prefix}", &prefix.display().to_string())
        .replace("{name}", &name)
}

fn scripts(prefix: &Path, kind: &str, ext: &str, reverse: bool) -> Vec<PathBuf> {
    let dir = prefix.join("etc/conda").join(kind);
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == ext))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    if reverse {
        found.reverse();
    }
    found
}

/// Variables an environment sets on activation: `etc/conda/env_vars.d/*.json` (sorted), then
/// `conda-meta/state`'s `env_vars` (which win). `***unset***` values are skipped; `PATH` is
/// reserved.
pub fn env_vars(prefix: &Path) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(prefix.join("etc/conda/env_vars.d"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    for f in files {
        merge_json_vars(&mut vars, &f, None);
    }
    merge_json_vars(
        &mut vars,
        &prefix.join("conda-meta/state"),
        Some("env_vars"),
    );
    vars.retain(|k, v| k != "PATH" && v != "***unset***");
    vars
}

fn merge_json_vars(vars: &mut BTreeMap<String, String>, file: &Path, key: Option<&str>) {
    let Ok(text) = std::fs::read_to_string(file) else {
        return;
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
        return;
    };
    let obj = match key {
        Some(k) => value.get(k).cloned().unwrap_or_default(),
        None => value,
    };
    if let Some(map) = obj.as_object() {
        for (k, v) in map {
            let v = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            vars.insert(k.to_ascii_uppercase(), v);
        }
    }
}

fn strip_prompt(ps1: &str, old_modifier: Option<&String>) -> String {
    match old_modifier {
        Some(m) if !m.is_empty() => ps1.replacen(m.as_str(), "", 1),
        _ => ps1.to_string(),
    }
}

fn set_prompt(c: &mut Changes, env: &HashMap<String, String>, modifier: &str, s: &Settings) {
    if !s.changeps1 || env.contains_key("POWERLINE_COMMAND") {
        return;
    }
    let Some(ps1) = env.get("PS1") else { return };
    let base = strip_prompt(ps1, env.get("CONDA_PROMPT_MODIFIER"));
    c.set.push(("PS1".into(), format!("{modifier}{base}")));
}

fn split_path(env: &HashMap<String, String>) -> Vec<String> {
    env.get("PATH")
        .map(|p| p.split(':').map(str::to_string).collect())
        .unwrap_or_default()
}

fn conda_exe_exports(c: &mut Changes, s: &Settings) {
    c.export
        .push(("CONDA_EXE".into(), s.conda_exe.display().to_string()));
    let python = s.root_prefix.join("bin/python");
    if python.exists() {
        c.export
            .push(("CONDA_PYTHON_EXE".into(), python.display().to_string()));
    }
    c.unset.push("_CE_M".into());
    c.unset.push("_CE_CONDA".into());
}

/// `conda activate`: `prefix` is already resolved.
pub fn activate(
    env: &HashMap<String, String>,
    prefix: &Path,
    stack: bool,
    s: &Settings,
) -> Changes {
    let old_prefix = env_var(env, "CONDA_PREFIX").map(PathBuf::from);
    if old_prefix.as_deref() == Some(prefix) {
        return reactivate(env, s);
    }
    let old = shlvl(env);
    let stack = stack || (s.auto_stack > 0 && old > 0 && old <= s.auto_stack);
    let new = old + 1;
    let mut path = split_path(env);
    let mut c = Changes::default();
    match (&old_prefix, old) {
        (Some(old_p), 1..) if !stack => {
            c.deactivate_scripts = scripts(old_p, "deactivate.d", s.script_ext, true);
            replace_in_path(&mut path, &bin(old_p), &bin(prefix));
            restore_env_vars(&mut c, env, old_p, old);
        }
        _ => {
            if old == 0
                && !path
                    .iter()
                    .any(|p| p.trim_end_matches('/').ends_with("condabin"))
            {
                path.insert(0, s.root_prefix.join("condabin").display().to_string());
            }
            path.insert(0, bin(prefix));
        }
    }
    let stacked_on = if stack { old_prefix.as_deref() } else { None };
    let modifier = prompt_modifier(prefix, stacked_on, s);
    set_prompt(&mut c, env, &modifier, s);
    c.path = Some(path.join(":"));
    c.export
        .push(("CONDA_PREFIX".into(), prefix.display().to_string()));
    c.export.push(("CONDA_SHLVL".into(), new.to_string()));
    c.export
        .push(("CONDA_DEFAULT_ENV".into(), default_env(prefix, s)));
    c.export.push(("CONDA_PROMPT_MODIFIER".into(), modifier));
    for (k, v) in env_vars(prefix) {
        // A value the environment shadows comes back on deactivation.
        if let Some(previous) = env.get(&k) {
            c.export.push((saved_name(old, &k), previous.clone()));
        }
        c.export.push((k, v));
    }
    if let Some(old_p) = &old_prefix {
        c.export
            .push((format!("CONDA_PREFIX_{old}"), old_p.display().to_string()));
    }
    if stack {
        c.export
            .push((format!("CONDA_STACKED_{new}"), "true".into()));
    }
    conda_exe_exports(&mut c, s);
    c.activate_scripts = scripts(prefix, "activate.d", s.script_ext, false);
    c
}

/// conda's name for a value shadowed at activation level `level`.
fn saved_name(level: u64, var: &str) -> String {
    format!("__CONDA_SHLVL_{level}_{var}")
}

/// On leaving level `level`, the env's variables get back what they shadowed, else go away.
fn restore_env_vars(c: &mut Changes, env: &HashMap<String, String>, prefix: &Path, level: u64) {
    for k in env_vars(prefix).into_keys() {
        let saved = saved_name(level - 1, &k);
        match env.get(&saved) {
            Some(v) => {
                c.export.push((k, v.clone()));
                c.unset.push(saved);
            }
            None => c.unset.push(k),
        }
    }
}

fn replace_in_path(path: &mut Vec<String>, old: &str, new: &str) {
    match path.iter().position(|p| p == old) {
        Some(i) => path[i] = new.to_string(),
        None => path.insert(0, new.to_string()),
    }
}

/// `conda deactivate`.
pub fn deactivate(env: &HashMap<String, String>, s: &Settings) -> Changes {
    let Some(prefix) = env_var(env, "CONDA_PREFIX").map(PathBuf::from) else {
        return Changes::default();
    };
    let level = shlvl(env);
    if level < 1 {
        return Changes::default();
    }
    let mut c = Changes {
        deactivate_scripts: scripts(&prefix, "deactivate.d", s.script_ext, true),
        path_first: true,
        ..Changes::default()
    };
    restore_env_vars(&mut c, env, &prefix, level);
    let mut path = split_path(env);
    if level == 1 {
        path.retain(|p| *p != bin(&prefix));
        c.path = Some(path.join(":"));
        c.unset.extend(
            ["CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_PROMPT_MODIFIER"].map(String::from),
        );
        set_prompt(&mut c, env, "", s);
        c.export.push(("CONDA_SHLVL".into(), "0".into()));
        conda_exe_exports(&mut c, s);
        return c;
    }
    let previous_key = format!("CONDA_PREFIX_{}", level - 1);
    let Some(previous) = env_var(env, &previous_key).map(PathBuf::from) else {
        return c;
    };
    let stacked_key = format!("CONDA_STACKED_{level}");
    if env_var(env, &stacked_key).is_some() {
        path.retain(|p| *p != bin(&prefix));
    } else {
        replace_in_path(&mut path, &bin(&prefix), &bin(&previous));
    }
    c.path = Some(path.join(":"));
    c.unset.push(previous_key);
    c.unset.push(stacked_key);
    let modifier = prompt_modifier(&previous, None, s);
    set_prompt(&mut c, env, &modifier, s);
    c.export
        .push(("CONDA_PREFIX".into(), previous.display().to_string()));
    c.export
        .push(("CONDA_SHLVL".into(), (level - 1).to_string()));
    c.export
        .push(("CONDA_DEFAULT_ENV".into(), default_env(&previous, s)));
    c.export.push(("CONDA_PROMPT_MODIFIER".into(), modifier));
    for (k, v) in env_vars(&previous) {
        c.export.push((k, v));
    }
    conda_exe_exports(&mut c, s);
    c.activate_scripts = scripts(&previous, "activate.d", s.script_ext, false);
    c
}

/// `conda reactivate` (after install/remove): re-run the env's scripts, refresh variables.
pub fn reactivate(env: &HashMap<String, String>, s: &Settings) -> Changes {
    let Some(prefix) = env_var(env, "CONDA_PREFIX").map(PathBuf::from) else {
        return Changes::default();
    };
    let level = shlvl(env).max(1);
    let mut path = split_path(env);
    if !path.contains(&bin(&prefix)) {
        path.insert(0, bin(&prefix));
    }
    let stacked_on = env_var(env, &format!("CONDA_STACKED_{level}"))
        .and_then(|_| env_var(env, &format!("CONDA_PREFIX_{}", level - 1)))
        .map(PathBuf::from);
    let modifier = prompt_modifier(&prefix, stacked_on.as_deref(), s);
    let mut c = Changes {
        path: Some(path.join(":")),
        deactivate_scripts: scripts(&prefix, "deactivate.d", s.script_ext, true),
        activate_scripts: scripts(&prefix, "activate.d", s.script_ext, false),
        ..Changes::default()
    };
    set_prompt(&mut c, env, &modifier, s);
    c.export.push(("CONDA_SHLVL".into(), level.to_string()));
    c.export.push(("CONDA_PROMPT_MODIFIER".into(), modifier));
    for (k, v) in env_vars(&prefix) {
        c.export.push((k, v));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(root: &Path) -> Settings {
        Settings {
            changeps1: true,
            env_prompt: "({default_env}) ".into(),
            auto_stack: 0,
            root_prefix: root.to_path_buf(),
            conda_exe: root.join("bin/conda"),
            envs_dirs: vec![root.join("envs")],
            script_ext: "sh",
        }
    }

    fn apply(env: &mut HashMap<String, String>, c: &Changes) {
        if let Some(p) = &c.path {
            env.insert("PATH".into(), p.clone());
        }
        for k in &c.unset {
            env.remove(k);
        }
        for (k, v) in c.set.iter().chain(&c.export) {
            env.insert(k.clone(), v.clone());
        }
    }

    #[test]
    fn shadowed_variables_come_back() {
        let tmp = std::env::temp_dir().join(format!("taipan-shadow-{}", std::process::id()));
        let env_prefix = tmp.join("envs/v");
        std::fs::create_dir_all(env_prefix.join("conda-meta")).unwrap();
        std::fs::write(
            env_prefix.join("conda-meta/state"),
            r#"{"env_vars": {"EDITOR": "nano", "NEW": "1"}}"#,
        )
        .unwrap();
        let s = settings(&tmp);
        let mut env: HashMap<String, String> = [("PATH", "/usr/bin"), ("EDITOR", "vim")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let c = activate(&env, &env_prefix, false, &s);
        apply(&mut env, &c);
        assert_eq!(env["EDITOR"], "nano");
        assert_eq!(env["__CONDA_SHLVL_0_EDITOR"], "vim");
        let c = deactivate(&env, &s);
        apply(&mut env, &c);
        assert_eq!(env["EDITOR"], "vim");
        assert!(!env.contains_key("NEW") && !env.contains_key("__CONDA_SHLVL_0_EDITOR"));
        let _ = std::fs::remove_dir_all(&tmp);
    }

    #[test]
    fn activate_nest_stack_and_back() {
        let root = PathBuf::from("/opt/root");
        let s = settings(&root);
        let mut env: HashMap<String, String> = [("PATH", "/usr/bin"), ("PS1", "$ ")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let a = root.join("envs/a");
        let c = activate(&env, &root, false, &s);
        apply(&mut env, &c);
        assert_eq!(env["PATH"], "/opt/root/bin:/opt/root/condabin:/usr/bin");
        assert_eq!(env["CONDA_DEFAULT_ENV"], "base");
        assert_eq!(env["PS1"], "(base) $ ");
        let c = activate(&env, &a, false, &s);
        apply(&mut env, &c);
        assert_eq!(
            env["PATH"],
            "/opt/root/envs/a/bin:/opt/root/condabin:/usr/bin"
        );
        assert_eq!(env["CONDA_SHLVL"], "2");
        assert_eq!(env["CONDA_PREFIX_1"], "/opt/root");
        assert_eq!(env["PS1"], "(a) $ ");
        let b = PathBuf::from("/else/b");
        let c = activate(&env, &b, true, &s);
        apply(&mut env, &c);
        assert_eq!(
            env["PATH"],
            "/else/b/bin:/opt/root/envs/a/bin:/opt/root/condabin:/usr/bin"
        );
        assert_eq!(env["CONDA_STACKED_3"], "true");
        assert_eq!(env["CONDA_DEFAULT_ENV"], "/else/b");
        let c = deactivate(&env, &s);
        apply(&mut env, &c);
        assert_eq!(
            env["PATH"],
            "/opt/root/envs/a/bin:/opt/root/condabin:/usr/bin"
        );
        assert!(!env.contains_key("CONDA_STACKED_3"));
        let c = deactivate(&env, &s);
        apply(&mut env, &c);
        assert_eq!(env["PATH"], "/opt/root/bin:/opt/root/condabin:/usr/bin");
        assert_eq!(env["CONDA_PREFIX"], "/opt/root");
        let c = deactivate(&env, &s);
        apply(&mut env, &c);
        assert_eq!(env["PATH"], "/opt/root/condabin:/usr/bin");
        assert_eq!(env["CONDA_SHLVL"], "0");
        assert!(!env.contains_key("CONDA_PREFIX"));
        assert_eq!(env["PS1"], "$ ");
        assert_eq!(deactivate(&env, &s), Changes::default());
    }
}
