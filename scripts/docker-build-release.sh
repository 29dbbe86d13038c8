#!/usr/bin/env bash
# Builds the Dockerfile's default target (the release build stage, then the
# runtime) without a container registry, to check the path users take with
# the public images. The base images are made locally: the Debian one by
# scripts/install-docker-images.sh, and a Rust builder image from it plus
# this machine's Rust toolchain (the version rust-toolchain/rust-version
# asks for, 1.95), gcc and libc6-dev, and the crates of Cargo.lock vendored
# from the local cargo cache (`cargo vendor --offline`), so the build stage
# needs no network. Not part of scripts/test.sh: it compiles the project in
# release mode (minutes on 2 cores).
#
#   scripts/docker-build-release.sh [TAG]     (default cpr-milter:local)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
tag="${1:-cpr-milter:local}"

./scripts/install-docker-images.sh
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
base="${CPR_DOCKER_BASE_IMAGE:-cpr-milter-test/debian:${codename:-bookworm}}"
docker image inspect "$base" >/dev/null 2>&1 || { echo "no base image $base" >&2; exit 1; }

rustc_bin=$(rustup which rustc 2>/dev/null || command -v rustc)
toolchain=$(cd "$(dirname "$rustc_bin")/.." && pwd -P)
version=$("$rustc_bin" --version | awk '{print $2}')
builder="cpr-milter-test/rust:${version}-${codename:-bookworm}"

work="${CARGO_TARGET_DIR:-target}/docker-rust-builder"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# The toolchain image, kept between runs (tagged with the Rust version).
if ! docker image inspect "$builder" >/dev/null 2>&1; then
    mkdir -p "$work/toolchain/rust"
    # The toolchain without its documentation.
    tar -C "$toolchain" --exclude=./share/doc -c . | tar -C "$work/toolchain/rust" -x
    cat >"$work/toolchain/Dockerfile" <<DOCKERFILE
FROM $base
RUN apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev binutils \\
    && rm -rf /var/lib/apt/lists/*
COPY rust /usr/local/rust
ENV PATH=/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    CARGO_HOME=/usr/local/cargo
DOCKERFILE
    docker build -t "$builder" "$work/toolchain"
    rm -rf "$work/toolchain"
fi

# On top, this Cargo.lock's crates, vendored; cargo is told to use them.
mkdir -p "$work/offline"
cargo vendor --locked --offline "$work/offline/vendor" >/dev/null
cat >"$work/offline/config.toml" <<CONFIG
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "/usr/local/cargo/vendor"
CONFIG
printf 'FROM %s\nCOPY vendor /usr/local/cargo/vendor\nCOPY config.toml /usr/local/cargo/config.toml\n' "$builder" >"$work/offline/Dockerfile"
docker build -t "$builder-offline" "$work/offline"

docker build --build-arg "DEBIAN_IMAGE=$base" --build-arg "RUST_IMAGE=$builder-offline" -t "$tag" .
docker image ls "$tag"
