#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The real two-stage boot: the guest's root file system is an ext4 disk (virtio-blk) with
# systemd; its initrd is made by the guest's own dracut 059 (systemd in the initrd), run in a
# chroot of that root file system with the project installed and, unless the scenario says
# otherwise, the dracut module 90vfio-bind enabled through /etc/dracut.conf.d; or, for the
# scenarios with INITRAMFS=initramfs-tools, by the guest's own update-initramfs (initramfs-tools
# 0.142, no systemd in the initramfs) with the hook and boot script installed. The kernel boots
# the initrd, which mounts the disk and switches root into stage 2, where the checks run.
#
# Usage: two-stage.sh --daemon PATH --cli PATH --unit PATH --dracut-module DIR
#                     [--initramfs-tools DIR] [--logdir DIR] [--require] [--list] [SCENARIO…]
#        two-stage.sh --images    build (or find) the guest images these boots need, and exit
#
#   --dracut-module DIR    the build's dracut/ (module-setup.sh, vfio-bind-initrd.service)
#   --initramfs-tools DIR  the build's initramfs-tools/ (vfio-bind, 00-vfio-bind); without it the
#                          scenarios with INITRAMFS=initramfs-tools are left out (said so)
#   --deb PATH             the Debian package (debian/, dpkg-buildpackage) for the scenarios with
#                          INSTALL=deb (default: VB_VM_DEB, which tools/test.sh sets when it
#                          built the package, so that its boot shares this pool); without it
#                          they are left out (said so)
#   the other options as in run.sh; SCENARIO: files of stage1/ without .sh, or a glob
#   (stage1/lib.sh is not one: the helpers the scenarios' host_checks() share)
#
# The scenarios (stage1/*.sh) are sourced like run.sh's, with more settings:
#   INITRAMFS       dracut (the default) or initramfs-tools
#   DRACUT_MODULE   yes (add_dracutmodules+=" vfio-bind " in /etc/dracut.conf.d) or no
#   DRACUT_DRIVERS  modules put into the initrd (default: the host drivers of the GPU slot,
#                   bochs and snd_hda_intel, so that udev coldplug there would load them); with
#                   initramfs-tools they are written to /etc/initramfs-tools/modules (early KMS)
#   ITOOLS_HOOK     initramfs-tools: yes (the hook and boot script installed where meson install
#                   puts them, /usr/share/initramfs-tools) or no
#   STAGE1_KERNELS  the kernels it boots on at most (default: every kernel of the run)
#   INSTALL         payload (the build's programs and unit, as run.sh installs them) or deb (the
#                   package, installed with dpkg -i in the root tree; its unit enabled by its
#                   postinst; the programs reachable at the payload's paths for the checks)
#   host_checks()   runs on the host after dracut, with ROOT (the root tree) and INITRD_FILES
#                   (the initrd's file list) set; report with host_check "ID: TEXT" FUNCTION…
#                   (initramfs-tools: ITOOLS_TREE is the unpacked initramfs, ITOOLS_LOG what
#                   update-initramfs said)
#
# The kernel and its modules are those of the image vm_image gives (IMAGE/vmlinuz, the modules
# in IMAGE/rootfs.cpio); the image is tests/vm/build-image.sh's recipe with dracut-core,
# initramfs-tools, e2fsprogs, zstd and the package's libxml2 added (VB_VM_EXTRA_PACKAGES),
# cached under its own key.
#
# Environment as run.sh's; VB_VM_BOOT_TIMEOUT defaults to 600 s here (two start-ups per boot).
#
# Output as run.sh: PASS/FAIL lines, TIME lines, "N passed, N failed"; exit 77 only when QEMU
# cannot run here. Needs root (chroot, image build).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vm-lib.sh
source "$HERE/vm-lib.sh"
# shellcheck source=stage1/lib.sh
source "$HERE/stage1/lib.sh"

