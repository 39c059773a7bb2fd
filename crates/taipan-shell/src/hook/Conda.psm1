# The conda module for PowerShell, imported by `conda shell.powershell hook`.
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
# A bare `deactivate` leaves the environment, as a venv's does.
New-Alias -Name deactivate -Value Exit-CondaEnvironment -Force
Export-ModuleMember -Function Invoke-Conda, Enter-CondaEnvironment, Exit-CondaEnvironment -Alias conda, deactivate
