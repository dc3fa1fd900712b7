# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Guest helpers (sourced by lib.sh): uevents recorded by vm-uevents.service (udevadm monitor --kernel --udev --property)
UE_SRC=() UE_TIME=() UE_ACTION=() UE_SLOT=() UE_DRIVER=()
_uevent_push() {
        [[ -n $src ]] || return 0
        UE_SRC+=("$src") UE_TIME+=("$time") UE_ACTION+=("$action") UE_SLOT+=("$slot") UE_DRIVER+=("$driver")
        src=
}
load_uevents() {
        local line src='' time='' action='' slot='' driver=''
        UE_SRC=() UE_TIME=() UE_ACTION=() UE_SLOT=() UE_DRIVER=()
        while IFS= read -r line; do
                if [[ $line =~ ^(KERNEL|UDEV)\ *\[([0-9.]+)\]\ +([a-z]+)\  ]]; then
                        _uevent_push
                        src=${BASH_REMATCH[1]} time=${BASH_REMATCH[2]} action=${BASH_REMATCH[3]}
                        slot='' driver=''
                elif [[ $line == PCI_SLOT_NAME=* ]]; then
                        slot=${line#PCI_SLOT_NAME=}
                elif [[ $line == DRIVER=* ]]; then
                        driver=${line#DRIVER=}
                elif [[ -z $line ]]; then
                        _uevent_push
                fi
        done </run/vm-uevents.log
        _uevent_push
}

# uevent_find SRC ACTION ADDR [DRIVER]: REPLY = index of the first matching event, -1 if none.
uevent_find() {
        local i
        for ((i = 0; i < ${#UE_SRC[@]}; i++)); do
                [[ ${UE_SRC[i]} == "$1" && ${UE_ACTION[i]} == "$2" && ${UE_SLOT[i]} == "$3" ]] || continue
                [[ $# -lt 4 || ${UE_DRIVER[i]} == "$4" ]] || continue
                REPLY=$i
                return 0
        done
        REPLY=-1
        return 1
}

# no_uevent_bind DRIVER ADDR: neither the kernel nor udev ever reported DRIVER binding ADDR.
no_uevent_bind() {
        local src
        for src in KERNEL UDEV; do
                if uevent_find $src bind "$2" "$1"; then
                        WHY="$src bind of $2 by $1 at ${UE_TIME[REPLY]} s"
                        return 1
                fi
        done
        return 0
}

# uevent_bind DRIVER ADDR: the kernel reported DRIVER binding ADDR.
uevent_bind() {
        uevent_find KERNEL bind "$2" "$1" && return 0
        WHY="no KERNEL bind uevent of $2 with DRIVER=$1"
        return 1
}
