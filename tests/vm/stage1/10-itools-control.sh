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

host_checks() {
        host_check "itools-control: initramfs: bochs and snd_hda_intel in it, listed in conf/modules, vfio-bind not" \
                all_of "initrd_has usr/lib/modules/*/bochs.ko*" "initrd_has usr/lib/modules/*/snd-hda-intel.ko*" \
                       "initrd_lacks *vfio-bind*" "initrd_lacks *vfio-pci.ko*"
}

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        stage1_begin itools-control
        stage1_control_checks itools-control
}
