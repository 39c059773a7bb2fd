#!/usr/bin/env bash
# The main job on an embedded default, offline: build a demo channel with the test kit, then
# create, list, update and remove an environment from it with `conda` (taipan).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/taipan-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$here"
cargo build -q -p taipan --bin taipan
cargo run -q -p taipan-testkit --example demo_channel -- "$work/channel" >/dev/null
# A root prefix holding bin/conda -> taipan, as an installed distribution has it.
mkdir -p "$work/root/bin" "$work/root/conda-meta"
: > "$work/root/conda-meta/history"
ln -s "$here/target/debug/taipan" "$work/root/bin/conda"
export HOME="$work/home" CONDARC="$work/root/.condarc"
mkdir -p "$HOME"
printf 'channels:\n  - file://%s/channel\n' "$work" > "$CONDARC"
conda="$work/root/bin/conda"
set -x
"$conda" create -n demo "demo-app=1.0" -y --offline
"$conda" list -n demo
"$work/root/envs/demo/bin/demo-app"
"$conda" update -n demo demo-app -y --offline
"$conda" list -n demo --revisions
"$conda" remove -n demo demo-app -y --offline
"$conda" env list
"$conda" remove -n demo --all -y
