# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Two-stage boot with the dracut module and vfio-bind=off on the kernel command line: neither the
# initrd unit nor vfio-bind.service touches a device; the host drivers bind the slot as in the
# control boot, and both runs say why.

DESCRIPTION="vfio-bind=off: nothing bound in either stage"
APPEND="vfio-bind=off"
CONF="[Bind]
Device=$GPU_SLOT"

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        stage1_begin two-stage-off
        stage1_off_checks two-stage-off
        check two-stage-off "the initrd unit ran and said vfio-bind=off disabled it" \
                initrd_journal_mentions "disabled by vfio-bind=off"
        report_stage1_times two-stage-off
}
