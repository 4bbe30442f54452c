#!/bin/bash
# chassis_control hook of a node's simulated BMC (ipmi_sim); lan.conf names it as
#   chassis_control "<this> <lab dir> <node: 1|2|3|r1>"
# and ipmi_sim appends "get power ...", "set power 0|1 ...". Power off kills the node's namespace init (the whole
# node dies at once, like pulling the plug); power on starts it again (node-start.sh, remote-start.sh). Power state is whether the
# node's init runs, so a node killed by a test reads as off too. Every set is logged to $LAB/bmc/chassis.log.
LAB=$1; N=$2; OP=$3; shift 3
HERE=$(cd "$(dirname "$0")" && pwd)
NS=$(cat "$LAB/ns")
case $N in r1) D=$LAB/r1; START=remote-start.sh ;; *) D=$LAB/n$N; START="node-start.sh $N" ;; esac
init_pid() { local l; l=$(cat "$D/launcher.pid" 2>/dev/null) && pgrep -P "$l" | head -1; }
case $OP in
  get)
    for n in "$@"; do
      case $n in
        power) if [ -n "$(init_pid)" ]; then echo power:1; else echo power:0; fi ;;
        boot) echo boot:default ;;
        *) echo "$n:0" ;;
      esac
    done ;;
  set)
    while [ $# -ge 2 ]; do
      n=$1; v=$2; shift 2
      echo "$(date +%s.%N) $N set $n=$v" >>"$LAB/bmc/chassis.log"
      [ "$n" = power ] || continue
      if [ "$v" = 0 ]; then
        I=$(init_pid); [ -n "$I" ] && kill -9 "$I"
        # Wait until the node is really gone, so a status query right after says off.
        for _ in $(seq 1 50); do [ -z "$(init_pid)" ] && break; sleep 0.1; done
      else
        # shellcheck disable=SC2086
        LAB=$LAB NS=$NS "$HERE"/$START >>"$LAB/bmc/chassis.log" 2>&1
      fi
    done ;;
  check) ;;
esac
exit 0
