//! `conda info`: the components conda shows for the flags given (`--base`,
//! `--unsafe-channels`, the details, `--envs`, `--system`, or everything as JSON).

use serde_json::{json, Map, Value};
use taipan_env::context::Context;
use taipan_env::Result;

use super::helpers::Load;
use crate::cli::InfoArgs;

#[derive(Debug, PartialEq, Eq)]
enum Component {
    Base,
    Channels,
    Detail,
    Envs,
    System,
    JsonAll,
}

/// conda's choice of components (`iter_info_components`).
fn components(a: &InfoArgs) -> Vec<Component> {
    let json = a.output.is_json();
    let mut out = Vec::new();
    if a.base {
        out.push(Component::Base);
    }
    if a.unsafe_channels {
        out.push(Component::Channels);
    }
    if (a.all || (!a.envs && !a.system)) && !json && !a.base && !a.unsafe_channels {
        out.push(Component::Detail);
    }
    if a.envs || (a.all && !json) {
        out.push(Component::Envs);
    }
    if (a.system || a.all) && !json {
        out.push(Component::System);
    }
    if json && !a.base && !a.unsafe_channels && !a.envs {
        out.push(Component::JsonAll);
    }
    out
}

/// Runs `conda info`.
pub fn run(a: InfoArgs) -> Result<u8> {
    let argv = super::helpers::argv();
    let ctx = Load::new(&argv, &a.output).context()?;
    let json = a.output.is_json();
    for c in components(&a) {
        match c {
            Component::Base if json => print_json(&json!({"root_prefix": ctx.root_prefix})),
            Component::Base => println!("{}", ctx.root_prefix.display()),
            Component::Channels if json => print_json(&json!({"channels": ctx.config.channels})),
            Component::Channels => {
                // conda renders nothing (not even a newline) for no channels.
                if !ctx.config.channels.is_empty() {
                    println!("{}", ctx.config.channels.join("\n"));
                }
            }
            Component::Envs => crate::output::envs::print_envs(&ctx, json),
            Component::Detail => print!("{}", detail(&info_dict(&ctx)?)),
            Component::System => println!("{}", system(&ctx, &info_dict(&ctx)?)),
            Component::JsonAll => print_json(&Value::Object(info_dict(&ctx)?)),
        }
    }
    Ok(0)
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// conda's info dictionary, keys in conda's order (what `info --json` prints).
fn info_dict(ctx: &Context) -> Result<Map<String, Value>> {
    let target = ctx
        .active_prefix()
        .unwrap_or_else(|| ctx.root_prefix.clone());
    if taipan_env::prefix_lock::needs_recovery(&target) {
        return Err(taipan_env::prefix_lock::recovery_needed_error(&target));
    }
    let mut vpkgs: Vec<[String; 3]> = taipan_env::ops::virtual_packages(ctx)?
        .iter()
        .map(|v| {
            [
                v.name.as_normalized().to_string(),
                v.version.to_string(),
                v.build_string.to_string(),
            ]
        })
        .collect();
    vpkgs.sort();
    let active = ctx.active_prefix();
    let channels: Vec<String> = taipan_env::channels::resolve(ctx)
        .map(|c| taipan_env::channels::subdir_urls(&c, ctx.subdir.as_str()))
        .unwrap_or_default()
        .iter()
        .map(|u| mask_token(u))
        .collect();
    let user_rc = ctx.home.join(".condarc");
    let shlvl = ctx
        .env
        .get("CONDA_SHLVL")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(-1);
    // SAFETY: geteuid/getegid cannot fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let netrc = ctx.env.get("NETRC").cloned().or_else(|| {
        let p = ctx.home.join(".netrc");
        p.exists().then(|| p.display().to_string())
    });
    let envs = taipan_env::registry::all_envs(ctx);
    let v = json!({
        "platform": ctx.subdir.as_str(),
        "conda_version": taipan_env::history::CONDA_COMPAT_VERSION,
        "conda_env_version": taipan_env::history::CONDA_COMPAT_VERSION,
        "conda_build_version": "not installed",
        "root_prefix": ctx.root_prefix,
        "conda_prefix": ctx.root_prefix,
        "av_data_dir": ctx.root_prefix.join("etc/conda"),
        "av_metadata_url_base": null,
        "root_writable": ctx.root_writable,
        "pkgs_dirs": ctx.pkgs_dirs,
        "envs_dirs": ctx.envs_dirs,
        "default_prefix": active.clone().unwrap_or_else(|| ctx.root_prefix.clone()),
        "active_prefix": active,
        "active_prefix_name": active.as_ref().map(|p| ctx.env_name(p)),
        "conda_shlvl": shlvl,
        "channels": channels,
        "user_rc_path": user_rc,
        "rc_path": user_rc,
        "sys_rc_path": ctx.root_prefix.join(".condarc"),
        "offline": ctx.config.offline,
        "envs": envs,
        // taipan needs no Python and no requests.
        "python_version": null,
        "requests_version": null,
        "user_agent": taipan_env::net::user_agent(),
        "conda_location": exe,
        "config_files": ctx.config.config_files(),
        "netrc_file": netrc,
        "virtual_pkgs": vpkgs,
        // conda's dict; taipan has one solver, the default.
        "solver": {"name": "resolvo", "user_agent": "solver/resolvo", "default": true},
        "tmp_dir": std::env::temp_dir(),
        "notices_cache_dir": taipan_env::ops::notices::cache_dir(ctx),
        "UID": uid,
        "GID": gid,
        "sys.version": format!("taipan {} (conda {} compatible)", env!("CARGO_PKG_VERSION"), taipan_env::history::CONDA_COMPAT_VERSION),
        "sys.prefix": ctx.root_prefix,
        "sys.executable": exe,
        "site_dirs": [],
        "env_vars": env_vars(ctx),
        "envs_details": crate::output::envs::envs_details(ctx, &envs),
        "taipan_version": env!("CARGO_PKG_VERSION"),
    });
    Ok(match v {
        Value::Object(m) => m,
        _ => Map::new(),
    })
}

