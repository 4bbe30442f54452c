#!/usr/bin/env bash
# The real OpenStack Masakari 14.0.2 (Debian's masakari-api + masakari-engine) as a peer to compare with: noauth2,
# SQLite, a private RabbitMQ node, and stand-in-nova.py answering its Keystone and Nova calls. Loopback only.
# Used by bench/api/run.sh. test/fixtures/masakari-captures/ was recorded from this same set-up (test/fixtures/README.md).
#
# Usage:  test/labs/masakari-peer/start.sh DIR     start a fresh peer in DIR (created; must be empty or an old peer)
#         test/labs/masakari-peer/stop.sh DIR      stop it (only the processes recorded in DIR/pids)
# Settings (environment): PEER_PORT (15868, the API), PEER_WORKERS (2, API worker processes),
#         NOVA_PORT (15000, stand-in Keystone + Nova), RABBIT_PORT (5673), RABBIT_DIST_PORT (25673),
#         EPMD_PORT (4371), PEER_READY_TIMEOUT (300 s; RabbitMQ alone can take minutes on a loaded machine).
# Output: the API on http://127.0.0.1:$PEER_PORT/v1; DIR/masakari.db (Masakari's database), DIR/masakari.conf,
#         logs in DIR/logs (stand-in-nova.log lists every Nova call), PIDs in DIR/pids.
# Packages: masakari-api masakari-engine rabbitmq-server curl iproute2 (not installed by CI: only lab.ts runs in npm test).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
LAB=${1:?usage: start.sh DIR}
PY=/usr/bin/python3   # Debian's interpreter: a python3 earlier on PATH may lack Masakari's libraries
IP=127.0.0.1
PEER_PORT=${PEER_PORT:-15868}
PEER_WORKERS=${PEER_WORKERS:-2}
NOVA_PORT=${NOVA_PORT:-15000}
RABBIT_PORT=${RABBIT_PORT:-5673}
RABBIT_DIST_PORT=${RABBIT_DIST_PORT:-25673}
EPMD_PORT=${EPMD_PORT:-4371}
READY_TIMEOUT=${PEER_READY_TIMEOUT:-300}

say() { echo "[masakari-peer] $*"; }
die() { echo "masakari-peer: $*" >&2; exit 1; }

preflight() {
  local missing=""
  for f in $PY /usr/lib/rabbitmq/bin/rabbitmq-server /usr/bin/epmd /usr/bin/curl; do [ -x "$f" ] || missing="$missing $f"; done
  $PY -c 'import masakari.cmd.api, masakari.cmd.engine, masakari.cmd.manage' 2>/dev/null || missing="$missing masakari-api/masakari-engine"
  [ -z "$missing" ] || die "missing:$missing (apt-get install masakari-api masakari-engine rabbitmq-server curl)"
  for p in $PEER_PORT $NOVA_PORT $RABBIT_PORT $RABBIT_DIST_PORT $EPMD_PORT; do
    ! ss -Hltn "sport = :$p" | grep -q . || die "port $p is in use (set PEER_PORT, NOVA_PORT, RABBIT_PORT, RABBIT_DIST_PORT, EPMD_PORT)"
  done
  if [ -e "$LAB" ] && [ -n "$(ls -A "$LAB")" ] && [ ! -e "$LAB/.masakari-peer" ]; then
    die "refusing to use $LAB: not empty and not a peer directory"
  fi
  if [ -d "$LAB/pids" ]; then "$HERE/stop.sh" "$LAB" >/dev/null || true; fi
  rm -rf "$LAB"
  mkdir -p "$LAB"/{pids,logs,lock,rabbit/mnesia}
  touch "$LAB/.masakari-peer"
}

