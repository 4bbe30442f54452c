#!/usr/bin/env bash
# Stops the lab that start.sh started in DIR: only the processes recorded in DIR/pids, never by name.
# Order: the OpenStack services first (TERM), then PostgreSQL (INT = fast shutdown), RabbitMQ, epmd.
# Anything still alive after 20 s gets SIGKILL. Usage: stop.sh DIR [--purge]   (--purge also deletes DIR)
set -uo pipefail
LAB=${1:?usage: stop.sh DIR [--purge]}
[ -d "$LAB/pids" ] || exit 0

stop_pids() {  # signal pidfile...
  local sig=$1 f p pids=() i alive; shift
  for f in "$@"; do
    [ -f "$f" ] || continue
    p=$(cat "$f")
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill "-$sig" "$p" 2>/dev/null; pids+=("$p"); fi
    rm -f "$f"
  done
  for i in $(seq 1 100); do
    alive=0
    for p in "${pids[@]}"; do
      # A zombie (state Z) has exited; this sandbox's PID 1 reaps orphans only now and then.
      if kill -0 "$p" 2>/dev/null && [ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" != Z ]; then alive=1; fi
    done
    [ $alive = 0 ] && return 0
    sleep 0.2
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  return 0
}

shopt -s nullglob
services=()
for f in "$LAB"/pids/*.pid; do
  case $(basename "$f" .pid) in postgres|rabbitmq|epmd) ;; *) services+=("$f") ;; esac
done
stop_pids TERM "${services[@]}"
stop_pids INT "$LAB/pids/postgres.pid"
stop_pids TERM "$LAB/pids/rabbitmq.pid"
stop_pids TERM "$LAB/pids/epmd.pid"
# The owner watchdog (start.sh), unless it is the one running this script.
if [ -f "$LAB/watchdog.pid" ]; then
  wd=$(cat "$LAB/watchdog.pid")
  if [ "$wd" != "$$" ]; then kill "$wd" 2>/dev/null; fi
  rm -f "$LAB/watchdog.pid"
fi
if [ "${2:-}" = --purge ] && [ -e "$LAB/.masakari-lab" ]; then rm -rf "$LAB"; fi
echo "lab stopped"
