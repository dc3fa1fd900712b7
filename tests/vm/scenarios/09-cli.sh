# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 9, the CLI on the real kernel: with the GPU slot bound by vfio-bindd at boot,
# `vfio-bind groups` must agree with /sys/kernel/iommu_groups, `vfio-bind status --json` must
# reflect the bound state, `vfio-bind release` must give the audio function back to
# snd_hda_intel with the override cleared (and the running daemon must leave it there), and
# `vfio-bind bind` must take it again. `vfio-bind release` of the NIC, which is on e1000e and was
# never passed through, must be refused with nothing written: e1000e does not probe it again and
# its interface is the same one. The control does by hand what release did before it was
# refused (clear the override, unbind, probe): e1000e probes the NIC again and the kernel makes
# it a new interface, which is what the check would see.

DESCRIPTION="the CLI: groups, status --json, release, bind; release refuses the NIC on e1000e"
# looks at the GPU's drivers, never at the boot console or framebuffer: SeaBIOS and the PVH
# kernel boot it with about 8 s less CPU than OVMF (tests/vm/README.md, Time)
FIRMWARE=bios
CONF="[Bind]
Device=$GPU_SLOT"

# GROUP_OF[addr] from `vfio-bind groups`: "IOMMU group N: …" headers, then "  ADDR  …" rows


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

        nic_ifindex
        NIC_IFINDEX=$REPLY
        mark "vfio-bind release $NIC"
        run_cli release-nic release "$NIC"
        check scenario-9 "vfio-bind release $NIC (on e1000e, never passed through): refused, exit 1, no mark, no probe in the kernel log, the same interface" \
                release_refused_nic_untouched
        run_cli release-nic-dry-run release --dry-run "$NIC"
        check scenario-9 "vfio-bind release --dry-run $NIC: refused the same" release_refused_nic_untouched
        mark "control: $NIC unbound from e1000e and probed by hand"
        echo "$NIC" >/sys/bus/pci/drivers/e1000e/unbind
        echo "$NIC" >/sys/bus/pci/drivers_probe
        check scenario-9 "control: by hand, the unbind and probe that release used to write: e1000e probes $NIC again, a new interface" \
                wait_for 10 bounced_by_hand_is_seen
}

# nic_ifindex: REPLY = the ifindex of the NIC's interface (a new one each time e1000e probes it)
nic_ifindex() {
        local n
        for n in "/sys/bus/pci/devices/$NIC/net/"*; do
                [[ -r $n/ifindex ]] || continue
                read -r REPLY <"$n/ifindex"
                return 0
        done
        WHY="$NIC has no network interface"
        return 1
}

# nic_reprobed_after_mark: e1000e probed the NIC after the last mark (the kernel log's probe line)
nic_reprobed_after_mark() {
        klog_from_mark || return 1
        klog_find "$(klog_bound_pattern e1000e "$NIC")" "$REPLY" && return 0
        WHY="no probe of $NIC by e1000e in the kernel log after \"$MARK_TEXT\""
        return 1
}

release_refused_nic_untouched() {
        local want="vfio-bind: $NIC is not passed through (on e1000e); nothing to release"
        ((CLI_RC == 1)) || { WHY="vfio-bind release $NIC exited $CLI_RC: ${CLI_OUT//$'\n'/ | }"; return 1; }
        [[ $CLI_OUT == "$want" ]] || { WHY="it printed \"${CLI_OUT//$'\n'/ | }\", not \"$want\""; return 1; }
        [[ ! -e /run/vfio-bind/released/$NIC ]] || { WHY="it left a release mark for $NIC"; return 1; }
        on_driver "$NIC" e1000e || return 1
        no_override "$NIC" || return 1
        nic_ifindex || return 1
        [[ $REPLY == "$NIC_IFINDEX" ]] || { WHY="the NIC's interface is new (ifindex $NIC_IFINDEX, now $REPLY)"; return 1; }
        if nic_reprobed_after_mark; then
                WHY="e1000e probed $NIC again after the refused release: ${KLOG[REPLY]}"
                return 1
        fi
        return 0
}

# The control: what release did before it refused, by hand.
bounced_by_hand_is_seen() {
        nic_reprobed_after_mark || return 1
        on_driver "$NIC" e1000e || return 1
        nic_ifindex || return 1
        [[ $REPLY != "$NIC_IFINDEX" ]] && return 0
        WHY="the NIC's interface kept ifindex $REPLY through an unbind and a probe"
        return 1
}

was_bound_after_release() {
        load_klog
        klog_find "$(klog_bound_pattern snd_hda_intel "$AUDIO")" || { WHY="snd_hda_intel never bound $AUDIO"; return 1; }
        klog_find "$(klog_bound_pattern vfio-pci "$AUDIO")" "$REPLY" && return 0
        WHY="no vfio-pci bind of $AUDIO after snd_hda_intel's"
        return 1
}
