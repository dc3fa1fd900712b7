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

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        stage1_begin itools-off
        stage1_off_checks itools-off
        check itools-off "kernel log: the initramfs's vfio-bindd said vfio-bind=off, before the switch-root" \
                initrd_klog_mentions "vfio-bind=off"
}
