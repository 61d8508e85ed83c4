#!/usr/bin/env bash
# image.sh - build (or reuse) the guest image for the real-guest suite.
#
# A Debian bookworm root filesystem made with debootstrap (kernel, systemd, cloud-init,
# cifs-utils, nfs-common, openssh), customised for the harness (NoCloud seed only, serial
# console, root SSH key, /etc/hosts entries and a process monitor from the seed), written to a
# sparse raw ext4 image. The image is cached under $CACHE/img/<recipe hash>: the hash covers the
# package list, this script and every file under image/, so any recipe change rebuilds it and
# reruns start in 0 s.
#
# Usage: image.sh            prints the image directory (vmlinuz, initrd.img, base.raw, id_ed25519)
# Env:   CACHE (default ${XDG_CACHE_HOME:-/var/cache}/dsvmpool-guest), MIRROR (Debian mirror;
#        default: this machine's apt sources)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${CACHE:-${XDG_CACHE_HOME:-/var/cache}/dsvmpool-guest}
SUITE=bookworm
MIRROR=${MIRROR:-}
RECIPE_VERSION=1
# netbase: /etc/protocols, else mount.nfs4 fails ("Failed to find 'tcp' protocol").
# python3-cffi-backend: debootstrap cannot resolve a virtual dependency of cloud-init.
PKGS=linux-image-amd64,initramfs-tools,systemd-sysv,udev,kmod,iproute2,procps,netbase,cifs-utils,keyutils,nfs-common,cloud-init,python3-cffi-backend,openssh-server,sudo,ca-certificates,curl

log() { printf '[image] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot, mount)"

if [ -z "$MIRROR" ]; then
  MIRROR=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  [ -n "$MIRROR" ] || MIRROR=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  [ -n "$MIRROR" ] || die "no Debian mirror in the apt sources; set MIRROR"
fi

B=
cleanup() {
  [ -n "$B" ] || return 0
  umount -R "$B/root/proc" "$B/root/sys" "$B/root/dev" 2>/dev/null || true
  umount "$B" 2>/dev/null && rmdir "$B"
  B=
}
trap cleanup EXIT

customize_rootfs() { # $1 = rootfs, $2 = ssh public key
  local R=$1 K
  echo guest > "$R/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 guest\n' > "$R/etc/hosts"
  echo '/dev/vda / ext4 rw,relatime,errors=remount-ro 0 1' > "$R/etc/fstab"
  install -D -m 644 "$HERE/image/20-wired.network" "$R/etc/systemd/network/20-wired.network"
  chroot "$R" systemctl enable systemd-networkd >/dev/null 2>&1
  chroot "$R" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service \
    systemd-networkd-wait-online.service >/dev/null 2>&1
  # network-online.target without wait-online: the slirp network is up as soon as DHCP is.
  chroot "$R" passwd -d root >/dev/null
  install -d -m 700 "$R/root/.ssh"
  install -m 600 "$2" "$R/root/.ssh/authorized_keys"
  : > "$R/etc/machine-id" # a fresh machine-id per guest (distinct NFS client ids)
  rm -f "$R/var/lib/dbus/machine-id"
  install -m 644 "$HERE/image/90-e2e.cfg" "$R/etc/cloud/cloud.cfg.d/90-e2e.cfg"
  local f
  for f in e2e-hosts e2e-psmon; do install -m 755 "$HERE/image/$f" "$R/usr/local/sbin/$f"; done
  for f in e2e-hosts.service e2e-psmon.service; do
    install -m 644 "$HERE/image/$f" "$R/etc/systemd/system/$f"
    chroot "$R" systemctl enable "$f" >/dev/null 2>&1
  done
  # slim the image: drivers a virtio guest never loads, docs, locales
  K=$(ls "$R/usr/lib/modules")
  rm -rf "$R/usr/lib/modules/$K/kernel/drivers/"{gpu,media,net/wireless,net/ethernet,infiniband,staging,bluetooth,iio,hid,input/touchscreen,usb,isdn,mmc,scsi/lpfc,scsi/qla2xxx} \
    "$R/usr/lib/modules/$K/kernel/sound"
  chroot "$R" depmod "$K"
  rm -rf "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/info/*
  find "$R/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
  chroot "$R" apt-get clean
  rm -rf "$R"/var/lib/apt/lists/* "$R"/tmp/* "$R"/var/log/*.log
}

install -d "$CACHE/debs" "$CACHE/img"
[ -f "$CACHE/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C dsvmpool-guest-suite -f "$CACHE/id_ed25519"
KEY=$( {
  echo "$RECIPE_VERSION $SUITE $PKGS"
  declare -f customize_rootfs
  cat "$CACHE/id_ed25519.pub"
  (cd "$HERE/image" && for f in *; do echo "== $f"; cat "$f"; done)
} | sha256sum | cut -c1-16)
IMG="$CACHE/img/$KEY"
if [ -f "$IMG/base.raw" ] && [ -f "$IMG/vmlinuz" ] && [ -f "$IMG/initrd.img" ]; then
  log "cache hit: $IMG"
  echo "$IMG"
  exit 0
fi

log "building image $KEY (debootstrap $SUITE from $MIRROR; a few minutes)"
t0=$(date +%s)
# build on a private tmpfs: dpkg's fsyncs become free
B=$(mktemp -d /tmp/dsvmpool-rootfs.XXXXXX)
mount -t tmpfs -o size=4G,mode=755 dsvmpool-rootfs "$B"
debootstrap --variant=minbase --cache-dir="$CACHE/debs" --include="$PKGS" \
  "$SUITE" "$B/root" "$MIRROR" > "$CACHE/img/debootstrap-$KEY.log" 2>&1 ||
  die "debootstrap failed, see $CACHE/img/debootstrap-$KEY.log"
log "debootstrap done in $(($(date +%s) - t0))s"
customize_rootfs "$B/root" "$CACHE/id_ed25519.pub"
rm -rf "$IMG.tmp"
install -d "$IMG.tmp"
cp "$B"/root/boot/vmlinuz-* "$IMG.tmp/vmlinuz"
cp "$B"/root/boot/initrd.img-* "$IMG.tmp/initrd.img"
truncate -s 3G "$IMG.tmp/base.raw"
mkfs.ext4 -q -F -L guestroot -d "$B/root" "$IMG.tmp/base.raw"
cleanup
cp "$CACHE/id_ed25519" "$CACHE/id_ed25519.pub" "$IMG.tmp/"
rm -rf "$IMG"
mv "$IMG.tmp" "$IMG"
# keep only the current image
find "$CACHE/img" -mindepth 1 -maxdepth 1 -type d ! -name "$KEY" -exec rm -rf {} +
find "$CACHE/img" -mindepth 1 -maxdepth 1 -name 'debootstrap-*.log' ! -name "debootstrap-$KEY.log" -delete
log "image ready in $(($(date +%s) - t0))s: $IMG ($(du -sh "$IMG/base.raw" | cut -f1) used)"
echo "$IMG"
