#!/bin/sh
# /usr/bin/masakari from the Debian package: the single executable in /usr/lib/masakari, with
#  - its native addons already extracted and verified in /usr/lib/masakari/addons (nothing written at start), and
#  - /etc/masakari/masakari.yaml as the configuration unless MASAKARI_CONFIG or --config says otherwise.
# docs/packaging.md explains both.
: "${XDG_CACHE_HOME:=/usr/lib/masakari/addons}"
: "${MASAKARI_CONFIG:=/etc/masakari/masakari.yaml}"
export XDG_CACHE_HOME MASAKARI_CONFIG
exec /usr/lib/masakari/masakari "$@"
