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

const POSIX_FUNCTIONS: &str = r#"
__conda_exe() (
    "$CONDA_EXE" ${_CE_M:-} ${_CE_CONDA:-} "$@"
)

__conda_hashr() {
    if [ -n "${ZSH_VERSION:+x}" ]; then
        \rehash
    elif [ -n "${POSH_VERSION:+x}" ]; then
        :
    else
        \hash -r
    fi
}

__conda_activate() {
    \local __conda_code
    # The binary prints shell code to evaluate; on error it prints nothing and fails, and
    # the shell's variables stay as they were.
    __conda_code="$(PS1="${PS1:-}" __conda_exe shell.posix "$@")" || \return
    \eval "$__conda_code"
    __conda_hashr
}

__conda_reactivate() {
    \local __conda_code
    __conda_code="$(PS1="${PS1:-}" __conda_exe shell.posix reactivate)" || \return
    \eval "$__conda_code"
    __conda_hashr
}

conda() {
    \local __conda_cmd="${1-__missing__}"
    case "$__conda_cmd" in
        activate|deactivate)
            __conda_activate "$@"
            ;;
        install|update|upgrade|remove|uninstall)
            __conda_exe "$@" || \return
            __conda_reactivate
            ;;
        *)
            __conda_exe "$@"
            ;;
    esac
}

if [ -z "${CONDA_SHLVL+x}" ]; then
    \export CONDA_SHLVL=0
    # Only condabin on PATH: it exposes `conda` and nothing else of the root prefix.
    if [ -n "${_CE_CONDA:+x}" ] && [ -n "${WINDIR+x}" ]; then
        PATH="$(\dirname "$CONDA_EXE")/condabin${PATH:+":${PATH}"}"
    else
        PATH="$(\dirname "$(\dirname "$CONDA_EXE")")/condabin${PATH:+":${PATH}"}"
    fi
    \export PATH
    if [ -z "${PS1+x}" ]; then
        PS1=
    fi
fi
"#;

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

const FISH_FUNCTIONS: &str = r#"
function __conda_add_prompt
    if set -q CONDA_PROMPT_MODIFIER
        set_color -o green
        echo -n $CONDA_PROMPT_MODIFIER
        set_color normal
    end
end

if functions -q fish_prompt; and not functions -q __fish_prompt_orig
    functions -c fish_prompt __fish_prompt_orig
    functions -e fish_prompt
    function fish_prompt
        __conda_add_prompt
        __fish_prompt_orig
    end
end

function conda --inherit-variable CONDA_EXE
    if [ (count $argv) -lt 1 ]
        $CONDA_EXE
    else
        set -l cmd $argv[1]
        set -e argv[1]
        switch $cmd
            case activate deactivate
                # Line-by-line code to run in this shell; nothing (and a failure) on error.
                $CONDA_EXE shell.fish $cmd $argv | source
            case install update upgrade remove uninstall
                $CONDA_EXE $cmd $argv
                and $CONDA_EXE shell.fish reactivate | source
            case '*'
                $CONDA_EXE $cmd $argv
        end
    end
end

if not set -q CONDA_SHLVL
    set -gx CONDA_SHLVL 0
    set -gx PATH (dirname (dirname $CONDA_EXE))/condabin $PATH
end
"#;

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

const XONSH_FUNCTIONS: &str = r#"
def _conda_eval(cmd, args):
    import subprocess as _sp, sys as _sys
    # The binary prints code to run in this session; on error it prints nothing and fails.
    r = _sp.run([$CONDA_EXE, "shell.xonsh", cmd] + list(args), capture_output=True, text=True, env=${...}.detype())
    if r.returncode != 0:
        _sys.stderr.write(r.stderr)
        return r.returncode
    execx(r.stdout)
    return 0

def _conda_main(args, stdin=None):
    import subprocess as _sp
    if args and args[0] in ("activate", "deactivate"):
        return _conda_eval(args[0], args[1:])
    rc = _sp.run([$CONDA_EXE] + list(args), env=${...}.detype()).returncode
    if rc == 0 and args and args[0] in ("install", "update", "upgrade", "remove", "uninstall"):
        return _conda_eval("reactivate", [])
    return rc

aliases["conda"] = _conda_main
if "CONDA_SHLVL" not in ${...}:
    $CONDA_SHLVL = "0"
    $PATH.insert(0, __import__("os").path.join(__import__("os").path.dirname(__import__("os").path.dirname($CONDA_EXE)), "condabin"))
"#;

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

