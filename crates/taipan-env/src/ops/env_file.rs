//! What an environment file adds to create, install and `env update` after the conda
//! transaction: its `variables:` (written to `conda-meta/state`) and its `- pip:` section
//! (installed by the environment's own pip, one run per file, in the file's directory).

use std::path::Path;

use crate::envfile::EnvFile;
use crate::error::Result;
use crate::pip::PipRun;
use crate::reporter::Reporter;

/// The specs of the files' `dependencies:`.
pub fn specs(files: &[EnvFile]) -> Vec<String> {
    files.iter().flat_map(|f| f.specs.iter().cloned()).collect()
}

/// Sets the variables, then runs pip for each file with a pip section. A pip failure is an
/// error; the conda part stays installed (as conda leaves it), which the error says.
pub fn after_transaction(
    prefix: &Path,
    files: &[EnvFile],
    reporter: &dyn Reporter,
) -> Result<Option<PipRun>> {
    let vars: Vec<(String, serde_json::Value)> = files
        .iter()
        .flat_map(|f| f.variables.iter().cloned())
        .collect();
    crate::prefix::add_env_vars(prefix, &vars)?;
    let mut all: Option<PipRun> = None;
    for file in files.iter().filter(|f| !f.pip.is_empty()) {
        let workdir = pip_workdir(&file.path);
        reporter.phase("Installing pip dependencies");
        let run = crate::pip::install(prefix, &file.pip, workdir.as_deref());
        reporter.phase_done(run.is_ok());
        let run = match run {
            Ok(run) => run,
            Err(failed) => {
                reporter.pip_failed(&failed.stderr);
                return Err(failed.error);
            }
        };
        reporter.pip_ran(&run);
        match &mut all {
            Some(a) => a.installed.extend(run.installed),
            None => all = Some(run),
        }
    }
    Ok(all)
}

/// conda runs pip in the environment file's directory (so relative paths in the pip
/// section work) when it is writable, else in the prefix.
fn pip_workdir(file: &Path) -> Option<std::path::PathBuf> {
    let dir = crate::context::absolute(file).parent()?.to_path_buf();
    crate::context::dir_writable(&dir).then_some(dir)
}
