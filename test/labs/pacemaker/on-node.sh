#!/bin/bash
# Runs a command inside node N's namespaces (network, mount, uts, pid): on-node.sh N crm_mon -1 --output-as=xml
: "${LAB:?set LAB}"
N=$1; shift
L=$(cat "$LAB/n$N/launcher.pid" 2>/dev/null) || { echo "on-node.sh: node $N was never started" >&2; exit 3; }
# The launcher is unshare (ip netns exec and setsid exec it); its only child is the namespace's PID 1.
INIT=$(pgrep -P "$L" | head -1)
[ -n "$INIT" ] || { echo "on-node.sh: node $N is off" >&2; exit 3; }
exec nsenter -t "$INIT" -n -m -u -p "$@"
