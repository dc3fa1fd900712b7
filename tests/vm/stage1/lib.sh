# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034 # WHY: read by host_check (vm-lib.sh)
#
# Host-side helpers of the two-stage scenarios (stage1/[0-9]*.sh), sourced by two-stage.sh: what
# their host_checks() share, run after the initrd is made, with INITRD_FILES (the initrd's file
# list), ROOT (the root tree) and, for initramfs-tools, ITOOLS_TREE (the unpacked initramfs) set.
# What the guest's checks share is guest/stage1-lib.sh.

# initrd_has PATTERN: a file of the initrd matches the glob PATTERN
initrd_has() {
        local f
        for f in "${INITRD_FILES[@]}"; do
                # shellcheck disable=SC2053
                [[ $f == $1 ]] && return 0
        done
        WHY="no file matching $1 in the $(initrd_word)"
        return 1
}

# initrd_lacks PATTERN: no file of the initrd matches the glob PATTERN
initrd_lacks() {
        local f
        for f in "${INITRD_FILES[@]}"; do
                # shellcheck disable=SC2053
                if [[ $f == $1 ]]; then
                        WHY="the $(initrd_word) has $f"
                        return 1
                fi
        done
        return 0
}

# initrd_word: what the messages call the first stage's image: dracut's initrd, initramfs-tools'
# initramfs
initrd_word() {
        [[ ${INITRAMFS:-dracut} == initramfs-tools ]] && echo initramfs || echo initrd
}

# itools_script_before_udev: the initramfs's init-top ORDER runs 00-vfio-bind before udev
itools_script_before_udev() {
        local order=$ITOOLS_TREE/scripts/init-top/ORDER mine udev
        [[ -f $order ]] || { WHY="no scripts/init-top/ORDER in the initramfs"; return 1; }
        mine=$(grep -n '^/scripts/init-top/00-vfio-bind ' "$order" | cut -d: -f1)
        udev=$(grep -n '^/scripts/init-top/udev ' "$order" | cut -d: -f1)
        [[ -n $mine && -n $udev ]] && ((mine < udev)) && return 0
        WHY="init-top ORDER: $(grep -o '^/scripts/init-top/[^ ]*' "$order" | tr '\n' ' ')"
        return 1
}
