#!/usr/bin/env bash
# The main job on an embedded default, offline: build the default distribution installer,
# install it in batch mode into a temp prefix, then use it like Anaconda: activate, create an
# environment from a demo channel (built with the test kit), list, update, remove.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/taipan-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$here"
./distribution/build.sh --debug
cargo run -q -p taipan-testkit --example demo_channel -- "$work/channel" >/dev/null
export HOME="$work/home"
mkdir -p "$HOME"
set -x
bash dist/Taipan3-0.1.0-Linux-x86_64.sh -b -p "$work/taipan3"
set +x
# shellcheck disable=SC1091
source "$work/taipan3/bin/activate"
set -x
conda info
conda create -n demo "demo-app=1.0" -y -c "file://$work/channel" --override-channels
conda activate demo
conda list
demo-app
conda update demo-app -y -c "file://$work/channel" --override-channels
conda list --revisions
conda deactivate
conda remove -n demo --all -y
conda env list
