#!/bin/bash
# API throughput and memory: masakari (this repository) vs the real OpenStack Masakari 14.0.2, on one machine.
#
#   bash bench/api/run.sh            # defaults: 50 connections, 2 wrk threads, 30 s per run, 2 rounds (~9 min)
#   CONNS=10 DURATION=15 ROUNDS=3 bash bench/api/run.sh
#
# What it does (method: bench/README.md, section "API and memory vs Masakari 14.0.2"):
#   1. checks the tools (installs nothing; prints the apt-get line for what is missing);
#   2. builds this repository's bundle (node dist/masakari.mjs) into the work dir;
#   3. starts the Masakari peer lab (test/labs/masakari-peer/start.sh) in the work dir on private ports
#      (RabbitMQ, stand-in Keystone/Nova, masakari-api with 2 workers, masakari-engine, SQLite);
#   4. starts ours (--role=controller, SQLite file, noauth2, compute_driver none);
#   5. seeds both identically through their APIs: 100 segments, 10 hosts, 100 notifications;
#   6. runs wrk on both at the same concurrency and duration, interleaved (Masakari, ours, Masakari, ours, ...):
#      GET /v1/segments (100 segments), GET /v1/notifications/{uuid}, POST /v1/notifications (unique payloads);
#   7. after each POST run checks that every 202's notification_uuid is a row in that server's database; at the end
#      kills ours with SIGKILL and checks again;
#   8. memory: RSS and PSS summed over each service's processes (theirs: API parent + workers, engine, RabbitMQ incl.
#      its epmd; not the stand-in Nova), idle after seeding and the peak sampled each second under load;
#   9. prints a markdown table with the ratios and writes it to bench/api/results/<UTC date-time>-c<CONNS>.md.
# Everything it starts is stopped by PID at exit. Loopback only.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
DURATION=${DURATION:-30}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-3}
TIMEOUT=${TIMEOUT:-30}  # wrk --timeout: Masakari answers slower than wrk's default 2 s under this load
PEER_LAB=$ROOT/test/labs/masakari-peer
PEER_PORT=${PEER_PORT:-35868}
OURS_PORT=${OURS_PORT:-35869}
RABBIT_PORT=${RABBIT_PORT:-35673}
RABBIT_DIST_PORT=${RABBIT_DIST_PORT:-35674}
EPMD_PORT=${EPMD_PORT:-34371}
NOVA_PORT=${NOVA_PORT:-35000}
NSEG=100
NHOSTS=10
NNOTIF=100
KEEP=${KEEP:-0}   # 1: leave the work dir (logs, databases, raw wrk output) in place

