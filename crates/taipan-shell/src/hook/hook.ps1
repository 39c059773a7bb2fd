if (-not $Env:CONDA_SHLVL) {
    $Env:CONDA_SHLVL = '0'
    # Only condabin on PATH: it exposes `conda` and nothing else of the root prefix.
    $Env:PATH = (Join-Path $Env:_CONDA_ROOT 'condabin') + [IO.Path]::PathSeparator + $Env:PATH
}
$CondaModuleArgs = @{ChangePs1 = $True}
Import-Module (Join-Path $Env:_CONDA_ROOT 'shell/condabin/Conda.psm1') -ArgumentList $CondaModuleArgs -Global -Force
Remove-Variable CondaModuleArgs
