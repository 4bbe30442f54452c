#!/usr/bin/env bash
# Debian's masakari-process-monitor and masakari-instance-monitor (monitors.packages) enable their services, which
# start with the packaged configuration wherever services may start (not in containers whose policy-rc.d forbids
# it). test/clients/masakari-monitors.test.ts runs its own instances with its own config files: keep the packaged
# ones stopped so that they never watch this machine's libvirtd or processes.
set -u
for s in masakari-process-monitor masakari-instance-monitor; do
  if [ -d /run/systemd/system ]; then
    systemctl disable --now "$s" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$s" ]; then
    "/etc/init.d/$s" stop >/dev/null 2>&1 || true
  fi
done
