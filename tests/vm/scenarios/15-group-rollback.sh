# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 15, a group is a transaction (issue 11): when the real kernel refuses one member of an
# IOMMU group, the members that this pass moved are put back on their host drivers.
#
# How the kernel is made to refuse: vfio-pci refuses an SR-IOV physical function whose VFs are
# enabled ("vfio-pci …: Cannot bind to PF with SR-IOV enabled", probe error -16, EBUSY). QEMU
# 7.2's nvme device is such a PF (nvme-subsys + nvme with sriov_max_vfs=1, sriov_vq_flexible=2,
# sriov_vi_flexible=1), and its VFs are enabled through the nvme driver's sriov_numvfs. The PF
# has to be function 0 of its device: QEMU leaves the SR-IOV Function Dependency Link at 0, so at
# function 1 the kernel refuses to enable the VFs (sriov_numvfs: EIO). So the group is made of two
# devices instead of two functions: two root ports without ACS (disable-acs=on) as functions 0
# and 1 of one slot, 00:05.0 and 00:05.1, put everything below them into one IOMMU group; an HD
# audio controller goes below the first (04:00.0, snd_hda_intel), the nvme PF below the second
# (05:00.0, nvme; its VF appears as 05:00.1, left without a driver by sriov_drivers_autoprobe=0).
# Members are bound in address order, so the audio controller is moved to vfio-pci first, then the
# PF fails, and the audio controller must be rolled back.
#
# The VF (no driver before) must stay without one; a rollback may leave its override set, which
# issue 11 allows for a member that no driver held.
#
# The daemon's part: the service is started after boot (the VFs must be enabled first) with both
# endpoints configured (Group=check, UnbindHost=yes). The CLI's part, with the daemon stopped:
# `vfio-bind bind --take-group 0000:04:00.0` meets the same refusal and must roll back too.
#
# If the plan learns that vfio-pci refuses a PF with VFs enabled and refuses the group up front,
# that passes too, as long as nothing was moved: the checks accept either, and say which.

DESCRIPTION="a group member the kernel refuses (SR-IOV PF with VFs) rolls the group back"
# never looks at the boot console or the GPU: SeaBIOS boots it faster than OVMF
FIRMWARE=bios
SERVICE=disabled
HDA=0000:04:00.0      # ich9-intel-hda below root port 00:05.0
PF=0000:05:00.0       # nvme with SR-IOV below root port 00:05.1
VF=0000:05:00.1       # its virtual function, once enabled
RP_A=0000:00:05.0
RP_B=0000:00:05.1
GROUP_CONF="[Bind]
Device=$HDA $PF
Group=check
UnbindHost=yes"

payload() {
        # shellcheck disable=SC2054
        QEMU_EXTRA=(
                -device pcie-root-port,id=rp4,bus=pcie.0,chassis=4,slot=4,addr=0x5.0,multifunction=on,disable-acs=on
                -device pcie-root-port,id=rp5,bus=pcie.0,chassis=5,slot=5,addr=0x5.1,disable-acs=on
                -device ich9-intel-hda,bus=rp4,addr=0x0
                -device nvme-subsys,id=vbnvmes
                -device nvme,bus=rp5,addr=0x0,serial=vbsriov,subsys=vbnvmes,sriov_max_vfs=1,sriov_vq_flexible=2,sriov_vi_flexible=1
        )
}

# mark TEXT: MARK_TEXT = "vm-test: TEXT", written into the kernel log; MARK_MS = the uptime then



# the layout and the control: the host drivers bound both endpoints at boot (coldplug), the VF
# is there without a driver, and all of it is one IOMMU group
hosts_first() {
        all_of "was_bound snd_hda_intel $HDA" "was_bound nvme $PF" "on_driver $HDA snd_hda_intel" "on_driver $PF nvme" \
               "no_override $HDA" "no_override $PF" || return 1
        never_bound vfio-pci "$HDA" || return 1
        never_bound vfio-pci "$PF"
}

