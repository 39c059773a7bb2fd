//! `conda init`.

use std::path::PathBuf;

use taipan_env::{CondaError, Result};
use taipan_shell::files::Outcome;
use taipan_shell::init::{block, edit, InitShell};

use super::helpers::Load;
use crate::cli::InitArgs;

/// Runs `conda init`.
pub fn run(a: InitArgs, argv: &[String]) -> Result<u8> {
    let ctx = Load::new(argv, &a.output).context()?;
    let shells = shells(&a)?;
    let root = ctx.root_prefix.clone();
    let mut report: Vec<(PathBuf, Outcome)> = Vec::new();
    if !a.reverse {
        report.extend(taipan_shell::files::install(&root, a.dry_run));
    }
    let zdotdir = ctx.env.get("ZDOTDIR").map(PathBuf::from);
    for shell in shells {
        let text = block(shell, &root, a.condabin);
        let path = if a.system {
            match shell {
                InitShell::Bash | InitShell::Zsh => system_profile(&ctx),
                _ => continue,
            }
        } else {
            shell.rc_file(&ctx.home, zdotdir.as_deref())
        };
        let outcome = if a.system {
            system_edit(&path, &root, a.reverse, a.dry_run, a.condabin)
        } else {
            edit(&path, &text, a.reverse, a.dry_run)
        };
        report.push((path, outcome));
    }
    crate::output::init::print_report(&report, a.dry_run, a.output.is_json())
}

fn shells(a: &InitArgs) -> Result<Vec<InitShell>> {
    if a.all {
        return Ok(InitShell::all().to_vec());
    }
    if a.shells.is_empty() {
        return Ok(vec![InitShell::Bash]);
    }
    a.shells
        .iter()
        .map(|s| {
            InitShell::parse(s).ok_or_else(|| {
                CondaError::argument(format!(
                    "argument SHELLS: invalid choice: '{s}' (choose from 'bash', 'fish', 'tcsh', 'xonsh', 'zsh', 'powershell')"
                ))
            })
        })
        .collect()
}

/// `/etc/profile.d/conda.sh` (the directory is `TAIPAN_SYSTEM_PROFILE_DIR` in tests).
fn system_profile(ctx: &taipan_env::context::Context) -> PathBuf {
    let dir = ctx
        .env
        .get("TAIPAN_SYSTEM_PROFILE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/profile.d"));
    dir.join("conda.sh")
}

/// `--system` replaces (or with `--reverse` deletes) the whole file with the posix block.
fn system_edit(
    path: &std::path::Path,
    root: &std::path::Path,
    reverse: bool,
    dry_run: bool,
    condabin: bool,
) -> Outcome {
    let content = format!(
        "{}\n",
        block(InitShell::Bash, root, condabin).replace("'shell.bash'", "'shell.posix'")
    );
    let current = std::fs::read_to_string(path).ok();
    if reverse {
        if current.is_none() {
            return Outcome::NoChange;
        }
        if dry_run {
            return Outcome::Modified;
        }
        return match std::fs::remove_file(path) {
            Ok(()) => Outcome::Modified,
            Err(_) => Outcome::NeedsSudo,
        };
    }
    if current.as_deref() == Some(content.as_str()) {
        return Outcome::NoChange;
    }
    if dry_run {
        return Outcome::Modified;
    }
    match std::fs::write(path, content) {
        Ok(()) => Outcome::Modified,
        Err(_) => Outcome::NeedsSudo,
    }
}
