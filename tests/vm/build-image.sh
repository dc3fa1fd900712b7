#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build (or find in the cache) the guest image the QEMU tests boot: a kernel from Debian's
# linux-image-amd64 and a root file system with systemd as PID 1, udev, kmod, pciutils and jq, packed
# as a zstd cpio that the kernel unpacks as its initramfs and runs as a normal system
# (rdinit=/lib/systemd/systemd, no /etc/initrd-release).
#
# The image lands in $VB_VM_CACHE/<hash>/ (default ${XDG_CACHE_HOME:-/var/cache}/vfio-bind-vm),
# keyed on this recipe and the kernel package version, so it is built once per change. Downloaded
# .debs are kept in $VB_VM_CACHE/debs between builds.
#
# Usage: build-image.sh            prints the image directory on stdout, progress on stderr
#        build-image.sh --key      prints only the cache key
#
# The image directory holds: vmlinuz, rootfs.cpio.zst, kernel-release, manifest (the files of the
# root file system, used to tell which host libraries a payload must bring along).

set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
CACHE=${VB_VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/vfio-bind-vm}
SUITE=bookworm
MIRROR=${VB_VM_MIRROR:-}
PACKAGES=(systemd systemd-sysv udev kmod pciutils jq)
# A recipe with more packages (tests/vm/two-stage.sh: dracut-core e2fsprogs zstd), cached under
# a key of its own; the kernel and modules are the same.
# shellcheck disable=SC2206
PACKAGES+=(${VB_VM_EXTRA_PACKAGES:-})
# The host drivers of the emulated devices, the VFIO drivers, and what they need; the closure is
# taken from modules.dep.
MODULES=(bochs snd_hda_intel e1000e vfio_pci vfio_iommu_type1 pci-stub virtio_pci virtio_blk ext4)

say() { printf '[vm-image] %s\n' "$*" >&2; }
die() { printf '[vm-image] error: %s\n' "$*" >&2; exit 1; }

