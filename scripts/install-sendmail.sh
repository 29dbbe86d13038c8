#!/usr/bin/env bash
# Sendmail for the end-to-end tests (tests/sendmail_e2e.rs), without
# installing it: Debian's sendmail and postfix packages conflict, so the
# packages are fetched with `apt-get download` and unpacked with `dpkg -x`
# into a private directory (default target/sendmail/root; env
# CPR_SENDMAIL_DIR overrides target/sendmail). The libraries sendmail-bin
# links against, m4 (to build sendmail.cf from the m4 macros) and Cyrus SASL's
# tools (saslpasswd2, for the SMTP AUTH case) are installed normally: none of
# them conflicts with Postfix.
#
# Idempotent: does nothing when the unpacked sendmail runs and the tools are
# there. Needs root for apt-get.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

dest="${CPR_SENDMAIL_DIR:-${CARGO_TARGET_DIR:-target}/sendmail}"
root="$dest/root"
binary="$root/usr/libexec/sendmail/sendmail"
cf_dir="$root/usr/share/sendmail/cf"

usable() {
    [ -x "$binary" ] && [ -f "$cf_dir/m4/cf.m4" ] &&
        command -v m4 >/dev/null 2>&1 &&
        command -v saslpasswd2 >/dev/null 2>&1 &&
        ! ldd "$binary" 2>/dev/null | grep -q 'not found'
}

# Not `sendmail -d0.1`: on a host with an unqualified name it sleeps 60 s.
report() { echo "sendmail for the tests: $(cat "$dest/version" 2>/dev/null || echo '?') in $root"; }

if usable; then
    report
    exit 0
fi

[ "$(id -u)" -eq 0 ] || { echo "install-sendmail.sh: needs root (apt-get)" >&2; exit 1; }
command -v apt-get >/dev/null 2>&1 || { echo "install-sendmail.sh: needs apt-get (Debian)" >&2; exit 1; }

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@"
}

apt-get -o DPkg::Lock::Timeout=600 update
download="$dest/download"
rm -rf "$download"
mkdir -p "$download"
# apt's sandbox user must be able to write the downloads.
chmod 0777 "$download"
(cd "$download" && apt-get download sendmail-bin sendmail-cf)

# What sendmail-bin needs at run time, less the packages that would
# install Sendmail itself: its Depends line, versions and alternatives
# dropped (first alternative taken).
deps=$(dpkg-deb -f "$download"/sendmail-bin_*.deb Depends |
    tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' |
    grep -v -E '^(sendmail-.*|procps|debconf|init-system-helpers|)$' || true)
# shellcheck disable=SC2086
apt_install m4 sasl2-bin libsasl2-modules $deps

rm -rf "$root"
mkdir -p "$root"
for deb in "$download"/sendmail-bin_*.deb "$download"/sendmail-cf_*.deb; do
    dpkg -x "$deb" "$root"
done
dpkg-deb -f "$download"/sendmail-bin_*.deb Version > "$dest/version"
rm -rf "$download"

usable || { echo "install-sendmail.sh: unpacked sendmail is not usable:" >&2; ldd "$binary" >&2 || true; exit 1; }
report
