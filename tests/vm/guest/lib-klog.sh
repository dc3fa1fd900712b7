# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Guest helpers (sourced by lib.sh): the kernel log: KLOG[] holds `dmesg` once, load_klog refreshes it
KLOG=()
load_klog() {
        mapfile -t KLOG < <(dmesg)
}

# klog_find PATTERN [FROM]: REPLY = index of the first line (from FROM on) matching the glob
# PATTERN, -1 if none. PATTERN may hold alternatives, one a line (the same message as two kernels
# print it).
klog_find() {
        local i p pats=()
        if [[ $1 == *$'\n'* ]]; then
                mapfile -t pats <<<"$1"
        else
                pats=("$1")
        fi
        for ((i = ${2:-0}; i < ${#KLOG[@]}; i++)); do
                for p in "${pats[@]}"; do
                        # shellcheck disable=SC2053
                        if [[ ${KLOG[i]} == $p ]]; then
                                REPLY=$i
                                return 0
                        fi
                done
        done
        REPLY=-1
        return 1
}

# The driver core's lines (dyndbg "func driver_bound +p; func really_probe +p"). 6.1 prints them
# with pr_debug, naming the device at the end:
#   bus: 'pci': really_probe: probing driver bochs-drm with device 0000:01:00.0
#   driver: 'bochs-drm': driver_bound: bound to device '0000:01:00.0'
# 6.12 with dev_dbg, the device in front:
#   pci 0000:01:00.0: bus: 'pci': really_probe: probing driver bochs-drm with device
#   bochs-drm 0000:01:00.0: driver: 'bochs-drm': driver_bound: bound to device
# Each pattern below is both, one a line (klog_find tries each).
klog_bound_pattern() {
        printf '%s\n%s' "*driver: '$1': driver_bound: bound to device '$2'*" \
                "* $2: driver: '$1': driver_bound: bound to device"
}
klog_probe_pattern() {
        printf '%s\n%s' "*really_probe: probing driver $1 with device $2*" \
                "* $2: bus: '*': really_probe: probing driver $1 with device"
}

# klog_fb_removed_pattern DEVICE: the boot-time kprobe on platform_remove (every kernel), or on
# efifb_remove (6.1, for efi-framebuffer.0), logging that DEVICE lost its driver
klog_fb_removed_pattern() {
        if [[ $1 == efi-framebuffer.* && ${VM_EFIFB_REMOVE:-0} == 1 ]]; then
                printf '%s\n%s' "*platform_remove: (platform_remove+*dev=\"$1\"*" '*efifb_remove: (efifb_remove+*'
        else
                printf '%s' "*platform_remove: (platform_remove+*dev=\"$1\"*"
        fi
}

# never_bound DRIVER ADDR: the kernel log has no driver_bound line for DRIVER and ADDR.
never_bound() {
        if klog_find "$(klog_bound_pattern "$1" "$2")"; then
                WHY="kernel log: ${KLOG[REPLY]}"
                return 1
        fi
        return 0
}

# was_bound DRIVER ADDR: the kernel log has a driver_bound line for DRIVER and ADDR.
was_bound() {
        klog_find "$(klog_bound_pattern "$1" "$2")" && return 0
        WHY="no \"driver: '$1': driver_bound: bound to device '$2'\" in the kernel log"
        return 1
}

# klog_absent PATTERN: no kernel log line matches the glob.
klog_absent() {
        if klog_find "$1"; then
                WHY="kernel log: ${KLOG[REPLY]}"
                return 1
        fi
        return 0
}