start_bg() {  # name cmd...: start in the background, record the pid for stop.sh
  local name=$1; shift
  nohup "$@" >"$LAB/logs/$name.out" 2>&1 &
  echo $! >"$LAB/pids/$name.pid"
}
wait_for() {  # what command...: retry until it succeeds or READY_TIMEOUT passes
  local what=$1 deadline=$(( $(date +%s) + READY_TIMEOUT )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "$what did not start within $READY_TIMEOUT s (logs: $LAB/logs)"
    sleep 0.3
  done
}

# Own node name, cookie (HOME), epmd and distribution ports: it must not meet any other RabbitMQ on the machine.
rabbit_env() {
  export HOME=$LAB/rabbit RABBITMQ_CONF_ENV_FILE=$LAB/rabbit/rabbitmq-env.conf \
    RABBITMQ_NODENAME=masakaripeer$PEER_PORT@localhost RABBITMQ_CONFIG_FILE=$LAB/rabbit/rabbitmq.conf \
    RABBITMQ_MNESIA_BASE=$LAB/rabbit/mnesia RABBITMQ_LOG_BASE=$LAB/logs \
    RABBITMQ_ENABLED_PLUGINS_FILE=$LAB/rabbit/enabled_plugins RABBITMQ_PID_FILE=$LAB/rabbit/rabbit.pid \
    RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=$IP \
    RABBITMQ_CTL_ERL_ARGS="-proto_dist inet_tcp" ERL_CRASH_DUMP=$LAB/logs/erl_crash.dump \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}
start_rabbitmq() {
  printf 'listeners.tcp.default = %s:%s\nloopback_users.guest = true\nlog.file.level = warning\n' \
    "$IP" "$RABBIT_PORT" >"$LAB/rabbit/rabbitmq.conf"
  : >"$LAB/rabbit/rabbitmq-env.conf"
  echo '[].' >"$LAB/rabbit/enabled_plugins"
  ( rabbit_env
    start_bg epmd /usr/bin/epmd -address $IP -port "$EPMD_PORT"
    sleep 0.3
    start_bg rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server )
}
wait_rabbitmq() {
  local deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until ( rabbit_env; /usr/lib/rabbitmq/bin/rabbitmqctl -q await_startup >/dev/null 2>&1 ); do
    # It gives up at once on a taken port (e.g. its distribution port used meanwhile by an outgoing connection).
    kill -0 "$(cat "$LAB/pids/rabbitmq.pid")" 2>/dev/null ||
      die "RabbitMQ exited, $(grep -m1 -o 'reason: .*' "$LAB/logs/rabbitmq.out" || echo 'reason unknown') (see $LAB/logs/rabbitmq.out)"
    [ "$(date +%s)" -lt "$deadline" ] || die "RabbitMQ did not start within $READY_TIMEOUT s (see $LAB/logs/rabbitmq.out)"
    sleep 0.5
  done
  say "rabbitmq up on $RABBIT_PORT"
}
# The API casts each new notification to the engine's queue: one cast before the engine listens is lost (it waits
# for the engine's periodic retry), so the API starts only once the engine consumes its queue.
wait_engine() {
  local deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until ( rabbit_env; /usr/lib/rabbitmq/bin/rabbitmqctl -q list_queues name consumers 2>/dev/null ) | grep -Eq '^ha_engine[[:space:]]+[1-9]'; do
    [ "$(date +%s)" -lt "$deadline" ] || die "masakari-engine did not listen within $READY_TIMEOUT s (see $LAB/logs/engine.log)"
    sleep 0.5
  done
}

write_config() {
  cat >"$LAB/masakari.conf" <<EOF
[DEFAULT]
auth_strategy = noauth2
masakari_api_listen = $IP
masakari_api_listen_port = $PEER_PORT
masakari_api_workers = $PEER_WORKERS
api_paste_config = $HERE/api-paste.ini
transport_url = rabbit://guest:guest@$IP:$RABBIT_PORT/
debug = false
host = masakari-peer
# Nova, through the stand-in Keystone's catalog
os_privileged_user_name = masakari
os_privileged_user_password = secret
os_privileged_user_tenant = service
os_privileged_user_auth_url = http://$IP:$NOVA_PORT/v3
nova_catalog_admin_info = compute:nova:publicURL
os_region_name = RegionOne
duplicate_notification_detection_interval = 180
# The engine's waits are shortened: the stand-in Nova acts at once, so recovery flows finish in seconds.
wait_period_after_service_update = 2
wait_period_after_evacuation = 10
wait_period_after_power_off = 10
wait_period_after_power_on = 10
verify_interval = 1
process_unfinished_notifications_interval = 30

[database]
connection = sqlite:///$LAB/masakari.db

[taskflow]
connection = sqlite:///$LAB/taskflow.db

# Masakari logs in to Nova with the plugin named here, even under noauth2.
[keystone_authtoken]
auth_type = password

[oslo_concurrency]
lock_path = $LAB/lock

[oslo_messaging_rabbit]
heartbeat_timeout_threshold = 60
EOF
}

# A start that fails half-way stops what it started (logs stay in DIR/logs).
on_exit() {
  local rc=$?
  if [ $rc -ne 0 ] && [ -d "$LAB/pids" ]; then "$HERE/stop.sh" "$LAB" >/dev/null 2>&1 || true; fi
  exit $rc
}

main() {
  preflight
  trap on_exit EXIT
  start_rabbitmq
  start_bg stand-in-nova $PY "$HERE/stand-in-nova.py" --port "$NOVA_PORT" --log "$LAB/logs/stand-in-nova.log" \
    --servers "$HERE/servers.json"
  write_config
  $PY -c 'import sys; from masakari.cmd.manage import main; sys.argv[0] = "masakari-manage"; main()' \
    --config-file "$LAB/masakari.conf" db sync >"$LAB/logs/db-sync.out" 2>&1 || die "db sync failed (see $LAB/logs/db-sync.out)"
  wait_rabbitmq
  start_bg engine $PY "$HERE/run-masakari.py" engine --config-file "$LAB/masakari.conf" --log-file "$LAB/logs/engine.log"
  wait_engine
  start_bg api $PY "$HERE/run-masakari.py" api --config-file "$LAB/masakari.conf" --log-file "$LAB/logs/api.log"
  wait_for "stand-in Nova" curl -sf -o /dev/null "http://$IP:$NOVA_PORT/v3"
  wait_for masakari-api curl -sf -o /dev/null "http://$IP:$PEER_PORT/"
  say "READY: http://$IP:$PEER_PORT/v1 (pids: $(cat "$LAB"/pids/*.pid | tr '\n' ' '))"
}

main
