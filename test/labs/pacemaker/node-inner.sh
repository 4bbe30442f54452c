#!/bin/bash
# PID 1 of one cluster node's private namespaces: private /run, /dev/shm and cluster state directories (bind mounts
# of $LAB/nN/...), hostname nodeN, then corosync and pacemakerd. Corosync and Pacemaker talk over abstract Unix
# sockets, which belong to the network namespace: that is what keeps the nodes apart on one machine.
# Being PID 1, it reaps the daemons' children at once, and killing it (power off) kills the whole node.
N=$1; D=$LAB/n$N
set -e
mount --make-rprivate /
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/crm /run/pacemaker /run/corosync; chown hacluster:haclient /run/crm /run/pacemaker
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount --bind "$LAB/etc-pacemaker" /etc/pacemaker
for p in etc/corosync var/lib/corosync var/lib/pacemaker var/log/pacemaker var/log/corosync; do
  mkdir -p "/$p"
  mount --bind "$D/${p//\//-}" "/$p"
done
hostname "node$N"
export PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_debug=no
corosync -f >/var/log/corosync/stdout.log 2>&1 &
COROPID=$!
for _ in $(seq 1 50); do corosync-cfgtool -s >/dev/null 2>&1 && break; sleep 0.2; done
pacemakerd >/var/log/pacemaker/stdout.log 2>&1 &
PCMKPID=$!
set +e
# SIGTERM = a clean shutdown, as `systemctl stop pacemaker corosync` does it: Pacemaker first (pacemakerd stops its
# daemons and exits once they are down, so the cluster sees a node leaving, not failing), then corosync.
trap 'kill -TERM $PCMKPID; wait $PCMKPID; kill -TERM $COROPID; wait $COROPID; exit 0' TERM
wait $COROPID