# The kernel package linux-image-amd64 points to now, and its version.
resolve_kernel() {
        local pkg ver
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
              sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
        if [[ -z $pkg ]]; then
                say "apt does not know linux-image-amd64 yet; running apt-get update"
                apt-get update -q >&2 || die "apt-get update failed"
                pkg=$(apt-cache depends linux-image-amd64 |
                      sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
        fi
        [[ -n $pkg ]] || die "cannot resolve linux-image-amd64 to a kernel package"
        ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
        [[ -n $ver && $ver != "(none)" ]] || die "no installable version of $pkg"
        KERNEL_PKG=$pkg
        KERNEL_VER=$ver
}

# The host's Debian mirror (deb.debian.org when it cannot be read from apt's sources).
resolve_mirror() {
        [[ -n $MIRROR ]] && return 0
        MIRROR=$(apt-get indextargets --format '$(REPO_URI)' 'Codename: bookworm' 2>/dev/null |
                 grep -v -e security -e updates | head -n1)
        MIRROR=${MIRROR%/}
        [[ -n $MIRROR ]] || MIRROR=http://deb.debian.org/debian
}

cache_key() {
        { sha256sum "$SELF" | cut -d' ' -f1
          printf '%s\n' "$SUITE" "${PACKAGES[*]}" "${MODULES[*]}" "$KERNEL_PKG" "$KERNEL_VER"
        } | sha256sum | cut -c1-16
}

resolve_kernel
KEY=$(cache_key)
if [[ ${1:-} == --key ]]; then
        echo "$KEY"
        exit 0
fi

OUT=$CACHE/$KEY
image_ready() { [[ -s $OUT/rootfs.cpio.zst && -s $OUT/vmlinuz && -s $OUT/manifest ]]; }
if image_ready; then
        say "using cached image $OUT ($KERNEL_PKG $KERNEL_VER)"
        touch "$OUT" 2>/dev/null || true # in use: see the clean-up at the end
        echo "$OUT"
        exit 0
fi

[[ $(id -u) == 0 ]] || die "building the image needs root (mmdebstrap, device nodes)"
# one build at a time per cache; whoever waited finds the image made by the other
mkdir -p "$CACHE"
exec 8>"$CACHE/.lock"
if ! flock -n 8; then
        say "another build of the image is running; waiting for it"
        flock 8
fi
if image_ready; then
        say "using the image just built: $OUT"
        echo "$OUT"
        exit 0
fi
for tool in mmdebstrap cpio zstd depmod modprobe dpkg-deb apt-get; do
        command -v "$tool" >/dev/null || die "$tool is missing (run tests/vm/install-deps.sh)"
done
resolve_mirror

mkdir -p "$CACHE/debs" "$CACHE/kernel"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
START=$SECONDS

# 1. The kernel: download the .deb once, unpack it next to the build, keep only what is needed.
KDEB=$(find "$CACHE/kernel" -maxdepth 1 -name "${KERNEL_PKG}_${KERNEL_VER//:/%3a}_amd64.deb" | head -n1)
if [[ -z $KDEB ]]; then
        say "downloading $KERNEL_PKG $KERNEL_VER"
        (cd "$CACHE/kernel" && apt-get download -q "$KERNEL_PKG=$KERNEL_VER" >&2 2>/dev/null) ||
                (cd "$CACHE/kernel" && apt-get download "$KERNEL_PKG=$KERNEL_VER" >&2)
        KDEB=$(find "$CACHE/kernel" -maxdepth 1 -name "${KERNEL_PKG}_*_amd64.deb" | head -n1)
        [[ -n $KDEB ]] || die "download of $KERNEL_PKG failed"
else
        say "kernel package cached: ${KDEB##*/}"
fi
say "unpacking ${KDEB##*/}"
dpkg-deb -x "$KDEB" "$WORK/kernel"
KREL=${KERNEL_PKG#linux-image-}
[[ -d $WORK/kernel/lib/modules/$KREL ]] || die "no modules for $KREL in ${KDEB##*/}"
depmod -b "$WORK/kernel" "$KREL"

# 2. The root file system.
say "building the root file system with mmdebstrap from $MIRROR (${PACKAGES[*]}); this takes a few minutes"
ROOT=$WORK/root
mmdebstrap --variant=essential --mode=root \
        --include="$(IFS=,; echo "${PACKAGES[*]}")" \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --aptopt='Acquire::Check-Valid-Until "false"' \
        --aptopt='Apt::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-include=/usr/share/locale/locale.alias' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --skip=essential/unlink \
        --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
        --setup-hook="sync-in $CACHE/debs /var/cache/apt/archives/" \
        --customize-hook="sync-out /var/cache/apt/archives $CACHE/debs" \
        --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages' \
        "$SUITE" "$ROOT" "$MIRROR" >&2 2> >(sed 's/^/[mmdebstrap] /' >&2) ||
        die "mmdebstrap failed"
# keep the .deb cache bounded: only the versions this build used
find "$CACHE/debs" -name '*.deb' -mtime +30 -delete 2>/dev/null || true

# 3. Modules: the closure of MODULES, then depmod inside the root.
say "installing kernel $KREL and the modules of ${MODULES[*]}"
mkdir -p "$ROOT/usr/lib/modules/$KREL"
mapfile -t KOS < <(for m in "${MODULES[@]}"; do
        modprobe -d "$WORK/kernel" -S "$KREL" --show-depends "$m" | sed -n 's/^insmod \([^ ]*\).*/\1/p'
done | sort -u)
for ko in "${KOS[@]}"; do
        rel=${ko#"$WORK/kernel"/lib/modules/"$KREL"/}
        mkdir -p "$ROOT/usr/lib/modules/$KREL/${rel%/*}"
        cp "$ko" "$ROOT/usr/lib/modules/$KREL/$rel"
done
cp "$WORK/kernel/lib/modules/$KREL"/modules.{order,builtin,builtin.modinfo} "$ROOT/usr/lib/modules/$KREL/"
depmod -b "$ROOT" "$KREL"

# 4. Settings for a small, quick, headless test system.
say "configuring the guest"
echo vm > "$ROOT/etc/hostname"
: > "$ROOT/etc/machine-id"
ln -sf /usr/share/zoneinfo/Etc/UTC "$ROOT/etc/localtime" 2>/dev/null || true
# a root without password so a console login works when someone debugs a boot by hand
sed -i 's/^root:[^:]*:/root::/' "$ROOT/etc/shadow"
# the tests pick their own target on the kernel command line; nothing below is wanted
for u in getty@tty1.service serial-getty@ttyS0.service systemd-timesyncd.service \
         systemd-networkd.service systemd-resolved.service apt-daily.timer apt-daily-upgrade.timer \
         e2scrub_all.timer e2scrub_reap.service fstrim.timer dpkg-db-backup.timer; do
        ln -sf /dev/null "$ROOT/etc/systemd/system/$u"
done
mkdir -p "$ROOT/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRateLimitBurst=0\n' > "$ROOT/etc/systemd/journald.conf.d/vm.conf"

cp "$WORK/kernel/boot/vmlinuz-$KREL" "$WORK/vmlinuz"
echo "$KREL" > "$WORK/kernel-release"
(cd "$ROOT" && find . -mindepth 1 | sed 's|^\./|/|' | sort) > "$WORK/manifest"

say "packing the root file system (zstd cpio)"
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | zstd -q -T0 -10 -o "$WORK/rootfs.cpio.zst")

mkdir -p "$OUT"
mv "$WORK/vmlinuz" "$WORK/kernel-release" "$WORK/manifest" "$WORK/rootfs.cpio.zst" "$OUT/"
# kernel packages other than this one are not needed any more
find "$CACHE/kernel" -maxdepth 1 -name 'linux-image-*.deb' ! -name "${KDEB##*/}" -delete 2>/dev/null || true
# images of other recipes that nobody used for two days (another checkout may still use one)
find "$CACHE" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]\{16\}' ! -name "$KEY" -mmin +2880 \
        -exec rm -rf {} + 2>/dev/null || true
say "image ready in $((SECONDS - START)) s: $OUT ($(du -h "$OUT/rootfs.cpio.zst" | cut -f1) root file system)"
echo "$OUT"
