#!/usr/bin/env bash
# The main job on an embedded default, offline: `taipan deploy` of the default distribution on
# this Debian/Ubuntu (or RedHat-family) server, for a throwaway user, then use it like Anaconda,
# run the deployment again (nothing to do), and uninstall. Needs root (re-runs itself with sudo).
#   ./scripts/demo.sh [--keep]     (--keep leaves the user and the installation in place)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ "$(id -u)" != 0 ]; then exec sudo -E "$0" "$@"; fi
keep=0
[ "${1:-}" = "--keep" ] && keep=1
cd "$here"
cargo build -q -p taipan
cargo build -q -p taipan-testkit --example demo_channel
work="$(mktemp -d "${TMPDIR:-/tmp}/taipan-demo.XXXXXX")"
chmod 755 "$work"
user=taipan-demo
cleanup() {
    if [ "$keep" = 0 ]; then
        userdel -r "$user" >/dev/null 2>&1 || true
        rm -rf "$work"
    fi
}
trap cleanup EXIT
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
# The binary the default distribution ships: debug symbols stripped.
strip -o "$work/taipan" target/debug/taipan 2>/dev/null || cp target/debug/taipan "$work/taipan"
target/debug/examples/demo_channel "$work/channel" >/dev/null
chmod -R a+rX "$work"
taipan=("$work/taipan" deploy --user "$user" --no-upgrade --log-file "$work/deploy.log")
set -x
"${taipan[@]}" --dry-run
"${taipan[@]}"
set +x
as_user() { setpriv --reuid "$user" --regid "$user" --init-groups env -i HOME="$(getent passwd "$user" | cut -d: -f6)" PATH=/usr/bin:/bin TERM=dumb bash -i -c "$1"; }
as_user "show() { echo \"\$ \$*\"; \"\$@\"; }
show conda info
show conda create -n demo demo-app=1.0 -y -c file://$work/channel --override-channels
show conda activate demo
show conda list
show demo-app
show conda update demo-app -y -c file://$work/channel --override-channels
show conda list --revisions
show conda deactivate
show conda env list"
set -x
"${taipan[@]}"    # again: every step already done
"${taipan[@]}" --uninstall --yes
