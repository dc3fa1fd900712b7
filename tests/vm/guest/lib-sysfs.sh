# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Guest helpers (sourced by lib.sh): sysfs, builtins only
# pci_driver ADDR: REPLY = the driver bound to ADDR ("" for none); returns 1 if ADDR is absent.
pci_driver() {
        local line
        REPLY=
        [[ -e /sys/bus/pci/devices/$1 ]] || return 1
        while IFS= read -r line; do
                [[ $line == DRIVER=* ]] && REPLY=${line#DRIVER=}
        done </sys/bus/pci/devices/$1/uevent
        return 0
}

# read_attr FILE: REPLY = the first line of FILE ("" if it cannot be read)
read_attr() {
        REPLY=
        [[ -r $1 ]] || return 1
        IFS= read -r REPLY <"$1" || [[ -n $REPLY ]]
}

# iommu_group ADDR: REPLY = the IOMMU group number of ADDR; returns 1 if it has none.
iommu_group() {
        local p
        REPLY=
        for p in /sys/kernel/iommu_groups/*/devices/"$1"; do
                [[ -e $p ]] || continue
                p=${p#/sys/kernel/iommu_groups/}
                REPLY=${p%%/*}
                return 0
        done
        return 1
}

# on_driver ADDR DRIVER: the device is there and bound to DRIVER ("" means no driver).
on_driver() {
        if ! pci_driver "$1"; then
                WHY="$1 is not on the bus"
                return 1
        fi
        [[ $REPLY == "$2" ]] && return 0
        WHY="$1 is on ${REPLY:-no driver}, not ${2:-no driver}"
        return 1
}

# no_override ADDR: driver_override of ADDR is empty.
no_override() {
        read_attr "/sys/bus/pci/devices/$1/driver_override"
        [[ $REPLY == "(null)" || -z $REPLY ]] && return 0
        WHY="$1 still has driver_override=$REPLY"
        return 1
}

# vfio_dev_node ADDR: /dev/vfio/<group of ADDR> exists.
vfio_dev_node() {
        if ! iommu_group "$1"; then
                WHY="$1 has no IOMMU group"
                return 1
        fi
        [[ -c /dev/vfio/$REPLY ]] && return 0
        WHY="/dev/vfio/$REPLY (group of $1) does not exist"
        return 1
}

# module_loaded NAME: /sys/module/NAME exists (loaded as a module or built in with parameters).
module_loaded() {
        [[ -d /sys/module/$1 ]] && return 0
        WHY="module $1 is not loaded"
        return 1
}

# vtcon_fb: REPLY = the vtconsole whose driver is the frame buffer console ("" if none).
vtcon_fb() {
        local d name
        REPLY=
        for d in /sys/class/vtconsole/vtcon*; do
                read_attr "$d/name" || continue
                name=$REPLY
                REPLY=
                if [[ $name == *"frame buffer"* ]]; then
                        REPLY=${d##*/}
                        return 0
                fi
        done
        return 1
}

# fb_console_bound: a frame buffer vtconsole exists ("(M) frame buffer device") and is bound
# (REPLY = its name)
fb_console_bound() {
        local vt
        vtcon_fb || { WHY="no frame buffer vtconsole in /sys/class/vtconsole"; return 1; }
        vt=$REPLY
        read_attr "/sys/class/vtconsole/$vt/name"
        [[ $REPLY == "(M) frame buffer device" ]] || { WHY="$vt is \"$REPLY\""; return 1; }
        read_attr "/sys/class/vtconsole/$vt/bind"
        [[ $REPLY == 1 ]] || { WHY="$vt (frame buffer device) has bind=${REPLY:-?}"; return 1; }
        REPLY=$vt
}

# platform_driver DEV: REPLY = the driver of the platform device DEV ("" for none); 1 if absent.
platform_driver() {
        local line
        REPLY=
        [[ -e /sys/bus/platform/devices/$1 ]] || return 1
        while IFS= read -r line; do
                [[ $line == DRIVER=* ]] && REPLY=${line#DRIVER=}
        done </sys/bus/platform/devices/$1/uevent
        return 0
}

# wait_for SECONDS FUNCTION [ARGS…]: poll FUNCTION every 0.1 s until it holds.
wait_for() {
        local deadline=$(( $(uptime_ms) + $1 * 1000 ))
        shift
        while ! "$@"; do
                (( $(uptime_ms) < deadline )) || return 1
                read -r -t 0.1 -u 9 || :
        done
        return 0
}

# uptime_ms: prints the uptime in milliseconds (CLOCK_BOOTTIME, close to the monotonic clock).
uptime_ms() {
        local up
        read -r up _ </proc/uptime
        printf '%d\n' "$(( ${up%.*} * 1000 + 10#${up#*.} * 10 ))"
}
