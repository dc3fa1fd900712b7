#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build (or find in the cache) the guest image the QEMU tests boot on one kernel: a root file
# system with systemd as PID 1, udev, kmod, pciutils and jq, and the kernel with only the modules
# the test machine needs, packed as an uncompressed cpio that the kernel unpacks as its initramfs
# and runs as a normal system (rdinit=/lib/systemd/systemd, no /etc/initrd-release). Uncompressed:
# under TCG the kernel's zstd took 2-3 s of every boot, and 6.1's crypto_kdf108_init waits for
# the unpacking (its request_module needs the root file system), so the whole boot waited.
#
# The kernels (--kernel NAME, or VB_VM_KERNEL; default 6.1):
#   6.1          Debian's linux-image-amd64 (bookworm)
#   6.12         Debian's linux-image-6.12-amd64 (bookworm-security), its -unsigned twin
#   6.12-nixos   Linux 6.12 from Debian's linux-source-6.12, configured like NixOS's kernels
#                (simpledrm on simple-framebuffer.0, VFIO device cdevs): build-kernel.sh
#
# The root file system does not depend on the kernel: it is built once (mmdebstrap) into
# $VB_VM_CACHE/rootfs/<hash>/ and shared by the kernels. Each kernel's image lands in
# $VB_VM_CACHE/<hash>/ (default cache ${XDG_CACHE_HOME:-/var/cache}/vfio-bind-vm), keyed on this
# recipe and the kernel (its package's version, or build-kernel.sh's key), so it is built once per
# change. Downloaded .debs are kept in $VB_VM_CACHE/debs and kernel/ between builds.
#
# Usage: build-image.sh [--kernel NAME]          prints the image directory on stdout, progress
#                                                on stderr
#        build-image.sh [--kernel NAME] --key    prints only the cache key
#
# The image directory holds: vmlinuz, rootfs.cpio (the root file system followed by the
# kernel's modules), kernel-release, kernel.env (what the checks must know about the kernel),
# manifest (the files of the root file system, used to tell which host libraries a payload must
# bring along; NAME.manifest for each overlay), nested.cpio.zst (QEMU inside the guest, NESTED_PACKAGES: only the boots that
# start a nested VM append it, so the others do not unpack it), libvirt.cpio.zst (libvirtd with its
# QEMU driver and virsh, LIBVIRT_PACKAGES, on top of nested.cpio.zst: only the libvirt boots
# append it, after the nested one) and, when the kernel has the PVH
# entry point (Debian's do, and the NixOS-like one), vmlinux: the kernel decompressed, which the
# SeaBIOS boots start directly (vm-lib.sh): under TCG the firmware's part and the decompressor
# took about 4 s of CPU before the kernel's first line (3 s of it xz), the PVH start 0.8 s.

set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
HERE=$(dirname "$SELF")
CACHE=${VB_VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/vfio-bind-vm}
SUITE=bookworm
MIRROR=${VB_VM_MIRROR:-}
PACKAGES=(systemd systemd-sysv udev kmod pciutils jq)
# For a VM inside the guest: installed into the same root after PACKAGES, then cut out into an
# overlay of their own (nested.cpio.zst).
NESTED_PACKAGES=(qemu-system-x86)
# libvirt for a domain inside the guest (issue 32): installed after NESTED_PACKAGES (it needs
# QEMU), cut out into libvirt.cpio.zst, which the boots with LIBVIRT=yes append after
# nested.cpio.zst. libvirt-daemon-system brings the units and the QEMU driver (libvirt-daemon
# depends on libvirt-daemon-driver-qemu), libvirt-clients virsh; without recommends.
# VB_VM_LIBVIRT=no (two-stage.sh's recipe) leaves it out.
LIBVIRT_PACKAGES=(libvirt-daemon-system libvirt-clients)
[[ ${VB_VM_LIBVIRT:-yes} == yes ]] || LIBVIRT_PACKAGES=()
# A recipe with more packages (tests/vm/two-stage.sh: dracut-core e2fsprogs zstd), cached under
# a key of its own; the kernel and modules are the same.
# shellcheck disable=SC2206
PACKAGES+=(${VB_VM_EXTRA_PACKAGES:-})
# The host drivers of the emulated devices, the VFIO drivers, and what they need; the closure is
# taken from modules.dep. Where a kernel has one built in, there is nothing to copy.
MODULES=(bochs snd_hda_intel e1000e xhci_pci vfio_pci vfio_iommu_type1 pci-stub virtio_pci virtio_blk ext4 nvme)

