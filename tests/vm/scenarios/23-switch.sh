# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 23, a PCIe switch: behind a fifth root port, an emulated switch (x3130-upstream with
# two xio3130-downstream ports) with a NIC (e1000e) on each downstream port. The kernel forms the
# IOMMU groups from the ACS the ports have or lack; `vfio-bind groups` must show them as the kernel
# formed them, and binding one endpoint must go as the groups say: with Group=check the other
# endpoint of its group (on e1000e, loaded early as by the initrd: the control) blocks it; with
# Group=take (after a reload) the whole group goes to vfio-pci; the switch's ports, bridges, are
# never touched.
#
# Why the groups are what they are (vfio-bind groups, check, status --json): beside the switch, a
# pcie-pci-bridge with two conventional PCI functions behind it (one requester ID: one group with
# the bridge), and a root port made without its ACS capability (disable-acs=on) with an e1000e
# below (the NIC joins the port's group; the control: the management NIC below a root port with
# ACS stays alone). The explanation `groups` prints must account for every group of several the
# kernel formed, from the config space alone (no "cannot tell", no quirk named), on every kernel;
# a dump taken in the guest replays it on the host.

DESCRIPTION="PCIe switch, PCIe-to-PCI bridge, root port without ACS: groups as the kernel formed them, and why"
KERNELS="6.1 6.12 6.12-nixos"
# never looks at the boot console or the GPU: SeaBIOS boots it faster than OVMF
FIRMWARE=bios
SWITCH_UP=0000:04:00.0    # x3130-upstream behind root port 00:06.0
SWITCH_DOWN=(0000:05:00.0 0000:05:01.0)
EP_A=0000:06:00.0         # e1000e on the first downstream port
EP_B=0000:07:00.0         # e1000e on the second
PCI_BRIDGE=0000:08:00.0   # pcie-pci-bridge behind root port 00:07.0
CONVENTIONAL=(0000:09:01.0 0000:09:02.0) # pci-testdev behind it
NO_ACS_PORT=0000:00:08.0  # a root port without the ACS capability
NO_ACS_EP=0000:0a:00.0    # e1000e below it
# shellcheck disable=SC2054
QEMU_EXTRA=(
        -device pcie-root-port,id=rp5,bus=pcie.0,chassis=5,slot=5,addr=0x6
        -device x3130-upstream,id=up1,bus=rp5
        -device xio3130-downstream,id=dn1,bus=up1,chassis=6,slot=0
        -device xio3130-downstream,id=dn2,bus=up1,chassis=7,slot=1
        -device e1000e,bus=dn1,addr=0x0
        -device e1000e,bus=dn2,addr=0x0
        -device pcie-root-port,id=rp6,bus=pcie.0,chassis=8,slot=8,addr=0x7
        -device pcie-pci-bridge,id=pb1,bus=rp6
        -device pci-testdev,bus=pb1,addr=0x1
        -device pci-testdev,bus=pb1,addr=0x2
        -device pcie-root-port,id=rp7,bus=pcie.0,chassis=9,slot=9,addr=0x8,disable-acs=on
        -device e1000e,bus=rp7,addr=0x0
)
CONF="[Bind]
Device=$EP_A
Group=check"

payload() {
        early_modules_unit "$1" e1000e
}

topology_right() {
        local a
        for a in "$SWITCH_UP" "${SWITCH_DOWN[@]}"; do
                on_driver "$a" pcieport || return 1
        done
        for a in "$EP_A" "$EP_B"; do
                read_attr "/sys/bus/pci/devices/$a/class" || { WHY="$a is missing"; return 1; }
                [[ $REPLY == 0x020000 ]] || { WHY="$a has class $REPLY"; return 1; }
        done
        # the endpoints sit below the switch: root port, upstream port, downstream port, endpoint
        local path
        path=$(readlink -f "/sys/bus/pci/devices/$EP_B")
        [[ $path == */0000:00:06.0/$SWITCH_UP/${SWITCH_DOWN[1]}/$EP_B ]] && return 0
        WHY="$EP_B is at $path"
        return 1
}


# the place of the new devices: the conventional functions behind the bridge, the NIC below the
# root port without ACS
more_topology_right() {
        local path a
        for a in "${CONVENTIONAL[@]}"; do
                path=$(readlink -f "/sys/bus/pci/devices/$a")
                [[ $path == */0000:00:07.0/$PCI_BRIDGE/$a ]] || { WHY="$a is at $path"; return 1; }
        done
        path=$(readlink -f "/sys/bus/pci/devices/$NO_ACS_EP")
        [[ $path == */$NO_ACS_PORT/$NO_ACS_EP ]] || { WHY="$NO_ACS_EP is at $path"; return 1; }
}



