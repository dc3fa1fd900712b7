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
        stage1_begin two-stage-bad
        stage1_bad_config_checks two-stage-bad
        check two-stage-bad "the initrd's vfio-bindd named /etc/vfio-bind.conf:3 and touched nothing (journal, before the switch-root)" \
                initrd_bad_logged
        check two-stage-bad "journalctl -b -u $INITRD_UNIT (the README's command) shows /etc/vfio-bind.conf:3" \
                initrd_journal_mentions "/etc/vfio-bind.conf:3:"
        report_stage1_times two-stage-bad
}
