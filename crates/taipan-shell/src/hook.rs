//! The code `conda shell.<shell> hook` prints: a preamble naming the conda executable, and a
//! `conda` shell function that evaluates `activate`/`deactivate` output in the current shell
//! and re-activates after package changes, so PATH stays right.

use std::path::Path;

use crate::render::{ps_quote, sh_quote};
use crate::Shell;

/// The hook for `shell`; with `activate_env` it ends by activating that env (`auto_activate`).
pub fn hook(shell: Shell, root: &Path, conda_exe: &Path, activate_env: Option<&str>) -> String {
    match shell {
        Shell::Posix => posix(root, conda_exe, activate_env),
        Shell::Fish => fish(root, conda_exe, activate_env),
        Shell::Csh => csh(root, conda_exe, activate_env),
        Shell::Xonsh => xonsh(root, conda_exe, activate_env),
        Shell::PowerShell => powershell(root, conda_exe, activate_env),
    }
}

fn python_exe(root: &Path) -> Option<String> {
    let p = root.join("bin/python");
    p.exists().then(|| p.display().to_string())
}

const POSIX_FUNCTIONS: &str = include_str!("hook/functions.sh");

fn posix(root: &Path, conda_exe: &Path, activate_env: Option<&str>) -> String {
    let mut out = format!(
        "export CONDA_EXE={}\nexport _CE_M=''\nexport _CE_CONDA=''\n",
        sh_quote(&conda_exe.display().to_string())
    );
    if let Some(py) = python_exe(root) {
        out.push_str(&format!("export CONDA_PYTHON_EXE={}\n", sh_quote(&py)));
    }
    out.push_str(POSIX_FUNCTIONS);
    if let Some(env) = activate_env {
        out.push_str(&format!("\nconda activate {}\n", sh_quote(env)));
    }
    out
}

const FISH_FUNCTIONS: &str = include_str!("hook/functions.fish");

fn fish(root: &Path, conda_exe: &Path, activate_env: Option<&str>) -> String {
    let mut out = format!(
        "set -gx CONDA_EXE \"{}\"\nset -gx _CE_M \"\"\nset -gx _CE_CONDA \"\"\n",
        conda_exe.display()
    );
    if let Some(py) = python_exe(root) {
        out.push_str(&format!("set -gx CONDA_PYTHON_EXE \"{py}\"\n"));
    }
    out.push_str(FISH_FUNCTIONS);
    if let Some(env) = activate_env {
        out.push_str(&format!("\nconda activate \"{env}\"\n"));
    }
    out
}

fn csh(root: &Path, conda_exe: &Path, activate_env: Option<&str>) -> String {
    let exe = conda_exe.display();
    let mut out =
        format!("setenv CONDA_EXE \"{exe}\";\nsetenv _CE_M \"\";\nsetenv _CE_CONDA \"\";\n");
    if let Some(py) = python_exe(root) {
        out.push_str(&format!("setenv CONDA_PYTHON_EXE \"{py}\";\n"));
    }
    // csh has no functions: `conda` is an alias that sources a small dispatcher script.
    out.push_str(&format!(
        "alias conda 'source \"{}/etc/profile.d/conda-dispatch.csh\" \\!*';\n",
        root.display()
    ));
    // A bare `deactivate` leaves the environment, as a venv's does.
    out.push_str("alias deactivate 'conda deactivate \\!*';\n");
    out.push_str("if ( ! $?CONDA_SHLVL ) then\n    setenv CONDA_SHLVL 0;\n");
    out.push_str(&format!(
        "    setenv PATH \"{}/condabin:${{PATH}}\";\nendif;\n",
        root.display()
    ));
    if let Some(env) = activate_env {
        out.push_str(&format!("conda activate \"{env}\";\n"));
    }
    out
}

const XONSH_FUNCTIONS: &str = include_str!("hook/functions.xsh");

fn xonsh(root: &Path, conda_exe: &Path, activate_env: Option<&str>) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = format!(
        "$CONDA_EXE = {}
$_CE_M = \"\"
$_CE_CONDA = \"\"
",
        q(&conda_exe.display().to_string())
    );
    if let Some(py) = python_exe(root) {
        out.push_str(&format!(
            "$CONDA_PYTHON_EXE = {}
",
            q(&py)
        ));
    }
    out.push_str(XONSH_FUNCTIONS);
    if let Some(env) = activate_env {
        out.push_str(&format!("\n_conda_main([\"activate\", {}])\n", q(env)));
    }
    out
}

fn powershell(root: &Path, conda_exe: &Path, activate_env: Option<&str>) -> String {
    let exe = ps_quote(&conda_exe.display().to_string());
    let mut out = format!(
        "$Env:CONDA_EXE = {exe}\n$Env:_CE_M = $null\n$Env:_CE_CONDA = $null\n$Env:_CONDA_ROOT = {}\n$Env:_CONDA_EXE = {exe}\n",
        ps_quote(&root.display().to_string())
    );
    if let Some(py) = python_exe(root) {
        out.push_str(&format!("$Env:CONDA_PYTHON_EXE = {}\n", ps_quote(&py)));
    }
    out.push_str(POWERSHELL_HOOK);
    if let Some(env) = activate_env {
        out.push_str(&format!("conda activate {}\n", ps_quote(env)));
    }
    out
}

const POWERSHELL_HOOK: &str = include_str!("hook/hook.ps1");

/// The PowerShell module the hook imports (`shell/condabin/Conda.psm1`): `conda` (an alias of
/// `Invoke-Conda`) runs activate/deactivate in the session and re-activates after package
/// changes; the prompt shows `CONDA_PROMPT_MODIFIER`.
pub fn powershell_module() -> &'static str {
    include_str!("hook/Conda.psm1")
}

/// The csh dispatcher sourced by the `conda` alias (`etc/profile.d/conda-dispatch.csh`).
pub fn csh_dispatcher() -> &'static str {
    include_str!("hook/dispatcher.csh")
}