# enable_vf: one VF on the PF, not probed by any driver
enable_vf() {
        printf '0\n' >"/sys/bus/pci/devices/$PF/sriov_drivers_autoprobe" || { WHY="cannot write sriov_drivers_autoprobe"; return 1; }
        printf '1\n' >"/sys/bus/pci/devices/$PF/sriov_numvfs" || { WHY="writing 1 to $PF/sriov_numvfs failed"; return 1; }
        wait_for 10 test -e "/sys/bus/pci/devices/$VF" || { WHY="no VF $VF appeared"; return 1; }
        read_attr "/sys/bus/pci/devices/$PF/sriov_numvfs"
        [[ $REPLY == 1 ]] || { WHY="$PF has sriov_numvfs=$REPLY"; return 1; }
        udevadm settle --timeout=10 || :
        all_of "on_driver $VF " "same_group $HDA $PF $VF $RP_A $RP_B"
}

# group_back: both endpoints on their host drivers without an override, the VF without a driver
# (a member that no driver held may keep its override after a rollback, issue 11 allows that)
group_back() {
        all_of "on_driver $HDA snd_hda_intel" "on_driver $PF nvme" "no_override $HDA" "no_override $PF" \
               "on_driver $VF "
}

# kernel_refused_or_plan_refused REFUSED_FN: ROUTE = how this pass went, read from the kernel log
# after the mark: "kernel" (vfio-pci bound the audio controller, then the kernel refused the PF)
# or "plan" (vfio-pci never probed either, and REFUSED_FN finds the refusal that names the PF:
# refused up front); anything else is a failure
ROUTE=''
kernel_refused_or_plan_refused() {
        local refused_fn=$1 from hda_vfio pf_refused
        ROUTE=''
        klog_from_mark || return 1
        from=$REPLY
        if klog_find "*vfio-pci $PF: Cannot bind to PF with SR-IOV enabled*" "$from"; then
                pf_refused=$REPLY
                klog_find "$(klog_bound_pattern vfio-pci "$HDA")" "$from" ||
                        { WHY="the kernel refused the PF, but vfio-pci had not bound $HDA before (nothing to roll back: the order changed?)"; return 1; }
                hda_vfio=$REPLY
                ((hda_vfio < pf_refused)) || { WHY="vfio-pci bound $HDA only after the PF was refused"; return 1; }
                ROUTE=kernel
                note scenario-15 "the kernel refused the PF: ${KLOG[pf_refused]}"
                return 0
        fi
        if klog_find "$(klog_probe_pattern vfio-pci "$HDA")" "$from" || klog_find "$(klog_probe_pattern vfio-pci "$PF")" "$from"; then
                WHY="vfio-pci probed a member (${KLOG[REPLY]}) but the kernel never refused the PF"
                return 1
        fi
        "$refused_fn" || { WHY="vfio-pci never probed a member, and there is no refusal naming $PF: $WHY"; return 1; }
        ROUTE=plan
        note scenario-15 "vfio-pci never probed the group: it was refused before any write"
        return 0
}

