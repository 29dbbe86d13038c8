#!/usr/bin/env bash
# Builds the Debian package: target/debian/cpr-milter_<version>_amd64.deb.
#
#   ./scripts/build-deb.sh
#
# Installs cargo-deb (cargo install --locked cargo-deb) when it is missing,
# builds the release binary, writes the man pages (cpr-milter(8) from the
# command line's definitions, cpr-milter.yaml(5) from docs/man/) and the
# changelog into target/deb-assets/, and packs
# what Cargo.toml's [package.metadata.deb] lists. Prints the package's path
# on the last line.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
if ! cargo deb --version >/dev/null 2>&1; then
    echo "==> installing cargo-deb (cargo install --locked cargo-deb)"
    cargo install --locked cargo-deb
fi

echo "==> release build"
cargo build --release --locked

echo "==> man pages and changelog"
assets=target/deb-assets
rm -rf "$assets"
mkdir -p "$assets"
cargo run --release --locked --quiet --example man-pages -- "$assets" >/dev/null
cp docs/man/cpr-milter.yaml.5 debian/changelog "$assets/"
# -n: no time stamp in the archive, so the package is reproducible.
gzip -9n "$assets/cpr-milter.8" "$assets/cpr-milter.yaml.5" "$assets/changelog"

echo "==> cargo deb"
# --strip: the release profile keeps line tables for backtraces; the
# package ships the stripped binary.
deb=$(cargo deb --no-build --locked --strip | tail -n 1)
[ -f "$deb" ] || { echo "cargo deb did not report a package file" >&2; exit 1; }
echo "$deb"
