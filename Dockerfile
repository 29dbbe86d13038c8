# cpr-milter as a container: a build stage, then a small Debian runtime that
# runs the milter as an unprivileged user. The configuration is mounted at
# /etc/cpr-milter/milter.yaml; the milter listens on inet:0.0.0.0:8899 inside
# the container network (set `listen` accordingly) and logs to stderr
# (`log: destination: stderr`), so `docker logs` shows the audit lines.
#
#   docker build -t cpr-milter .
#
# The base images are build arguments, so a site without access to a public
# registry can pass its own (scripts/docker-build-release.sh does). The
# project's tests build `--target runtime-base` (the first stage, so even
# Docker's legacy builder builds nothing else) on a Debian image made with
# debootstrap, and add the binary they built already on top, to avoid
# compiling twice.
ARG DEBIAN_IMAGE=debian:bookworm-slim
ARG RUST_IMAGE=rust:1.95-bookworm

# ---------------------------------------------------------------------------
# What every runtime image has: the user, the config directory, the health
# check, the entry point. Copies nothing from the build context; the binary
# comes last, at /usr/bin/cpr-milter.
FROM ${DEBIAN_IMAGE} AS runtime-base
RUN useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin cpr-milter \
    && install -d -m 0755 /etc/cpr-milter
# Healthy only when the milter answers a milter option negotiation
# (SMFIC_OPTNEG, protocol version 6, offering what Postfix offers) with its
# own: a listening socket alone
# is not enough. bash's /dev/tcp and coreutils, nothing to install.
RUN printf '%s\n' \
        '#!/bin/bash' \
        '# Exit 0 when the milter on 127.0.0.1:${1:-8899} answers SMFIC_OPTNEG.' \
        'exec 3<>"/dev/tcp/127.0.0.1/${1:-8899}" || exit 1' \
        "printf '\\0\\0\\0\\015O\\0\\0\\0\\006\\0\\0\\001\\377\\0\\037\\377\\377' >&3 || exit 1" \
        'reply=$(timeout 3 head -c 5 <&3 | od -An -tx1 | tr -d " \n")' \
        "printf '\\0\\0\\0\\001Q' >&3 2>/dev/null" \
        '[ "${reply:8:2}" = 4f ]' \
        > /usr/local/bin/cpr-milter-healthcheck \
    && chmod 0755 /usr/local/bin/cpr-milter-healthcheck
USER cpr-milter
EXPOSE 8899
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/cpr-milter-healthcheck"]
ENTRYPOINT ["/usr/bin/cpr-milter"]
CMD ["run", "--config", "/etc/cpr-milter/milter.yaml"]

# ---------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin cpr-milter \
    && install -m 0755 target/release/cpr-milter /usr/local/bin/cpr-milter \
    && strip /usr/local/bin/cpr-milter

# ---------------------------------------------------------------------------
# The default target: the runtime with the binary from the build stage.
FROM runtime-base AS runtime
COPY --from=build /usr/local/bin/cpr-milter /usr/bin/cpr-milter
