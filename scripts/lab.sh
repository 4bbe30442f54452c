#!/usr/bin/env bash
# The all-in-one lab on this machine (docs/lab.md): installs libvirtd + QEMU (Debian packages) and the npm
# packages, starts a libvirtd if none answers at qemu:///system, then runs `masakari --role=all` in the foreground.
#
#   sudo bash scripts/lab.sh [MASAKARI ARGS...]   start the lab; arguments go to masakari (e.g. --config FILE)
#   sudo bash scripts/lab.sh --stop-vms           stop the VMs a stopped lab left running (see below)
#   bash scripts/lab.sh --help
#
# Ctrl-C stops masakari (within shutdown_timeout, 15 s), then the private libvirtd this script started. Running VMs
# are left running, as with any libvirtd restart; `--stop-vms` starts that libvirtd again on the same data directory,
# destroys every running domain, and stops it.
# Exit status: masakari's (0 after a clean stop, 2 for a bad configuration, 1 for other failures), or 1 when the lab
# cannot start (not root, another lab on the same data directory, the API port taken, libvirtd failing).
#
# Environment:
#   LAB_DATA_DIR     data directory (SQLite store, outbox, libvirt driver state); default /var/lib/masakari-lab
#   LAB_PROTECT_ALL=1   protect every domain, not only those marked HA-enabled in their metadata
#   LAB_NO_INSTALL=1   skip apt-get and npm ci (everything is installed already; the tests use it)
# (Not MASAKARI_*: those are configuration keys.) Any MASAKARI_* variable is configuration (e.g.
# MASAKARI_API__LISTEN=127.0.0.1:15869 for a second lab, with another LAB_DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  echo
  echo "Documentation: docs/lab.md (step by step), README.md, config.example.yaml (every configuration key)."
}

mode=run
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  --stop-vms) mode=stop-vms; shift ;;
esac

if [ "$(id -u)" != 0 ]; then
  echo "lab.sh: run as root (it installs Debian packages and may start libvirtd): sudo bash scripts/lab.sh" >&2
  exit 1
fi

DATA=${LAB_DATA_DIR:-/var/lib/masakari-lab}
mkdir -p "$DATA"

# One lab per data directory: a second one would start a second libvirtd on the same state and fight over the
# store. The lock is held by this script only (fd 9 is closed for every child), so it goes when the script does.
exec 9>"$DATA/lab.lock"
if ! flock -n 9; then
  echo "lab.sh: another lab is running on $DATA (lab.sh pid $(cat "$DATA/lab.pid" 2>/dev/null || echo '?')):" \
    "stop it first (Ctrl-C in its terminal), or start a second one with another LAB_DATA_DIR and MASAKARI_API__LISTEN" >&2
  exit 1
fi
echo $$ >"$DATA/lab.pid"

if [ "${LAB_NO_INSTALL:-0}" != 1 ]; then
  # libvirt client + daemon with the QEMU driver, QEMU itself (TCG works without /dev/kvm), tini and unshare for a
  # private libvirtd when the machine has none running. Same list as .ci/install.d/libvirt.packages.
  pkgs="libvirt0 libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 tini util-linux"
  missing=""
  for p in $pkgs; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    echo "lab.sh: installing the Debian packages$missing (apt-get; usually 1 to 3 minutes, once)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  fi
  command -v node >/dev/null || { echo "lab.sh: Node.js >= 20.19 is needed (https://nodejs.org or apt-get install nodejs)" >&2; exit 1; }
  if [ ! -d node_modules ]; then
    echo "lab.sh: installing the npm packages (npm ci, first start only: usually about 2 minutes, with no output meanwhile)"
    npm ci --no-audit --no-fund 9>&-
    echo "lab.sh: npm packages installed"
  fi
fi

# Configuration: lab defaults, then the operator's MASAKARI_* variables and arguments.
export MASAKARI_DATA_DIR="$DATA"
export MASAKARI_LOG__FORMAT="${MASAKARI_LOG__FORMAT:-pretty}"
[ "${LAB_PROTECT_ALL:-0}" = 1 ] && export MASAKARI_LIBVIRT_COMPUTE__HA_ENABLED_DEFAULT=true
masakari() { node --import tsx "$repo/src/main.ts" "$@" 9>&-; }

