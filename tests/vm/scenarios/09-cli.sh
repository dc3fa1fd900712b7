# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 9, the CLI on the real kernel: with the GPU slot bound by vfio-bindd at boot,
# `vfio-bind groups` must agree with /sys/kernel/iommu_groups, `vfio-bind status --json` must
# reflect the bound state, `vfio-bind release` must give the audio function back to
# snd_hda_intel with the override cleared (and the running daemon must leave it there), and
# `vfio-bind bind` must take it again.

DESCRIPTION="the CLI: groups, status --json, release, bind"
# looks at the GPU's drivers, never at the boot console or framebuffer: SeaBIOS and the PVH
# kernel boot it with about 8 s less CPU than OVMF (tests/vm/README.md, Time)
FIRMWARE=bios
CONF="[Bind]
Device=$GPU_SLOT"

# GROUP_OF[addr] from `vfio-bind groups`: "IOMMU group N: …" headers, then "  ADDR  …" rows
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

groups_rows_right() {
        local a
        [[ ${ROW_OF[$GPU]} == *boot-VGA* ]] || { WHY="the GPU's row lacks boot-VGA: ${ROW_OF[$GPU]}"; return 1; }
        for a in "$GPU" "$AUDIO"; do
                [[ ${ROW_OF[$a]} == *" vfio-pci "* || ${ROW_OF[$a]} == *" vfio-pci" ]] ||
                        { WHY="the row of $a does not show vfio-pci: ${ROW_OF[$a]}"; return 1; }
        done
        iommu_group "$GPU"
        [[ $CLI_OUT == *"IOMMU group $REPLY: ready for a guest"* ]] && return 0
        WHY="group $REPLY is not shown as ready for a guest"
        return 1
}

# status_json_says FILTER: run status --json, the jq FILTER (with $gpu and $audio) must be true
status_json_says() {
        run_cli status-json status --json
        if jq -e --arg gpu "$GPU" --arg audio "$AUDIO" "$1" >/dev/null <<<"$CLI_OUT"; then
                return 0
        fi
        WHY="status --json (exit $CLI_RC) does not satisfy $1"
        return 1
}

released_and_stays() {
        cli_ok || return 1
        wait_for 10 on_driver "$AUDIO" snd_hda_intel || return 1
        no_override "$AUDIO" || return 1
        # the running daemon sees the bind uevent; it must leave a device released by hand alone
        read -r -t 3 -u 9 || :
        on_driver "$AUDIO" snd_hda_intel
}

checks() {
        run_cli groups groups
        check scenario-9 "vfio-bind groups agrees with /sys/kernel/iommu_groups" groups_agree
        check scenario-9 "vfio-bind groups marks the boot VGA, shows vfio-pci, the GPU's group ready for a guest" groups_rows_right
        check scenario-9 "vfio-bind status --json: ok, both functions on vfio-pci, exit 0" status_json_says \
                '.ok == true and ([.devices[] | select(.address == $gpu or .address == $audio)
                                   | select(.driver == "vfio-pci" and .on_driver)] | length) == 2'
        check scenario-9 "vfio-bind status --json exits 0" cli_ok

        run_cli release release "$AUDIO"
        check scenario-9 "vfio-bind release gives the audio function back to snd_hda_intel, override cleared, the daemon leaves it" released_and_stays
        check scenario-9 "vfio-bind status --json after release: the audio function is released, the GPU still on vfio-pci" status_json_says \
                '[.devices[] | select(.address == $audio) | .driver == "snd_hda_intel" and .reason == "released"] == [true]
                 and [.devices[] | select(.address == $gpu) | .on_driver] == [true]'

        run_cli bind bind "$AUDIO"
        check scenario-9 "vfio-bind bind takes the audio function again" all_of cli_ok "on_driver $AUDIO vfio-pci"
        check scenario-9 "vfio-bind status --json after bind: ok again" status_json_says \
                '.ok == true and [.devices[] | .on_driver] == [true, true]'
        check scenario-9 "kernel log: snd_hda_intel bound the audio function only after the release" \
                was_bound_after_release
}

was_bound_after_release() {
        load_klog
        klog_find "$(klog_bound_pattern snd_hda_intel "$AUDIO")" || { WHY="snd_hda_intel never bound $AUDIO"; return 1; }
        klog_find "$(klog_bound_pattern vfio-pci "$AUDIO")" "$REPLY" && return 0
        WHY="no vfio-pci bind of $AUDIO after snd_hda_intel's"
        return 1
}
