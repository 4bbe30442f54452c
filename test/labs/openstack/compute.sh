#!/usr/bin/env bash
# Fails or repairs one fake compute host of the lab: compute.sh DIR N kill|start
#   kill   SIGKILL the nova-compute process of fake-host-N: the host "dies" without telling anyone,
#          as in a power loss; Nova shows its service down after service_down_time (20 s in the lab).
#   start  start it again (a repaired host); it is schedulable after its first heartbeat (~5 s).
set -euo pipefail
LAB=${1:?usage: compute.sh DIR N kill|start}; N=${2:?host number}; ACTION=${3:?kill|start}
PIDFILE=$LAB/pids/nova-compute-$N.pid
case $ACTION in
  kill)
    [ -f "$PIDFILE" ] || { echo "fake-host-$N is not running" >&2; exit 1; }
    kill -KILL "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE" ;;
  start)
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then echo "fake-host-$N is already running" >&2; exit 1; fi
    "$LAB/bin/start-compute" "$N" ;;
  *) echo "unknown action $ACTION (kill|start)" >&2; exit 2 ;;
esac
