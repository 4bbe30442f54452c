#!/usr/bin/env bash
# Masakari's OpenStack lab: a real Keystone + Placement + Glance + Nova on one machine, on loopback only,
# from Debian 12's packages (OpenStack Zed), with no systemd. Nova runs N compute hosts on its fake virt
# driver (one nova-compute process per host), so servers boot, stop, start and evacuate for real without
# any hypervisor. Used by the test suite (test/drivers/nova/) and by anyone who wants to try
# Masakari-on-OpenStack on one machine: see docs/openstack.md.
#
# Usage:  test/labs/openstack/start.sh DIR      start a fresh lab in DIR (created; must be empty or an old lab)
#         test/labs/openstack/stop.sh DIR       stop it (only the processes recorded in DIR/pids)
#         test/labs/openstack/compute.sh DIR N kill|start   fail or repair fake compute host N
# Settings (environment): LAB_PORT_BASE (47000; every port is BASE+offset), LAB_COMPUTES (3; 0: no fake host, the
#         caller runs its own nova-compute processes, e.g. test/labs/cloud), LAB_PASSWORD (labpass),
#         LAB_READY_TIMEOUT (300 s), LAB_IP (127.0.0.1: the address the APIs and RabbitMQ listen on; another address
#         lets network namespaces reach them, PostgreSQL and epmd stay on loopback), LAB_TOKEN_EXPIRATION (Keystone's
#         [token] expiration in seconds; default Keystone's, 3600).
# Output: DIR/lab.env (KEY=VALUE: OS_* and LAB_* variables), DIR/clouds.yaml (cloud "masakari-lab"),
#         DIR/openrc, DIR/masakari.yaml (an openstack: config section for Masakari), logs in DIR/logs.
# Packages: .ci/install.d/openstack.packages. Needs root (PostgreSQL runs as user postgres).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
LAB=${1:?usage: start.sh DIR}
PY=/usr/bin/python3          # Debian's interpreter: a python3 earlier on PATH may lack the OpenStack libraries
IP=${LAB_IP:-127.0.0.1}
LO=127.0.0.1                 # PostgreSQL and epmd: only this machine's services use them
TOKEN_EXPIRATION=${LAB_TOKEN_EXPIRATION:-}
BASE=${LAB_PORT_BASE:-47000}
N_COMPUTE=${LAB_COMPUTES:-3}
PASS=${LAB_PASSWORD:-labpass}
READY_TIMEOUT=${LAB_READY_TIMEOUT:-300}
PGBIN=/usr/lib/postgresql/15/bin
REGION=RegionOne

KS_PORT=$((BASE + 500)); NOVA_PORT=$((BASE + 774)); PLACEMENT_PORT=$((BASE + 778)); GLANCE_PORT=$((BASE + 292))
NEUTRON_PORT=$((BASE + 696)); RABBIT_PORT=$((BASE + 672)); RABBIT_DIST_PORT=$((BASE + 673))
EPMD_PORT=$((BASE + 369)); PG_PORT=$((BASE + 432))
ALL_PORTS="$KS_PORT $NOVA_PORT $PLACEMENT_PORT $GLANCE_PORT $NEUTRON_PORT $RABBIT_PORT $RABBIT_DIST_PORT $EPMD_PORT $PG_PORT"
KS=http://$IP:$KS_PORT/v3
NOVA=http://$IP:$NOVA_PORT/v2.1

T0=$(date +%s%N)
say() { printf '[lab %5ss] %s\n' "$(( ($(date +%s%N) - T0) / 1000000000 ))" "$*"; }
die() { echo "lab: $*" >&2; exit 1; }

