
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

# A bare `deactivate` leaves the environment, as a venv's does.
function deactivate
    conda deactivate $argv
end

if not set -q CONDA_SHLVL
    set -gx CONDA_SHLVL 0
    set -gx PATH (dirname (dirname $CONDA_EXE))/condabin $PATH
end