const POWERSHELL_HOOK: &str = r#"if (-not $Env:CONDA_SHLVL) {
    $Env:CONDA_SHLVL = '0'
    # Only condabin on PATH: it exposes `conda` and nothing else of the root prefix.
    $Env:PATH = (Join-Path $Env:_CONDA_ROOT 'condabin') + [IO.Path]::PathSeparator + $Env:PATH
}
$CondaModuleArgs = @{ChangePs1 = $True}
Import-Module (Join-Path $Env:_CONDA_ROOT 'shell/condabin/Conda.psm1') -ArgumentList $CondaModuleArgs -Global -Force
Remove-Variable CondaModuleArgs
"#;

/// The PowerShell module the hook imports (`shell/condabin/Conda.psm1`): `conda` (an alias of
/// `Invoke-Conda`) runs activate/deactivate in the session and re-activates after package
/// changes; the prompt shows `CONDA_PROMPT_MODIFIER`.
pub fn powershell_module() -> &'static str {
    r#"# The conda module for PowerShell, imported by `conda shell.powershell hook`.
param([parameter(Position = 0, Mandatory = $false)] [Hashtable] $CondaModuleArgs = @{})

if (-not $CondaModuleArgs.ContainsKey('ChangePs1')) {
    $CondaModuleArgs.ChangePs1 = $True
}

# The conda executable, with the extra arguments of a python-based conda (_CE_M, _CE_CONDA).
function Invoke-CondaExe {
    $extra = @($Env:_CE_M, $Env:_CE_CONDA) | Where-Object { $_ }
    & $Env:CONDA_EXE @extra @args
}

# activate/deactivate/reactivate: the executable prints PowerShell code for this session. On
# error it prints nothing and fails, and the session stays as it was.
function Invoke-CondaShellCommand {
    $code = Invoke-CondaExe shell.powershell @args | Out-String
    if ($LASTEXITCODE -eq 0 -and $code.Trim()) {
        Invoke-Expression $code
    }
}

function Enter-CondaEnvironment { Invoke-CondaShellCommand activate @args }

function Exit-CondaEnvironment { Invoke-CondaShellCommand deactivate @args }

function Invoke-Conda {
    if ($args.Count -eq 0) {
        Invoke-CondaExe
        return
    }
    $command = $args[0]
    $rest = @($args | Select-Object -Skip 1)
    switch -Exact ($command) {
        'activate' { Enter-CondaEnvironment @rest; break }
        'deactivate' { Exit-CondaEnvironment @rest; break }
        { $_ -in @('install', 'update', 'upgrade', 'remove', 'uninstall') } {
            Invoke-CondaExe $command @rest
            if ($LASTEXITCODE -eq 0) { Invoke-CondaShellCommand reactivate }
            break
        }
        default { Invoke-CondaExe $command @rest }
    }
}

if ($CondaModuleArgs.ChangePs1) {
    # Keep the user's prompt, with the environment's name in front of it.
    # In the global scope: a re-import (-Force) must find the backup and not wrap twice.
    if (-not (Test-Path Function:\global:CondaPromptBackup)) {
        if (Test-Path Function:\global:prompt) {
            Set-Item -Path Function:\global:CondaPromptBackup -Value (Get-Item Function:\global:prompt).ScriptBlock
        } else {
            function global:CondaPromptBackup { "PS $($ExecutionContext.SessionState.Path.CurrentLocation)> " }
        }
    }
    function global:prompt {
        if ($Env:CONDA_PROMPT_MODIFIER) {
            $Env:CONDA_PROMPT_MODIFIER | Write-Host -NoNewline
        }
        CondaPromptBackup
    }
}

New-Alias -Name conda -Value Invoke-Conda -Force
Export-ModuleMember -Function Invoke-Conda, Enter-CondaEnvironment, Exit-CondaEnvironment -Alias conda
"#
}

/// The csh dispatcher sourced by the `conda` alias (`etc/profile.d/conda-dispatch.csh`).
pub fn csh_dispatcher() -> &'static str {
    r#"# Sourced by the `conda` alias from `conda shell.csh hook`.
set __conda_cmd = "$1"
# csh's prompt is a shell variable: hand it to taipan so activation can prefix it.
if ( $?prompt ) then
    setenv __CONDA_CSH_PROMPT $prompt:q
endif
if ( "$__conda_cmd" == "activate" || "$__conda_cmd" == "deactivate" ) then
    set __conda_code = "`$CONDA_EXE shell.csh $argv:q`"
    if ( $status == 0 ) eval "$__conda_code"
    unset __conda_code
else if ( "$__conda_cmd" == "install" || "$__conda_cmd" == "update" || "$__conda_cmd" == "upgrade" || "$__conda_cmd" == "remove" || "$__conda_cmd" == "uninstall" ) then
    $CONDA_EXE $argv:q
    if ( $status == 0 ) eval "`$CONDA_EXE shell.csh reactivate`"
else
    $CONDA_EXE $argv:q
endif
unset __conda_cmd
if ( $?__CONDA_CSH_PROMPT ) unsetenv __CONDA_CSH_PROMPT
rehash
"#
}
