#!/bin/sh
# NAME:  @RAW_NAME@
# VER:   @RAW_VERSION@
# PLAT:  linux-64
# PAYLOAD_SHA256: @PAYLOAD_SHA256@
# A taipan installer: run it with `bash THIS_FILE.sh [-b] [-p PREFIX]`; `-h` for help.
set -eu

unset LD_LIBRARY_PATH LD_PRELOAD LD_AUDIT CONDARC MAMBARC PYTHON_SYSCONFIGDATA_NAME _CONDA_PYTHON_SYSCONFIGDATA_NAME 2>/dev/null || true

INSTALLER_NAME=@NAME@
INSTALLER_VER=@VERSION@
INSTALLER_PLAT=linux-64
INSTALLER_TYPE=SH
INSTALLER_PATH="$0"
HEADER_SIZE=0000000000
PAYLOAD_SIZE=@PAYLOAD_SIZE@
PAYLOAD_SHA256=@PAYLOAD_SHA256@
MIN_GLIBC=@MIN_GLIBC@
INIT_MODE=@INIT_MODE@
INIT_DEFAULT=@INIT_DEFAULT@
REGISTER_ENVS=@REGISTER_ENVS@
WELCOME_TEXT=@WELCOME@
CONCLUSION_TEXT=@CONCLUSION@
DEFAULT_PREFIX="@DEFAULT_PREFIX@"

BATCH=0
FORCE=0
UPDATE=0
KEEP_PKGS=@KEEP_PKGS@
SKIP_SCRIPTS=0
TEST=0
INIT=0
PREFIX="$DEFAULT_PREFIX"

case "$0" in
    *.sh) ;;
    *) echo "ERROR: $INSTALLER_NAME's installer must be run, not sourced: bash ${0:-installer.sh}" >&2
       return 1 2>/dev/null || exit 1 ;;
esac

usage() {
    cat <<USAGE
usage: $0 [options]

Installs $INSTALLER_NAME $INSTALLER_VER

-b           run install in batch mode (without manual intervention),
             it is expected the license terms (if any) are agreed upon
-i           run install in interactive mode
-f           no error if install prefix already exists
-h           print this help message and exit
-k           keep the package cache (pkgs/) after installation
-p PREFIX    install prefix, defaults to $DEFAULT_PREFIX, must not contain spaces.
-s           skip running pre/post-install scripts
-u           update an existing installation
-t           check the installation after installing
-c           run 'conda init' after installation (batch mode only)
USAGE
}

while getopts ":bifhkp:sutc" opt; do
    case "$opt" in
        h) usage; exit 2 ;;
        b) BATCH=1 ;;
        i) BATCH=0 ;;
        f) FORCE=1 ;;
        k) KEEP_PKGS=1 ;;
        p) PREFIX="$OPTARG" ;;
        s) SKIP_SCRIPTS=1 ;;
        u) FORCE=1; UPDATE=1 ;;
        t) TEST=1 ;;
        c) INIT=1 ;;
        :) echo "ERROR: option '-$OPTARG' needs an argument, please try -h" >&2; exit 1 ;;
        *) echo "ERROR: did not recognize option '-$OPTARG', please try -h" >&2; exit 1 ;;
    esac
done

# A payload that does not match its sha256 stops the install: a file of the wrong size is
# named as truncated (or padded), any other as corrupt. The size is only looked at then:
# a process costs a millisecond.
refuse_payload() {
    actual_size=$(($(wc -c < "$INSTALLER_PATH")))
    expected_size=$((HEADER_SIZE + PAYLOAD_SIZE))
    if [ "$actual_size" -ne "$expected_size" ]; then
        echo "ERROR: $INSTALLER_PATH is damaged: $actual_size bytes, expected $expected_size. Download it again." >&2
    else
        echo "ERROR: $INSTALLER_PATH is corrupt: its payload's sha256 is $actual_sum, expected $PAYLOAD_SHA256. Download it again." >&2
    fi
    exit 1
}

payload() {
    tail -c +$((HEADER_SIZE + 1)) "$INSTALLER_PATH"
}

