#!/usr/bin/env bash
# The main job on an embedded default, offline: `taipan deploy` of the default distribution on
# this Debian/Ubuntu (or RedHat-family) server, for a throwaway user, then use it like Anaconda,
# run the deployment again (nothing to do), and uninstall.
#
#   ./scripts/demo.sh [--keep]     as root, or with sudo (--keep leaves the user and the
#                                  installation in place)
#
# It installs Debian packages on this machine (the system libraries Anaconda needs, with
# apt-get) and creates the user `taipan-demo`; nothing else outside a temporary directory.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ "$(id -u)" != 0 ]; then
    if command -v sudo > /dev/null 2>&1; then exec sudo -E "$0" "$@"; fi
    echo "scripts/demo.sh deploys for a throwaway user and installs system packages: run it as root." >&2
    exit 1
fi
keep=0
[ "${1:-}" = "--keep" ] && keep=1
cd "$here"
step() { printf '\n==> %s\n' "$*"; }

step "Building taipan and the demo channel's writer (release: about 8 minutes on 2 cores from a clean checkout, seconds afterwards)"
cargo build --release -p taipan -p taipan-testkit --example demo_channel
taipan_bin="$here/target/release/taipan"

work="$(mktemp -d "${TMPDIR:-/tmp}/taipan-demo.XXXXXX")"
chmod 755 "$work"
user="taipan-demo"
cleanup() {
    if [ "$keep" = 0 ]; then
        userdel -r "$user" > /dev/null 2>&1 || true
        rm -rf "$work"
    fi
}
trap cleanup EXIT
id "$user" > /dev/null 2>&1 || useradd -m -s /bin/bash "$user"
cp "$taipan_bin" "$work/taipan"
target/release/examples/demo_channel "$work/channel" > /dev/null
chmod -R a+rX "$work"
taipan=("$work/taipan" deploy --user "$user" --no-upgrade --log-file "$work/deploy.log")

step "The plan (nothing is changed)"
"${taipan[@]}" --dry-run
step "Deploying (system packages, the installer, conda init; the update is skipped offline)"
"${taipan[@]}"

# As the user, in a login-like interactive bash (a pseudo-terminal, so bash has job control).
as_user() {
    local home
    home="$(getent passwd "$user" | cut -d: -f6)"
    setpriv --reuid "$user" --regid "$user" --init-groups \
        env -i HOME="$home" PATH=/usr/bin:/bin TERM=dumb \
        script -qec "bash -i -c $(printf '%q' "$1")" /dev/null
}
step "Using it as $user: a new shell has conda (conda init edited ~/.bashrc)"
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

step "Deploying again: every step is already done"
"${taipan[@]}"
step "Uninstalling"
"${taipan[@]}" --uninstall --yes