# ------------------------------------------------------------------------------------------------ checks
preflight() {
  [ "$(id -u)" = 0 ] || die "must run as root (PostgreSQL is started as user postgres)"
  local missing=""
  for f in $PY /usr/bin/uwsgi /usr/bin/keystone-manage /usr/bin/placement-manage /usr/bin/keystone-wsgi-public \
           /usr/bin/placement-api /usr/lib/rabbitmq/bin/rabbitmq-server $PGBIN/postgres /usr/bin/jq /usr/bin/curl; do
    [ -x "$f" ] || missing="$missing $f"
  done
  $PY -c 'import nova, glance' 2>/dev/null || missing="$missing python3-nova/python3-glance"
  [ -z "$missing" ] || die "missing:$missing (install .ci/install.d/openstack.packages)"
  for p in $ALL_PORTS; do
    ! ss -Hltn "sport = :$p" | grep -q . || die "port $p is in use (choose another LAB_PORT_BASE)"
  done
  if [ -e "$LAB" ] && [ -n "$(ls -A "$LAB")" ] && [ ! -e "$LAB/.masakari-lab" ]; then
    die "refusing to use $LAB: not empty and not a lab directory"
  fi
  if [ -d "$LAB/pids" ]; then "$HERE/stop.sh" "$LAB" >/dev/null || true; fi
}

prepare_dir() {
  rm -rf "$LAB"
  mkdir -p "$LAB"/{etc/keystone,etc/nova,etc/glance,etc/placement,data,logs,pids,bin,rabbit,pg}
  touch "$LAB/.masakari-lab"
  # A mkdtemp directory is 0700; user postgres must be able to reach its data directory below it.
  chmod 0755 "$LAB"
  chown postgres: "$LAB/pg"
  echo "$BASE" >"$LAB/port_base"
}

# ------------------------------------------------------------------------------------------------ helpers
start_bg() {  # name cmd...: start in the background, record the pid for stop.sh
  local name=$1; shift
  nohup "$@" >"$LAB/logs/$name.out" 2>&1 &
  echo $! >"$LAB/pids/$name.pid"
}
wait_http() {  # url [seconds]
  local url=$1 deadline=$(( $(date +%s) + ${2:-$READY_TIMEOUT} ))
  until curl -s -o /dev/null --max-time 5 "$url"; do
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out waiting for $url (logs: $LAB/logs)"
    sleep 0.3
  done
}
dburl() { echo "postgresql+psycopg2://postgres@$LO:$PG_PORT/$1"; }
uwsgi_start() {  # name port wsgi-file processes env...
  local name=$1 port=$2 file=$3 procs=$4; shift 4
  local envs=(); for e in "$@"; do envs+=(--env "$e"); done
  start_bg "$name" /usr/bin/uwsgi --plugin python3 --http-socket "$IP:$port" --wsgi-file "$file" \
    --master --processes "$procs" --threads 1 --enable-threads --lazy-apps --die-on-term \
    --buffer-size 65535 --add-header "Connection: close" "${envs[@]}"
}
# The same service credentials for every [keystone_authtoken] and service-client section: the lab's admin.
auth_section() {  # section-name
  cat <<EOF
[$1]
auth_url = $KS
auth_type = password
username = admin
password = $PASS
project_name = admin
user_domain_name = Default
project_domain_name = Default
region_name = $REGION
EOF
}
authtoken_section() {
  auth_section keystone_authtoken
  # No token cache in the services: a revoked token must be refused at once (tests revoke tokens on purpose).
  printf 'www_authenticate_uri = %s\ntoken_cache_time = -1\n' "$KS"
}

