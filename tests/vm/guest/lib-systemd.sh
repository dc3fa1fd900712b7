# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Guest helpers (sourced by lib.sh): systemd: unit properties and the journal
# unit_props UNIT: PROP[Key]=value for the properties the checks use
declare -A PROP=()
unit_props() {
        local line
        PROP=()
        while IFS= read -r line; do
                PROP[${line%%=*}]=${line#*=}
        done < <(systemctl show "$1" -p ActiveState -p SubState -p Result -p StatusText \
                 -p ExecMainStatus -p ExecMainCode -p ExecMainStartTimestampMonotonic \
                 -p ActiveEnterTimestampMonotonic -p InactiveExitTimestampMonotonic \
                 -p ExecMainExitTimestampMonotonic -p NRestarts)
}

# unit_active UNIT
unit_active() {
        unit_props "$1"
        [[ ${PROP[ActiveState]} == active ]] && return 0
        WHY="$1 is ${PROP[ActiveState]:-unknown}/${PROP[SubState]:-?} (result ${PROP[Result]:-?})"
        return 1
}

# status_has TEXT…: the last StatusText read by unit_props contains every TEXT
status_has() {
        local t
        for t in "$@"; do
                if [[ ${PROP[StatusText]} != *"$t"* ]]; then
                        WHY="status \"${PROP[StatusText]}\" does not mention \"$t\""
                        return 1
                fi
        done
        return 0
}

# load_journal UNIT: J_DEVICE[], J_ACTION[], J_BEFORE[], J_AFTER[], J_MESSAGE[], J_MONO[] (the
# journal's monotonic timestamp in microseconds), J_PID[], one per entry of the unit
J_DEVICE=() J_ACTION=() J_BEFORE=() J_AFTER=() J_MESSAGE=() J_MONO=() J_PID=()
load_journal() {
        local dev act before after mono pid msg
        J_DEVICE=() J_ACTION=() J_BEFORE=() J_AFTER=() J_MESSAGE=() J_MONO=() J_PID=()
        while IFS=$'\t' read -r dev act before after mono pid msg; do
                J_DEVICE+=("$dev") J_ACTION+=("$act") J_BEFORE+=("$before") J_AFTER+=("$after")
                J_MONO+=("$mono") J_PID+=("$pid") J_MESSAGE+=("$msg")
        done < <(journalctl -b -u "$1" -o json --no-pager |
                 jq -r '[.VFIO_BIND_DEVICE // "-", .VFIO_BIND_ACTION // "-",
                         .VFIO_BIND_DRIVER_BEFORE // "-", .VFIO_BIND_DRIVER_AFTER // "-",
                         .__MONOTONIC_TIMESTAMP // "0", ._PID // "-",
                         (.MESSAGE | if type == "array" then implode else . end // "")] | @tsv')
}

# journal_find ACTION ADDR [DRIVER_AFTER]: REPLY = index of an entry with these fields whose
# message also names ADDR; -1 if none.
journal_find() {
        local i
        for ((i = 0; i < ${#J_ACTION[@]}; i++)); do
                [[ ${J_ACTION[i]} == "$1" && ${J_DEVICE[i]} == "$2" ]] || continue
                [[ $# -lt 3 || ${J_AFTER[i]} == "$3" ]] || continue
                [[ ${J_MESSAGE[i]} == *"$2"* ]] || continue
                REPLY=$i
                return 0
        done
        REPLY=-1
        return 1
}

# journal_has ACTION ADDR [DRIVER_AFTER]
journal_has() {
        journal_find "$@" && return 0
        local i seen=
        for ((i = 0; i < ${#J_ACTION[@]}; i++)); do
                [[ ${J_DEVICE[i]} == "$2" ]] && seen+=" ${J_ACTION[i]}(${J_BEFORE[i]}->${J_AFTER[i]})"
        done
        WHY="no journal entry VFIO_BIND_ACTION=$1 VFIO_BIND_DEVICE=$2${3:+ VFIO_BIND_DRIVER_AFTER=$3} naming $2 in its message; entries for $2:${seen:- none}"
        return 1
}

# journal_lacks ACTION: no entry has VFIO_BIND_ACTION=ACTION.
journal_lacks() {
        local i
        for ((i = 0; i < ${#J_ACTION[@]}; i++)); do
                if [[ ${J_ACTION[i]} == "$1" ]]; then
                        WHY="journal: ${J_MESSAGE[i]}"
                        return 1
                fi
        done
        return 0
}

# journal_mentions TEXT: some message of the unit contains TEXT.
journal_mentions() {
        local i
        for ((i = 0; i < ${#J_MESSAGE[@]}; i++)); do
                [[ ${J_MESSAGE[i]} == *"$1"* ]] && return 0
        done
        WHY="no journal message of the unit mentions \"$1\""
        return 1
}

# usec_to_s USEC: REPLY = "S.mmm"
usec_to_s() {
        printf -v REPLY '%d.%03d' $(( $1 / 1000000 )) $(( ($1 / 1000) % 1000 ))
}
