#!/bin/bash
# Starts node N's simulated IPMI BMC (ipmi_sim) detached, inside $NS-sw on 10.99.0.254:(6230+N)/udp, the address
# the stonith resources use. PID in $LAB/bmc/nN.pid. Stop it (a dead BMC) by killing that PID; start it again
# with this script. Usage: bmc-start.sh N      (user admin, password from $LAB/bmc/password)
set -eu
: "${LAB:?set LAB}" "${NS:?set NS}"
N=$1; B=$LAB/bmc; HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$B/state-n$N"
umask 077
cat >"$B/lan-n$N.conf" <<CONF
name "bmc-node$N"
set_working_mc 0x20
  startlan 1
    addr 10.99.0.254 $((6230 + N))
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcd0$N
  endlan
  chassis_control "$HERE/chassis-control.sh $LAB $N"
  user 2 true  "admin" "$(cat "$B/password")" admin 10 none md2 md5 straight
CONF
setsid ip netns exec "$NS-sw" ipmi_sim -n -p -c "$B/lan-n$N.conf" -f "$HERE/../bmc/bmc.emu" -s "$B/state-n$N" \
  >>"$B/ipmi_sim-n$N.log" 2>&1 </dev/null &
echo $! >"$B/n$N.pid"
