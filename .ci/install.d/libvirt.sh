#!/bin/bash
# libvirtd 9.0's QEMU driver refuses to load without the libvirt-qemu user and group (normally created by
# libvirt-daemon-system, which we do not install). Idempotent; runs as root.
set -euo pipefail
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
# Empty mount points for the lab's private bind mounts (test/labs/libvirt/start-libvirtd.sh also makes them).
mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt
