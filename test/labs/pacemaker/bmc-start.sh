#!/bin/bash
# Starts node N's (1|2|3|r1) simulated IPMI BMC (ipmi_sim) detached, inside $NS-sw on 10.99.0.254:6231..6234/udp, the address
# the stonith resources use. PID in $LAB/bmc/nN.pid (r1.pid). Stop it (a dead BMC) by killing that PID; start it again
# with this script. Usage: bmc-start.sh N      (user admin, password from $LAB/bmc/password)
set -eu
: "${LAB:?set LAB}" "${NS:?set NS}"
N=$1; B=$LAB/bmc; case $N in r1) PORT=6234 G=4 K=r1 ;; *) PORT=$((6230 + N)) G=$N K=n$N ;; esac; HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$B/state-$K"
umask 077
cat >"$B/lan-$K.conf" <<CONF
name "bmc-node$N"
set_working_mc 0x20
  startlan 1
    addr 10.99.0.254 $PORT
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcd0$G
  endlan
  chassis_control "$HERE/chassis-control.sh $LAB $N"
  user 2 true  "admin" "$(cat "$B/password")" admin 10 none md2 md5 straight
CONF
setsid ip netns exec "$NS-sw" ipmi_sim -n -p -c "$B/lan-$K.conf" -f "$HERE/../bmc/bmc.emu" -s "$B/state-$K" \
  >>"$B/ipmi_sim-$K.log" 2>&1 </dev/null &
echo $! >"$B/$K.pid"
