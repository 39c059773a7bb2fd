//! The environment list (`conda env list`, `conda info --envs`).

use serde_json::json;
use taipan_env::context::Context;

/// Prints the environment list in conda's layout or JSON shape.
pub fn print_envs(ctx: &Context, json: bool) {
    taipan_env::registry::finish_removals(ctx);
    let envs = taipan_env::registry::all_envs(ctx);
    for p in &envs {
        if taipan_env::prefix_lock::needs_recovery(p) {
            eprintln!(
                "WARNING: {} was left half-changed by an interrupted conda command; the next command that changes it restores it.",
                p.display()
            );
        }
    }
    let active = ctx.active_prefix();
    if json {
        let details = envs_details(ctx, &envs);
        let v = json!({"envs": envs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(), "envs_details": details});
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    println!("\n# conda environments:\n#\n# * -> active\n# + -> frozen");
    for p in &envs {
        let mark = if active
            .as_ref()
            .is_some_and(|a| taipan_env::context::same_path(a, p))
        {
            '*'
        } else {
            ' '
        };
        let frozen = if p.join("conda-meta/frozen").exists() {
            '+'
        } else {
            ' '
        };
        println!("{:<20} {mark} {frozen} {}", ctx.env_name(p), p.display());
    }
    println!();
}

/// conda's `envs_details` (`env list --json`, `info --json`): per environment its name,
/// creation and last change times, and whether it is active, the base, frozen, writable.
pub fn envs_details(
    ctx: &Context,
    envs: &[std::path::PathBuf],
) -> serde_json::Map<String, serde_json::Value> {
    let active = ctx.active_prefix();
    envs.iter()
        .map(|p| {
            let is_active = active
                .as_ref()
                .is_some_and(|a| taipan_env::context::same_path(a, p));
            let base = taipan_env::context::same_path(p, &ctx.root_prefix);
            (
                p.display().to_string(),
                json!({
                    "name": ctx.env_name(p),
                    "created": taipan_env::prefix::created(p),
                    "last_modified": taipan_env::prefix::last_modified(p),
                    "active": is_active,
                    "base": base,
                    "frozen": p.join("conda-meta/frozen").exists(),
                    "writable": taipan_env::context::prefix_writable(p),
                }),
            )
        })
        .collect()
}
