//! POSIX scripts that run something inside an activated environment: `conda run`'s, and
//! the one link scripts (`post-link`, `pre-unlink`) are sourced in.

use std::collections::HashMap;
use std::path::Path;

use crate::activate::{activate, deactivate, Changes, Settings};
use crate::render::{render, sh_quote};
use crate::Shell;

/// The activation of `prefix` from a clean state: whatever environment `env` has active
/// is not stacked on, so what runs sees exactly this environment.
pub fn clean_activation(env: &HashMap<String, String>, prefix: &Path, s: &Settings) -> Changes {
    let mut env = env.clone();
    for k in ["CONDA_PREFIX", "CONDA_SHLVL", "CONDA_DEFAULT_ENV"] {
        env.remove(k);
    }
    activate(&env, prefix, false, s)
}

/// `conda run`'s script: activate (package `activate.d` scripts included), run `command`,
/// run the `deactivate.d` scripts, exit with the command's code.
pub fn run_script(
    env: &HashMap<String, String>,
    prefix: &Path,
    s: &Settings,
    command: &[String],
) -> String {
    let changes = clean_activation(env, prefix, s);
    let mut body = render(Shell::Posix, &changes);
    let quoted: Vec<String> = command.iter().map(|c| sh_quote(c)).collect();
    body.push_str(&format!("{}\n_CONDA_EXE_RC=$?\n", quoted.join(" ")));
    let active = changes
        .export
        .iter()
        .cloned()
        .chain(changes.path.clone().map(|p| ("PATH".to_string(), p)))
        .collect();
    for script in deactivate(&active, s).deactivate_scripts {
        body.push_str(&format!(". {}\n", sh_quote(&script.display().to_string())));
    }
    body.push_str("exit $_CONDA_EXE_RC\n");
    body
}

/// A link script's: activate, then source `script` with tracing on, as conda runs
/// `post-link` and `pre-unlink` scripts.
pub fn link_script(
    env: &HashMap<String, String>,
    prefix: &Path,
    s: &Settings,
    script: &Path,
) -> String {
    let changes = clean_activation(env, prefix, s);
    let mut body = render(Shell::Posix, &changes);
    body.push_str(&format!(
        "set -x\n. {}\n",
        sh_quote(&script.display().to_string())
    ));
    body
}
