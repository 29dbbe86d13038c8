#!/usr/bin/env bash
# The project's test command (the README's, and what .ci/run calls).
#
#  1. installs what the tests need when it is missing (Debian's postfix
#     package for the end-to-end tests; rustfmt/clippy via rustup if absent),
#  2. cargo fmt --check, cargo clippy -D warnings, cargo test --workspace.
#
# Idempotent; safe to run again. The end-to-end tests start private Postfix
# instances on 127.0.0.1 and need root (as does installing postfix).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

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

step "Checking for Postfix (needed by the end-to-end tests)"
if [ -x /usr/sbin/postfix ] && [ -x /usr/lib/postfix/sbin/master ]; then
    echo "postfix is installed: $(/usr/sbin/postconf -h mail_version 2>/dev/null || echo '?')"
else
    command -v apt-get >/dev/null 2>&1 || die "postfix is missing and apt-get is not available; install Debian's postfix package"
    step "Installing postfix (apt-get)"
    as_root apt-get update
    # No debconf questions. The tests never use the system instance; they
    # start their own on free ports of 127.0.0.1.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postfix
    [ -x /usr/sbin/postfix ] || die "postfix installation failed"
fi

as_root ./scripts/install-sendmail.sh  # Sendmail, unpacked privately, for tests/sendmail_e2e.rs
as_root ./scripts/install-docker-images.sh  # Debian base image for tests/docker_e2e.rs (when Docker is present)

step "Checking for rustfmt and clippy"
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        command -v rustup >/dev/null 2>&1 || die "cargo $component missing and rustup not available"
        echo "installing $component with rustup"
        rustup component add "$component"
    fi
done

if [ "$(id -u)" -ne 0 ]; then
    echo "WARNING: not running as root; the Postfix end-to-end tests will fail." >&2
fi

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace (includes the end-to-end tests against Postfix)"
cargo test --workspace

step "All checks passed"
