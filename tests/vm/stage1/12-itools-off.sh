# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Two-stage boot with initramfs-tools and vfio-bind=off on the kernel command line: the boot
# script's vfio-bindd and the service bind nothing, and both say why.

DESCRIPTION="initramfs-tools, vfio-bind=off: nothing bound in either stage"
INITRAMFS=initramfs-tools
# Debian's kernels: initramfs-tools is the initramfs of their distribution
STAGE1_KERNELS="6.1 6.12"
APPEND="vfio-bind=off"
CONF="[Bind]
Device=$GPU_SLOT"

nothing_on_vfio() {
        local a
        for a in "$GPU" "$AUDIO" "$NIC"; do
                never_bound_any vfio-pci "$a" || return 1
        done
}

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        load_merged_journal
        dump_merged_journal
        check itools-off "a two-stage boot: initramfs-tools' /init ran, then the root's systemd; / is ext4 on /dev/vda" two_stage_boot
        check itools-off "the kernel log is whole (starts at the banner)" klog_complete
        check itools-off "kernel log: vfio-pci bound nothing, in either stage" nothing_on_vfio
        check itools-off "the host drivers have the slot: bochs-drm and snd_hda_intel" \
                all_of "on_driver $GPU bochs-drm" "on_driver $AUDIO snd_hda_intel"
        check itools-off "no driver_override was written" all_of "no_override $GPU" "no_override $AUDIO"
        check itools-off "kernel log: the initramfs's vfio-bindd said vfio-bind=off, before the switch-root" \
                initrd_klog_mentions "vfio-bind=off"
        check itools-off "stage 2: vfio-bind.service says vfio-bind=off disabled it" \
                service_status_has "disabled by vfio-bind=off"
}
