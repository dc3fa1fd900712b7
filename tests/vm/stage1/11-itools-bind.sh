# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Two-stage boot with initramfs-tools and vfio-bind's hook: the guest's update-initramfs puts
# vfio-bindd, the configuration and vfio-pci in, and init-top/00-vfio-bind runs vfio-bindd --once
# --in-initrd before init-top/udev, whose coldplug (and the modules of
# /etc/initramfs-tools/modules) loads bochs and snd_hda_intel; after the switch-root,
# vfio-bind.service finds both functions on vfio-pci, leaves them, and says they were bound in
# the initrd.

DESCRIPTION="vfio-bind in an initramfs-tools initramfs: the slot is on vfio-pci before the switch-root"
INITRAMFS=initramfs-tools
# Debian's kernels: initramfs-tools is the initramfs of their distribution
STAGE1_KERNELS="6.1 6.12"
CONF="[Bind]
Device=$GPU_SLOT"

host_checks() {
        host_check "itools-bind: initramfs: vfio-bindd, /etc/vfio-bind.conf, vfio-pci and vfio_iommu_type1, the boot script, and bochs and snd_hda_intel" \
                all_of "initrd_has ${GUEST_DAEMON#/}" "initrd_has etc/vfio-bind.conf" \
                       "initrd_has usr/lib/modules/*/vfio-pci.ko*" "initrd_has usr/lib/modules/*/vfio_iommu_type1.ko*" \
                       "initrd_has scripts/init-top/00-vfio-bind" \
                       "initrd_has usr/lib/modules/*/bochs.ko*" "initrd_has usr/lib/modules/*/snd-hda-intel.ko*"
        host_check "itools-bind: initramfs: init-top/00-vfio-bind runs before init-top/udev (ORDER)" itools_script_before_udev
}

marks_left() {
        [[ -e /run/vfio-bind/bound-in-initrd/$GPU && -e /run/vfio-bind/bound-in-initrd/$AUDIO ]] && return 0
        WHY="/run/vfio-bind/bound-in-initrd holds: $(ls /run/vfio-bind/bound-in-initrd 2>&1 | tr '\n' ' ')"
        return 1
}

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        stage1_begin itools-bind
        stage1_bound_checks itools-bind
        stage1_stage2_checks itools-bind
        check itools-bind "kernel log: the initramfs's vfio-bindd said each bind (SYSTEMD_LOG_TARGET=kmsg)" \
                all_of "initrd_klog_mentions $GPU" "initrd_klog_mentions $AUDIO"
        check itools-bind "the marks for stage 2 are under /run/vfio-bind/bound-in-initrd (--in-initrd; /run moved to the root)" marks_left
}