# Debian's python3-nova and python3-glance ship no console scripts (those are in packages that pull in
# dbconfig prompts and libvirt): write tiny wrappers around their entry points.
write_wrappers() {
  local pair n m
  for pair in nova-manage:nova.cmd.manage nova-conductor:nova.cmd.conductor nova-scheduler:nova.cmd.scheduler \
              nova-compute:nova.cmd.compute glance-manage:glance.cmd.manage glance-api:glance.cmd.api; do
    n=${pair%%:*}; m=${pair#*:}
    printf '#!%s\nimport sys\nfrom %s import main\nsys.exit(main())\n' "$PY" "$m" >"$LAB/bin/$n"
    chmod +x "$LAB/bin/$n"
  done
  printf 'from nova.api.openstack.compute.wsgi import init_application\napplication = init_application()\n' \
    >"$LAB/bin/nova-api-wsgi.py"
}

# ------------------------------------------------------------------------------------------------ PostgreSQL
# Every service uses PostgreSQL: Keystone on SQLite under uWSGI fails with "database is locked".
start_postgres() {
  runuser -u postgres -- $PGBIN/initdb -D "$LAB/pg/data" -A trust -U postgres -E UTF8 --no-sync >"$LAB/logs/initdb.out" 2>&1
  start_bg postgres setpriv --reuid postgres --regid postgres --init-groups $PGBIN/postgres -D "$LAB/pg/data" \
    -h $LO -p $PG_PORT -k "$LAB/pg" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=200 -c shared_buffers=64MB
  local deadline=$(( $(date +%s) + 60 ))
  until $PGBIN/pg_isready -q -h $LO -p $PG_PORT; do
    [ "$(date +%s)" -lt "$deadline" ] || die "PostgreSQL did not start (see $LAB/logs/postgres.out)"
    sleep 0.2
  done
  for d in keystone placement glance nova_api nova_cell0 nova_cell1; do
    $PGBIN/psql -q -h $LO -p $PG_PORT -U postgres -c "CREATE DATABASE $d" >/dev/null
  done
  say "postgresql up on $PG_PORT"
}

# ------------------------------------------------------------------------------------------------ RabbitMQ
# Own node name, cookie (HOME), epmd port and distribution port: it must not meet any other RabbitMQ here.
rabbit_env() {
  export HOME=$LAB/rabbit RABBITMQ_CONF_ENV_FILE=$LAB/rabbit/rabbitmq-env.conf \
    RABBITMQ_NODENAME=masakarilab$BASE@localhost RABBITMQ_CONFIG_FILE=$LAB/rabbit/rabbitmq.conf \
    RABBITMQ_MNESIA_BASE=$LAB/rabbit/mnesia RABBITMQ_LOG_BASE=$LAB/logs \
    RABBITMQ_ENABLED_PLUGINS_FILE=$LAB/rabbit/enabled_plugins \
    RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=$LO \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}
start_rabbitmq() {
  # guest may log in from loopback only; on another LAB_IP the clients (nova-compute in namespaces) come from afar.
  local loopback='loopback_users.guest = true'; [ "$IP" = "$LO" ] || loopback='loopback_users = none'
  printf 'listeners.tcp.default = %s:%s\n%s\nlog.file.level = warning\n' \
    "$IP" "$RABBIT_PORT" "$loopback" >"$LAB/rabbit/rabbitmq.conf"
  : >"$LAB/rabbit/rabbitmq-env.conf"
  echo '[].' >"$LAB/rabbit/enabled_plugins"
  ( rabbit_env
    start_bg epmd /usr/bin/epmd -address $LO -port $EPMD_PORT
    sleep 0.3
    start_bg rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server )
}
wait_rabbitmq() {
  local deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until ( rabbit_env; /usr/lib/rabbitmq/bin/rabbitmqctl -q await_startup >/dev/null 2>&1 ); do
    [ "$(date +%s)" -lt "$deadline" ] || die "RabbitMQ did not start (see $LAB/logs/rabbitmq.out)"
    sleep 0.5
  done
  say "rabbitmq up on $RABBIT_PORT"
}

# ------------------------------------------------------------------------------------------------ Keystone
start_keystone() {
  cat >"$LAB/etc/keystone/keystone.conf" <<EOF
[DEFAULT]
log_file = $LAB/logs/keystone.log
[database]
connection = $(dburl keystone)
[token]
provider = fernet
${TOKEN_EXPIRATION:+expiration = $TOKEN_EXPIRATION}
[fernet_tokens]
key_repository = $LAB/etc/keystone/fernet-keys
[fernet_receipts]
key_repository = $LAB/etc/keystone/fernet-keys
[credential]
key_repository = $LAB/etc/keystone/credential-keys
EOF
  local ksm=(keystone-manage --config-file "$LAB/etc/keystone/keystone.conf")
  {
    "${ksm[@]}" fernet_setup --keystone-user root --keystone-group root
    "${ksm[@]}" credential_setup --keystone-user root --keystone-group root
    "${ksm[@]}" db_sync
    "${ksm[@]}" bootstrap --bootstrap-password "$PASS" --bootstrap-region-id $REGION \
      --bootstrap-admin-url "$KS" --bootstrap-internal-url "$KS" --bootstrap-public-url "$KS"
  } >"$LAB/logs/keystone-setup.out" 2>&1 || die "keystone set-up failed (see $LAB/logs/keystone-setup.out)"
  uwsgi_start keystone $KS_PORT /usr/bin/keystone-wsgi-public 1 OS_KEYSTONE_CONFIG_DIR="$LAB/etc/keystone"
  wait_http "$KS"
  say "keystone up on $KS_PORT"
}

admin_token() {
  curl -sf -D - -o /dev/null -X POST "$KS/auth/tokens" -H 'Content-Type: application/json' -d "{\"auth\":{
    \"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"},\"password\":\"$PASS\"}}},
    \"scope\":{\"project\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"}}}}}" \
    | awk 'tolower($1)=="x-subject-token:"{print $2}' | tr -d '\r'
}
api() { curl -sf -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' "$@"; }

register_catalog() {
  TOKEN=$(admin_token)
  [ -n "$TOKEN" ] || die "keystone issued no token"
  local entry type name url sid itf
  for entry in "compute nova $NOVA" "placement placement http://$IP:$PLACEMENT_PORT" \
               "image glance http://$IP:$GLANCE_PORT" "network neutron http://$IP:$NEUTRON_PORT"; do
    read -r type name url <<<"$entry"
    sid=$(api -X POST "$KS/services" -d "{\"service\":{\"type\":\"$type\",\"name\":\"$name\"}}" | jq -r .service.id)
    for itf in public internal admin; do
      api -X POST "$KS/endpoints" \
        -d "{\"endpoint\":{\"service_id\":\"$sid\",\"interface\":\"$itf\",\"url\":\"$url\",\"region_id\":\"$REGION\"}}" >/dev/null
    done
  done
  say "catalog registered"
}

# ------------------------------------------------------------------------------------------------ configs
write_configs() {
  { printf '[DEFAULT]\nlog_file = %s\n[api]\nauth_strategy = keystone\n[placement_database]\nconnection = %s\n' \
      "$LAB/logs/placement.log" "$(dburl placement)"; authtoken_section; } >"$LAB/etc/placement/placement.conf"

  mkdir -p "$LAB"/data/glance/{images,staging,tasks}
  cp "$HERE/glance-api-paste.ini" "$LAB/etc/glance/glance-api-paste.ini"
  { cat <<EOF
[DEFAULT]
bind_host = $IP
bind_port = $GLANCE_PORT
workers = 0
log_file = $LAB/logs/glance-api.log
enabled_backends = fs:file
[database]
connection = $(dburl glance)
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $LAB/data/glance/images
[os_glance_staging_store]
filesystem_store_datadir = $LAB/data/glance/staging
[os_glance_tasks_store]
filesystem_store_datadir = $LAB/data/glance/tasks
[paste_deploy]
flavor = keystone
config_file = $LAB/etc/glance/glance-api-paste.ini
EOF
    authtoken_section; } >"$LAB/etc/glance/glance-api.conf"

  cp "$HERE/nova-api-paste.ini" "$LAB/etc/nova/api-paste.ini"
  { cat <<EOF
[DEFAULT]
transport_url = rabbit://guest:guest@$IP:$RABBIT_PORT/
state_path = $LAB/data/nova
my_ip = $IP
compute_driver = fake.FakeDriver
# A failed fake host shows "down" after 20 s instead of 60 s; heartbeats every 5 s.
service_down_time = 20
report_interval = 5
# Bounded waits when nova-api calls a dead compute (disabling a service that still looks up).
rpc_response_timeout = 30
osapi_compute_workers = 1
# Default 60: would delay the scheduler's host discovery by up to a minute.
periodic_fuzzy_delay = 0
[api]
auth_strategy = keystone
[quota]
# Tests boot more servers than the default quota of 10 instances allows.
instances = -1
cores = -1
ram = -1
[wsgi]
api_paste_config = $LAB/etc/nova/api-paste.ini
[api_database]
connection = $(dburl nova_api)
[database]
connection = $(dburl nova_cell1)
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 5
[oslo_concurrency]
lock_path = $LAB/data/nova/locks
[oslo_messaging_notifications]
driver = noop
[vnc]
enabled = false
[glance]
region_name = $REGION
EOF
    authtoken_section; auth_section placement; auth_section neutron
    echo "endpoint_override = http://$IP:$NEUTRON_PORT"; } >"$LAB/etc/nova/nova.conf"

  # bin/start-compute N: (re)starts fake compute host fake-host-N; compute.sh uses it to repair a host.
  cat >"$LAB/bin/start-compute" <<'EOF'
#!/usr/bin/env bash
set -e; i=$1; LAB=$(cd "$(dirname "$0")/.." && pwd); cd "$LAB"; mkdir -p "data/compute-$i/locks"
printf '[DEFAULT]\nhost = fake-host-%s\nstate_path = %s\n[oslo_concurrency]\nlock_path = %s\n' \
  "$i" "$LAB/data/compute-$i" "$LAB/data/compute-$i/locks" >"etc/nova/compute-$i.conf"
# etc/nova/compute-N.extra.conf, when a test wrote one: settings of this host only (e.g. reserved_host_memory_mb to
# give the fake host a small capacity: the what-if tests).
extra=(); [ -f "etc/nova/compute-$i.extra.conf" ] && extra=(--config-file "etc/nova/compute-$i.extra.conf")
nohup bin/nova-compute --config-file etc/nova/nova.conf --config-file "etc/nova/compute-$i.conf" "${extra[@]}" \
  --log-file "logs/nova-compute-$i.log" >>"logs/nova-compute-$i.out" 2>&1 &
echo $! >"pids/nova-compute-$i.pid"
EOF
  chmod +x "$LAB/bin/start-compute"
}

# ------------------------------------------------------------------------------------------------ DB schemas
# Run in the background while Keystone starts: together they are most of the start-up time.
sync_databases() {
  ( placement-manage --config-file "$LAB/etc/placement/placement.conf" db sync ) >"$LAB/logs/placement-dbsync.out" 2>&1 &
  PDB=$!
  ( "$LAB/bin/glance-manage" --config-file "$LAB/etc/glance/glance-api.conf" db_sync ) >"$LAB/logs/glance-dbsync.out" 2>&1 &
  GDB=$!
  local nm=("$LAB/bin/nova-manage" --config-file "$LAB/etc/nova/nova.conf")
  ( "${nm[@]}" api_db sync && "${nm[@]}" cell_v2 map_cell0 --database_connection "$(dburl nova_cell0)" \
    && "${nm[@]}" cell_v2 create_cell --name cell1 && "${nm[@]}" db sync ) >"$LAB/logs/nova-dbsync.out" 2>&1 &
  NDB=$!
}

# ------------------------------------------------------------------------------------------------ services
start_openstack_services() {
  # Nova talks to Neutron on every boot, stop, start and evacuation, even for servers without networks.
  start_bg neutron-stub $PY "$HERE/neutron_stub.py" $IP $NEUTRON_PORT
  wait $PDB || die "placement db sync failed (see $LAB/logs/placement-dbsync.out)"
  uwsgi_start placement $PLACEMENT_PORT /usr/bin/placement-api 1 OS_PLACEMENT_CONFIG_DIR="$LAB/etc/placement"
  wait $GDB || die "glance db sync failed (see $LAB/logs/glance-dbsync.out)"
  start_bg glance-api "$LAB/bin/glance-api" --config-file "$LAB/etc/glance/glance-api.conf"
  wait $NDB || die "nova db sync failed (see $LAB/logs/nova-dbsync.out)"
  say "databases synced"
  wait_rabbitmq
  # Two API processes: one slow call (an RPC to a dead compute) must not stall every other request.
  uwsgi_start nova-api $NOVA_PORT "$LAB/bin/nova-api-wsgi.py" 2 OS_NOVA_CONFIG_DIR="$LAB/etc/nova"
  start_bg nova-conductor "$LAB/bin/nova-conductor" --config-file "$LAB/etc/nova/nova.conf" --log-file "$LAB/logs/nova-conductor.log"
  start_bg nova-scheduler "$LAB/bin/nova-scheduler" --config-file "$LAB/etc/nova/nova.conf" --log-file "$LAB/logs/nova-scheduler.log"
  local i
  for i in $(seq 1 "$N_COMPUTE"); do "$LAB/bin/start-compute" "$i"; done
  wait_http "http://$IP:$NOVA_PORT/"
  wait_http "http://$IP:$GLANCE_PORT/"
  wait_http "http://$IP:$PLACEMENT_PORT/"
  say "APIs up"
}

create_image_and_flavor() {
  head -c 1048576 /dev/zero >"$LAB/data/fake.img"
  IMAGE_ID=$(api -X POST "http://$IP:$GLANCE_PORT/v2/images" \
    -d '{"name":"fake-image","disk_format":"raw","container_format":"bare","visibility":"public"}' | jq -r .id)
  curl -sf -H "X-Auth-Token: $TOKEN" -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary @"$LAB/data/fake.img" "http://$IP:$GLANCE_PORT/v2/images/$IMAGE_ID/file" >/dev/null
  api -X POST "$NOVA/flavors" -d '{"flavor":{"name":"m1.fake","ram":64,"vcpus":1,"disk":1,"id":"1"}}' >/dev/null
  say "image $IMAGE_ID and flavor m1.fake created"
}

# Ready = every fake compute host is a hypervisor that is up (os-hypervisors only lists hosts mapped to a cell).
wait_computes() {
  local deadline=$(( $(date +%s) + READY_TIMEOUT )) up=0
  while :; do
    up=$(api -H 'OpenStack-API-Version: compute 2.53' "$NOVA/os-hypervisors" \
      | jq '[.hypervisors[] | select(.state == "up")] | length' 2>/dev/null || echo 0)
    [ "${up:-0}" -ge "$N_COMPUTE" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || die "only $up of $N_COMPUTE compute hosts came up (see $LAB/logs/nova-compute-*.log)"
    sleep 1
  done
  say "$N_COMPUTE fake compute hosts up"
}

# ------------------------------------------------------------------------------------------------ outputs
write_outputs() {
  local hosts; hosts=$(seq -f 'fake-host-%g' -s ' ' 1 "$N_COMPUTE")
  cat >"$LAB/lab.env" <<EOF
OS_AUTH_URL=$KS
OS_IDENTITY_API_VERSION=3
OS_REGION_NAME=$REGION
OS_INTERFACE=public
OS_USERNAME=admin
OS_PASSWORD=$PASS
OS_PROJECT_NAME=admin
OS_USER_DOMAIN_NAME=Default
OS_PROJECT_DOMAIN_NAME=Default
LAB_DIR=$LAB
LAB_NOVA_URL=$NOVA
LAB_IMAGE_ID=$IMAGE_ID
LAB_FLAVOR_ID=1
LAB_COMPUTE_HOSTS=$hosts
EOF
  sed 's/^/export /' "$LAB/lab.env" >"$LAB/openrc"
  cat >"$LAB/clouds.yaml" <<EOF
clouds:
  masakari-lab:
    auth:
      auth_url: $KS
      username: admin
      password: $PASS
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION
    interface: public
    identity_api_version: 3
EOF
  cat >"$LAB/masakari.yaml" <<EOF
# The openstack: section of a Masakari config for this lab (see docs/openstack.md).
openstack:
  auth_url: $KS
  auth_type: password
  username: admin
  password: $PASS
  project_name: admin
  user_domain_name: Default
  project_domain_name: Default
  region_name: $REGION
  interface: public
EOF
}

# LAB_OWNER_PID: stop (and delete) the lab when that process is gone, e.g. a test runner killed with SIGKILL
# that never ran its clean-up. The watchdog's pid is kept outside pids/ so stop.sh does not kill it mid-way.
start_watchdog() {
  [ -n "${LAB_OWNER_PID:-}" ] || return 0
  nohup bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec "$2" "$3" --purge' \
    lab-watchdog "$LAB_OWNER_PID" "$HERE/stop.sh" "$LAB" >"$LAB/logs/watchdog.out" 2>&1 &
  echo $! >"$LAB/watchdog.pid"
}

# A start that fails half-way stops what it started (logs stay in DIR/logs).
on_exit() {
  local rc=$?
  if [ $rc -ne 0 ] && [ -d "$LAB/pids" ]; then "$HERE/stop.sh" "$LAB" >/dev/null 2>&1 || true; fi
  exit $rc
}

main() {
  preflight
  prepare_dir
  trap on_exit EXIT
  start_watchdog
  write_wrappers
  start_rabbitmq
  start_postgres
  write_configs
  sync_databases
  start_keystone
  register_catalog
  start_openstack_services
  create_image_and_flavor
  wait_computes
  write_outputs
  say "READY: source $LAB/openrc (nova $NOVA, keystone $KS)"
}
main "$@"; exit  # one line: bash reads a script as it runs, so nothing after this is read
