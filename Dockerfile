# syntax=docker/dockerfile:1
# masakari: the single executable (dist/masakari, see docs/packaging.md) on Debian 12.
#
#   docker build -t masakari .
#   docker run --rm masakari --version
#   docker run -d -p 15868:15868 -v masakari-data:/var/lib/masakari masakari            # controller, SQLite
#   docker run ... -v ./masakari.yaml:/etc/masakari/masakari.yaml:ro -e MASAKARI_CONFIG=/etc/masakari/masakari.yaml masakari
#
# One image for every role: the command is the role (--role=controller by default; --role=compute, --role=all) or a
# chore (db sync, db import-masakari ...). deploy/compose/compose.yaml runs a controller on MariaDB and, on a
# hypervisor, the compute agent with the host's libvirt socket (docs/packaging.md, "Images per role").
#
# Fence tools are not in the image; add the ones your fencing configuration uses:
#   docker build --build-arg EXTRA_PACKAGES="ipmitool fence-agents" -t masakari .

# Builder: official Node (its binary carries the SEA fuse that build.ts needs; Debian's nodejs package is not
# used). Same Debian release as the runtime, so the native addons it compiles or downloads (better-sqlite3,
# koffi) find the same glibc and libstdc++ there.
ARG NODE_IMAGE=node:20-bookworm
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first: this layer is reused as long as package.json and package-lock.json do not change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The executable extracts its addons on first use. Doing it here, into the runtime's /var/cache, proves they load
# and lets the container run with a read-only root filesystem as an unprivileged user (the files are only
# checked against their hashes then, never written).
# (/out/var/cache is created 0755 first: COPY --from below copies directory modes onto the runtime's /var.)
RUN npm run build \
 && install -d -m 0755 /out /out/var /out/var/cache /out/usr /out/usr/bin \
 && XDG_CACHE_HOME=/out/var/cache ./dist/masakari selftest native \
 && chmod -R a+rX /out/var/cache/masakari \
 && install -D -m 0755 dist/masakari /out/usr/bin/masakari

FROM debian:bookworm-slim
ARG EXTRA_PACKAGES=""
# libvirt0: the compute role's libvirt monitor loads libvirt.so.0 through koffi.
# ca-certificates: HTTPS to Keystone and Nova. tini: PID 1 that reaps the fence agents' children.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libstdc++6 libvirt0 tini ${EXTRA_PACKAGES} \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --home-dir /var/lib/masakari --no-create-home --shell /usr/sbin/nologin masakari \
 && install -d -o masakari -g masakari -m 0750 /var/lib/masakari \
 && install -d -m 0755 /etc/masakari
COPY --from=build /out/ /
# XDG_CACHE_HOME: where the executable finds (or would extract) its native addons, see the build stage.
# The API listens on all interfaces inside the container (the default outside one is 127.0.0.1).
# UV_THREADPOOL_SIZE: libvirt calls wait on libuv's threadpool (4 threads by default, one taken by libvirt's event
# loop); calls to frozen libvirt daemons must not starve file and DNS work. It only counts when set before start.
ENV XDG_CACHE_HOME=/var/cache \
    MASAKARI_API__LISTEN=0.0.0.0:15868 \
    UV_THREADPOOL_SIZE=16
USER masakari
WORKDIR /var/lib/masakari
VOLUME ["/var/lib/masakari"]
EXPOSE 15868
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/bin/masakari"]
CMD ["--role=controller"]
