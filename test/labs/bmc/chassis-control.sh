#!/bin/sh
# chassis_control hook of the simulated BMC (ipmi_sim). lan.conf names it as
#   chassis_control "<this script> <state dir> <host>"
# and ipmi_sim appends the request:
#   <state dir> <host> get power [boot ...]   -> prints "power:1" or "power:0" (one line per item)
#   <state dir> <host> set power 0|1 [...]    -> changes the power state
#   <state dir> <host> check ...              -> exit 0
# The power state lives in <state dir>/<host>.power ("1" or "0"), so tests read and flip it directly.
# Test faults: if <state dir>/<host>.stuck exists, "set power" is accepted but changes nothing (a BMC that lies).
# Every set is appended to <state dir>/chassis.log.
set -u
S=$1; H=$2; OP=$3; shift 3
F="$S/$H.power"
[ -f "$F" ] || echo 1 > "$F"
case "$OP" in
  get)
    for n in "$@"; do
      case "$n" in
        power) echo "power:$(cat "$F")" ;;
        boot) echo "boot:default" ;;
        *) echo "$n:0" ;;
      esac
    done ;;
  set)
    while [ $# -ge 2 ]; do
      n=$1; v=$2; shift 2
      echo "$(date +%s.%N) $H set $n=$v" >> "$S/chassis.log"
      if [ "$n" = power ] && [ ! -e "$S/$H.stuck" ]; then echo "$v" > "$F"; fi
    done ;;
  check) ;;
esac
exit 0