# every group of several the kernel formed has a "why together" line in `groups` for each of its
# members but one, and none says it cannot tell or names a quirk
every_group_explained() {
        local g members n a lines
        for g in /sys/kernel/iommu_groups/*; do
                group_list "${g##*/}"
                members=$REPLY
                read -ra n <<<"$members"
                ((${#n[@]} > 1)) || continue
                lines=$(grep -A 64 "^IOMMU group ${g##*/}:" <<<"$CLI_OUT" | sed -n '2,$p' | sed '/^IOMMU group /,$d' | grep 'why together:')
                [[ -n $lines ]] || { WHY="group ${g##*/} ($members): no why-together line"; return 1; }
                local explained=0
                for a in "${n[@]}"; do
                        [[ $lines == *"$a"* ]] && explained=$((explained + 1))
                done
                ((explained >= ${#n[@]} - 1)) ||
                        { WHY="group ${g##*/} ($members): only $explained members named in: ${lines//$'\n'/ | }"; return 1; }
        done
        [[ $CLI_OUT != *"cannot tell why"* && $CLI_OUT != *"kernel keeps"* && $CLI_OUT != *"nothing in ACS"* ]] && return 0
        WHY="the explanation does not match the kernel's groups: $(grep -E 'cannot tell why|kernel keeps|nothing in ACS' <<<"$CLI_OUT" | head -n 3 | tr '\n' '|')"
        return 1
}

SAME_GROUP=0
describe_groups() {
        local ga gb
        iommu_group "$EP_A" || { WHY="$EP_A has no group"; return 1; }
        ga=$REPLY
        iommu_group "$EP_B" || { WHY="$EP_B has no group"; return 1; }
        gb=$REPLY
        group_list "$ga"
        note scenario-23 "the kernel put $EP_A in IOMMU group $ga: $REPLY"
        group_list "$gb"
        note scenario-23 "the kernel put $EP_B in IOMMU group $gb: $REPLY"
        [[ $ga == "$gb" ]] && SAME_GROUP=1
        return 0
}

# the rows and group headers of `vfio-bind groups` (run after vfio-bindd's pass at boot): in one
# group, both endpoints on e1000e (A refused) and the group held by the host; in two, A on vfio-pci
# with its group ready for a guest (the downstream port in it is a bridge), B's held by e1000e
groups_rows_right() {
        local ga gb
        iommu_group "$EP_A"; ga=$REPLY
        iommu_group "$EP_B"; gb=$REPLY
        [[ "${ROW_OF[$EP_B]-} " == *" e1000e "* ]] || { WHY="the row of $EP_B does not show e1000e: ${ROW_OF[$EP_B]-none}"; return 1; }
        [[ $CLI_OUT == *"IOMMU group $gb: held by the host (e1000e)"* ]] ||
                { WHY="group $gb of $EP_B is not shown as held by the host (e1000e)"; return 1; }
        if ((SAME_GROUP)); then
                [[ "${ROW_OF[$EP_A]-} " == *" e1000e "* ]] && return 0
                WHY="the row of $EP_A does not show e1000e: ${ROW_OF[$EP_A]-none}"
                return 1
        fi
        [[ "${ROW_OF[$EP_A]-} " == *" vfio-pci "* ]] || { WHY="the row of $EP_A does not show vfio-pci: ${ROW_OF[$EP_A]-none}"; return 1; }
        [[ $CLI_OUT == *"IOMMU group $ga: ready for a guest"* ]] && return 0
        WHY="group $ga of $EP_A is not shown as ready for a guest"
        return 1
}

# take_reload both|one: reload with Group=take; both endpoints, or only A, end on vfio-pci
take_reload() {
        reconfigure "[Bind]
Device=$EP_A
Group=take" || return 1
        wait_for 10 on_driver "$EP_A" vfio-pci || return 1
        if [[ $1 == both ]]; then
                wait_for 10 on_driver "$EP_B" vfio-pci
        else
                on_driver "$EP_B" e1000e
        fi
}

bridges_untouched() {
        local a
        for a in "$SWITCH_UP" "${SWITCH_DOWN[@]}" 0000:00:06.0; do
                all_of "on_driver $a pcieport" "no_override $a" || return 1
        done
}

checks() {
        check scenario-23 "the switch: upstream and downstream ports on pcieport, an e1000e below each downstream port" topology_right
        check scenario-23 "control: e1000e bound both endpoints before vfio-bindd started" \
                all_of "was_bound e1000e $EP_A" "was_bound e1000e $EP_B"
        check scenario-23 "the groups the kernel formed for the endpoints" describe_groups
        check scenario-23 "the pcie-pci-bridge's two conventional functions behind it, an e1000e below the root port made without ACS" \
                more_topology_right
        check scenario-23 "the kernel: the conventional functions in one group with their PCIe-to-PCI bridge" \
                same_group "$PCI_BRIDGE" "${CONVENTIONAL[@]}"
        check scenario-23 "the kernel: the NIC below the root port without ACS in the port's group" \
                same_group "$NO_ACS_PORT" "$NO_ACS_EP"
        check scenario-23 "control: the management NIC $NIC below a root port with ACS is alone in its group" alone "$NIC"
        run_cli groups groups
        check scenario-23 "vfio-bind groups agrees with /sys/kernel/iommu_groups" groups_agree
        check scenario-23 "vfio-bind groups says why for every group of several, from the config space: the rules give the kernel's groups" \
                every_group_explained
        check scenario-23 "why: $EP_A below the downstream port without ACS; the conventional functions behind the bridge; the NIC below the root port without ACS; the GPU's functions" \
                cli_has "$EP_A: below the downstream port ${SWITCH_DOWN[0]}, which has no ACS capability" \
                "${CONVENTIONAL[0]}, ${CONVENTIONAL[1]}: behind the PCIe-to-PCI bridge $PCI_BRIDGE (one requester ID" \
                "$NO_ACS_EP: below the root port $NO_ACS_PORT, which has no ACS capability" \
                "$GPU, $AUDIO: functions of one multifunction device without ACS"
        check scenario-23 "vfio-bind groups shows each endpoint's driver and whether its group can go to a guest" groups_rows_right
        run_cli status-json status --json
        check scenario-23 "status --json: $EP_A's group_why names the downstream port" \
                cli_says "\"group_why\": [\"$EP_A: below the downstream port ${SWITCH_DOWN[0]}"
        if ((SAME_GROUP)); then
                check scenario-23 "one group (no ACS below the switch), Group=check: $EP_A is refused, both stay on e1000e" \
                        all_of "on_driver $EP_A e1000e" "on_driver $EP_B e1000e" "never_bound vfio-pci $EP_A" "no_override $EP_A"
                check scenario-23 "Group=check: the status names $EP_B on e1000e" \
                        service_status_has "$EP_A refused" "$EP_B on e1000e" "Group=check"
                check scenario-23 "Group=take (reload): both endpoints of the group on vfio-pci" take_reload both
        else
                check scenario-23 "separate groups, Group=check: $EP_A alone goes to vfio-pci, $EP_B stays on e1000e" \
                        all_of "on_driver $EP_A vfio-pci" "on_driver $EP_B e1000e" "no_override $EP_B"
                check scenario-23 "Group=take (reload): still only $EP_A, its group has nothing else" take_reload one
        fi
        check scenario-23 "the switch's ports and the root port are never overridden, still on pcieport" bridges_untouched
        check scenario-23 "the NIC behind its own root port stays on e1000e" on_driver "$NIC" e1000e
        printf '[Bind]\nDevice=%s\nGroup=check\n' "$AUDIO" >/tmp/audio.conf
        run_cli check-audio check --config=/tmp/audio.conf
        check scenario-23 "vfio-bind check of $AUDIO (Group=check, the GPU on bochs-drm in its group): says why, what would change it, and never to patch the kernel" \
                cli_says "why together: $GPU, $AUDIO: functions of one multifunction device without ACS" \
                "what would change it: the functions of one device go to a guest together" "only pretends this isolation"
        check scenario-23 "vfio-bind dump in the guest: sent to the host with the outputs its replay must match" \
                send_dump scenario-23
        run_cli groups-after groups
        check scenario-23 "vfio-bind groups still agrees with sysfs after the binds" groups_agree
}

# --- on the host: the guest's dump replayed with the host's build
host_checks() {
        replay_open "$1"
        host_check "scenario-23: host: the guest's dump replays: groups (with why) prints what the guest printed" replay_same groups groups
        host_check "scenario-23: host: the replay's status --json (group_why) is the guest's" replay_same status-json status --json
        host_check "scenario-23: host: the replay's check (why, what would change it) is the guest's" replay_same check check
}