# Runs "$@" with the payload on stdin, read from the file itself: skipping the header leaves
# the offset right after it, and openssl and tar read the file rather than a pipe fed by
# tail. bash skips it with its own `read` (bytes, in the C locale), other shells with
# `head -c` (coreutils reads no further). Each use falls back to `payload` when it fails.
with_payload_stdin() {
    if [ -n "${BASH_VERSION:-}" ]; then
        # shellcheck disable=SC3045,SC2034 # bash only (tested above); the bytes are skipped
        { LC_ALL=C read -r -N "$HEADER_SIZE" skipped_header && "$@"; } < "$INSTALLER_PATH"
    else
        { head -c "$HEADER_SIZE" > /dev/null && "$@"; } < "$INSTALLER_PATH"
    fi
}

# The payload's sha256, into $actual_sum. openssl uses the CPU's SHA instructions (about
# twice as fast as coreutils here); sha256sum when there is no openssl or it fails. The
# digests are cut out with parameter expansions: every process costs a millisecond.
payload_sha256() {
    actual_sum=""
    if command -v openssl > /dev/null 2>&1; then
        actual_sum=$(with_payload_stdin openssl dgst -sha256 2> /dev/null) || true
        actual_sum=${actual_sum##* }
        if [ "$actual_sum" != "$PAYLOAD_SHA256" ]; then
            actual_sum=$(payload | openssl dgst -sha256 2> /dev/null) || true
            actual_sum=${actual_sum##* }
        fi
    fi
    if [ "${#actual_sum}" -ne 64 ]; then
        actual_sum=$(payload | sha256sum)
        actual_sum=${actual_sum%% *}
    fi
}

# Interactive installs check the payload before the first question: nobody should read a
# license and pick a location only to be told the file is corrupt. Batch installs save that
# pass and check while unpacking (below), before anything from the payload is used.
verify_payload_first() {
    payload_sha256
    if [ "$actual_sum" != "$PAYLOAD_SHA256" ]; then refuse_payload; fi
}

# Unpacks the payload into $STAGE while a second reader hashes it (two cores, one pass
# each; the hash may have started earlier, see SUM_PENDING); on a mismatch the staging
# directory is removed and the install stops there.
unpack_and_verify() {
    # A fresh prefix was created with its staging directory.
    if [ "$FRESH" = 0 ]; then
        rm -rf "$STAGE"
        mkdir "$STAGE"
    fi
    # 128 KiB records: a tenth of the reads and writes of tar's default.
    with_payload_stdin tar -b 256 -xf - -C "$STAGE" 2> /dev/null &
    tar_pid=$!
    if [ "$SUM_PENDING" = 1 ]; then
        read -r actual_sum <&3 || actual_sum=""
        exec 3<&-
        actual_sum=${actual_sum##* }
        # An early hash that failed is done again the usual way.
        if [ "$actual_sum" != "$PAYLOAD_SHA256" ]; then payload_sha256; fi
    else
        payload_sha256
    fi
    tar_status=0
    wait "$tar_pid" || tar_status=$?
    if [ "$actual_sum" != "$PAYLOAD_SHA256" ]; then
        rm -rf "$STAGE"
        refuse_payload
    fi
    if [ "$tar_status" != 0 ]; then
        # Once more through the pipe, with tar's messages this time.
        rm -rf "$STAGE"
        mkdir "$STAGE"
        tar_status=0
        payload | tar -xf - -C "$STAGE" || tar_status=$?
    fi
    if [ "$tar_status" != 0 ]; then
        rm -rf "$STAGE"
        echo "ERROR: could not unpack the payload into $STAGE (tar exit code $tar_status); check free space and permissions." >&2
        exit 1
    fi
}

ask_yes_no() {
    # $1: question; $2: default (yes|no). Prints the answer (yes|no).
    while :; do
        printf '%s\n[%s] >>> ' "$1" "$2" >&2
        read -r answer || answer=""
        case "$(printf '%s' "${answer:-$2}" | tr '[:upper:]' '[:lower:]')" in
            yes|y) echo yes; return ;;
            no|n) echo no; return ;;
            *) echo "Please answer 'yes' or 'no':'" >&2 ;;
        esac
    done
}

# Batch installs under bash start hashing the payload here, in the background, so that it
# overlaps the checks and the unpacking below; the digest is read before anything from the
# payload is used. Process substitution is bash syntax, hence the eval: other shells, and
# bash in POSIX mode, hash while unpacking instead.
SUM_PENDING=0
if [ "$BATCH" = 1 ] && [ -n "${BASH_VERSION:-}" ] && command -v openssl > /dev/null 2>&1; then
    # shellcheck disable=SC3028 # bash only (tested above)
    case ":${SHELLOPTS:-}:" in
        *:posix:*) ;;
        *) eval 'exec 3< <(with_payload_stdin openssl dgst -sha256 2> /dev/null)'; SUM_PENDING=1 ;;
    esac
