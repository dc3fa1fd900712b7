# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Two-stage boot, control: the initrd has bochs and snd_hda_intel but not the vfio-bind module,
# and vfio-bind.service is not enabled. udev's coldplug in the initrd loads both drivers and they
# bind the GPU slot before the switch-root: the race the initrd unit must win is real.

DESCRIPTION="control: dracut initrd without vfio-bind; the host drivers take the slot in the initrd"
DRACUT_MODULE=no
SERVICE=disabled
CONF="[Bind]
Device=$GPU_SLOT"

# host side: the initrd has the host drivers and no trace of vfio-bind
initrd_has() {
        local f
        for f in "${INITRD_FILES[@]}"; do
                # shellcheck disable=SC2053
                [[ $f == $1 ]] && return 0
        done
        WHY="no file matching $1 in the initrd"
        return 1
}
initrd_lacks() {
        local f
        for f in "${INITRD_FILES[@]}"; do
                # shellcheck disable=SC2053
                if [[ $f == $1 ]]; then
                        WHY="the initrd has $f"
                        return 1
                fi
        done
        return 0
}

host_checks() {
        host_check "two-stage-control: initrd: bochs and snd_hda_intel in it, vfio-bind not" \
                all_of "initrd_has usr/lib/modules/*/bochs.ko*" "initrd_has usr/lib/modules/*/snd-hda-intel.ko*" \
                       "initrd_lacks *vfio-bind*" "initrd_lacks *vfio-bindd"
}

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        load_merged_journal
        dump_merged_journal
        check two-stage-control "a two-stage boot: PID 1 switched root, / is ext4 on /dev/vda" two_stage_boot
        check two-stage-control "the kernel log is whole (starts at the banner)" klog_complete
        check two-stage-control "kernel log: bochs-drm bound $GPU in the initrd (before the switch-root)" \
                bound_in_initrd bochs-drm "$GPU"
        check two-stage-control "kernel log: snd_hda_intel bound $AUDIO in the initrd (before the switch-root)" \
                bound_in_initrd snd_hda_intel "$AUDIO"
        check two-stage-control "vfio-pci never bound $GPU or $AUDIO" \
                all_of "never_bound_any vfio-pci $GPU" "never_bound_any vfio-pci $AUDIO"
        check two-stage-control "no $INITRD_UNIT in this boot" no_initrd_unit
        report_stage1_times two-stage-control
}