say() { printf '[vm-image] %s\n' "$*" >&2; }

# pvh_vmlinux BZIMAGE OUT: OUT = the kernel of BZIMAGE, decompressed, if it has the PVH entry
# point (the Xen ELF note PHYS32_ENTRY, type 18), so that QEMU can start it without firmware or
# decompressor (-kernel vmlinux under SeaBIOS). The payload is found from the boot protocol's
# header (Documentation/arch/x86/boot.rst): setup_sects at 0x1f1, payload_offset and
# payload_length at 0x248 and 0x24c, counted from the protected-mode code at
# (setup_sects + 1) * 512; the payload ends in 4 bytes of the uncompressed size. Fails (and
# leaves no OUT) when there is no such kernel.
pvh_vmlinux() {
        local in=$1 out=$2 setup off len start magic dec notes
        setup=$(od -An -tu1 -j $((0x1f1)) -N1 "$in" | tr -d ' ')
        off=$(od -An -tu4 -j $((0x248)) -N4 "$in" | tr -d ' ')
        len=$(od -An -tu4 -j $((0x24c)) -N4 "$in" | tr -d ' ')
        [[ $setup =~ ^[0-9]+$ && $off =~ ^[0-9]+$ && $len =~ ^[0-9]+$ ]] && ((len > 4)) || return 1
        ((setup > 0)) || setup=4
        start=$(((setup + 1) * 512 + off))
        magic=$(od -An -tx1 -j "$start" -N4 "$in" | tr -d ' \n')
        case $magic in
        fd377a58) dec=(xz -dc) ;;
        28b52ffd) dec=(zstd -dc -q) ;;
        1f8b*) dec=(gzip -dc) ;;
        *) return 1 ;;
        esac
        # (no pipe whose reader stops early: pipefail would count the writer's SIGPIPE)
        if head -c $((start + len - 4)) "$in" | tail -c $((len - 4)) | "${dec[@]}" >"$out.tmp" &&
                [[ $(od -An -tx1 -N4 "$out.tmp" | tr -d ' \n') == 7f454c46 ]] &&
                notes=$(readelf -n "$out.tmp" 2>/dev/null) && [[ $notes == *"(0x00000012)"* ]]; then
                mv "$out.tmp" "$out"
                return 0
        fi
        rm -f "$out.tmp"
        return 1
}
die() { printf '[vm-image] error: %s\n' "$*" >&2; exit 1; }

# overlay_hook pre|post ROOT DIR NAME (build-image.sh --overlay-hook …): run by mmdebstrap around
# the installation of an overlay's packages (in the chroot). pre keeps a list of the root's files
# and a copy of /etc and /var/lib (the dpkg database, pam-auth-update's state) in DIR/NAME.state;
# post packs what the installation added or changed into DIR/NAME.cpio.zst and takes it out of
# the root again. Overlays nest: the libvirt overlay's pre and post run between the nested one's,
# so it holds what libvirt adds to a root with QEMU, and its copies of changed files (the dpkg
# database, /etc/passwd) are those of the root with both; appended after nested.cpio.zst, they
# replace its copies.
overlay_hook() {
        local phase=$1 root=$2 dir=$3 name=$4 state d
        [[ $root != / ]] || die "overlay_hook: refusing to work on /"
        state=$dir/$name.state
        cd "$root" || return 1
        case $phase in
        pre)
                mkdir -p "$state/before/var"
                find . -xdev -mindepth 1 | LC_ALL=C sort > "$state/before.list"
                touch "$state/stamp"
                cp -a etc "$state/before/etc"
                cp -a var/lib "$state/before/var/lib"
                ;;
        post)
                find . -xdev -mindepth 1 | LC_ALL=C sort > "$state/after.list"
                LC_ALL=C comm -13 "$state/before.list" "$state/after.list" > "$state/added.list"
                # files that were there before and changed (the dpkg database, ld.so.cache, groups)
                for d in etc var/lib; do
                        { diff -rq "$state/before/$d" "$d" 2>/dev/null || :; } |
                                sed -n "s|^Files $state/before/$d/\(.*\) and .* differ$|./$d/\1|p"
                done > "$state/changed.list"
                # a file elsewhere that was there before and changed goes into the overlay too, but
                # cannot be put back: say so
                find . -xdev -mindepth 1 -type f -newer "$state/stamp" ! -path './etc/*' \
                        ! -path './var/lib/*' ! -path './var/cache/*' ! -path './var/log/*' \
                        ! -path './tmp/*' | LC_ALL=C sort |
                        LC_ALL=C comm -12 "$state/before.list" - > "$state/changed-elsewhere.list"
                if [[ -s $state/changed-elsewhere.list ]]; then
                        say "overlay $name: changed outside /etc and /var/lib (in the overlay, left changed in the root): $(tr '\n' ' ' < "$state/changed-elsewhere.list")"
                fi
                # not apt's downloads, lists and logs
                LC_ALL=C sort -u "$state/added.list" "$state/changed.list" "$state/changed-elsewhere.list" |
                        grep -v -e '^\./var/cache/apt/' -e '^\./var/lib/apt/' -e '^\./var/log/' |
                        cpio --quiet -o -H newc -R 0:0 | zstd -q -T0 -10 -o "$dir/$name.cpio.zst"
                # out of the root again: added paths deepest first, changed files restored
                tac "$state/added.list" | while IFS= read -r p; do
                        if [[ -d $p && ! -L $p ]]; then rmdir "$p"; else rm -f "$p"; fi
                done
                cp -a "$state/before/etc/." etc/
                cp -a "$state/before/var/lib/." var/lib/
                rm -rf "$state"
                ;;
        esac
}

