# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Two-stage boot with initramfs-tools and an invalid configuration: update-initramfs says so and
# puts it in all the same; the initramfs's vfio-bindd binds nothing and names the file and line
# in the kernel log; the boot goes on, and stage 2 names it too.

DESCRIPTION="initramfs-tools, invalid configuration: said at update-initramfs, the boot goes on, nothing bound"
INITRAMFS=initramfs-tools
# Debian's kernels: initramfs-tools is the initramfs of their distribution
STAGE1_KERNELS="6.1 6.12"
CONF="[Bind]
Device=$GPU_SLOT
Group=sometimes"

update_initramfs_said() {
        [[ $ITOOLS_LOG == *"/etc/vfio-bind.conf:3:"* && $ITOOLS_LOG == *"W: vfio-bind: the configuration is invalid"* ]] &&
                return 0
        WHY="update-initramfs said: $(grep -i vfio <<<"$ITOOLS_LOG" | head -n 3 | tr '\n' ' ')"
        return 1
}

initrd_bad_logged() {
        initrd_klog_mentions "/etc/vfio-bind.conf:3: invalid value" &&
                initrd_klog_mentions "the configuration is invalid, no device touched"
}

host_checks() {
        host_check "itools-bad: update-initramfs names /etc/vfio-bind.conf:3 and says what the boot will do" update_initramfs_said
}

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        stage1_begin itools-bad
        stage1_bad_config_checks itools-bad
        check itools-bad "kernel log: the initramfs's vfio-bindd named /etc/vfio-bind.conf:3 and touched nothing" \
                initrd_bad_logged
}
