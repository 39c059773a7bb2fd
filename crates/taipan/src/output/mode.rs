//! The `json` and `quiet` settings (`.condarc`, `CONDA_JSON`, `CONDA_QUIET`) act like the
//! `--json` and `-q` flags, as in conda. The configuration is read when a command loads its
//! context; from then on every printer sees it (conda keeps it in its process-wide context).

use std::sync::atomic::{AtomicBool, Ordering};

static CONFIG_JSON: AtomicBool = AtomicBool::new(false);
static CONFIG_QUIET: AtomicBool = AtomicBool::new(false);

/// Records the settings once the command's context has read them.
pub fn adopt_config(config: &taipan_config::Config) {
    CONFIG_JSON.store(config.json, Ordering::Relaxed);
    CONFIG_QUIET.store(config.quiet, Ordering::Relaxed);
}

/// Whether the configuration asks for JSON output.
pub fn config_json() -> bool {
    CONFIG_JSON.load(Ordering::Relaxed)
}

/// Whether the configuration asks for quiet output.
pub fn config_quiet() -> bool {
    CONFIG_QUIET.load(Ordering::Relaxed)
}
