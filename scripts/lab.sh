#!/usr/bin/env bash
# The all-in-one lab on this machine (docs/lab.md): installs libvirtd + QEMU (Debian packages) and the npm
# packages, starts a libvirtd if none answers at qemu:///system, then runs `masakari --role=all` in the foreground.
# Ctrl-C stops masakari (and the private libvirtd this script started; running VMs of that libvirtd are left
# running, as with any libvirtd restart).
#
# Environment:
#   LAB_DATA_DIR     data directory (SQLite store, outbox, libvirt driver state); default /var/lib/masakari-lab
#   LAB_PROTECT_ALL=1   protect every domain, not only those marked HA-enabled in their metadata
#   LAB_NO_INSTALL=1   skip apt-get and npm ci (everything is installed already)
# (Not MASAKARI_*: those are configuration keys.) Any MASAKARI_* variable is configuration (e.g. MASAKARI_API__LISTEN=127.0.0.1:15868); arguments are passed
# on to masakari (e.g. --config FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "lab.sh: run as root (it installs Debian packages and may start libvirtd): sudo bash scripts/lab.sh" >&2
  exit 1
fi

DATA=${LAB_DATA_DIR:-/var/lib/masakari-lab}
mkdir -p "$DATA"

if [ "${LAB_NO_INSTALL:-0}" != 1 ]; then
  # libvirt client + daemon with the QEMU driver, QEMU itself (TCG works without /dev/kvm), tini and unshare for a
  # private libvirtd when the machine has none running. Same list as .ci/install.d/libvirt.packages.
  pkgs="libvirt0 libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 tini util-linux"
  missing=""
  for p in $pkgs; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    echo "lab.sh: installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  fi
  command -v node >/dev/null || { echo "lab.sh: Node.js >= 20.19 is needed (https://nodejs.org or apt-get install nodejs)" >&2; exit 1; }
  [ -d node_modules ] || npm ci --no-audit --no-fund
fi

libvirtd_pid=""
cleanup() {
  if [ -n "$libvirtd_pid" ] && kill -0 "$libvirtd_pid" 2>/dev/null; then
    echo "lab.sh: stopping the lab's libvirtd (pid $libvirtd_pid)"
    kill -TERM "$libvirtd_pid" 2>/dev/null || true
    wait "$libvirtd_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

uri="qemu:///system"
if virsh -q -c "$uri" version >/dev/null 2>&1; then
  echo "lab.sh: using the running libvirtd at $uri"
else
  # No system libvirtd (containers, machines without systemd): a private one, all its state under $DATA/libvirt,
  # with the recipe the test suite uses (test/labs/libvirt/start-libvirtd.sh).
  export LAB="$DATA/libvirt"
  mkdir -p "$LAB"
  uri="qemu+unix:///system?socket=$LAB/run/libvirt-sock"
  echo "lab.sh: no libvirtd answers at qemu:///system; starting a private one (log: $LAB/libvirtd.log)"
  bash "$repo/test/labs/libvirt/start-libvirtd.sh" >>"$LAB/libvirtd.log" 2>&1 &
  libvirtd_pid=$!
  for _ in $(seq 1 100); do
    virsh -q -c "$uri" version >/dev/null 2>&1 && break
    kill -0 "$libvirtd_pid" 2>/dev/null || { echo "lab.sh: libvirtd exited; see $LAB/libvirtd.log" >&2; tail -20 "$LAB/libvirtd.log" >&2; exit 1; }
    sleep 0.3
  done
  virsh -q -c "$uri" version >/dev/null 2>&1 || { echo "lab.sh: libvirtd did not come up; see $LAB/libvirtd.log" >&2; exit 1; }
fi

cat <<EOF
lab.sh: masakari --role=all
  data:     $DATA
  libvirt:  $uri        (for virsh: export LIBVIRT_DEFAULT_URI='$uri')
  API:      http://${MASAKARI_API__LISTEN:-127.0.0.1:15868}/v1 (noauth2)
  protect:  $([ "${LAB_PROTECT_ALL:-0}" = 1 ] && echo "every domain" || echo "domains marked HA-enabled (docs/lab.md)")
EOF

export MASAKARI_DATA_DIR="$DATA"
export MASAKARI_LIBVIRT__CONNECTION_URI="$uri"
export MASAKARI_LOG__FORMAT="${MASAKARI_LOG__FORMAT:-pretty}"
[ "${LAB_PROTECT_ALL:-0}" = 1 ] && export MASAKARI_LIBVIRT_COMPUTE__HA_ENABLED_DEFAULT=true
# Not exec: the trap must stop the private libvirtd after masakari exits.
# libvirt calls wait on libuv's threadpool (docs/libvirt.md): more than the default 4 threads (read at start only).
UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-16} node --import tsx "$repo/src/main.ts" --role=all "$@" &
masakari_pid=$!
trap 'kill -TERM "$masakari_pid" 2>/dev/null || true' INT TERM
wait "$masakari_pid" || true
wait "$masakari_pid" 2>/dev/null || true
