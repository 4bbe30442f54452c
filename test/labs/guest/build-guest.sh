#!/bin/bash
# Builds the tiny Linux guest of the test labs: OUT/vmlinuz and OUT/initramfs.cpio.gz, from INSTALLED Debian packages
# (nothing is downloaded at test time): the kernel of linux-image-amd64 (its vmlinuz and a few of its modules),
# busybox-static, and qemu-guest-agent with the libraries it links (copied from the host: same Debian release).
#   usage: build-guest.sh OUTDIR          FORCE=1 rebuilds
# Idempotent: OUT/.stamp holds a hash of this script, the kernel version and the agent's version; when it matches,
# nothing is done. The guest's /init (below) is the whole guest "OS": see README.md for its kernel command line.
#
# Why the generic kernel and not linux-image-cloud-amd64: the cloud flavour has no i6300esb watchdog driver.
# Why modules at all: virtio (console, pci, blk) and the watchdog are modules in Debian's kernels, and the .deb has
# no modules.dep that busybox could use, so the order below is checked against each module's own depends= list.
set -euo pipefail
OUT=${1:?usage: $0 OUTDIR}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)

KVER=${KVER:-$(ls /lib/modules | grep -E '^[0-9].*-amd64$' | grep -v cloud | sort -V | tail -1 || true)}
[ -n "$KVER" ] && [ -f "/boot/vmlinuz-$KVER" ] || { echo "build-guest: no generic kernel (apt-get install linux-image-amd64)"; exit 1; }
BB=/bin/busybox
# ldd exits 1 for a static binary (hence the || true under pipefail).
[ -x "$BB" ] && { ldd "$BB" 2>&1 || true; } | grep -q 'not a dynamic' \
  || { echo "build-guest: $BB is not busybox-static (apt-get install busybox-static)"; exit 1; }
GA=/usr/sbin/qemu-ga
[ -x "$GA" ] || { echo "build-guest: no $GA (apt-get install qemu-guest-agent)"; exit 1; }

STAMP="$(sha256sum "$0" | cut -c1-16) $KVER $(dpkg-query -W -f '${Version}' qemu-guest-agent 2>/dev/null) $(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null)"
if [ -z "${FORCE:-}" ] && [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initramfs.cpio.gz" ] && [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$STAMP" ]; then
  echo "build-guest: up to date in $OUT"; exit 0
fi

R=$(mktemp -d "$OUT/root.XXXXXX")
trap 'rm -rf "$R"' EXIT
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,root,lib/modules,var/lib,lib64}
ln -s ../run "$R"/var/run
cp "$BB" "$R"/bin/busybox
for a in $("$BB" --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
cp "$GA" "$R"/usr/sbin/qemu-ga
if ldd "$GA" | grep -q 'not found'; then echo "build-guest: missing host libraries for qemu-ga:"; ldd "$GA" | grep 'not found'; exit 1; fi
for lib in $(ldd "$GA" | grep -o '/[^ ]*'); do   # includes the dynamic loader
  mkdir -p "$R$(dirname "$lib")"; cp "$(readlink -f "$lib")" "$R$lib"
done

MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_console virtio_blk watchdog i6300esb"
MDIR=/lib/modules/$KVER
loaded=" "
for m in $MODS; do
  f=$(find "$MDIR/kernel" -name "$m.ko" | head -1)
  if [ -n "$f" ]; then
    cp "$f" "$R"/lib/modules/
    for dep in $(grep -a -o 'depends=[a-z0-9_,-]*' "$f" | head -1 | cut -d= -f2 | tr ',' ' '); do
      case "$loaded" in *" $dep "*) ;; *) echo "build-guest: module order: $m needs $dep first"; exit 1;; esac
    done
  elif ! grep -q "/$m.ko" "$MDIR/modules.builtin"; then echo "build-guest: module $m neither built in nor found in $MDIR"; exit 1; fi
  loaded="$loaded$m "
done
echo "$MODS" > "$R"/etc/modules

