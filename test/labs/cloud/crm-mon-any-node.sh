#!/bin/bash
# crm_mon on the first cluster node that runs: the controllers' Pacemaker evidence command (they run outside the
# cluster here; a controller on a cluster node would run crm_mon itself). Usage: LAB=... crm-mon-any-node.sh ARGS...
: "${LAB:?set LAB}"
HERE=$(cd "$(dirname "$0")" && pwd)
for n in 1 2 3; do
  out=$(LAB=$LAB "$HERE/../pacemaker/on-node.sh" "$n" crm_mon "$@" 2>/dev/null) && [ -n "$out" ] && { printf '%s\n' "$out"; exit 0; }
done
echo "crm-mon-any-node.sh: no cluster node answered" >&2
exit 1
