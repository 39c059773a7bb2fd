# shellcheck shell=sh
# shellcheck disable=SC3043 # `local`: every shell this runs in (dash, bash, zsh, ash) has it, as conda's own conda.sh assumes
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

# A bare `deactivate` leaves the environment, as a venv's does (without this it would run
# bin/deactivate as a child process, which cannot change this shell).
deactivate() {
    conda deactivate "$@"
}

if [ -z "${CONDA_SHLVL+x}" ]; then
    \export CONDA_SHLVL=0
    # Only condabin on PATH: it exposes `conda` and nothing else of the root prefix.
    # shellcheck disable=SC2123 # PATH is meant
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
