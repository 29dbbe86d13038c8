#!/usr/bin/env bash
# Builds the Dockerfile's default target (the release build stage, then the
# runtime) without a container registry, to check the path users take with
# the public images. The base images are made locally: the Debian one by
# scripts/install-docker-images.sh, and a Rust builder image from it plus
# this machine's Rust toolchain (the version rust-toolchain/rust-version
# asks for, 1.95), gcc and libc6-dev. Not part of scripts/test.sh: it
# compiles the project in release mode (minutes on 2 cores).
#
#   scripts/docker-build-release.sh [TAG]     (default cpr-milter:local)
#
# Cargo inside the build fetches crates from crates.io.
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

if ! docker image inspect "$builder" >/dev/null 2>&1; then
    ctx="${CARGO_TARGET_DIR:-target}/docker-rust-builder"
    rm -rf "$ctx"
    mkdir -p "$ctx"
    trap 'rm -rf "$ctx"' EXIT
    # The toolchain without its documentation.
    tar -C "$toolchain" --exclude=./share/doc -c . | (mkdir -p "$ctx/rust" && tar -C "$ctx/rust" -x)
    cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $base
RUN apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev ca-certificates binutils \\
    && rm -rf /var/lib/apt/lists/*
COPY rust /usr/local/rust
ENV PATH=/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    CARGO_HOME=/usr/local/cargo
DOCKERFILE
    docker build -t "$builder" "$ctx"
fi

docker build --build-arg "DEBIAN_IMAGE=$base" --build-arg "RUST_IMAGE=$builder" -t "$tag" .
docker image ls "$tag"