fi
if [ "$BATCH" = 0 ]; then
    verify_payload_first
fi
if [ "$BATCH" = 0 ]; then
    printf '\nWelcome to %s %s\n\n' "$INSTALLER_NAME" "$INSTALLER_VER"
    if [ -n "$WELCOME_TEXT" ]; then printf '%s\n\n' "$WELCOME_TEXT"; fi
    license=$(payload | tar -xOf - --wildcards '*@META_DIR@/LICENSE.txt' 2>/dev/null || true)
    if [ -n "$license" ]; then
        printf 'In order to continue the installation process, please review the license\nagreement.\nPlease, press ENTER to continue\n>>> '
        read -r _ || true
        printf '%s\n' "$license"
        printf '\nDo you accept the license terms? [yes|no]\n>>> '
        while :; do
            read -r answer || answer=no
            case "$answer" in
                yes) break ;;
                no) echo "The license agreement wasn't approved, aborting installation."; exit 2 ;;
                *) printf "Please answer 'yes' or 'no':'\n>>> " ;;
            esac
        done
    fi
    printf '\n%s will now be installed into this location:\n%s\n\n  - Press ENTER to confirm the location\n  - Press CTRL-C to abort the installation\n  - Or specify a different location below\n\n[%s] >>> ' "$INSTALLER_NAME" "$PREFIX" "$PREFIX"
    read -r user_prefix || user_prefix=""
    if [ -n "$user_prefix" ]; then PREFIX="$user_prefix"; fi
fi

# A literal "~" typed at the prompt (the shell did not expand it).
# shellcheck disable=SC2088
case "$PREFIX" in
    "~") PREFIX="$HOME" ;;
    "~/"*) PREFIX="$HOME/${PREFIX#"~/"}" ;;
esac
case "$PREFIX" in
    *" "*) echo "ERROR: Cannot install into directories with spaces" >&2; exit 1 ;;
esac
if [ -e "$PREFIX" ] && [ "$FORCE" = 0 ]; then
    echo "ERROR: File or directory already exists: '$PREFIX'" >&2
    echo "If you want to update an existing installation, use the -u option." >&2
    exit 1
fi

# Whether version $1 >= $2, for dotted numbers (2.17, 2.28), compared field by field.
version_at_least() {
    have="$1." want="$2."
    while [ -n "$want" ]; do
        h=${have%%.*} w=${want%%.*}
        case "$h" in ''|*[!0-9]*) h=0 ;; esac
        case "$w" in ''|*[!0-9]*) w=0 ;; esac
        if [ "$h" -gt "$w" ]; then return 0; fi
        if [ "$h" -lt "$w" ]; then return 1; fi
        have=${have#*.} want=${want#*.}
    done
    return 0
}

