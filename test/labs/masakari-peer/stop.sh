#!/usr/bin/env bash
# Stops the peer that start.sh started in DIR: only the processes recorded in DIR/pids, never by name.
# Order: masakari-engine, masakari-api (its workers follow their parent) and the stand-in Nova (TERM), then
# RabbitMQ, then its epmd. Anything still alive after 20 s gets SIGKILL. Usage: stop.sh DIR [--purge]
set -uo pipefail
LAB=${1:?usage: stop.sh DIR [--purge]}
[ -d "$LAB/pids" ] || exit 0

stop_pids() {  # pidfile...: TERM, wait, KILL what is left
  local f p pids=() i alive
  for f in "$@"; do
    [ -f "$f" ] || continue
    p=$(cat "$f")
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -TERM "$p" 2>/dev/null; pids+=("$p"); fi
    rm -f "$f"
  done
  for i in $(seq 1 100); do
    alive=0
    for p in "${pids[@]}"; do
      # A zombie (state Z) has exited: the machine's PID 1 may reap orphans only now and then.
      if kill -0 "$p" 2>/dev/null && [ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" != Z ]; then alive=1; fi
    done
    [ $alive = 0 ] && return 0
    sleep 0.2
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  return 0
}

stop_pids "$LAB/pids/engine.pid" "$LAB/pids/api.pid" "$LAB/pids/stand-in-nova.pid"
stop_pids "$LAB/pids/rabbitmq.pid"
stop_pids "$LAB/pids/epmd.pid"
if [ "${2:-}" = --purge ] && [ -e "$LAB/.masakari-peer" ]; then rm -rf "$LAB"; fi
echo "peer stopped"
