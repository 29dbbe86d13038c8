#!/usr/bin/env bash
# Installs what scripts/test-package.sh needs when it is missing: lintian,
# man-db (man -l), Postfix, util-linux's setpriv. Idempotent; needs root.
set -euo pipefail

missing=()
command -v lintian >/dev/null 2>&1 || missing+=(lintian)
command -v man >/dev/null 2>&1 || missing+=(man-db)
[ -x /usr/sbin/postfix ] || missing+=(postfix)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
command -v gzip >/dev/null 2>&1 || missing+=(gzip)

if [ "${#missing[@]}" -eq 0 ]; then
    echo "package test tools are installed"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "need root to install: ${missing[*]}" >&2; exit 1; }
echo "installing: ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y "${missing[@]}"
