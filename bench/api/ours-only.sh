#!/bin/bash
# The three API scenarios of run.sh against this repository's controller alone (no Masakari peer): the quick loop
# for working on the API's speed. Same seeding (100 segments, 10 hosts, 100 notifications), same wrk scripts.
# Not a substitute for run.sh: ratios come only from run.sh, where both servers run in one session.
#
#   bash bench/api/ours-only.sh                 # 50 connections, 2 wrk threads, 10 s per scenario
#   PROFILE=1 bash bench/api/ours-only.sh       # also writes a V8 CPU profile per scenario (--cpu-prof) to $WORK
#   SCENARIOS="post" CONNS=10 bash bench/api/ours-only.sh
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10}
PORT=${PORT:-35879}
SCENARIOS=${SCENARIOS:-segments notification post}
PROFILE=${PROFILE:-0}
WORK=${WORK:-$(mktemp -d /tmp/masakari-ours-only-XXXXXX)}
NHOSTS=10
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

(cd "$ROOT" && node --import tsx build.ts --no-sea --outdir "$WORK/dist" >/dev/null)
cat >"$WORK/masakari.yaml" <<EOF
data_dir: $WORK
api:
  listen: 127.0.0.1:$PORT
database:
  url: sqlite:$WORK/masakari.sqlite
  auto_migrate: true
EOF
PID=
start() { # $1: profile name or ""
  local prof=()
  [ "$PROFILE" = 1 ] && [ -n "$1" ] && prof=(--cpu-prof --cpu-prof-dir "$WORK" --cpu-prof-name "$1.cpuprofile")
  node "${prof[@]}" "$WORK/dist/masakari.mjs" --role=controller --config "$WORK/masakari.yaml" >>"$WORK/masakari.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && return; sleep 0.1; done
  cat "$WORK/masakari.log" >&2; exit 1
}
stop() { [ -n "$PID" ] && kill -INT "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; PID=; }
trap stop EXIT

B=http://127.0.0.1:$PORT/v1
J='Content-Type: application/json'
start ""
for i in $(seq -f %03g 1 100); do
  curl -sf -o /dev/null -X POST "$B/segments" -H "$J" \
    -d "{\"segment\":{\"name\":\"bench-seg-$i\",\"description\":\"bench segment $i\",\"recovery_method\":\"auto\",\"service_type\":\"COMPUTE\"}}"
done
FIRST=$(curl -s "$B/segments?sort_key=name&sort_dir=asc&limit=1" | python3 -c 'import json,sys;print(json.load(sys.stdin)["segments"][0]["uuid"])')
for i in $(seq -f %02g 1 $NHOSTS); do
  curl -sf -o /dev/null -X POST "$B/segments/$FIRST/hosts" -H "$J" -d "{\"host\":{\"name\":\"bench-host-$i\",\"type\":\"COMPUTE\",\"control_attributes\":\"SSH\"}}"
done
for i in $(seq 1 100); do
  curl -sf -o /dev/null -X POST "$B/notifications" -H "$J" \
    -d "{\"notification\":{\"type\":\"VM\",\"hostname\":\"bench-host-$(printf %02d $(( (i % NHOSTS) + 1 )))\",\"generated_time\":\"$(date -u +%Y-%m-%dT%H:%M:%S)\",\"payload\":{\"event\":\"LIFECYCLE\",\"instance_uuid\":\"$(printf '5eed0000-0000-4000-8000-%012d' $i)\",\"vir_domain_event\":\"STARTED_BOOTED\"}}}"
done
NOTIF=$(curl -s "$B/notifications?sort_key=created_at&sort_dir=asc&limit=50" | python3 -c 'import json,sys;print(json.load(sys.stdin)["notifications"][49]["notification_uuid"])')
stop

for s in $SCENARIOS; do
  start "$s"
  sleep 1
  case $s in
    segments) out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$B/segments") ;;
    notification) out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$B/notifications/$NOTIF") ;;
    post) out=$(NHOSTS=$NHOSTS wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$HERE/post_notification.lua" "$B") ;;
    *) echo "unknown scenario $s" >&2; exit 2 ;;
  esac
  rss=$(awk '/^VmHWM:/{print int($2/1024)}' /proc/$PID/status)
  stop
  printf '%-13s %10s req/s  p50 %8s  p99 %8s  non-2xx %s  peak RSS %s MiB\n' "$s" \
    "$(awk '/Requests\/sec/{print $2}' <<<"$out")" "$(awk '$1=="50%"{print $2}' <<<"$out")" \
    "$(awk '$1=="99%"{print $2}' <<<"$out")" "$(awk '/Non-2xx/{print $NF}' <<<"$out" | grep . || echo 0)" "$rss"
done
[ "$PROFILE" = 1 ] && echo "profiles: $WORK/*.cpuprofile"
echo "work dir: $WORK"
