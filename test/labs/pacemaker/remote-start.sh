#!/bin/bash
# Powers the pacemaker-remote node "remote1" on: remote-inner.sh as PID 1 of private namespaces inside $NS-r1,
# detached; launcher PID in $LAB/r1/launcher.pid. Called at lab start and by its BMC's power-on hook.
set -eu
: "${LAB:?set LAB}" "${NS:?set NS}"
D=$LAB/r1
if [ -f "$D/launcher.pid" ] && pgrep -P "$(cat "$D/launcher.pid")" >/dev/null; then exit 0; fi
mkdir -p "$D/var-log-pacemaker" "$D/var-lib-pacemaker"
chown -R hacluster:haclient "$D/var-log-pacemaker" "$D/var-lib-pacemaker"
HERE=$(cd "$(dirname "$0")" && pwd)
setsid ip netns exec "$NS-r1" unshare --mount --uts --pid --fork --mount-proc --propagation private \
  "$HERE/remote-inner.sh" >>"$D/launcher.log" 2>&1 </dev/null &
echo $! >"$D/launcher.pid"
