#!/bin/bash
# Stops everything the lab started (by the PIDs it recorded) and deletes its namespaces. Idempotent; always safe.
: "${LAB:?set LAB}" "${NS:?set NS}"
for d in n1 n2 n3 r1; do
  L=$(cat "$LAB/$d/launcher.pid" 2>/dev/null) || continue
  for I in $(pgrep -P "$L"); do kill -9 "$I" 2>/dev/null; done   # the namespace's PID 1: takes the node down
  kill -9 "$L" 2>/dev/null
done
for p in "$LAB"/bmc/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done
HERE=$(cd "$(dirname "$0")" && pwd)
NS=$NS "$HERE/netns-down.sh"
true
