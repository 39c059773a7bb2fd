# Sourced by the `conda` alias from `conda shell.csh hook`.
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
