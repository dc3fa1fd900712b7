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

initrd_has() {
        local f
        for f in "${INITRD_FILES[@]}"; do
                # shellcheck disable=SC2053
                [[ $f == $1 ]] && return 0
        done
        WHY="no file matching $1 in the initramfs"
        return 1
}

# the initramfs's init-top ORDER runs 00-vfio-bind before udev
script_before_udev() {
        local order=$ITOOLS_TREE/scripts/init-top/ORDER mine udev
        [[ -f $order ]] || { WHY="no scripts/init-top/ORDER in the initramfs"; return 1; }
        mine=$(grep -n '^/scripts/init-top/00-vfio-bind ' "$order" | cut -d: -f1)
        udev=$(grep -n '^/scripts/init-top/udev ' "$order" | cut -d: -f1)
        [[ -n $mine && -n $udev ]] && ((mine < udev)) && return 0
        WHY="init-top ORDER: $(grep -o '^/scripts/init-top/[^ ]*' "$order" | tr '\n' ' ')"
        return 1
}

host_checks() {
        host_check "itools-bind: initramfs: vfio-bindd, /etc/vfio-bind.conf, vfio-pci and vfio_iommu_type1, the boot script, and bochs and snd_hda_intel" \
                all_of "initrd_has ${GUEST_DAEMON#/}" "initrd_has etc/vfio-bind.conf" \
                       "initrd_has usr/lib/modules/*/vfio-pci.ko*" "initrd_has usr/lib/modules/*/vfio_iommu_type1.ko*" \
                       "initrd_has scripts/init-top/00-vfio-bind" \
                       "initrd_has usr/lib/modules/*/bochs.ko*" "initrd_has usr/lib/modules/*/snd-hda-intel.ko*"
        host_check "itools-bind: initramfs: init-top/00-vfio-bind runs before init-top/udev (ORDER)" script_before_udev
}

stage2_left_them() {
        all_of "journal_has leave $GPU vfio-pci" "journal_has leave $AUDIO vfio-pci" || return 1
        journal_lacks bind
}

stage2_says_initrd() {
        journal_mentions "$GPU: already on vfio-pci (bound in the initrd)" &&
                journal_mentions "$AUDIO: already on vfio-pci (bound in the initrd)"
}

marks_left() {
        [[ -e /run/vfio-bind/bound-in-initrd/$GPU && -e /run/vfio-bind/bound-in-initrd/$AUDIO ]] && return 0
        WHY="/run/vfio-bind/bound-in-initrd holds: $(ls /run/vfio-bind/bound-in-initrd 2>&1 | tr '\n' ' ')"
        return 1
}

nic_untouched() {
        all_of "on_driver $NIC e1000e" "no_override $NIC" "never_bound_any vfio-pci $NIC"
}

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        load_merged_journal
        dump_merged_journal
        check itools-bind "a two-stage boot: initramfs-tools' /init ran, then the root's systemd; / is ext4 on /dev/vda" two_stage_boot
        check itools-bind "the kernel log is whole (starts at the banner)" klog_complete
        check itools-bind "kernel log: vfio-pci bound $GPU and $AUDIO before the switch-root" \
                all_of "bound_in_initrd vfio-pci $GPU" "bound_in_initrd vfio-pci $AUDIO"
        check itools-bind "kernel log: bochs-drm and snd_hda_intel never bound $GPU or $AUDIO" \
                all_of "never_bound_any bochs-drm $GPU" "never_bound_any bochs-drm $AUDIO" \
                       "never_bound_any snd_hda_intel $GPU" "never_bound_any snd_hda_intel $AUDIO"
        check itools-bind "bochs and snd_hda_intel are loaded (the initramfs loaded them; they found the slot taken)" \
                all_of "module_loaded bochs" "module_loaded snd_hda_intel"
        check itools-bind "each function was bound once: stage 2 did not move them again" \
                all_of "bound_once vfio-pci $GPU" "bound_once vfio-pci $AUDIO"
        check itools-bind "both functions on vfio-pci in stage 2" gpu_slot_on vfio-pci
        check itools-bind "kernel log: the initramfs's vfio-bindd said each bind (SYSTEMD_LOG_TARGET=kmsg)" \
                all_of "initrd_klog_mentions $GPU" "initrd_klog_mentions $AUDIO"
        check itools-bind "the marks for stage 2 are under /run/vfio-bind/bound-in-initrd (--in-initrd; /run moved to the root)" marks_left
        check itools-bind "stage 2: vfio-bind.service active, status 2/2 devices on vfio-pci" \
                service_status_has "2/2 devices on vfio-pci: $GPU $AUDIO"
        check itools-bind "stage 2: the status says the devices were bound in the initrd" \
                service_status_has "bound in the initrd"
        check itools-bind "stage 2: the journal says each function was bound in the initrd" stage2_says_initrd
        check itools-bind "stage 2: vfio-bind.service left both functions where they were (leave, no bind)" stage2_left_them
        check itools-bind "the NIC $NIC is untouched: e1000e, no override, never on vfio-pci" nic_untouched
}
