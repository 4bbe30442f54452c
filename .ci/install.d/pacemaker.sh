#!/usr/bin/env bash
# Set-up for the Pacemaker lab beyond packages. Idempotent; runs as root.
#  - pacemaker-remoted for the lab's remote node: Debian's pacemaker-remote package conflicts with pacemaker, so
#    it is unpacked, not installed, into /opt/pacemaker-remote (test/labs/pacemaker/remote-inner.sh runs it).
#  - The Debian packages start nothing here (no systemd); the lab starts its own daemons in namespaces.
set -euo pipefail
id hacluster >/dev/null 2>&1 || { echo "pacemaker.sh: user hacluster missing (pacemaker not installed?)" >&2; exit 1; }
if [ ! -x /opt/pacemaker-remote/usr/sbin/pacemaker-remoted ]; then
  tmp=$(mktemp -d); chmod 755 "$tmp" # readable by apt's _apt user
  trap 'rm -rf "$tmp"' EXIT
  # install-deps.sh skips apt-get update when every package is there already: update only if the lists lack it.
  (cd "$tmp" && { apt-get download pacemaker-remote >/dev/null 2>&1 || { apt-get update -qq && apt-get download pacemaker-remote >/dev/null; }; })
  mkdir -p /opt/pacemaker-remote
  dpkg -x "$tmp"/pacemaker-remote_*.deb /opt/pacemaker-remote
fi
/opt/pacemaker-remote/usr/sbin/pacemaker-remoted --version >/dev/null
