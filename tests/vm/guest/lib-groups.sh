# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Guest helpers (sourced by lib.sh): IOMMU groups and `vfio-bind groups`
# iommu_group_is ADDR MEMBER…: ADDR's IOMMU group holds exactly the MEMBERs (in sysfs order)
iommu_group_is() {
        local p found=()
        iommu_group "$1" || { WHY="$1 has no IOMMU group"; return 1; }
        for p in /sys/kernel/iommu_groups/"$REPLY"/devices/*; do
                [[ -e $p ]] && found+=("${p##*/}")
        done
        shift
        [[ "${found[*]}" == "$*" ]] && return 0
        WHY="the group holds ${found[*]:-nothing}, expected $*"
        return 1
}

# GROUP_OF[addr], ROW_OF[addr] from the last `vfio-bind groups` (run_cli): "IOMMU group N: …"
# headers, then "  ADDR  …" rows
declare -A GROUP_OF=() ROW_OF=()
parse_groups() {
        local line g=
        GROUP_OF=() ROW_OF=()
        while IFS= read -r line; do
                if [[ $line =~ ^IOMMU\ group\ ([0-9]+): ]]; then
                        g=${BASH_REMATCH[1]}
                elif [[ $line =~ ^\ +([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\  ]]; then
                        GROUP_OF[${BASH_REMATCH[1]}]=$g
                        ROW_OF[${BASH_REMATCH[1]}]=$line
                fi
        done <<<"$CLI_OUT"
}

# groups_agree: the last `vfio-bind groups` lists every device of /sys/kernel/iommu_groups in
# its group, and nothing else
groups_agree() {
        local p g a n=0
        cli_ok || return 1
        parse_groups
        for p in /sys/kernel/iommu_groups/*/devices/*; do
                [[ -e $p ]] || continue
                a=${p##*/}
                g=${p#/sys/kernel/iommu_groups/}
                g=${g%%/*}
                n=$((n + 1))
                [[ ${GROUP_OF[$a]-} == "$g" ]] ||
                        { WHY="sysfs puts $a in group $g, vfio-bind groups in '${GROUP_OF[$a]-none}'"; return 1; }
        done
        for a in "${!GROUP_OF[@]}"; do
                [[ -e /sys/kernel/iommu_groups/${GROUP_OF[$a]}/devices/$a ]] ||
                        { WHY="vfio-bind groups lists $a in group ${GROUP_OF[$a]}, sysfs does not"; return 1; }
        done
        ((n == ${#GROUP_OF[@]} && n > 0)) && return 0
        WHY="sysfs has $n devices in groups, vfio-bind groups lists ${#GROUP_OF[@]}"
        return 1
}

# host_first DRIVER ADDR: the kernel log shows DRIVER bound ADDR before vfio-bindd started, then
# vfio-pci bound it
host_first() {
        local host_at host_line
        klog_find "$(klog_bound_pattern "$1" "$2")" || { WHY="$1 never bound $2 (the setup did not work)"; return 1; }
        host_line=$REPLY
        klog_time "$host_line"
        host_at=$REPLY
        unit_props vfio-bind.service
        ((host_at < ${PROP[ExecMainStartTimestampMonotonic]:-0})) ||
                { WHY="$1 bound $2 at $host_at us, not before vfio-bindd started (${PROP[ExecMainStartTimestampMonotonic]:-never})"; return 1; }
        klog_find "$(klog_bound_pattern vfio-pci "$2")" "$host_line" && return 0
        WHY="no vfio-pci driver_bound line for $2 after $1's"
        return 1
}

# journal_before ADDR DRIVER: the bind entry of ADDR says VFIO_BIND_DRIVER_BEFORE=DRIVER
journal_before() {
        journal_find bind "$1" vfio-pci || { WHY="no bind entry for $1"; return 1; }
        [[ ${J_BEFORE[REPLY]} == "$2" ]] && return 0
        WHY="the bind entry of $1 has VFIO_BIND_DRIVER_BEFORE=${J_BEFORE[REPLY]}, expected $2"
        return 1
}

# reconfigure TEXT: write /etc/vfio-bind.conf and reload the daemon; give it time to act
reconfigure() {
        printf '%s\n' "$1" > /etc/vfio-bind.conf
        systemctl kill -s HUP vfio-bind.service || { WHY="cannot signal vfio-bind.service"; return 1; }
        sleep 2
}

# group_list N: REPLY = the addresses in IOMMU group N, in sysfs order
group_list() {
        local p out=()
        for p in /sys/kernel/iommu_groups/"$1"/devices/*; do
                [[ -e $p ]] && out+=("${p##*/}")
        done
        REPLY="${out[*]}"
}

# same_group A B…: the kernel put them all in one IOMMU group
same_group() {
        local g a
        iommu_group "$1" || { WHY="$1 has no group"; return 1; }
        g=$REPLY
        for a in "${@:2}"; do
                iommu_group "$a" || { WHY="$a has no group"; return 1; }
                [[ $REPLY == "$g" ]] || { WHY="$1 is in group $g, $a in $REPLY"; return 1; }
        done
}

# alone A: A is the only device of its group
alone() {
        iommu_group "$1" || { WHY="$1 has no group"; return 1; }
        group_list "$REPLY"
        [[ $REPLY == "$1" ]] && return 0
        WHY="$1 shares its group: $REPLY"
        return 1
}
