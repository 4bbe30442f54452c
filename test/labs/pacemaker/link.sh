#!/bin/bash
# Cuts or restores a node's network link at the bridge (a partition that isolates it): link.sh n3 down|up
: "${NS:?set NS}"
ip -n "$NS-sw" link set "${NS}p${1#n}" "$2" 2>/dev/null || ip -n "$NS-sw" link set "${NS}p$1" "$2"
