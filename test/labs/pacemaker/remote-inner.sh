#!/bin/bash
# PID 1 of the remote node's private namespaces: pacemaker-remoted only (no corosync: a remote node is managed by
# the cluster over TCP 3121, it does not vote). pacemaker-remote conflicts with the pacemaker package, so it is
# unpacked under $PCMK_REMOTE_ROOT (.ci/install.d/pacemaker.sh).
D=$LAB/r1
set -e
mount --make-rprivate /
mount -t tmpfs -o mode=755 tmpfs /run; mkdir -p /run/crm; chown hacluster:haclient /run/crm
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount --bind "$LAB/etc-pacemaker" /etc/pacemaker
mount --bind "$D/var-log-pacemaker" /var/log/pacemaker
mount --bind "$D/var-lib-pacemaker" /var/lib/pacemaker
hostname remote1
export PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_remote_port=3121
set +e
"${PCMK_REMOTE_ROOT:-/opt/pacemaker-remote}/usr/sbin/pacemaker-remoted" >/var/log/pacemaker/stdout.log 2>&1 &
wait