/// The environment variables conda reports: a fixed few (`<not set>` when unset), every
/// `CONDA*`, `PYTHON*`, `*PATH` and `SUDO*` one, and proxies only as `<set>` (their URLs may
/// hold passwords).
fn env_vars(ctx: &Context) -> Map<String, Value> {
    let mut out = Map::new();
    for key in [
        "CIO_TEST",
        "CURL_CA_BUNDLE",
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "LD_PRELOAD",
    ] {
        let value = ctx
            .env
            .get(key)
            .or_else(|| ctx.env.get(&key.to_lowercase()))
            .cloned()
            .unwrap_or_else(|| "<not set>".into());
        out.insert(key.into(), json!(value));
    }
    let mut keys: Vec<&String> = ctx.env.keys().collect();
    keys.sort();
    for key in keys {
        let upper = key.to_uppercase();
        if upper.ends_with("PROXY") {
            out.insert(key.clone(), json!("<set>"));
        } else if upper.starts_with("CONDA")
            || upper.starts_with("PYTHON")
            || upper.ends_with("PATH")
            || upper.starts_with("SUDO")
        {
            out.insert(key.clone(), json!(ctx.env[key]));
        }
    }
    out
}

/// A channel URL with its anaconda.org token hidden (`/t/<TOKEN>/`), as conda shows it.
fn mask_token(url: &str) -> String {
    let Some(start) = url.find("/t/") else {
        return url.to_string();
    };
    let rest = &url[start + 3..];
    match rest.find('/') {
        Some(end) => format!("{}/t/<TOKEN>{}", &url[..start], &rest[end..]),
        None => url.to_string(),
    }
}

