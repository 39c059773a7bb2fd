#!/usr/bin/env bash
# Builds the default distribution offline: the taipan binary, then the installer `dist/Taipan3-0.1.0-Linux-x86_64.sh`.
#   distribution/build.sh [--debug]     (debug: faster to build, larger installer)
# With cargo-zigbuild on PATH (pip install ziglang cargo-zigbuild), release builds ship a
# binary that needs glibc 2.17 at most.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
profile=release
[ "${1:-}" = "--debug" ] && profile=debug
step() { printf '\n==> %s\n' "$*"; }
if [ "$profile" = release ] && command -v cargo-zigbuild >/dev/null 2>&1; then
    # Servers run old systems (CentOS 7: glibc 2.17): ship a binary linked against glibc 2.17.
    step "Building the shipped taipan for glibc 2.17 (cargo-zigbuild, release: about 7 minutes on 2 cores from clean)"
    cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.17 -p taipan
    binary="target/x86_64-unknown-linux-gnu/release/taipan"
    step "Building taipan for this machine (release: about 7 minutes from clean)"
    cargo build --release -p taipan
else
    step "Building taipan ($profile: about $([ "$profile" = release ] && echo 7 || echo 4) minutes on 2 cores from clean)"
    if [ "$profile" = release ]; then cargo build --release -p taipan; else cargo build -p taipan; fi
    binary="target/$profile/taipan"
fi
shipped="$(mktemp -d)/taipan"
# Debug symbols are not shipped.
strip -o "$shipped" "$binary" 2>/dev/null || cp "$binary" "$shipped"
# The default distribution is embedded in the binary: construct.yaml from here, and a local
# channel holding taipan packaged from the shipped binary.
step "Building the installer (offline, a few seconds)"
"target/$profile/taipan" installer build --default -o dist --taipan-binary "$shipped"
