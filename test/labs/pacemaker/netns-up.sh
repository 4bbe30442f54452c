#!/bin/bash
# Creates the lab's network: namespace $NS-sw holds bridge br0 (and the BMC address 10.99.0.254), namespaces
# $NS-n1..n3 hold one cluster node each (10.99.0.N), $NS-r1 the pacemaker-remote node (10.99.0.11).
# Addresses exist only inside these namespaces, so several labs (unique $NS) never clash with each other or the host.
# HOST_ADDRS="10.99.0.100 10.99.0.101": also these addresses for the root namespace, on a veth into br0, so the nodes
# reach services of this machine (test/labs/cloud: OpenStack, the controllers); the veth goes with $NS-sw.
# Usage: NS=mkpab12 netns-up.sh            (root; netns-down.sh undoes it)
set -euo pipefail
: "${NS:?set NS to a short unique prefix (<= 9 characters)}"
ip netns add "$NS-sw"
ip -n "$NS-sw" link add br0 type bridge
ip -n "$NS-sw" link set br0 up
ip -n "$NS-sw" link set lo up
ip -n "$NS-sw" addr add 10.99.0.254/24 dev br0
attach() { # attach NAME ADDR: namespace $NS-NAME with eth0 = ADDR on the bridge
  local n=$1 addr=$2
  ip netns add "$NS-$n"
  # veth pairs are born in the root namespace (names must be unique there) and moved at once.
  ip link add "${NS}v$n" type veth peer name "${NS}p$n"
  ip link set "${NS}v$n" netns "$NS-$n"
  ip link set "${NS}p$n" netns "$NS-sw"
  ip -n "$NS-sw" link set "${NS}p$n" master br0
  ip -n "$NS-sw" link set "${NS}p$n" up
  ip -n "$NS-$n" link set lo up
  ip -n "$NS-$n" link set "${NS}v$n" name eth0
  ip -n "$NS-$n" addr add "$addr/24" dev eth0
  ip -n "$NS-$n" link set eth0 up
}
for i in 1 2 3; do attach "n$i" "10.99.0.$i"; done
attach r1 10.99.0.11
if [ -n "${HOST_ADDRS:-}" ]; then
  ip link add "${NS}vh" type veth peer name "${NS}ph"
  ip link set "${NS}ph" netns "$NS-sw"
  ip -n "$NS-sw" link set "${NS}ph" master br0
  ip -n "$NS-sw" link set "${NS}ph" up
  for a in $HOST_ADDRS; do ip addr add "$a/24" dev "${NS}vh"; done
  ip link set "${NS}vh" up
fi
