#!/usr/bin/env bash
# The project's test command (the README's, and what .ci/run calls).
#
#  1. installs what the tests need when it is missing (Debian's postfix
#     package for the end-to-end tests; rustfmt/clippy via rustup if absent;
#     each helper script scripts/install-*.sh called below),
#  2. cargo fmt --check, cargo clippy -D warnings,
#     cargo test --workspace --no-fail-fast, the Debian package test,
#  3. prints a summary: every step's result, every failing test by name, and
#     every skipped test with its reason.
#
# It keeps going after a failure so one run reports all of them, and exits
# non-zero when anything failed. Idempotent; safe to run again. The
# end-to-end tests start private Postfix instances on 127.0.0.1 and need root
# (as does installing packages).
#
# Tests that need something a plain clone cannot have (the real-mail corpus,
# a Docker engine) are skipped by name with the reason, and listed in the
# summary; with CI set and not empty, such a skip is a failure instead.
#   CPR_MILTER_CORPUS   the real-mail corpus (default ../shared/corpus/realmail
#                       relative to the repository root)
#   CPR_MILTER_SKIP_PACKAGE=1  leave out the Debian package test
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

# Cargo installed by rustup in a fresh shell may not be on PATH yet.
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust (https://rustup.rs)"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root for: $*"
    fi
}

# ---- requirements ---------------------------------------------------------

step "Checking for Postfix (needed by the end-to-end tests)"
if [ -x /usr/sbin/postfix ] && [ -x /usr/lib/postfix/sbin/master ]; then
    echo "postfix is installed: $(/usr/sbin/postconf -h mail_version 2>/dev/null || echo '?')"
else
    command -v apt-get >/dev/null 2>&1 || die "postfix is missing and apt-get is not available; install Debian's postfix package"
    step "Installing postfix (apt-get)"
    as_root apt-get update
    # No debconf questions. The tests never use the system instance; they
    # start their own on free ports of 127.0.0.1.
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=600 install -y postfix
    [ -x /usr/sbin/postfix ] || die "postfix installation failed"
fi

as_root ./scripts/install-sendmail.sh  # Sendmail, unpacked privately, for tests/sendmail_e2e.rs
as_root ./scripts/install-docker-images.sh  # Debian base image for tests/docker_e2e.rs (when Docker is present)
as_root ./scripts/install-ocr.sh  # Tesseract (dan, eng) and pdftoppm for tests/ocr_scan.rs

step "Checking for rustfmt and clippy"
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        command -v rustup >/dev/null 2>&1 || die "cargo $component missing and rustup not available"
        echo "installing $component with rustup"
        rustup component add "$component"
    fi
done

# Helper scripts of individual test areas install their own requirements
# (idempotent); one line each.
if [ -x scripts/install-package-tools.sh ]; then
    step "Tools for the Debian package test"
    scripts/install-package-tools.sh || echo "WARNING: package tools not installed" >&2
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "WARNING: not running as root; the Postfix end-to-end tests will fail." >&2
fi

# ---- checks ----------------------------------------------------------------

mkdir -p target
# Every skipped test appends "name: reason" here; start empty.
export CPR_MILTER_SKIP_LOG="$ROOT/target/test-skips.log"
: >"$CPR_MILTER_SKIP_LOG"
TEST_LOG="$ROOT/target/test-output.log"

declare -a RESULTS=()
FAILED=0
record() { # record NAME STATUS
    RESULTS+=("$(printf '%-44s %s' "$1" "$2")")
    [ "$2" = ok ] || FAILED=1
}
run_step() { # run_step NAME COMMAND...
    local name=$1
    shift
    step "$name"
    if "$@"; then record "$name" ok; else record "$name" FAILED; fi
}

run_step "cargo fmt --all -- --check" cargo fmt --all -- --check
run_step "cargo clippy -D warnings" \
    cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace --no-fail-fast (includes the end-to-end tests against Postfix)"
cargo test --workspace --no-fail-fast 2>&1 | tee "$TEST_LOG"
if [ "${PIPESTATUS[0]}" -eq 0 ]; then
    record "cargo test --workspace" ok
else
    record "cargo test --workspace" FAILED
fi

if [ "${CPR_MILTER_SKIP_PACKAGE:-}" = 1 ]; then
    echo "package test: left out (CPR_MILTER_SKIP_PACKAGE=1)" >>"$CPR_MILTER_SKIP_LOG"
else
    run_step "Debian package test (scripts/test-package.sh)" scripts/test-package.sh
fi

# ---- summary ---------------------------------------------------------------

printf '\n==================== summary ====================\n'
printf '%s\n' "${RESULTS[@]}"

# "Running tests/foo.rs (...)" names the binary; "test x ... FAILED" the test.
failures=$(awk '
    /^ *Running / { bin = ($2 == "unittests") ? $3 : $2 }
    /^ *Doc-tests / { bin = "doc-tests " $2 }
    /^test .* \.\.\. FAILED$/ { sub(/^test /, ""); sub(/ \.\.\. FAILED$/, ""); print "  " bin ": " $0 }
' "$TEST_LOG")
# cargo's own list of failed binaries also covers one that crashed
# before reporting its tests ("error: 2 targets failed:" + one per line).
targets=$(awk '/^error: [0-9]+ targets? failed/ { on = 1; next } on && /^ +`/ { print "  " $1 " " $2; next } { on = 0 }' "$TEST_LOG")
single=$(sed -n 's/^error: test failed, to rerun pass `\(.*\)`$/  \1/p' "$TEST_LOG")
if [ -n "$failures" ]; then
    printf '\nFailed tests:\n%s\n' "$failures"
fi
if [ -n "$targets$single" ]; then
    printf '\nFailed test binaries (cargo test):\n%s\n' "${targets:-$single}"
fi

if [ -s "$CPR_MILTER_SKIP_LOG" ]; then
    printf '\nSkipped (%s):\n' "$(wc -l <"$CPR_MILTER_SKIP_LOG")"
    sed 's/^/  /' "$CPR_MILTER_SKIP_LOG"
else
    printf '\nSkipped: none\n'
fi

if [ "$FAILED" -ne 0 ]; then
    printf '\nRESULT: FAILED (full test output in %s)\n' "${TEST_LOG#"$ROOT"/}"
    exit 1
fi
printf '\nRESULT: all checks passed\n'