VB_DAEMON='' VB_CLI='' VB_UNIT='' VB_DRACUT='' VB_ITOOLS='' VB_DEB=${VB_VM_DEB:-} VM_LOGDIR='' REQUIRE=0 LIST=0 IMAGES=0
SELECT=()
while (($#)); do
        case $1 in
        --daemon) VB_DAEMON=$2; shift 2 ;;
        --cli) VB_CLI=$2; shift 2 ;;
        --unit) VB_UNIT=$2; shift 2 ;;
        --dracut-module) VB_DRACUT=$2; shift 2 ;;
        --initramfs-tools) VB_ITOOLS=$2; shift 2 ;;
        --deb) VB_DEB=$2; shift 2 ;;
        --logdir) VM_LOGDIR=$2; shift 2 ;;
        --require) REQUIRE=1; shift ;; # read by skip() (vm-lib.sh)
        --list) LIST=1; shift ;;
        --images) IMAGES=1; shift ;;
        -h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "two-stage.sh: unknown option $1" >&2; exit 2 ;;
        *) SELECT+=("$1"); shift ;;
        esac
done

# Two systemd start-ups per boot (the initrd's and the root's): twice run.sh's limit unless set.
VM_BOOT_TIMEOUT=${VB_VM_BOOT_TIMEOUT:-600}

# The image recipe of this boot kind: the test image plus the initrd builders (dracut, and
# initramfs-tools for the scenarios with INITRAMFS=initramfs-tools; one image holds both).
export VB_VM_EXTRA_PACKAGES="dracut-core initramfs-tools e2fsprogs zstd"
# no libvirt overlay: no two-stage scenario starts a domain (it would add its installation to
# this image's build)
export VB_VM_LIBVIRT=no

VM_REPORT_NAME=two-stage

# What the Debian package depends on beyond that image (INSTALL=deb): dpkg -i installs no
# dependency, as apt would. libxml2: the CLI and the libvirt hook read libvirt's domain XML.
VB_VM_EXTRA_PACKAGES+=" libxml2"

# all_of CHECK…: every CHECK (a command line in one word list) holds, as in the guest's lib.sh
all_of() {
        local c
        for c in "$@"; do
                # shellcheck disable=SC2086
                $c || return 1
        done
}

# the scenario settings of this boot kind, before vm_scenario_load reads the file
two_stage_defaults() {
        INITRAMFS=dracut
        ITOOLS_HOOK=yes
        INSTALL=payload
        STAGE1_KERNELS=
        DRACUT_MODULE=yes
        DRACUT_DRIVERS="bochs snd_hda_intel"
        host_checks() { :; }
}

