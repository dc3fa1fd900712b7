# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Two-stage boot with the dracut module and vfio-bind=off on the kernel command line: neither the
# initrd unit nor vfio-bind.service touches a device; the host drivers bind the slot as in the
# control boot, and both runs say why.

DESCRIPTION="vfio-bind=off: nothing bound in either stage"
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
        check two-stage-off "a two-stage boot: PID 1 switched root, / is ext4 on /dev/vda" two_stage_boot
        check two-stage-off "the kernel log is whole (starts at the banner)" klog_complete
        check two-stage-off "kernel log: vfio-pci bound nothing, in either stage" nothing_on_vfio
        check two-stage-off "the host drivers have the slot: bochs-drm and snd_hda_intel" \
                all_of "on_driver $GPU bochs-drm" "on_driver $AUDIO snd_hda_intel"
        check two-stage-off "no driver_override was written" all_of "no_override $GPU" "no_override $AUDIO"
        check two-stage-off "the initrd unit ran and said vfio-bind=off disabled it" \
                initrd_journal_mentions "disabled by vfio-bind=off"
        check two-stage-off "stage 2: vfio-bind.service says vfio-bind=off disabled it" \
                service_status_has "disabled by vfio-bind=off"
        report_stage1_times two-stage-off
}