/// conda's detail block: `%23s : value` rows, multi-line values indented to the value column.
fn detail(info: &Map<String, Value>) -> String {
    let text = |k: &str| match info.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "None".into(),
        Some(Value::Bool(b)) => if *b { "True" } else { "False" }.into(),
        Some(v) => v.to_string(),
    };
    let lines = |k: &str| -> Vec<String> {
        info.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        Value::Array(parts) => parts
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join("="),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut rows: Vec<(&str, Vec<String>)> = Vec::new();
    if info.get("active_prefix_name").is_some_and(|v| !v.is_null()) {
        rows.push(("active environment", vec![text("active_prefix_name")]));
        rows.push(("active env location", vec![text("active_prefix")]));
    } else {
        rows.push(("active environment", vec![text("active_prefix")]));
    }
    if info
        .get("conda_shlvl")
        .and_then(Value::as_i64)
        .is_some_and(|l| l >= 0)
    {
        rows.push(("shell level", vec![text("conda_shlvl")]));
    }
    let solver = "resolvo (default)".to_string();
    let writable = if info.get("root_writable") == Some(&Value::Bool(true)) {
        "writable"
    } else {
        "read only"
    };
    rows.extend([
        ("user config file", vec![text("user_rc_path")]),
        ("populated config files", lines("config_files")),
        ("conda version", vec![text("conda_version")]),
        ("taipan version", vec![text("taipan_version")]),
        ("conda-build version", vec![text("conda_build_version")]),
        (
            "python version",
            vec!["not installed (taipan needs no python)".into()],
        ),
        ("solver", vec![solver]),
        ("virtual packages", lines("virtual_pkgs")),
        (
            "base environment",
            vec![format!("{}  ({writable})", text("root_prefix"))],
        ),
        ("conda av data dir", vec![text("av_data_dir")]),
        ("conda av metadata url", vec![text("av_metadata_url_base")]),
        ("channel URLs", lines("channels")),
        ("package cache", lines("pkgs_dirs")),
        ("notices cache", vec![text("notices_cache_dir")]),
        ("envs directories", lines("envs_dirs")),
        ("temporary directory", vec![text("tmp_dir")]),
        ("platform", vec![text("platform")]),
        ("user-agent", vec![text("user_agent")]),
        ("UID:GID", vec![format!("{}:{}", text("UID"), text("GID"))]),
        ("netrc file", vec![text("netrc_file")]),
        ("offline mode", vec![text("offline")]),
    ]);
    let mut out = String::from("\n");
    for (key, values) in rows {
        let value = values.join(&format!("\n{}", " ".repeat(26)));
        out.push_str(&format!("{key:>23} : {value}\n"));
    }
    out.push('\n');
    out
}

/// conda's `--system` block: where this conda is, its subcommand plugins, the environment
/// variables that matter to it.
fn system(ctx: &Context, info: &Map<String, Value>) -> String {
    let text = |k: &str| {
        info.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let version: String = text("sys.version").chars().take(40).collect();
    let mut out = vec![
        format!("sys.version: {version}..."),
        format!("sys.prefix: {}", ctx.root_prefix.display()),
        format!("sys.executable: {}", text("sys.executable")),
        format!("conda location: {}", text("conda_location")),
        "conda-build: (missing)".to_string(),
        // conda's plugin subcommands that taipan has built in.
        "conda-check: taipan (built in)".to_string(),
        "conda-doctor: taipan (built in)".to_string(),
        "user site dirs:".to_string(),
        String::new(),
    ];
    let mut vars: Vec<(&String, &Value)> = info
        .get("env_vars")
        .and_then(Value::as_object)
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    vars.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in vars {
        out.push(format!("{k}: {}", v.as_str().unwrap_or_default()));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_masked() {
        assert_eq!(
            mask_token("https://conda.anaconda.org/t/tk-1/private/noarch"),
            "https://conda.anaconda.org/t/<TOKEN>/private/noarch"
        );
        assert_eq!(mask_token("https://x.org/chan"), "https://x.org/chan");
    }
}