mapfile -t SCENARIOS < <(cd "$HERE/stage1" && ls -1 -- [0-9]*.sh | sed 's/\.sh$//' | LC_ALL=C sort)
if ((${#SELECT[@]})); then
        picked=()
        for s in "${SCENARIOS[@]}"; do
                for pat in "${SELECT[@]}"; do
                        # shellcheck disable=SC2053
                        if [[ $s == $pat || $s == *-"$pat" ]]; then
                                picked+=("$s")
                                break
                        fi
                done
        done
        SCENARIOS=("${picked[@]}")
        ((${#SCENARIOS[@]})) || { echo "two-stage.sh: no scenario matches ${SELECT[*]}" >&2; exit 2; }
fi
if ((LIST)); then
        for s in "${SCENARIOS[@]}"; do
                two_stage_defaults
                vm_scenario_load "$HERE/stage1/$s.sh"
                printf '%-22s %s\n' "$s" "$DESCRIPTION"
        done
        exit 0
fi

((IMAGES)) || [[ -n $VB_DAEMON && -n $VB_CLI && -n $VB_UNIT && -n $VB_DRACUT ]] ||
        { echo "two-stage.sh: --daemon, --cli, --unit and --dracut-module are required" >&2; exit 2; }
((IMAGES)) || for f in "$VB_DAEMON" "$VB_CLI" "$VB_UNIT" "$VB_DRACUT/module-setup.sh" "$VB_DRACUT/vfio-bind-initrd.service" \
        ${VB_ITOOLS:+"$VB_ITOOLS/vfio-bind" "$VB_ITOOLS/00-vfio-bind"} ${VB_DEB:+"$VB_DEB"}; do
        [[ -f $f ]] || { report_fail "two-stage: $f does not exist (build first)"; summary; }
done

mapfile -t MISSING < <(vm_missing_tools)
for t in mkfs.ext4 unshare chroot; do
        command -v "$t" >/dev/null || MISSING+=("$t")
done
((${#MISSING[@]} == 0)) || skip "missing on the host: ${MISSING[*]} (run tests/vm/install-deps.sh as root)"
qemu-system-x86_64 -version >/dev/null 2>&1 || skip "qemu-system-x86_64 does not run"
[[ $(id -u) == 0 ]] || skip "the initrd is built with dracut in a chroot of the guest's root: needs root"

# The kernels, as run.sh picks them (VB_VM_KERNELS, VB_VM_MATRIX). The short matrix (what CI
# runs) boots every two-stage scenario on 6.12, and on the other kernels the control (the race is
# real there too) and the bind, with dracut and (where STAGE1_KERNELS has the kernel: 6.1) with
# initramfs-tools.
read -r -a KERNELS_PICKED <<<"${VB_VM_KERNELS:-${VM_KERNELS_ALL[*]}}"
for k in "${KERNELS_PICKED[@]}"; do
        [[ " ${VM_KERNELS_ALL[*]} " == *" $k "* ]] ||
                { echo "two-stage.sh: unknown kernel $k in VB_VM_KERNELS (known: ${VM_KERNELS_ALL[*]})" >&2; exit 2; }
done
MATRIX=${VB_VM_MATRIX:-full}
SHORT_ON_OTHER_KERNELS=(00-control 01-bind 11-itools-bind)
VM_KERNEL=

if ((IMAGES)); then
        rc=0
        for kernel in "${KERNELS_PICKED[@]}"; do
                "$HERE/build-image.sh" --kernel "$kernel" >/dev/null || rc=1
        done
        exit "$rc"
fi

# The kernel command line of the test boots, without what makes the image its own initramfs
# (rdinit=); the root is the disk, and a failing initrd powers off instead of waiting at a shell.
# systemd.unit= is ignored in the initrd (that would be rd.systemd.unit=).
TWO_STAGE_APPEND=()
for a in "${VM_APPEND_BASE[@]}"; do
        [[ $a == rdinit=* ]] || TWO_STAGE_APPEND+=("$a")
done
TWO_STAGE_APPEND+=(root=/dev/vda rw rootfstype=ext4 rd.emergency=poweroff rd.shell=0 log_buf_len=4M)
VM_APPEND_BASE=("${TWO_STAGE_APPEND[@]}")

# in_root COMMAND…: run COMMAND chrooted into $ROOT with /dev, /proc and /sys mounted, in a
# mount namespace of its own (nothing stays mounted on the host)
in_root() {
        # shellcheck disable=SC2016 # expanded by the inner shell
        unshare -m --propagation private /bin/sh -c '
                root=$1; shift
                mount --rbind /dev "$root/dev" && mount -t proc proc "$root/proc" &&
                        mount --rbind /sys "$root/sys" && mount -t tmpfs tmpfs "$root/run" &&
                        exec chroot "$root" "$@"' sh "$ROOT" "$@"
}

# build_root NAME: $ROOT = the image's root tree with the payload ($P) and the dracut module
build_root() {
        ROOT=$VM_WORK/root
        rm -rf "$ROOT"
        mkdir -p "$ROOT"
        # the image is two cpio archives, one after the other: the root file system, then the
        # kernel's modules (cpio -i stops at the first archive's trailer: read both)
        (cd "$ROOT" && cpio -idm --quiet --no-absolute-filenames && cpio -idm --quiet --no-absolute-filenames) \
                <"$IMAGE/rootfs.cpio" || return 1
        cp -a "$P/." "$ROOT/" || return 1
        if [[ $INSTALL == deb ]]; then
                install_deb || return 1
        fi
        # the module where the guest's dracut looks, as meson install puts it there
        install -D -m 0755 "$VB_DRACUT/module-setup.sh" "$ROOT/usr/lib/dracut/modules.d/90vfio-bind/module-setup.sh"
        install -D -m 0644 "$VB_DRACUT/vfio-bind-initrd.service" \
                "$ROOT/usr/lib/dracut/modules.d/90vfio-bind/vfio-bind-initrd.service"
        mkdir -p "$ROOT/etc/dracut.conf.d"
        if [[ $DRACUT_MODULE == yes ]]; then
                printf 'add_dracutmodules+=" vfio-bind "\n' > "$ROOT/etc/dracut.conf.d/vfio-bind.conf"
        fi
        install -m 0644 "$HERE/guest/stage1-lib.sh" "$ROOT/vm/stage1-lib.sh"
        [[ $INITRAMFS == initramfs-tools ]] || return 0
        # initramfs-tools: the hook and boot script where meson install puts them; the host drivers
        # of the slot in /etc/initramfs-tools/modules (the early-KMS recipe), with what mounts the
        # root; the kernel's configuration, which mkinitramfs reads (compressors)
        if [[ $ITOOLS_HOOK == yes ]]; then
                install -D -m 0755 "$VB_ITOOLS/vfio-bind" "$ROOT/usr/share/initramfs-tools/hooks/vfio-bind"
                install -D -m 0755 "$VB_ITOOLS/00-vfio-bind" "$ROOT/usr/share/initramfs-tools/scripts/init-top/00-vfio-bind"
        fi
        printf '%s\n' $DRACUT_DRIVERS virtio_pci virtio_blk ext4 >>"$ROOT/etc/initramfs-tools/modules"
        kernel_config >"$ROOT/boot/config-$KREL" || return 1
}

# install_deb: the package instead of the payload's programs and unit: dpkg -i in the root tree
# (its postinst enables the unit with deb-systemd-helper); the checks find the programs at the
# payload's paths (links to the package's), the output of dpkg in $VM_WORK/dpkg.log
install_deb() {
        rm -f "$ROOT$GUEST_DAEMON" "$ROOT$GUEST_CLI" "$ROOT/etc/systemd/system/vfio-bind.service" \
                "$ROOT/etc/systemd/system/sysinit.target.wants/vfio-bind.service"
        cp "$VB_DEB" "$ROOT/tmp/vfio-bind.deb" || return 1
        in_root dpkg -i /tmp/vfio-bind.deb >"$VM_WORK/dpkg.log" 2>&1 || { cat "$VM_WORK/dpkg.log" >&2; return 1; }
        rm -f "$ROOT/tmp/vfio-bind.deb"
        [[ $GUEST_DAEMON == /usr/sbin/vfio-bindd ]] || ln -sf /usr/sbin/vfio-bindd "$ROOT$GUEST_DAEMON"
        [[ $GUEST_CLI == /usr/bin/vfio-bind ]] || ln -sf /usr/bin/vfio-bind "$ROOT$GUEST_CLI"
}

# kernel_config: the configuration of the image's kernel (Debian's package in the image cache,
# or build-kernel.sh's tree)
kernel_config() {
        local cache=${VB_VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/vfio-bind-vm} deb cfg
        deb=$(find "$cache/kernel" -maxdepth 1 -name "linux-image-${KREL}*_amd64.deb" 2>/dev/null | head -n1)
        if [[ -n $deb ]]; then
                dpkg-deb --fsys-tarfile "$deb" | tar -xO "./boot/config-$KREL"
                return
        fi
        cfg=$(find "$cache/kernel-build" -maxdepth 3 -name .config -newer "$IMAGE/kernel.env" 2>/dev/null | head -n1)
        [[ -z $cfg ]] && cfg=$(find "$cache/kernel-build" -maxdepth 3 -name .config 2>/dev/null | head -n1)
        [[ -n $cfg ]] && cat "$cfg" && return
        echo "no configuration of kernel $KREL in $cache" >&2
        return 1
}

# make_initrd: the guest's dracut makes $VM_WORK/initrd.img from $ROOT (its output in
# $VM_WORK/dracut.log). Uncompressed: what the initrd holds is the test, not how it is packed, and
# dracut's zstd on the host and the kernel's in the guest cost seconds of CPU in every boot.
make_initrd() {
        local start=$SECONDS
        in_root dracut --force --no-hostonly --kver "$KREL" --kmoddir "/lib/modules/$KREL" \
                --add systemd --add-drivers "$DRACUT_DRIVERS virtio_pci virtio_blk ext4" \
                --no-compress --no-early-microcode /boot/initrd.img \
                >"$VM_WORK/dracut.log" 2>&1 || return 1
        cp "$ROOT/boot/initrd.img" "$VM_WORK/initrd.img" || return 1
        rm -f "$ROOT/boot/initrd.img"
        mapfile -t INITRD_FILES < <(cpio -t --quiet <"$VM_WORK/initrd.img" 2>/dev/null)
        DRACUT_SECONDS=$((SECONDS - start))
}

# make_initramfs: the guest's update-initramfs makes $VM_WORK/initrd.img from $ROOT (its output in
# $VM_WORK/dracut.log, the name the logs keep); unpacked into $ITOOLS_TREE for the host's checks
make_initramfs() {
        local start=$SECONDS
        in_root update-initramfs -c -k "$KREL" >"$VM_WORK/dracut.log" 2>&1 || return 1
        cp "$ROOT/boot/initrd.img-$KREL" "$VM_WORK/initrd.img" || return 1
        rm -f "$ROOT/boot/initrd.img-$KREL"
        # shellcheck disable=SC2034 # read by the scenarios' host_checks()
        ITOOLS_LOG=$(cat "$VM_WORK/dracut.log")
        ITOOLS_TREE=$VM_WORK/initramfs
        rm -rf "$ITOOLS_TREE"
        mkdir -p "$ITOOLS_TREE"
        # no early (microcode) archive in this image: one compressed cpio
        zstd -dc "$VM_WORK/initrd.img" | (cd "$ITOOLS_TREE" && cpio -idm --quiet --no-absolute-filenames) || return 1
        mapfile -t INITRD_FILES < <(cd "$ITOOLS_TREE" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort)
        DRACUT_SECONDS=$((SECONDS - start))
}

# make_disk: $VM_WORK/root.img, an ext4 file system made from $ROOT (no loop mount)
make_disk() {
        local mb
        mb=$(du -sm "$ROOT" | cut -f1)
        rm -f "$VM_WORK/root.img"
        mkfs.ext4 -q -F -L vbroot -d "$ROOT" "$VM_WORK/root.img" "$((mb * 3 / 2 + 64))M" >/dev/null
}

# stage_one "KERNEL SCENARIO": one two-stage boot, in a subshell of the pool (vm_pool_run): the
# root tree, dracut, the host's checks of the initrd, the disk, the boot and its report
stage_one() {
        local kernel=${1%% *}
        CURRENT=${1#* }
        # shellcheck disable=SC2034 # the reporting (vm-lib.sh) puts it in front of each line
        VM_KERNEL=$kernel
        vm_image_use "$(cat "$VM_WORK_TOP/image.$kernel.dir")" || { report_fail "$CURRENT: no guest image"; return; }
        VM_LOGDIR=$VM_LOGDIR_BASE/$kernel
        two_stage_defaults
        vm_scenario_load "$HERE/stage1/$CURRENT.sh"
        log "boot [$kernel] $CURRENT: $DESCRIPTION"
        mkdir -p "$VM_LOGDIR/$CURRENT"
        if ! vm_build_payload "$CURRENT" "$HERE/stage1/$CURRENT.sh" || ! build_root; then
                report_fail "$CURRENT: could not build the root tree"
                return
        fi
        local maker=make_initrd tool=dracut
        [[ $INITRAMFS == initramfs-tools ]] && maker=make_initramfs tool=update-initramfs
        if ! $maker; then
                cp "$VM_WORK/dracut.log" "$VM_LOGDIR/$CURRENT/dracut.log"
                report_fail "$CURRENT: $tool failed: $(tail -n 3 "$VM_WORK/dracut.log" | tr '\n' ' ')"
                return
        fi
        log "boot [$kernel] $CURRENT: $tool made the initrd in $DRACUT_SECONDS s ($(du -h "$VM_WORK/initrd.img" | cut -f1), ${#INITRD_FILES[@]} files)"
        host_checks
        # the root's own boot (stage 2) without the units no check looks at, as run.sh's boots
        # (vm-lib.sh, VM_TRIM_UNITS); the initrd is made, so it is as dracut made it
        vm_payload_trim "$ROOT"
        if ! make_disk; then
                report_fail "$CURRENT: mkfs.ext4 -d failed"
                return
        fi
        # the root disk on the root complex (0000:00:06.0): the slots of the test machine keep
        # their bus numbers
        # shellcheck disable=SC2054
        QEMU_EXTRA+=(-drive if=none,id=vbroot,format=raw,file="$VM_WORK/root.img"
                     -device virtio-blk-pci,drive=vbroot,bus=pcie.0,addr=0x6)
        vm_boot "$CURRENT" progress
        # vm_boot starts the boot's log directory afresh: dracut's output and the initrd's files
        cp "$VM_WORK/dracut.log" "$VM_LOGDIR/$CURRENT/dracut.log"
        printf '%s\n' "${INITRD_FILES[@]}" > "$VM_LOGDIR/$CURRENT/initrd-files.log"
        report_boot "$CURRENT"
        log "boot [$kernel] $CURRENT: done in $VM_BOOT_SECONDS s"
}

TOTAL_START=$SECONDS
ITEMS=() KERNELS_BOOTED=()
for kernel in "${KERNELS_PICKED[@]}"; do
        n=0
        for s in "${SCENARIOS[@]}"; do
                if [[ $MATRIX == short && $kernel != 6.12 && " ${SHORT_ON_OTHER_KERNELS[*]} " != *" $s "* ]]; then
                        continue
                fi
                two_stage_defaults
                vm_scenario_load "$HERE/stage1/$s.sh"
                [[ -z $STAGE1_KERNELS || " $STAGE1_KERNELS " == *" $kernel "* ]] || continue
                if [[ $INITRAMFS == initramfs-tools && -z $VB_ITOOLS ]]; then
                        [[ $kernel == "${KERNELS_PICKED[0]}" ]] &&
                                log "$s: left out (INITRAMFS=initramfs-tools needs --initramfs-tools DIR)"
                        continue
                fi
                if [[ $INSTALL == deb && -z $VB_DEB ]]; then
                        [[ $kernel == "${KERNELS_PICKED[0]}" ]] && log "$s: left out (INSTALL=deb needs --deb PATH)"
                        continue
                fi
                ITEMS+=("$kernel $s")
                n=$((n + 1))
        done
        ((n)) && KERNELS_BOOTED+=("$kernel")
done
((${#ITEMS[@]})) || summary
vm_setup || { report_fail "two-stage: $VB_UNIT has no usable ExecStart="; summary; }
VM_WORK_TOP=$VM_WORK
VM_LOGDIR_BASE=${VM_LOGDIR:-$VM_WORK/logs}
vm_pool_config
log "${#ITEMS[@]} two-stage boots on ${KERNELS_BOOTED[*]} ($MATRIX matrix), $VM_JOBS at a time with $VM_SMP vCPU each, at most $VM_BOOT_TIMEOUT s each; logs in $VM_LOGDIR_BASE/<kernel>/; guest images with dracut: building or reusing the cached ones"
vm_images_prepare "${KERNELS_BOOTED[@]}"
# shellcheck disable=SC2034 # read by vm_pool_image_ready (vm-lib.sh)
VM_POOL_WHAT="two-stage image"
vm_pool_run stage_one vm_pool_image_ready "${ITEMS[@]}"
for kernel in "${KERNELS_BOOTED[@]}"; do
        printf 'TIME [%s] %d two-stage boots, %d s of boot time\n' "$kernel" "${VM_POOL_BOOTS[$kernel]:-0}" "${VM_POOL_SECONDS[$kernel]:-0}"
done
printf 'TIME all %d two-stage boots done in %d s (%d at a time)\n' "${#ITEMS[@]}" $((SECONDS - TOTAL_START)) "$VM_JOBS"
summary
