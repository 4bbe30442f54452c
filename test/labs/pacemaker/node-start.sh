#!/bin/bash
# Powers a cluster node on: starts node-inner.sh as PID 1 of private pid/mount/uts namespaces inside network
# namespace $NS-nN, detached. Its launcher PID goes to $LAB/nN/launcher.pid. Usage: node-start.sh N
# Called by the test helper at lab start and by the simulated BMC's power-on hook (chassis-control.sh).
set -eu
: "${LAB:?set LAB}" "${NS:?set NS}"
N=$1; D=$LAB/n$N
# Already on when the last launcher still has its child (the namespace init). Not `kill -0`: a dead launcher stays
# a zombie until this sandbox's PID 1 reaps it, and would read as alive.
if [ -f "$D/launcher.pid" ] && pgrep -P "$(cat "$D/launcher.pid")" >/dev/null; then exit 0; fi
mkdir -p "$D/etc-corosync" "$D/var-lib-corosync" "$D"/var-lib-pacemaker/{cib,pengine,blackbox,cores} "$D/var-log-pacemaker" "$D/var-log-corosync"
cp "$LAB/corosync.conf" "$D/etc-corosync/corosync.conf"
chown -R hacluster:haclient "$D/var-lib-pacemaker" "$D/var-log-pacemaker"
HERE=$(cd "$(dirname "$0")" && pwd)
setsid ip netns exec "$NS-n$N" unshare --mount --uts --pid --fork --mount-proc --propagation private \
  "$HERE/node-inner.sh" "$N" >>"$D/launcher.log" 2>&1 </dev/null &
echo $! >"$D/launcher.pid"
