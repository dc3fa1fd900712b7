# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Two-stage boot with the dracut module and an invalid /etc/vfio-bind.conf (line 3): the initrd
# unit fails, writes nothing and names the file and line; the boot goes on into stage 2.

DESCRIPTION="invalid configuration in the initrd: the boot goes on, nothing bound, FILE:LINE named"
CONF="[Bind]
Device=$GPU_SLOT
Group=sometimes"

initrd_bad_logged() {
        initrd_daemon_mentions "/etc/vfio-bind.conf:3: invalid value" &&
                initrd_daemon_mentions "the configuration is invalid, no device touched"
}

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        load_merged_journal
        dump_merged_journal
        check two-stage-bad "the boot reached stage 2: PID 1 switched root, / is ext4 on /dev/vda" two_stage_boot
        check two-stage-bad "the kernel log is whole (starts at the banner)" klog_complete
        check two-stage-bad "kernel log: vfio-pci bound neither function" \
                all_of "never_bound_any vfio-pci $GPU" "never_bound_any vfio-pci $AUDIO"
        check two-stage-bad "no driver_override was written" all_of "no_override $GPU" "no_override $AUDIO"
        check two-stage-bad "the initrd's vfio-bindd named /etc/vfio-bind.conf:3 and touched nothing (journal, before the switch-root)" \
                initrd_bad_logged
        check two-stage-bad "journalctl -b -u $INITRD_UNIT (the README's command) shows /etc/vfio-bind.conf:3" \
                initrd_journal_mentions "/etc/vfio-bind.conf:3:"
        check two-stage-bad "stage 2: journalctl -b -u vfio-bind.service names /etc/vfio-bind.conf:3 too" \
                journal_mentions "/etc/vfio-bind.conf:3:"
        report_stage1_times two-stage-bad
}
