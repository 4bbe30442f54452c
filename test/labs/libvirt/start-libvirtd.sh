#!/bin/bash
# Runs a PRIVATE libvirtd with the QEMU driver for tests: all its state lives under $LAB, nothing of the machine's
# own libvirt (/etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt) is touched.
# It does so in a private mount namespace where those paths are bind mounts of $LAB/{etc,run,lib,log,cache}.
#
# Usage: LAB=/tmp/some-dir start-libvirtd.sh        (stays in the foreground; its PID is tini's)
# Clients: qemu+unix:///system?socket=$LAB/run/libvirt-sock
# Stop: SIGTERM to this process (tini passes it to libvirtd). QEMU processes outlive libvirtd by design; their PIDs
# are in $LAB/run/qemu/*.pid (lab.ts kills them).
#
# Needs (Debian): libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 tini util-linux (unshare); run as root.
set -euo pipefail
: "${LAB:?set LAB to a fresh directory}"
mkdir -p "$LAB/etc" "$LAB/run" "$LAB/lib" "$LAB/log" "$LAB/cache"

# QEMU as root (no libvirt-qemu file ownership games in a temp dir); stdio to files, so no virtlogd is needed.
[ -f "$LAB/etc/qemu.conf" ] || printf 'user = "root"\ngroup = "root"\nstdio_handler = "file"\n' >"$LAB/etc/qemu.conf"
# Warnings and errors on stderr (captured by lab.ts into $LAB/libvirtd.log).
[ -f "$LAB/etc/libvirtd.conf" ] || printf 'log_level = 3\nlog_outputs = "3:stderr"\n' >"$LAB/etc/libvirtd.conf"

# libvirtd 9.0's QEMU driver refuses to load when the user libvirt-qemu does not exist, even with user = "root".
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu

# Mount points must exist on the host side (empty directories; they are never written outside the namespace).
mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt

# `tini -s` makes libvirtd's parent a child subreaper: a killed QEMU (reparented to it) is reaped at once, so
# libvirtd sees the death in milliseconds instead of when this sandbox's PID 1 gets round to reaping (~1.6 s).
# `-p SIGTERM`: if the test process dies without cleaning up, tini is told and stops libvirtd.
# --pid-file keeps libvirtd off /run/libvirtd.pid, which several labs would otherwise fight over.
exec unshare --mount --propagation private -- bash -c '
  set -e
  mount --bind "$LAB/etc" /etc/libvirt
  mount --bind "$LAB/run" /run/libvirt
  mount --bind "$LAB/lib" /var/lib/libvirt
  mount --bind "$LAB/log" /var/log/libvirt
  mount --bind "$LAB/cache" /var/cache/libvirt
  exec tini -s -p SIGTERM -- /usr/sbin/libvirtd --pid-file "$LAB/libvirtd.pid"
'