# libvirt_trim ROOT (build-image.sh --libvirt-trim ROOT): run in the libvirt overlay before it is
# packed: the default network is not started (the guest has no dnsmasq, and no domain of the
# tests has a network interface), and libvirt-guests.service (which starts the domains marked for
# autostart through virsh at boot; the tests have none) is not enabled
libvirt_trim() {
        local root=$1
        [[ $root != / ]] || die "libvirt_trim: refusing to work on /"
        rm -f "$root/etc/libvirt/qemu/networks/autostart/default.xml" \
                "$root/etc/systemd/system/multi-user.target.wants/libvirt-guests.service"
}

if [[ ${1:-} == --overlay-hook ]]; then
        overlay_hook "$2" "$3" "$4" "$5"
        exit
fi
if [[ ${1:-} == --libvirt-trim ]]; then
        libvirt_trim "$2"
        exit
fi

KERNEL=${VB_VM_KERNEL:-6.1}
KEY_ONLY=0
while (($#)); do
        case $1 in
        --kernel) KERNEL=$2; shift 2 ;;
        --key) KEY_ONLY=1; shift ;;
        *) die "unknown argument $1" ;;
        esac
done

# resolve_kernel_package META SUFFIX: KERNEL_PKG, KERNEL_VER = the kernel package META depends on
# now (with SUFFIX appended: the -unsigned twin), and its version
resolve_kernel_package() {
        local meta=$1 suffix=$2 pkg ver
        pkg=$(apt-cache depends "$meta" 2>/dev/null |
              sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
        if [[ -z $pkg ]]; then
                say "apt does not know $meta yet; running apt-get update"
                apt-get update -q >&2 || die "apt-get update failed"
                pkg=$(apt-cache depends "$meta" |
                      sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
        fi
        [[ -n $pkg ]] || die "cannot resolve $meta to a kernel package (is bookworm-security in apt's sources?)"
        pkg=$pkg$suffix
        ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
        [[ -n $ver && $ver != "(none)" ]] || die "no installable version of $pkg"
        KERNEL_PKG=$pkg
        KERNEL_VER=$ver
}

# KERNEL_PKG, KERNEL_VER; KERNEL_FAMILY: the glob of the .debs of older versions of this kernel
resolve_kernel() {
        case $KERNEL in
        6.1)
                resolve_kernel_package linux-image-amd64 ""
                KERNEL_FAMILY='linux-image-6.1.0-*_amd64.deb'
                ;;
        6.12)
                resolve_kernel_package linux-image-6.12-amd64 -unsigned
                KERNEL_FAMILY='linux-image-6.12.*-amd64-unsigned_*_amd64.deb'
                ;;
        6.12-nixos)
                KERNEL_PKG=linux-source-6.12+build-kernel.sh
                KERNEL_VER=$("$HERE/build-kernel.sh" --key) || die "build-kernel.sh --key failed"
                KERNEL_FAMILY=
                # the VFIO variant driver of modern virtio-net (1af4:1041, scenario 27's
                # Driver=auto): only this kernel builds it (VIRTIO_VFIO_PCI=m), Debian's do not
                MODULES+=(virtio_vfio_pci)
                ;;
        *) die "unknown kernel $KERNEL (6.1, 6.12, 6.12-nixos)" ;;
        esac
}