libvirtd_pid=""
cleanup() {
  if [ -n "$libvirtd_pid" ] && kill -0 "$libvirtd_pid" 2>/dev/null; then
    echo "lab.sh: stopping the lab's libvirtd (pid $libvirtd_pid)"
    kill -TERM "$libvirtd_pid" 2>/dev/null || true
    wait "$libvirtd_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# Sets $uri: the machine's libvirtd when one answers, else a private one whose whole state is under $DATA/libvirt.
start_libvirtd() {
  uri="qemu:///system"
  if virsh -q -c "$uri" version >/dev/null 2>&1; then
    echo "lab.sh: using the running libvirtd at $uri"
    return
  fi
  # No system libvirtd (containers, machines without systemd): a private one, with the recipe the test suite uses
  # (test/labs/libvirt/start-libvirtd.sh). In its own session (setsid): Ctrl-C reaches lab.sh and masakari only,
  # and libvirtd is stopped after masakari, by cleanup.
  export LAB="$DATA/libvirt"
  mkdir -p "$LAB"
  uri="qemu+unix:///system?socket=$LAB/run/libvirt-sock"
  echo "lab.sh: no libvirtd answers at qemu:///system; starting a private one (log: $LAB/libvirtd.log)"
  setsid bash "$repo/test/labs/libvirt/start-libvirtd.sh" >>"$LAB/libvirtd.log" 2>&1 9>&- &
  libvirtd_pid=$!
  for _ in $(seq 1 100); do
    virsh -q -c "$uri" version >/dev/null 2>&1 && break
    kill -0 "$libvirtd_pid" 2>/dev/null || { echo "lab.sh: libvirtd exited; see $LAB/libvirtd.log" >&2; tail -20 "$LAB/libvirtd.log" >&2; exit 1; }
    sleep 0.3
  done
  virsh -q -c "$uri" version >/dev/null 2>&1 || { echo "lab.sh: libvirtd did not come up; see $LAB/libvirtd.log" >&2; exit 1; }
}

if [ "$mode" = stop-vms ]; then
  if virsh -q -c qemu:///system version >/dev/null 2>&1; then
    echo "lab.sh: the lab used this machine's libvirtd (qemu:///system), which is still running; its VMs are not" \
      "only the lab's: stop them one by one with: virsh destroy NAME" >&2
    exit 1
  fi
  start_libvirtd
  n=0
  for d in $(virsh -q -c "$uri" list --name); do
    echo "lab.sh: stopping VM $d"
    virsh -q -c "$uri" destroy "$d" >/dev/null
    n=$((n + 1))
  done
  echo "lab.sh: $n VM(s) stopped"
  exit 0
fi

# Validate before anything is started: a bad key exits 2 here, naming the key.
echo "lab.sh: checking the configuration"
MASAKARI_LIBVIRT__CONNECTION_URI=qemu:///system masakari --role=all "$@" --check-config >/dev/null || exit $?

# The API port: a second lab (other data directory) with the default port would fail after starting libvirtd.
listen=${MASAKARI_API__LISTEN:-127.0.0.1:15868}
if (exec 3<>"/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null; then
  echo "lab.sh: the API address $listen is in use (another lab or masakari is running?): stop it, or choose" \
    "another address with MASAKARI_API__LISTEN=127.0.0.1:PORT" >&2
  exit 1
fi

start_libvirtd

cat <<EOF
lab.sh: masakari --role=all
  data:     $DATA
  libvirt:  $uri        (for virsh: export LIBVIRT_DEFAULT_URI='$uri')
  VM pids:  $([ -n "$libvirtd_pid" ] && echo "$DATA/libvirt/run/qemu" || echo /run/libvirt/qemu)/NAME.pid   (kill -9 of that pid crashes the VM NAME)
  API:      http://$listen/v1 (noauth2)
  protect:  $([ "${LAB_PROTECT_ALL:-0}" = 1 ] && echo "every domain" || echo "domains marked HA-enabled (docs/lab.md)")
  stop:     Ctrl-C (VMs keep running; afterwards \`sudo bash scripts/lab.sh --stop-vms\` stops them)
EOF

export MASAKARI_LIBVIRT__CONNECTION_URI="$uri"
# Not exec: the trap must stop the private libvirtd after masakari exits.
# libvirt calls wait on libuv's threadpool (docs/libvirt.md): more than the default 4 threads (read at start only).
# (node itself, not the masakari function: $! must be node's pid for the signal below.)
UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-16} node --import tsx "$repo/src/main.ts" --role=all "$@" 9>&- &
masakari_pid=$!
# Ctrl-C reaches masakari directly (same process group); a SIGTERM or SIGINT sent to this script alone is passed on.
trap 'kill -TERM "$masakari_pid" 2>/dev/null || true' INT TERM
status=0
wait "$masakari_pid" || status=$?
# A trapped signal interrupts `wait` (status > 128) while masakari is still stopping: wait for its own status.
while kill -0 "$masakari_pid" 2>/dev/null; do
  status=0
  wait "$masakari_pid" || status=$?
done
if [ "$status" -gt 128 ]; then
  s=0
  wait "$masakari_pid" 2>/dev/null || s=$?
  [ "$s" != 127 ] && status=$s
fi
exit "$status"
