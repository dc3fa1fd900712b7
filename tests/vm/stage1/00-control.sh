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

host_checks() {
        host_check "two-stage-control: initrd: bochs and snd_hda_intel in it, vfio-bind not" \
                all_of "initrd_has usr/lib/modules/*/bochs.ko*" "initrd_has usr/lib/modules/*/snd-hda-intel.ko*" \
                       "initrd_lacks *vfio-bind*" "initrd_lacks *vfio-bindd"
}

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        stage1_begin two-stage-control
        stage1_control_checks two-stage-control
        check two-stage-control "no $INITRD_UNIT in this boot" no_initrd_unit
        report_stage1_times two-stage-control
}