if [ -n "$MIN_GLIBC" ]; then
    system_glibc="${CONDA_OVERRIDE_GLIBC:-}"
    if [ -z "$system_glibc" ]; then
        # `glibc 2.36`; without getconf, ldd's first line ends with the version.
        system_glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || ldd --version 2>/dev/null) || true
        system_glibc=${system_glibc%%"
"*}
        system_glibc=${system_glibc##* }
    fi
    if [ -z "$system_glibc" ] || ! version_at_least "$system_glibc" "$MIN_GLIBC"; then
        echo "Installer requires GLIBC >=$MIN_GLIBC, but system has ${system_glibc:-none}." >&2
        exit 1
    fi
fi

existing="$PREFIX"
while [ ! -e "$existing" ]; do
    case "$existing" in
        */*) existing=${existing%/*}; existing=${existing:-/} ;;
        *) existing=. ;;
    esac
done
# df -P: a title line, then `filesystem 1024-blocks used available capacity mount`.
df_out=$(df -Pk "$existing" 2>/dev/null) || df_out=""
set -- ${df_out##*"
"}
available_kb=${4:-0}
case "$available_kb" in ''|*[!0-9]*) available_kb=0 ;; esac
needed_kb=$((PAYLOAD_SIZE * 3 / 1024 + 51200))
if [ "$available_kb" -lt "$needed_kb" ]; then
    echo "ERROR: Not enough free disk space: $available_kb KiB available in $existing, $needed_kb KiB needed." >&2
    exit 1
fi

FRESH=0
if [ ! -e "$PREFIX" ]; then FRESH=1; fi
# A fresh prefix gets its staging directory (below) in the same call: one process fewer.
made="$PREFIX"
if [ "$FRESH" = 1 ]; then made="$PREFIX/.taipan-payload"; fi
if ! mkdir -p "$made" 2>/dev/null || [ ! -w "$PREFIX" ]; then
    echo "ERROR: Could not create directory: '$PREFIX'." >&2
    exit 1
fi
PREFIX=$(cd "$PREFIX" && pwd)
DONE=0
cleanup() {
    # A failed fresh install leaves nothing behind; a failed update no unpacked payload.
    if [ "$DONE" = 0 ] && [ "$FRESH" = 1 ]; then rm -rf "$PREFIX"; fi
    if [ "$DONE" = 0 ] && [ -n "${STAGE:-}" ]; then rm -rf "$STAGE"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
echo "PREFIX=$PREFIX"

STAGE="$PREFIX/.taipan-payload"
unpack_and_verify
CONDA="$STAGE/@BINARY@"
[ -x "$CONDA" ] || chmod +x "$CONDA"
INST_OPT=""
set -- --prefix "$PREFIX" --payload "$STAGE"
if [ "$SKIP_SCRIPTS" = 1 ]; then
    INST_OPT="--skip-scripts"
    echo "WARNING: skipping pre_install and post_install scripts (-s)" >&2
    set -- "$@" --skip-scripts
fi
if [ "$UPDATE" = 1 ]; then set -- "$@" --update; fi
if [ "$KEEP_PKGS" = 1 ]; then set -- "$@" --keep-pkgs; fi
if [ "$REGISTER_ENVS" = 1 ]; then set -- "$@" --register-envs; fi
INSTALLER_UNATTENDED="$BATCH"
export INSTALLER_NAME INSTALLER_VER INSTALLER_PLAT INSTALLER_TYPE INSTALLER_PATH INSTALLER_UNATTENDED PREFIX FORCE INST_OPT
# The embedded taipan does the rest in one process: it moves itself to $PREFIX/_conda, then
# pre_install, the environments (offline, from the unpacked cache), .condarc, bin/conda,
# the activation files, .nonadmin, registration, post_install; it removes pkgs/ (unless
# -k) and the unpacked payload.
if ! "$CONDA" installer finish "$@"; then
    echo "ERROR: the installation into $PREFIX failed (see above)." >&2
    exit 1
fi
DONE=1

init_args="bash"
if [ "$INIT_MODE" = condabin ]; then init_args="--condabin bash"; fi
case "${SHELL:-}" in *zsh) init_args="$init_args zsh" ;; esac
if [ "$INIT_MODE" != none ]; then
    if [ "$BATCH" = 1 ]; then
        if [ "$INIT" = 1 ]; then
            echo "Initializing '$PREFIX' with 'conda init'..."
            "$PREFIX/bin/conda" init $init_args
        fi
    else
        if [ "$(ask_yes_no "Do you wish to update your shell profile to automatically initialize conda?" "$INIT_DEFAULT")" = yes ]; then
            "$PREFIX/bin/conda" init $init_args
        else
            printf '\nYou have chosen to not have conda modify your shell scripts at all.\nTo activate conda'"'"'s base environment in your current shell session:\n\neval "$(%s/bin/conda shell.YOUR_SHELL_NAME hook)"\n\nTo install conda'"'"'s shell functions for easier access, first activate, then:\n\nconda init\n\n' "$PREFIX"
        fi
    fi
fi

printf '%s\n' "$CONCLUSION_TEXT"
if [ "$BATCH" = 0 ]; then printf '\nThank you for installing %s!\n' "$INSTALLER_NAME"; fi

if [ "$TEST" = 1 ]; then
    failures=0
    "$PREFIX/bin/conda" info > /dev/null || failures=$((failures + 1))
    "$PREFIX/bin/conda" list -p "$PREFIX" > /dev/null || failures=$((failures + 1))
    "$PREFIX/bin/conda" create --dry-run --offline -n installer-self-test > /dev/null 2>&1 || true
    echo "Installation check: $failures failure(s)."
    exit "$failures"
fi
exit 0
@@END_HEADER@@