# ---------------------------------------------------------------------------------------------------- 1. tools
missing_pkgs=()
need() { command -v "$1" >/dev/null 2>&1 || missing_pkgs+=("$2"); }
need wrk wrk
need curl curl
need sqlite3 sqlite3
need node nodejs
need masakari-manage python3-masakari
need ss iproute2
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing_pkgs+=(rabbitmq-server)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import masakari.cmd.api, masakari.cmd.engine' 2>/dev/null || missing_pkgs+=(masakari-api masakari-engine)
if [ ${#missing_pkgs[@]} -gt 0 ]; then
  echo "missing: ${missing_pkgs[*]}" >&2
  echo "install with: DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing_pkgs[*]}" >&2
  exit 1
fi
for p in $PEER_PORT $OURS_PORT $RABBIT_PORT $RABBIT_DIST_PORT $EPMD_PORT $NOVA_PORT; do
  if ss -Hltn "sport = :$p" | grep -q .; then echo "port $p is in use (set the *_PORT variables)" >&2; exit 1; fi
done

WORK=$(mktemp -d /tmp/masakari-apibench-XXXXXX)
PEER=$WORK/peer
OURS=$WORK/ours
RAW=$WORK/raw
mkdir -p "$OURS" "$RAW"
OURS_PID=
PEER_STARTED=0
cleanup() {
  set +e
  if [ -n "$OURS_PID" ] && kill -0 "$OURS_PID" 2>/dev/null; then kill "$OURS_PID"; wait "$OURS_PID" 2>/dev/null; fi
  if [ "$PEER_STARTED" = 1 ]; then "$PEER_LAB/stop.sh" "$PEER" >/dev/null 2>&1; fi
  if [ "$KEEP" = 1 ]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# ---------------------------------------------------------------------------------------------------- 2. ours: bundle
log "building dist/masakari.mjs into $WORK/dist"
(cd "$ROOT" && npx --no-install tsx build.ts --outdir "$WORK/dist" --no-sea >"$WORK/build.log" 2>&1) || { cat "$WORK/build.log" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------- 3. the peer
# Private ports, so that it cannot collide with another peer (or the OpenStack lab) on this machine.
log "starting the Masakari peer (RabbitMQ takes ~20 s)"
PEER_STARTED=1
PEER_PORT=$PEER_PORT NOVA_PORT=$NOVA_PORT RABBIT_PORT=$RABBIT_PORT RABBIT_DIST_PORT=$RABBIT_DIST_PORT EPMD_PORT=$EPMD_PORT \
  PEER_WORKERS=2 "$PEER_LAB/start.sh" "$PEER" >"$WORK/peer-start.log" 2>&1 || { cat "$WORK/peer-start.log" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------- 4. ours
cat >"$OURS/masakari.yaml" <<EOF
data_dir: $OURS
api:
  listen: 127.0.0.1:$OURS_PORT
database:
  url: sqlite:$OURS/masakari.sqlite
  auto_migrate: true
EOF
node "$WORK/dist/masakari.mjs" --role=controller --config "$OURS/masakari.yaml" >"$OURS/masakari.log" 2>&1 &
OURS_PID=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$OURS_PORT/" && break; sleep 0.2; done
curl -sf -o /dev/null "http://127.0.0.1:$OURS_PORT/" || { cat "$OURS/masakari.log" >&2; exit 1; }

declare -A URL=([theirs]="http://127.0.0.1:$PEER_PORT" [ours]="http://127.0.0.1:$OURS_PORT")
declare -A DB=([theirs]="$PEER/masakari.db" [ours]="$OURS/masakari.sqlite")
declare -A UUIDCOL=([theirs]=notification_uuid [ours]=uuid)
declare -A NAME=([theirs]="Masakari 14.0.2" [ours]="masakari (this repo)")

# ---------------------------------------------------------------------------------------------------- memory
descendants() { # PIDs of the given roots and all their descendants
  ps -eo pid=,ppid= | awk -v roots="$*" 'BEGIN{n=split(roots,r," ");for(i=1;i<=n;i++)keep[r[i]]=1}
    {pp[$1]=$2} END{do{ch=0;for(p in pp) if(!(p in keep) && (pp[p] in keep)){keep[p]=1;ch=1}}while(ch); for(p in keep) print p}'
}
service_pids() {
  if [ "$1" = ours ]; then descendants "$OURS_PID"; return; fi
  descendants $(cat "$PEER"/pids/{api,engine,rabbitmq,epmd}.pid)
}
mem_kib() { # "RSS PSS" in KiB summed over the service's processes
  local rss=0 pss=0 r p
  for pid in $(service_pids "$1"); do
    [ -r /proc/$pid/smaps_rollup ] || continue
    r=$(awk '/^Rss:/{print $2}' /proc/$pid/smaps_rollup 2>/dev/null || echo 0)
    p=$(awk '/^Pss:/{print $2}' /proc/$pid/smaps_rollup 2>/dev/null || echo 0)
    rss=$((rss + ${r:-0})); pss=$((pss + ${p:-0}))
  done
  echo "$rss $pss"
}
declare -A PEAK_RSS=([theirs]=0 [ours]=0) PEAK_PSS=([theirs]=0 [ours]=0)
sampler() { # background: samples the service's memory every second into a file
  local side=$1 out=$2
  while :; do mem_kib "$side" >>"$out"; sleep 1; done
}
note_peak() {
  local side=$1 f=$2 r p
  read -r r p < <(awk '$1>r{r=$1} $2>p{p=$2} END{print r+0, p+0}' "$f")
  ((r > PEAK_RSS[$side])) && PEAK_RSS[$side]=$r
  ((p > PEAK_PSS[$side])) && PEAK_PSS[$side]=$p
  true
}

# ---------------------------------------------------------------------------------------------------- 5. seed
J='Content-Type: application/json'
jget() { /usr/bin/python3 -c "import json,sys;d=json.load(sys.stdin);print($1)"; }
seed() {
  local b=${URL[$1]}/v1 i seg first code
  for i in $(seq -f %03g 1 $NSEG); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$b/segments" -H "$J" \
      -d "{\"segment\":{\"name\":\"bench-seg-$i\",\"description\":\"bench segment $i\",\"recovery_method\":\"auto\",\"service_type\":\"COMPUTE\"}}")
    [ "$code" = 201 ] || { echo "$1: segment create answered $code" >&2; return 1; }
  done
  first=$(curl -s "$b/segments?sort_key=name&sort_dir=asc&limit=1" | jget 'd["segments"][0]["uuid"]')
  for i in $(seq -f %02g 1 $NHOSTS); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$b/segments/$first/hosts" -H "$J" \
      -d "{\"host\":{\"name\":\"bench-host-$i\",\"type\":\"COMPUTE\",\"control_attributes\":\"SSH\"}}")
    [ "$code" = 201 ] || { echo "$1: host create answered $code" >&2; return 1; }
  done
  for i in $(seq 1 $NNOTIF); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$b/notifications" -H "$J" \
      -d "{\"notification\":{\"type\":\"VM\",\"hostname\":\"bench-host-$(printf %02d $(( (i % NHOSTS) + 1 )))\",\"generated_time\":\"$(date -u +%Y-%m-%dT%H:%M:%S)\",\"payload\":{\"event\":\"LIFECYCLE\",\"instance_uuid\":\"$(printf '5eed0000-0000-4000-8000-%012d' $i)\",\"vir_domain_event\":\"STARTED_BOOTED\"}}}")
    [ "$code" = 202 ] || { echo "$1: notification create answered $code" >&2; return 1; }
  done
  [ "$(curl -s "$b/segments" | jget 'len(d["segments"])')" = $NSEG ] || { echo "$1: GET /v1/segments is not $NSEG segments" >&2; return 1; }
}
declare -A NOTIF
for side in theirs ours; do
  log "seeding $side: $NSEG segments, $NHOSTS hosts, $NNOTIF notifications"
  seed $side
  NOTIF[$side]=$(curl -s "${URL[$side]}/v1/notifications?sort_key=created_at&sort_dir=asc&limit=50" | jget 'd["notifications"][49]["notification_uuid"]')
done
sleep 3 # let both engines settle the seeded notifications
declare -A IDLE
for side in theirs ours; do IDLE[$side]=$(mem_kib $side); done
SEG_BYTES=$(curl -s "${URL[ours]}/v1/segments" | wc -c)
SEG_BYTES_THEIRS=$(curl -s "${URL[theirs]}/v1/segments" | wc -c)

# ---------------------------------------------------------------------------------------------------- 6. load
RESULTS=$WORK/results.tsv   # scenario side round rps p50ms p99ms requests non2xx errors accepted missing
: >"$RESULTS"
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; printf "%.2f", v}' <<<"$1"; }
LOAD_AT=()
run_wrk() { # side scenario round -> appends a line to RESULTS
  local side=$1 sc=$2 round=$3 out=$RAW/$sc-$side-$round.txt url args=() samp
  case $sc in
    segments) url="${URL[$side]}/v1/segments" ;;
    notification) url="${URL[$side]}/v1/notifications/${NOTIF[$side]}" ;;
    post)
      url="${URL[$side]}/v1/notifications"
      mkdir -p "$RAW/uuids-$side-$round"
      args=(-s "$HERE/post_notification.lua") ;;
  esac
  LOAD_AT+=("$(cut -d' ' -f1-3 /proc/loadavg)")
  samp=$RAW/mem-$sc-$side-$round.txt; : >"$samp"
  sampler $side "$samp" & local spid=$!
  local before=0
  [ $sc = post ] && before=$(sqlite3 -cmd '.timeout 10000' "${DB[$side]}" 'select count(*) from notifications')
  UUID_DIR=$RAW/uuids-$side-$round RUN_TAG=$(printf '%08x' $((RANDOM * 32768 + RANDOM))) NHOSTS=$NHOSTS \
    wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout "${TIMEOUT}s" --latency "${args[@]}" "$url" >"$out" 2>&1 || true
  kill $spid; wait $spid 2>/dev/null || true
  note_peak $side "$samp"
  local rps p50 p99 reqs non2xx errs accepted=- missing=-
  rps=$(awk '/^Requests\/sec:/{print $2}' "$out")
  p50=$(to_ms "$(awk '$1=="50%"{print $2}' "$out")")
  p99=$(to_ms "$(awk '$1=="99%"{print $2}' "$out")")
  reqs=$(awk '/requests in/{print $1}' "$out")
  non2xx=$(awk '/Non-2xx/{print $NF}' "$out"); non2xx=${non2xx:-0}
  errs=$(awk '/Socket errors/{gsub(/,/,""); print $4+$6+$8+$10}' "$out"); errs=${errs:-0}
  if [ $sc = post ]; then
    sleep 2 # requests still in flight when wrk stopped may commit after it: they are rows without a counted 202
    accepted=$(awk '$1=="STATUS" && $2==202{print $3}' "$out"); accepted=${accepted:-0}
    missing=$(check_uuids $side "$RAW/uuids-$side-$round")
    local after; after=$(sqlite3 -cmd '.timeout 10000' "${DB[$side]}" 'select count(*) from notifications')
    echo "$side round $round: 202s=$accepted rows added=$((after - before)) missing=$missing" >>"$RAW/durability.txt"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $sc $side $round "$rps" "$p50" "$p99" "$reqs" "$non2xx" "$errs" "$accepted" "$missing" >>"$RESULTS"
  local extra=""; [ $sc = post ] && extra=", 202s $accepted, missing in DB $missing"
  log "$sc $side round $round: $rps req/s, p50 $p50 ms, p99 $p99 ms, non-2xx $non2xx, socket errors $errs$extra"
}
check_uuids() { # side dir -> number of 202'd uuids that are not rows of the side's database
  local side=$1 dir=$2
  cat "$dir"/uuids-*.txt 2>/dev/null >"$dir/all.txt" || : >"$dir/all.txt"
  sqlite3 -cmd '.timeout 10000' "${DB[$side]}" <<EOF
create temp table accepted(u text);
.mode list
.import '$dir/all.txt' accepted
select count(*) from accepted where u not in (select ${UUIDCOL[$side]} from notifications);
EOF
}

for sc in segments notification post; do
  for side in theirs ours; do # warm-up (not measured; not for post, whose every request adds a row)
    [ $sc = post ] && continue
    u=${URL[$side]}/v1/segments; [ $sc = notification ] && u=${URL[$side]}/v1/notifications/${NOTIF[$side]}
    wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$u" >/dev/null 2>&1 || true
  done
  for round in $(seq 1 $ROUNDS); do
    for side in theirs ours; do run_wrk $side $sc $round; done
  done
done

# ---------------------------------------------------------------------------------------------------- 7. after a crash
log "SIGKILL ours, then check every accepted notification again"
kill -9 "$OURS_PID"; wait "$OURS_PID" 2>/dev/null || true; OURS_PID=
declare -A FINAL_MISSING FINAL_ACCEPTED
for side in theirs ours; do
  all=$RAW/final-$side; mkdir -p "$all"; cat "$RAW"/uuids-$side-*/uuids-*.txt >"$all/uuids-0.txt" 2>/dev/null || :
  FINAL_ACCEPTED[$side]=$(wc -l <"$all/uuids-0.txt")
  FINAL_MISSING[$side]=$(check_uuids $side "$all")
done

# ---------------------------------------------------------------------------------------------------- 9. report
mean() { awk -v sc=$1 -v side=$2 -v col=$3 -F'\t' '$1==sc && $2==side {s+=$col; n++} END{if(n) printf "%.1f", s/n; else print "-"}' "$RESULTS"; }
sum() { awk -v sc=$1 -v side=$2 -v col=$3 -F'\t' '$1==sc && $2==side {s+=$col} END{print s+0}' "$RESULTS"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0==0 || b+0==0) print "-"; else { r=a/b; printf (r>=10 ? "%.0f×" : (r>=1 ? "%.1f×" : "%.2f×")), r } }'; }
mib() { awk -v k="$1" 'BEGIN{printf "%.0f", k/1024}'; }
LOADS=$(printf '%s; ' "${LOAD_AT[@]}")
{
  echo "### Run of $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores ($(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo | sed 's/^ *//')), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(. /etc/os-release; echo "$PRETTY_NAME"), Node $(node -v), wrk $(wrk -v 2>&1 | awk 'NR==1{print $2}'), python3-masakari $(dpkg-query -W -f='${Version}' python3-masakari)."
  echo "Load: wrk -t$THREADS -c$CONNS -d${DURATION}s --timeout ${TIMEOUT}s, $ROUNDS rounds per server, interleaved; load average (1/5/15 min) at the start of each run: ${LOADS%; }."
  echo "Data: $NSEG segments (GET /v1/segments body: ours $SEG_BYTES B, theirs $SEG_BYTES_THEIRS B), $NHOSTS hosts, $NNOTIF notifications seeded; POST payloads unique (VM LIFECYCLE/STARTED_BOOTED, fresh instance_uuid)."
  echo
  echo "| measurement | Masakari 14.0.2 | masakari (this repo) | ours / theirs |"
  echo "|---|---:|---:|---:|"
  for sc in segments notification post; do
    case $sc in
      segments) label='GET /v1/segments (100 segments)' ;;
      notification) label='GET /v1/notifications/{id}' ;;
      post) label='POST /v1/notifications (unique)' ;;
    esac
    t=$(mean $sc theirs 4); o=$(mean $sc ours 4)
    echo "| $label: req/s | $t | $o | **$(ratio "$o" "$t")** |"
    t50=$(mean $sc theirs 5); o50=$(mean $sc ours 5); t99=$(mean $sc theirs 6); o99=$(mean $sc ours 6)
    echo "| $label: p50 / p99 latency (ms) | $t50 / $t99 | $o50 / $o99 | $(ratio "$t50" "$o50") / $(ratio "$t99" "$o99") faster |"
    echo "| $label: non-2xx + socket errors | $(( $(sum $sc theirs 8) + $(sum $sc theirs 9) )) | $(( $(sum $sc ours 8) + $(sum $sc ours 9) )) | |"
  done
  echo "| POST: 202s / of them missing in the DB (ours checked after SIGKILL) | ${FINAL_ACCEPTED[theirs]} / ${FINAL_MISSING[theirs]} | ${FINAL_ACCEPTED[ours]} / ${FINAL_MISSING[ours]} | |"
  read -r tr tp <<<"${IDLE[theirs]}"; read -r orr op <<<"${IDLE[ours]}"
  echo "| memory idle after seeding: PSS (RSS) MiB | $(mib $tp) ($(mib $tr)) | $(mib $op) ($(mib $orr)) | $(ratio "$op" "$tp") |"
  echo "| memory peak under load: PSS (RSS) MiB | $(mib ${PEAK_PSS[theirs]}) ($(mib ${PEAK_RSS[theirs]})) | $(mib ${PEAK_PSS[ours]}) ($(mib ${PEAK_RSS[ours]})) | $(ratio "${PEAK_PSS[ours]}" "${PEAK_PSS[theirs]}") |"
  echo
  echo "Per run (req/s, p50 ms, p99 ms):"
  echo
  echo "| scenario | server | round | req/s | p50 | p99 | requests | non-2xx | socket errors | 202s | 202s missing in DB |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' -v t="${NAME[theirs]}" -v o="${NAME[ours]}" '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, ($2=="ours"?o:t), $3, $4, $5, $6, $7, $8, $9, $10, $11}' "$RESULTS"
  echo
  echo "Rows added vs 202s counted by wrk (rows beyond the 202s are requests in flight when wrk stopped):"
  echo
  sed 's/^/    /' "$RAW/durability.txt"
} >"$WORK/report.md"
mkdir -p "$HERE/results"
REPORT=$HERE/results/$(date -u +%Y-%m-%dT%H%MZ)-c$CONNS.md
cp "$WORK/report.md" "$REPORT"
cat "$WORK/report.md"
log "report written to ${REPORT#$ROOT/}"