# daemon_refused: a journal entry of the unit, since it started, refuses a member and names the PF
daemon_refused() {
        local i
        load_journal vfio-bind.service
        for ((i = 0; i < ${#J_MESSAGE[@]}; i++)); do
                ((J_MONO[i] >= DAEMON_MS * 1000)) || continue
                [[ ${J_ACTION[i]} == refuse && ${J_MESSAGE[i]} == *"$PF"* ]] && return 0
        done
        WHY="no refuse entry naming $PF in the journal"
        return 1
}

# cli_refused: the last run_cli exited 1 and named the PF
cli_refused() {
        ((CLI_RC == 1)) && [[ $CLI_OUT == *"$PF"* ]] && return 0
        WHY="vfio-bind exited $CLI_RC: ${CLI_OUT//$'\n'/ | }"
        return 1
}

# rolled_back_in_klog: after the PF was refused, snd_hda_intel bound the audio controller again
# (its previous host driver reprobed), and nvme the PF. On the plan route: the host drivers were
# never disturbed (no probe or bind of either member after the mark at all).
rolled_back_in_klog() {
        local from refused a
        klog_from_mark || return 1
        from=$REPLY
        case $ROUTE in
        kernel) ;;
        plan)
                for a in "$HDA" "$PF"; do
                        if klog_find "*really_probe*$a*" "$from" || klog_find "*driver_bound*$a*" "$from"; then
                                WHY="refused up front, yet the kernel log has: ${KLOG[REPLY]}"
                                return 1
                        fi
                done
                return 0 ;;
        *) WHY="neither the kernel nor the plan refused (see the check above)"; return 1 ;;
        esac
        klog_find "*vfio-pci $PF: Cannot bind to PF with SR-IOV enabled*" "$from"
        refused=$REPLY
        klog_find "$(klog_bound_pattern snd_hda_intel "$HDA")" "$refused" ||
                { WHY="snd_hda_intel never bound $HDA again after the PF was refused"; return 1; }
        klog_find "$(klog_bound_pattern nvme "$PF")" "$refused" && return 0
        WHY="nvme never bound $PF again after vfio-pci refused it"
        return 1
}

