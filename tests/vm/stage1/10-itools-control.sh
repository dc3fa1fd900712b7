# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Two-stage boot with initramfs-tools, control: the guest's update-initramfs builds the initramfs
# with bochs and snd_hda_intel listed in /etc/initramfs-tools/modules (early KMS) and without
# vfio-bind's hook; vfio-bind.service is not enabled. udev's coldplug in init-top/udev (or the
# modules' load right after init-top) binds the GPU slot before the switch-root: the race the
# boot script must win is real with initramfs-tools too.

DESCRIPTION="control: initramfs-tools without vfio-bind; the host drivers take the slot in the initramfs"
INITRAMFS=initramfs-tools
# Debian's kernels: initramfs-tools is the initramfs of their distribution
STAGE1_KERNELS="6.1 6.12"
ITOOLS_HOOK=no
SERVICE=disabled
CONF="[Bind]
Device=$GPU_SLOT"

initrd_has() {
        local f
        for f in "${INITRD_FILES[@]}"; do
                # shellcheck disable=SC2053
                [[ $f == $1 ]] && return 0
        done
        WHY="no file matching $1 in the initramfs"
        return 1
}
initrd_lacks() {
        local f
        for f in "${INITRD_FILES[@]}"; do
                # shellcheck disable=SC2053
                if [[ $f == $1 ]]; then
                        WHY="the initramfs has $f"
                        return 1
                fi
        done
        return 0
}

host_checks() {
        host_check "itools-control: initramfs: bochs and snd_hda_intel in it, listed in conf/modules, vfio-bind not" \
                all_of "initrd_has usr/lib/modules/*/bochs.ko*" "initrd_has usr/lib/modules/*/snd-hda-intel.ko*" \
                       "initrd_lacks *vfio-bind*" "initrd_lacks *vfio-pci.ko*"
}

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        load_merged_journal
        dump_merged_journal
        check itools-control "a two-stage boot: initramfs-tools' /init ran, then the root's systemd; / is ext4 on /dev/vda" two_stage_boot
        check itools-control "the kernel log is whole (starts at the banner)" klog_complete
        check itools-control "kernel log: bochs-drm bound $GPU in the initramfs (before the switch-root)" \
                bound_in_initrd bochs-drm "$GPU"
        check itools-control "kernel log: snd_hda_intel bound $AUDIO in the initramfs (before the switch-root)" \
                bound_in_initrd snd_hda_intel "$AUDIO"
        check itools-control "vfio-pci never bound $GPU or $AUDIO" \
                all_of "never_bound_any vfio-pci $GPU" "never_bound_any vfio-pci $AUDIO"
}
