//! `conda info`.

use serde_json::json;
use taipan_env::Result;

use super::helpers::Load;
use crate::cli::InfoArgs;

/// Runs `conda info`.
pub fn run(a: InfoArgs) -> Result<u8> {
    let argv = super::helpers::argv();
    let ctx = Load::new(&argv, &a.output).context()?;
    if a.envs {
        crate::output::envs::print_envs(&ctx, a.output.json);
        return Ok(0);
    }
    if a.base {
        if a.output.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"root_prefix": ctx.root_prefix}))
                    .unwrap_or_default()
            );
        } else {
            println!("{}", ctx.root_prefix.display());
        }
        return Ok(0);
    }
    let target = ctx
        .active_prefix()
        .unwrap_or_else(|| ctx.root_prefix.clone());
    if taipan_env::prefix_lock::needs_recovery(&target) {
        return Err(taipan_env::prefix_lock::recovery_needed_error(&target));
    }
    let vpkgs: Vec<String> = taipan_env::ops::virtual_packages(&ctx)?
        .iter()
        .map(|v| {
            format!(
                "{}={}={}",
                v.name.as_normalized(),
                v.version,
                v.build_string
            )
        })
        .collect();
    let active = ctx.active_prefix();
    let channels: Vec<String> = taipan_env::channels::resolve(&ctx)
        .map(|c| taipan_env::channels::subdir_urls(&c, ctx.subdir.as_str()))
        .unwrap_or_default();
    let sources: Vec<String> = ctx
        .config
        .config_files()
        .iter()
        .map(|s| s.display().to_string())
        .collect();
    let user_rc = ctx.home.join(".condarc");
    let shlvl = std::env::var("CONDA_SHLVL").unwrap_or_else(|_| "0".into());
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let env_vars: serde_json::Map<String, serde_json::Value> = ctx
        .env
        .iter()
        .filter(|(k, _)| {
            k.starts_with("CONDA")
                || k.starts_with("PYTHON")
                || k.ends_with("_PROXY")
                || k.ends_with("_proxy")
        })
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let netrc = ctx.env.get("NETRC").cloned().or_else(|| {
        let p = ctx.home.join(".netrc");
        p.exists().then(|| p.display().to_string())
    });
    if a.output.json {
        let envs = taipan_env::registry::all_envs(&ctx);
        let v = json!({
            "conda_prefix": ctx.root_prefix,
            "conda_location": exe,
            "conda_env_version": taipan_env::history::CONDA_COMPAT_VERSION,
            "conda_build_version": "not installed",
            "python_version": null,
            "requests_version": null,
            "rc_path": user_rc,
            "sys_rc_path": ctx.root_prefix.join(".condarc"),
            "netrc_file": netrc,
            "tmp_dir": std::env::temp_dir(),
            "env_vars": env_vars,
            "site_dirs": [],
            "sys.version": format!("taipan {}", env!("CARGO_PKG_VERSION")),
            "sys.prefix": ctx.root_prefix,
            "sys.executable": exe,
            "UID": uid,
            "GID": gid,
            "active_prefix": active,
            "active_prefix_name": active.as_ref().map(|p| ctx.env_name(p)),
            "channels": channels,
            "conda_version": taipan_env::history::CONDA_COMPAT_VERSION,
            "conda_shlvl": shlvl.parse::<i64>().unwrap_or(0),
            "config_files": sources,
            "default_prefix": active.clone().unwrap_or_else(|| ctx.root_prefix.clone()),
            "envs": envs,
            "envs_details": crate::output::envs::envs_details(&ctx, &envs),
            "envs_dirs": ctx.envs_dirs,
            "offline": ctx.config.offline,
            "pkgs_dirs": ctx.pkgs_dirs,
            "platform": ctx.subdir.as_str(),
            "root_prefix": ctx.root_prefix,
            "root_writable": ctx.root_writable,
            // conda's dict; taipan has one solver, the default.
            "solver": {"name": "resolvo", "user_agent": "solver/resolvo", "default": true},
            "user_agent": taipan_env::net::user_agent(),
            "user_rc_path": user_rc,
            "virtual_pkgs": vpkgs.iter().map(|v| v.splitn(3, '=').collect::<Vec<_>>()).collect::<Vec<_>>(),
            "taipan_version": env!("CARGO_PKG_VERSION"),
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(0);
    }
    let rows: Vec<(&str, String)> = vec![
        (
            "active environment",
            active
                .as_ref()
                .map(|p| ctx.activate_name(p))
                .unwrap_or_else(|| "None".into()),
        ),
        (
            "active env location",
            active
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "-".into()),
        ),
        ("shell level", shlvl),
        ("user config file", user_rc.display().to_string()),
        ("populated config files", sources.join("\n")),
        (
            "conda version",
            taipan_env::history::CONDA_COMPAT_VERSION.into(),
        ),
        ("conda-build version", "not installed".into()),
        (
            "python version",
            "not installed (taipan needs no python)".into(),
        ),
        ("taipan version", env!("CARGO_PKG_VERSION").into()),
        ("solver", "resolvo (default)".into()),
        ("virtual packages", vpkgs.join("\n")),
        (
            "base environment",
            format!(
                "{}  ({})",
                ctx.root_prefix.display(),
                if ctx.root_writable {
                    "writable"
                } else {
                    "read only"
                }
            ),
        ),
        ("channel URLs", channels.join("\n")),
        (
            "package cache",
            ctx.pkgs_dirs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "envs directories",
            ctx.envs_dirs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ("platform", ctx.subdir.as_str().into()),
        ("user-agent", taipan_env::net::user_agent()),
        ("UID:GID", format!("{uid}:{gid}")),
        ("netrc file", netrc.clone().unwrap_or_else(|| "None".into())),
        ("offline mode", ctx.config.offline.to_string()),
    ];
    println!();
    for (k, v) in rows {
        let mut lines = v.lines();
        println!("{:>26} : {}", k, lines.next().unwrap_or(""));
        for l in lines {
            println!("{:>26}   {}", "", l);
        }
    }
    println!();
    Ok(0)
}