# stable: for 3 s nothing probes the members any more (no retry loop on the bind uevents), and
# they stay on the drivers they were on
stable() {
        local from n hda pf
        load_klog
        n=${#KLOG[@]}
        pci_driver "$HDA"; hda=$REPLY
        pci_driver "$PF"; pf=$REPLY
        read -r -t 3 -u 9 || :
        load_klog
        for ((from = n; from < ${#KLOG[@]}; from++)); do
                if [[ ${KLOG[from]} == *really_probe:\ probing\ driver*"$HDA"* || ${KLOG[from]} == *really_probe:\ probing\ driver*"$PF"* ]]; then
                        WHY="still probing: ${KLOG[from]}"
                        return 1
                fi
        done
        all_of "on_driver $HDA $hda" "on_driver $PF $pf"
}

# journal_says_rolled_back: an entry of the unit for the audio controller says it was put back
# ("rolled back"/"put back"), and an entry for the PF names the failure; on the plan route, a
# refuse entry for the PF (or the audio controller) names the PF
journal_says_rolled_back() {
        local i back=0 failed=0
        load_journal vfio-bind.service
        for ((i = 0; i < ${#J_MESSAGE[@]}; i++)); do
                ((J_MONO[i] >= DAEMON_MS * 1000)) || continue
                case ${J_MESSAGE[i]} in
                *"$HDA"*"rolled back"* | *"$HDA"*"put back"* | *"rolled back"*"$HDA"* | *"put back"*"$HDA"*) back=1 ;;
                esac
                [[ ${J_DEVICE[i]} == "$PF" && ${J_MESSAGE[i]} == *"$PF"* && ${J_ACTION[i]} != - ]] && failed=1
        done
        if [[ $ROUTE == plan ]]; then
                ((failed)) && return 0
                WHY="no journal entry for $PF explains the refusal"
                return 1
        fi
        ((failed)) || { WHY="no journal entry for $PF names its failure"; return 1; }
        ((back)) && return 0
        WHY="no journal message says $HDA was rolled back (or put back)"
        return 1
}

status_says_rolled_back() {
        unit_active vfio-bind.service || return 1
        status_has "$PF" || return 1
        [[ $ROUTE == plan ]] && return 0
        status_has "$HDA" || return 1
        [[ ${PROP[StatusText]} == *"rolled back"* || ${PROP[StatusText]} == *"put back"* ]] && return 0
        WHY="status \"${PROP[StatusText]}\" does not say that $HDA was rolled back (or put back)"
        return 1
}

# cli_rolled_back: `vfio-bind bind --take-group $HDA` exited 1, named the PF and said the rest
# was rolled back (or refused it up front, naming the PF)
cli_rolled_back() {
        local out=${CLI_OUT//$'\n'/ | }
        ((CLI_RC == 1)) || { WHY="vfio-bind exited $CLI_RC, not 1: $out"; return 1; }
        [[ $CLI_OUT == *"$PF"* ]] || { WHY="the output does not name $PF: $out"; return 1; }
        [[ $ROUTE == plan ]] && return 0
        [[ $CLI_OUT == *"rolled back"* || $CLI_OUT == *"put back"* ]] && return 0
        WHY="the output does not say the group was rolled back (or put back): $out"
        return 1
}

DAEMON_MS=0
checks() {
        check scenario-15 "control: snd_hda_intel bound $HDA and nvme bound $PF at boot (vfio-pci never did)" hosts_first
        check scenario-15 "one VF enabled on $PF ($VF, no driver), all of it one IOMMU group with the root ports" enable_vf

        # the daemon
        printf '%s\n' "$GROUP_CONF" >/etc/vfio-bind.conf
        mark "systemctl start vfio-bind (group $HDA $PF)"
        DAEMON_MS=$MARK_MS
        systemctl start vfio-bind.service || note scenario-15 "systemctl start vfio-bind.service failed"
        wait_for 20 group_back
        udevadm settle --timeout=10 || :
        check scenario-15 "daemon: the kernel refused the PF after vfio-pci took $HDA (or the plan refused the group before any write)" \
                kernel_refused_or_plan_refused daemon_refused
        check scenario-15 "daemon: $HDA is back on snd_hda_intel, $PF on nvme, no driver_override on any member" group_back
        check scenario-15 "daemon: kernel log: snd_hda_intel bound $HDA again after the refusal, nvme the PF (refused up front: no probe at all)" rolled_back_in_klog
        check scenario-15 "daemon: over the next 3 s nothing probes the members and they stay where they are (no retry loop)" stable
        check scenario-15 "daemon: journal: the PF's failure is named, $HDA is said to be rolled back" journal_says_rolled_back
        unit_props vfio-bind.service
        check scenario-15 "daemon: the status names the PF and says $HDA was rolled back" status_says_rolled_back

        # the CLI, with the daemon stopped
        systemctl stop vfio-bind.service || note scenario-15 "systemctl stop vfio-bind.service failed"
        if ! group_back; then
                note scenario-15 "putting the group back by hand before the CLI's turn: $WHY"
                put_back_by_hand
        fi
        mark "vfio-bind bind --take-group $HDA"
        run_cli bind-take-group bind --take-group "$HDA"
        check scenario-15 "CLI: the kernel refused the PF after vfio-pci took $HDA (or the plan refused before any write)" \
                kernel_refused_or_plan_refused cli_refused
        check scenario-15 "CLI: vfio-bind bind --take-group $HDA exits 1, names the PF, says the group was rolled back" cli_rolled_back
        check scenario-15 "CLI: $HDA is back on snd_hda_intel, $PF on nvme, no driver_override on any member" group_back
        check scenario-15 "CLI: kernel log: snd_hda_intel bound $HDA again after the refusal, nvme the PF (refused up front: no probe at all)" rolled_back_in_klog
}

# put_back_by_hand: clear the overrides, give the endpoints back to their host drivers
put_back_by_hand() {
        local a
        for a in "$HDA" "$PF" "$VF"; do
                printf '\n' >"/sys/bus/pci/devices/$a/driver_override"
        done
        for a in "$HDA" "$PF"; do
                pci_driver "$a"
                [[ $REPLY == vfio-pci ]] && printf '%s\n' "$a" >/sys/bus/pci/drivers/vfio-pci/unbind
                pci_driver "$a"
                [[ -n $REPLY ]] || printf '%s\n' "$a" >/sys/bus/pci/drivers_probe
        done
        wait_for 10 group_back || note scenario-15 "the group could not be put back by hand: $WHY"
}