# qemu-ga runs /sbin/shutdown for guest-shutdown (virsh shutdown --mode agent): busybox has no such applet.
cat > "$R"/sbin/shutdown <<'SH'
#!/bin/sh
echo "guest: shutdown $* requested"
sync
case " $* " in *" -r "*) reboot -f ;; *) poweroff -f ;; esac
SH
# ga-start: (re)starts the agent on its virtio port; ga-outage N: stops it (SIGTERM: the port closes, libvirt says
# "not connected") and starts it again N seconds later (N=0: never); ga-outage N STOP: it hangs for N seconds. Tests run ga-outage through guest-exec, so an
# outage happens once, on demand; a rebooted guest comes back with a working agent.
cat > "$R"/bin/ga-start <<'SH'
#!/bin/sh
qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -t /run/qemu-ga </dev/null >/dev/console 2>&1 &
echo $! > /run/qemu-ga.pid     # qemu-ga writes a pid file only with -d
echo "guest: qemu-ga started, pid $!, at $(cut -d' ' -f1 /proc/uptime)s"
SH
cat > "$R"/bin/ga-outage <<'SH'
#!/bin/sh
# ga-outage SECONDS [TERM|STOP]: TERM (default) makes the agent exit; STOP makes it hang with its port open (libvirt
# can only time out), and SIGCONT ends the outage.
exec </dev/null >/dev/console 2>&1   # guest-exec gives its child no console
sleep 1                        # let guest-exec's reply get out first
GA=$(cat /run/qemu-ga.pid); SIG=${2:-TERM}
kill -$SIG "$GA"
echo "guest: QEMU-GA STOPPED (SIG$SIG) at $(cut -d' ' -f1 /proc/uptime)s for ${1:-0}s"
[ "${1:-0}" -gt 0 ] || exit 0
sleep "$1"
if [ "$SIG" = STOP ]; then kill -CONT "$GA"; echo "guest: qemu-ga continued at $(cut -d' ' -f1 /proc/uptime)s"; else ga-start; fi
SH

cat > "$R"/init <<'SH'
#!/bin/sh
# PID 1 of the test guest. Kernel command line (all optional):
#   wd_starve=N   arm the i6300esb watchdog (wd_heartbeat=S seconds, default 2), feed it for N seconds, then stop
#   disk_write=N  N seconds after boot, write disk_mib=M MiB (default 16) to /dev/vda and sync
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmpfs /run
mkdir -p /run/qemu-ga
exec </dev/console >/dev/console 2>&1
up() { cut -d' ' -f1 /proc/uptime; }
arg() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" /proc/cmdline; }
echo "guest: init at $(up)s"
WD_HEARTBEAT=$(arg wd_heartbeat); WD_HEARTBEAT=${WD_HEARTBEAT:-2}
for m in $(cat /etc/modules); do
  [ -f /lib/modules/$m.ko ] || continue
  if [ $m = i6300esb ]; then insmod /lib/modules/$m.ko heartbeat=$WD_HEARTBEAT; else insmod /lib/modules/$m.ko; fi
done
NAME=org.qemu.guest_agent.0; DEV=
for i in $(seq 1 300); do
  for p in /sys/class/virtio-ports/*; do
    [ -f "$p/name" ] && [ "$(cat $p/name)" = "$NAME" ] && DEV=/dev/$(basename $p)
  done
  [ -n "$DEV" ] && [ -c "$DEV" ] && break; DEV=; sleep 0.1
done
if [ -n "$DEV" ]; then
  mkdir -p /dev/virtio-ports; ln -sf $DEV /dev/virtio-ports/$NAME
  ga-start
else
  echo "guest: no virtio port named $NAME: no agent"
fi
WD=$(arg wd_starve)
if [ -n "$WD" ]; then
  if [ -c /dev/watchdog ]; then
    # The fd stays open after feeding stops (no magic close): the watchdog keeps counting down and fires.
    ( exec 3>/dev/watchdog; i=0; while [ $i -lt $WD ]; do printf . >&3; sleep 1; i=$((i+1)); done
      echo "guest: WATCHDOG NOT FED ANY MORE at $(up)s (heartbeat ${WD_HEARTBEAT}s)"; while :; do sleep 3600; done ) &
  else echo "guest: wd_starve set but no /dev/watchdog"; fi
fi
DW=$(arg disk_write)
if [ -n "$DW" ]; then
  MIB=$(arg disk_mib); MIB=${MIB:-16}
  ( sleep $DW; echo "guest: DISK WRITE ${MIB} MiB to /dev/vda at $(up)s"
    dd if=/dev/zero of=/dev/vda bs=1M count=$MIB conv=fsync 2>&1; echo "guest: disk write done (rc=$?) at $(up)s" ) &
fi
echo "guest: ready at $(up)s"
while :; do sleep 3600; done
SH
chmod +x "$R"/init "$R"/sbin/shutdown "$R"/bin/ga-start "$R"/bin/ga-outage

# Temporary names carry the PID: two test files may build at the same time; each rename is atomic.
cp "/boot/vmlinuz-$KVER" "$OUT"/vmlinuz.$$ && mv "$OUT"/vmlinuz.$$ "$OUT"/vmlinuz
# busybox's own cpio: the host may have none.
( cd "$R" && find . | "$BB" cpio -o -H newc 2>/dev/null ) | gzip -6 > "$OUT"/initramfs.cpio.gz.$$
mv "$OUT"/initramfs.cpio.gz.$$ "$OUT"/initramfs.cpio.gz
echo "$STAMP" > "$OUT"/.stamp
echo "build-guest: kernel $KVER -> $OUT/vmlinuz ($(stat -c %s "$OUT"/vmlinuz) B), initramfs $(stat -c %s "$OUT"/initramfs.cpio.gz) B"
