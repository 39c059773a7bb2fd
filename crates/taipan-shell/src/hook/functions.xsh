
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
# A bare `deactivate` leaves the environment, as a venv's does.
aliases["deactivate"] = lambda args, stdin=None: _conda_main(["deactivate"] + list(args))
if "CONDA_SHLVL" not in ${...}:
    $CONDA_SHLVL = "0"
    $PATH.insert(0, __import__("os").path.join(__import__("os").path.dirname(__import__("os").path.dirname($CONDA_EXE)), "condabin"))