# The host's Debian mirror (deb.debian.org when it cannot be read from apt's sources).
resolve_mirror() {
        [[ -n $MIRROR ]] && return 0
        MIRROR=$(apt-get indextargets --format '$(REPO_URI)' 'Codename: bookworm' 2>/dev/null |
                 grep -v -e security -e updates | head -n1)
        MIRROR=${MIRROR%/}
        [[ -n $MIRROR ]] || MIRROR=http://deb.debian.org/debian
}

# build_rootfs: the root file system, shared by all kernels, into $RFS
build_rootfs() {
        local root=$WORK/root dir=$WORK/rootfs
        resolve_mirror
        mkdir -p "$dir"
        # The essential variant has no apt inside: install the overlays' packages from the outside
        # as mmdebstrap installs the others, with its apt configuration and dpkg run in the chroot
        # (without DPkg::Chroot-Directory, dpkg would run on the host).
        local install="[ \"\$1\" != / ] && TMPDIR=\"\$1/tmp\" APT_CONFIG=\"\$MMDEBSTRAP_APT_CONFIG\" apt-get
                -o Dir::Bin::dpkg=env -o DPkg::Options::=--unset=TMPDIR -o DPkg::Options::=dpkg
                -o DPkg::Chroot-Directory=\"\$1\" --yes -q --no-install-recommends install"
        install=${install//$'\n'/ }
        local hook="\"$SELF\" --overlay-hook" libvirt=()
        # shellcheck disable=SC2016 # $1 is the root, expanded by mmdebstrap's hook shell
        ((${#LIBVIRT_PACKAGES[@]} == 0)) || libvirt=(
                --customize-hook="$hook pre \"\$1\" \"$dir\" libvirt"
                --customize-hook="$install ${LIBVIRT_PACKAGES[*]}"
                --customize-hook="\"$SELF\" --libvirt-trim \"\$1\""
                --customize-hook="sync-out /var/cache/apt/archives $CACHE/debs"
                --customize-hook="$hook post \"\$1\" \"$dir\" libvirt")
        local host_status
        host_status=$(sha256sum /var/lib/dpkg/status 2>/dev/null || :)
        say "building the root file system with mmdebstrap from $MIRROR (${PACKAGES[*]}, then ${NESTED_PACKAGES[*]} as an overlay${LIBVIRT_PACKAGES[*]:+, then ${LIBVIRT_PACKAGES[*]} as one more}); this takes a few minutes"
        # shellcheck disable=SC2016 # $1 is the root, expanded by mmdebstrap's hook shell
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
                --customize-hook="$hook pre \"\$1\" \"$dir\" nested" \
                --customize-hook="$install ${NESTED_PACKAGES[*]}" \
                --customize-hook="sync-out /var/cache/apt/archives $CACHE/debs" \
                "${libvirt[@]}" \
                --customize-hook="$hook post \"\$1\" \"$dir\" nested" \
                --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages' \
                "$SUITE" "$root" "$MIRROR" >&2 2> >(sed 's/^/[mmdebstrap] /' >&2) ||
                die "mmdebstrap failed"
        [[ $(sha256sum /var/lib/dpkg/status 2>/dev/null || :) == "$host_status" ]] ||
                die "the host's dpkg database changed while the root file system was built: a bug in this script"
        [[ -s $dir/nested.cpio.zst ]] || die "no overlay with ${NESTED_PACKAGES[*]} was made"
        (($(zstd -dc "$dir/nested.cpio.zst" | cpio -it --quiet | grep -c -x -e usr/bin/qemu-system-x86_64 -e ./usr/bin/qemu-system-x86_64) == 1)) ||
                die "the overlay has no /usr/bin/qemu-system-x86_64"
        if ((${#LIBVIRT_PACKAGES[@]})); then
                [[ -s $dir/libvirt.cpio.zst ]] || die "no overlay with ${LIBVIRT_PACKAGES[*]} was made"
                (($(zstd -dc "$dir/libvirt.cpio.zst" | cpio -it --quiet | grep -c -x -e usr/bin/virsh -e ./usr/bin/virsh -e usr/sbin/libvirtd -e ./usr/sbin/libvirtd) == 2)) ||
                        die "the libvirt overlay has no /usr/bin/virsh or /usr/sbin/libvirtd"
        fi
        # each overlay's files, so that a payload does not bring along a library the overlay has
        # (vm-lib.sh install_libs)
        local o
        for o in nested libvirt; do
                [[ -s $dir/$o.cpio.zst ]] || continue
                zstd -dc "$dir/$o.cpio.zst" | cpio -it --quiet | sed 's|^\./||; s|^|/|' | LC_ALL=C sort > "$dir/$o.manifest"
        done
        # keep the .deb cache bounded: only the versions this build used
        find "$CACHE/debs" -name '*.deb' -mtime +30 -delete 2>/dev/null || true

        say "configuring the guest"
        echo vm > "$root/etc/hostname"
        : > "$root/etc/machine-id"
        ln -sf /usr/share/zoneinfo/Etc/UTC "$root/etc/localtime" 2>/dev/null || true
        # a root without password so a console login works when someone debugs a boot by hand
        sed -i 's/^root:[^:]*:/root::/' "$root/etc/shadow"
        # the tests pick their own target on the kernel command line; nothing below is wanted
        for u in getty@tty1.service serial-getty@ttyS0.service systemd-timesyncd.service \
                 systemd-networkd.service systemd-resolved.service apt-daily.timer apt-daily-upgrade.timer \
                 e2scrub_all.timer e2scrub_reap.service fstrim.timer dpkg-db-backup.timer; do
                ln -sf /dev/null "$root/etc/systemd/system/$u"
        done
        mkdir -p "$root/etc/systemd/journald.conf.d"
        printf '[Journal]\nStorage=volatile\nRateLimitBurst=0\n' > "$root/etc/systemd/journald.conf.d/vm.conf"
        mkdir -p "$root/usr/lib/modules"

        (cd "$root" && find . -mindepth 1 | sed 's|^\./|/|' | sort) > "$dir/manifest"
        say "packing the root file system (cpio)"
        (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$dir/rootfs.cpio"
        rm -rf "$root" "$dir"/*.list
        rm -rf "$RFS"
        mv "$dir" "$RFS"
        say "root file system ready in $((SECONDS - START)) s: $RFS"
}
# the root file system's key: its recipe (the functions that make it) and packages, not the rest
# of this script, so that a change to the kernel's part does not rebuild it
rootfs_key() {
        { declare -f overlay_hook libvirt_trim build_rootfs
          printf '%s\n' "$SUITE" "${PACKAGES[*]}" "${NESTED_PACKAGES[*]}" "libvirt: ${LIBVIRT_PACKAGES[*]}"
        } | sha256sum | cut -c1-16
}

cache_key() {
        { sha256sum "$SELF" | cut -d' ' -f1
          rootfs_key
          printf '%s\n' "${MODULES[*]}" "$KERNEL" "$KERNEL_PKG" "$KERNEL_VER"
        } | sha256sum | cut -c1-16
}

resolve_kernel
KEY=$(cache_key)
RKEY=$(rootfs_key)
if ((KEY_ONLY)); then
        echo "$KEY"
        exit 0
fi

OUT=$CACHE/$KEY
RFS=$CACHE/rootfs/$RKEY
image_ready() { [[ -s $OUT/rootfs.cpio && -s $OUT/vmlinuz && -s $OUT/manifest && -s $OUT/kernel.env ]]; }
rootfs_ready() {
        [[ -s $RFS/rootfs.cpio && -s $RFS/manifest && -s $RFS/nested.cpio.zst && -s $RFS/nested.manifest ]] &&
                { ((${#LIBVIRT_PACKAGES[@]} == 0)) || [[ -s $RFS/libvirt.cpio.zst && -s $RFS/libvirt.manifest ]]; }
}
if image_ready; then
        say "using cached image $OUT (kernel $KERNEL: $KERNEL_PKG $KERNEL_VER)"
        touch "$OUT" "$RFS" 2>/dev/null || true # in use: see the clean-up at the end
        echo "$OUT"
        exit 0
fi

[[ $(id -u) == 0 ]] || die "building the image needs root (mmdebstrap, device nodes)"
# The NixOS-like kernel is built (or found) before the image lock is taken: its build takes tens
# of minutes (build-kernel.sh has a lock of its own), and holding the image lock through it kept
# another kernel's image waiting behind it. That happened in CI: tools/test.sh's background
# builds finished 6.12's image and took the lock again for 6.12-nixos before run.sh's waiter for
# 6.12 woke (flock is not first come, first served), so 6.12's boots waited for the kernel.
if [[ $KERNEL == 6.12-nixos ]]; then
        KTREE=$("$HERE/build-kernel.sh") || die "build-kernel.sh failed"
fi
# one build at a time per cache; whoever waited finds the image made by the other
mkdir -p "$CACHE"
exec 8>"$CACHE/.lock"
if ! flock -n 8; then
        say "another build of an image is running; waiting for it"
        flock 8
fi
if image_ready; then
        say "using the image just built: $OUT"
        echo "$OUT"
        exit 0
fi
for tool in mmdebstrap cpio zstd xz readelf od depmod modprobe dpkg-deb apt-get; do
        command -v "$tool" >/dev/null || die "$tool is missing (run tests/vm/install-deps.sh)"
done

mkdir -p "$CACHE/debs" "$CACHE/kernel" "$CACHE/rootfs"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
START=$SECONDS

# 1. The root file system, shared by all kernels.
if rootfs_ready; then
        say "root file system cached: $RFS"
else
        build_rootfs
fi

# 2. The kernel: Debian's package downloaded once and unpacked next to the build, or the one
# build-kernel.sh built. KTREE has boot/ or vmlinuz, and lib/modules/<release>/.
if [[ $KERNEL == 6.12-nixos ]]; then
        VMLINUZ=$KTREE/vmlinuz
else
        KDEB=$(find "$CACHE/kernel" -maxdepth 1 -name "${KERNEL_PKG}_${KERNEL_VER//:/%3a}_amd64.deb" | head -n1)
        if [[ -z $KDEB ]]; then
                say "downloading $KERNEL_PKG $KERNEL_VER"
                (cd "$CACHE/kernel" && apt-get download -q "$KERNEL_PKG=$KERNEL_VER" >&2)
                KDEB=$(find "$CACHE/kernel" -maxdepth 1 -name "${KERNEL_PKG}_*_amd64.deb" | head -n1)
                [[ -n $KDEB ]] || die "download of $KERNEL_PKG failed"
        else
                say "kernel package cached: ${KDEB##*/}"
        fi
        say "unpacking ${KDEB##*/}"
        KTREE=$WORK/kernel
        dpkg-deb -x "$KDEB" "$KTREE"
        VMLINUZ=
fi
# the kernel release is the name of its modules' directory, not the package's name
mapfile -t RELEASES < <(find "$KTREE/lib/modules" -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
((${#RELEASES[@]} == 1)) || die "expected one directory in $KTREE/lib/modules, found: ${RELEASES[*]:-none}"
KREL=${RELEASES[0]}
[[ -n $VMLINUZ ]] || VMLINUZ=$KTREE/boot/vmlinuz-$KREL
[[ -s $VMLINUZ ]] || die "no kernel image $VMLINUZ"
[[ -f $KTREE/lib/modules/$KREL/modules.dep ]] || depmod -b "$KTREE" "$KREL"

# 3. Modules: the closure of MODULES, then depmod in a tree of their own.
say "kernel $KREL: the modules of ${MODULES[*]}"
MODS=$WORK/modules
mkdir -p "$MODS/usr/lib/modules/$KREL"
KOS=()
for m in "${MODULES[@]}"; do
        deps=$(modprobe -d "$KTREE" -S "$KREL" --show-depends "$m" 2>&1) ||
                die "kernel $KREL has no module $m: $deps"
        mapfile -t -O "${#KOS[@]}" KOS < <(sed -n 's/^insmod \([^ ]*\).*/\1/p' <<<"$deps")
done
for ko in $(printf '%s\n' "${KOS[@]}" | sort -u); do
        rel=${ko#"$KTREE"/lib/modules/"$KREL"/}
        mkdir -p "$MODS/usr/lib/modules/$KREL/${rel%/*}"
        cp "$ko" "$MODS/usr/lib/modules/$KREL/$rel"
done
cp "$KTREE/lib/modules/$KREL"/modules.{order,builtin,builtin.modinfo} "$MODS/usr/lib/modules/$KREL/"
# depmod looks in lib/modules: the merged /usr of the root file system, for depmod's eyes only
ln -s usr/lib "$MODS/lib"
depmod -b "$MODS" "$KREL"
rm "$MODS/lib"

# 4. What the checks must know about this kernel (sourced in the guest as /vm/kernel.env).
cfg=$KTREE/boot/config-$KREL # Debian's package; build-kernel.sh's tree has config
[[ -s $cfg ]] || cfg=$KTREE/config
[[ -s $cfg ]] || die "no configuration of kernel $KREL"
conf() { sed -n "s/^$1=//p" "$cfg"; }
if [[ $(conf CONFIG_SYSFB_SIMPLEFB) == y && $(conf CONFIG_DRM_SIMPLEDRM) == y ]]; then
        BOOT_FB=simple-framebuffer.0 BOOT_FB_DRIVER=simple-framebuffer
else
        BOOT_FB=efi-framebuffer.0 BOOT_FB_DRIVER=efi-framebuffer
fi
{
        printf '# kernel %s (%s %s)\n' "$KERNEL" "$KERNEL_PKG" "$KERNEL_VER"
        printf 'VM_KERNEL=%q\n' "$KERNEL"
        printf 'VM_KERNEL_RELEASE=%q\n' "$KREL"
        # the boot framebuffer's platform device and its driver
        printf 'VM_BOOT_FB=%q\nVM_BOOT_FB_DRIVER=%q\n' "$BOOT_FB" "$BOOT_FB_DRIVER"
        # can a kprobe be set on efifb_remove (efifb built in, and 6.1: 6.12 has no such symbol;
        # Debian's System.map is a placeholder, so this cannot be looked up)
        if [[ $(conf CONFIG_FB_EFI) == y && $KREL == 6.1.* ]]; then
                printf 'VM_EFIFB_REMOVE=1\n'
        else
                printf 'VM_EFIFB_REMOVE=0\n'
        fi
        printf 'VM_VFIO_DEVICE_CDEV=%q\n' "$(conf CONFIG_VFIO_DEVICE_CDEV)"
        printf 'VM_IOMMUFD=%q\n' "$(conf CONFIG_IOMMUFD)"
        printf 'VM_SERIAL_8250_PCI=%q\n' "$(conf CONFIG_SERIAL_8250_PCI)"
} > "$WORK/kernel.env"

say "packing the image (root file system and modules, two cpio archives, uncompressed)"
cat "$RFS/rootfs.cpio" <(cd "$MODS" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) \
        >"$WORK/rootfs.cpio"
{ cat "$RFS/manifest"; (cd "$MODS" && find . -mindepth 1 | sed 's|^\./|/|'); } | sort -u > "$WORK/manifest"
cp "$VMLINUZ" "$WORK/vmlinuz"
pvh=()
if pvh_vmlinux "$VMLINUZ" "$WORK/vmlinux"; then
        pvh=("$WORK/vmlinux")
else
        say "no PVH entry point in $VMLINUZ: SeaBIOS boots start the bzImage"
fi
echo "$KREL" > "$WORK/kernel-release"
overlays=()
for o in nested libvirt; do
        [[ $o == nested || ${#LIBVIRT_PACKAGES[@]} -gt 0 ]] || continue
        cp "$RFS/$o.cpio.zst" "$RFS/$o.manifest" "$WORK/"
        overlays+=("$WORK/$o.cpio.zst" "$WORK/$o.manifest")
done

mkdir -p "$OUT"
mv "$WORK/vmlinuz" "$WORK/kernel-release" "$WORK/kernel.env" "$WORK/manifest" "${overlays[@]}" \
        "$WORK/rootfs.cpio" "${pvh[@]}" "$OUT/"
# older packages of this kernel are not needed any more
if [[ -n $KERNEL_FAMILY ]]; then
        find "$CACHE/kernel" -maxdepth 1 -name "$KERNEL_FAMILY" ! -name "${KDEB##*/}" -delete 2>/dev/null || true
fi
# images and root file systems of other recipes that nobody used for two days (another checkout
# may still use one)
find "$CACHE" "$CACHE/rootfs" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]\{16\}' \
        ! -name "$KEY" ! -name "$RKEY" -mmin +2880 -exec rm -rf {} + 2>/dev/null || true
say "image ready in $((SECONDS - START)) s: $OUT (kernel $KERNEL $KREL, $(du -h "$OUT/rootfs.cpio" | cut -f1))"
echo "$OUT"
