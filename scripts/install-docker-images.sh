#!/usr/bin/env bash
# The Debian base image the Docker end-to-end tests (tests/docker_e2e.rs)
# build cpr-milter's and the demo Postfix's images on. No container registry
# is needed: the image is made locally from Debian's packages with
# debootstrap (minbase, the host's Debian release, so binaries built on the
# host run in it) and `docker import`.
#
# Idempotent: does nothing when the image exists. Without a Docker engine it
# says so and exits 0 (the tests then report themselves skipped; under CI
# they fail). Needs root (debootstrap, apt-get).
#
# Env: CPR_DOCKER_BASE_IMAGE (default cpr-milter-test/debian:CODENAME),
#      DEBOOTSTRAP_MIRROR (default: debootstrap's own).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
codename=${codename:-bookworm}
image="${CPR_DOCKER_BASE_IMAGE:-cpr-milter-test/debian:$codename}"

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
    echo "install-docker-images.sh: no Docker engine; the Docker tests will be skipped"
    exit 0
fi
if docker image inspect "$image" >/dev/null 2>&1; then
    echo "Docker base image $image exists"
    exit 0
fi

[ "$(id -u)" -eq 0 ] || { echo "install-docker-images.sh: needs root (debootstrap)" >&2; exit 1; }
if ! command -v debootstrap >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 update
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends debootstrap
fi

work="${CARGO_TARGET_DIR:-target}/docker-rootfs"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
echo "debootstrap $codename (minbase) for $image"
# shellcheck disable=SC2086
debootstrap --variant=minbase "$codename" "$work/rootfs" ${DEBOOTSTRAP_MIRROR:-} >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
# Like Debian's own images: no package caches or lists inside.
rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
tar -C "$work/rootfs" --numeric-owner -c . |
    docker import --change 'CMD ["bash"]' --message "debootstrap --variant=minbase $codename" - "$image"
echo "Docker base image $image built"
