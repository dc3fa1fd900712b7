# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 26, the control of scenario 25 and the refusals of VirtualFunctions=, on the same
# machine (QEMU 7.2 nvme PF 04:00.0 with 3 VFs at most, below root port 00:05.0 with ACS), with
# vfio-bind.service disabled at boot and VirtualFunctions=0000:04:00.0 2 configured:
#
#  - `vfio-bind check` before any VF exists says it would create 2 VFs for vfio-pci, naming
#    /etc/vfio-bind.conf:2 and the VF addresses, and writes nothing;
#  - the control: with sriov_drivers_autoprobe 1 (the kernel's default), writing 2 to sriov_numvfs
#    by hand makes nvme probe both VFs: the host driver would take them if nothing kept it off;
#  - VirtualFunctions=PF 9 (above sriov_totalvfs 3): `vfio-bind check` names the line and the
#    reason; the started daemon writes nothing (kprobes on the two attributes' store functions:
#    no write at all), no VF appears, its status and journal say why;
#  - VirtualFunctions=PF 2 while the PF has 1 VF (made by hand, autoprobe off): refused, the count
#    stays 1, nothing written.

KERNELS="6.1 6.12 6.12-nixos"
# never looks at the boot console or the GPU: SeaBIOS boots it faster than OVMF
FIRMWARE=bios
DESCRIPTION="SR-IOV control: nvme probes VFs made by hand; VirtualFunctions= refusals write nothing"
SERVICE=disabled
RP_SRIOV=$SRIOV_PORT PF=$SRIOV_PF VF1=$SRIOV_VF1 VF2=$SRIOV_VF2 VF3=$SRIOV_VF3
QEMU_EXTRA=("${SRIOV_EXTRA[@]}")
KPROBES=$SRIOV_KPROBES
CONF="[Bind]
VirtualFunctions=$PF 2"
# the driver core also says when a probe rejects the match (scenario 25)
APPEND='dyndbg="func call_driver_probe +p"'

# nothing written to either attribute since the mark (kprobes), and no VF added since (uevents;
# udevadm's times are seconds with microseconds, against the mark's uptime in milliseconds)
nothing_written() {
        local i t
        klog_from_mark || return 1
        kprobe_writes "$REPLY"
        ((${#WRITES[@]} == 0)) || { WHY="written since \"$MARK_TEXT\": ${WRITES[*]}"; return 1; }
        load_uevents
        for ((i = 0; i < ${#UE_SRC[@]}; i++)); do
                [[ ${UE_ACTION[i]} == add && " $VF1 $VF2 $VF3 " == *" ${UE_SLOT[i]} "* && -n ${UE_SLOT[i]} ]] || continue
                t=${UE_TIME[i]}
                t=$(( ${t%.*} * 1000 + 10#${t#*.} / 1000 ))
                if ((t >= MARK_MS)); then
                        WHY="${UE_SLOT[i]} was added at ${UE_TIME[i]} s, after the mark ($MARK_MS ms)"
                        return 1
                fi
        done
        return 0
}

# the starting point: nvme holds the PF (coldplug), no VF, autoprobe 1, and nothing wrote either
# attribute while booting (the kprobes are armed: the control below shows they log)
start_state() {
        local i
        all_of "on_driver $PF nvme" "was_bound nvme $PF" "attr_is $PF sriov_totalvfs 3" "attr_is $PF sriov_numvfs 0" \
               "attr_is $PF sriov_drivers_autoprobe 1" || return 1
        [[ ! -e /sys/bus/pci/devices/$VF1 ]] || { WHY="$VF1 exists already"; return 1; }
        kprobe_writes 0
        ((${#WRITES[@]} == 0)) || { WHY="written while booting: ${WRITES[*]}"; return 1; }
        nvme_probes 0
        [[ "${NVME_PROBES[*]}" == 0 ]] || { WHY="nvme_probe ran for devfns ${NVME_PROBES[*]:-none} while booting, expected 0 (the PF)"; return 1; }
        unit_active vfio-bind.service && { WHY="vfio-bind.service runs"; return 1; }
        return 0
}

cli_says() {
        local want_rc=$1 t
        shift
        ((CLI_RC == want_rc)) || { WHY="vfio-bind exited $CLI_RC, not $want_rc: ${CLI_OUT//$'\n'/ | }"; return 1; }
        for t in "$@"; do
                [[ $CLI_OUT == *"$t"* ]] || { WHY="the output does not say \"$t\": ${CLI_OUT//$'\n'/ | }"; return 1; }
        done
}

# control: autoprobe 1, numvfs 2 by hand: both VFs appear, the kprobe logs the write, and nvme's
# probe function runs for each VF (the kprobe on nvme_probe: devfns 1 and 2; the driver core's
# really_probe line and nvme's own "pci function ADDR" too). The VFs' controllers are offline
# until the PF's driver gives them resources, so nvme then gives up on them ("Device not ready",
# its probe returns -19 on 6.12): what matters is that nothing kept nvme from trying.
host_probes_vfs() {
        local from vf
        printf '2\n' >"/sys/bus/pci/devices/$PF/sriov_numvfs" || { WHY="writing 2 to sriov_numvfs failed"; return 1; }
        wait_for 10 test -e "/sys/bus/pci/devices/$VF2" || { WHY="$VF2 did not appear"; return 1; }
        udevadm settle --timeout=30 || :
        for vf in "$VF1" "$VF2"; do
                wait_for 20 eval 'klog_from_mark && klog_find "*nvme nvme*: pci function $vf*" "$REPLY"' ||
                        { WHY="nvme's probe did not run for $vf after the write (no \"pci function $vf\" line)"; return 1; }
        done
        klog_from_mark || return 1
        from=$REPLY
        kprobe_writes "$from"
        [[ "${WRITES[*]}" == "numvfs:$PF:50" ]] || { WHY="kprobes logged: ${WRITES[*]:-nothing} (the hand write of 2)"; return 1; }
        nvme_probes "$from"
        [[ "${NVME_PROBES[*]}" == "1 2" ]] || { WHY="nvme_probe ran for devfns ${NVME_PROBES[*]:-none}, expected 1 2"; return 1; }
        for vf in "$VF1" "$VF2"; do
                klog_find "$(klog_probe_pattern nvme "$vf")" "$from" || { WHY="no really_probe line of nvme for $vf"; return 1; }
        done
        return 0
}

# after the control: back to 0 VFs
vfs_gone() {
        printf '0\n' >"/sys/bus/pci/devices/$PF/sriov_numvfs" || { WHY="writing 0 to sriov_numvfs failed"; return 1; }
        wait_for 10 eval '[[ ! -e /sys/bus/pci/devices/$VF1 ]]' || { WHY="$VF1 is still there"; return 1; }
        attr_is "$PF" sriov_numvfs 0
}

# the daemon started with a refused VirtualFunctions=: active, its status and journal say TEXT
daemon_refused() {
        local text=$1
        unit_active vfio-bind.service || return 1
        status_has "$PF" "$text" || return 1
        load_journal vfio-bind.service
        journal_has sriov-refuse "$PF" || return 1
        journal_mentions "$text"
}

checks() {
        check scenario-26 "start: nvme holds $PF (sriov_totalvfs 3, numvfs 0, autoprobe 1), no VF, nothing wrote the attributes, nvme_probe ran for the PF only, the service is off" \
                start_state

        mark "vfio-bind check, no VF yet"
        run_cli check-before check
        check scenario-26 "vfio-bind check before: would create 2 VFs for vfio-pci with autoprobe off, naming the line and the VFs" \
                cli_says 0 "sr-iov: $PF (VirtualFunctions= at /etc/vfio-bind.conf:2): create 2 virtual functions for vfio-pci (sriov_totalvfs 3; sriov_drivers_autoprobe off while they are created): $VF1 $VF2"
        check scenario-26 "vfio-bind check wrote nothing (kprobes), no VF appeared" nothing_written

        # the control
        mark "control: sriov_numvfs=2 by hand, autoprobe 1"
        check scenario-26 "control: with autoprobe 1, writing 2 to sriov_numvfs makes nvme's probe function run for $VF1 and $VF2 (kprobe, kernel log)" host_probes_vfs
        pci_driver "$VF1"
        note scenario-26 "control: $VF1 ends on ${REPLY:-no driver}; nvme bound it: $(was_bound nvme "$VF1" && echo yes || echo no)"
        check scenario-26 "control: back to 0 VFs" vfs_gone

        # a count above sriov_totalvfs
        printf '[Bind]\nVirtualFunctions=%s 9\n' "$PF" >/etc/vfio-bind.conf
        mark "VirtualFunctions=$PF 9"
        run_cli check-9 check
        check scenario-26 "VirtualFunctions=$PF 9: vfio-bind check exits 1, names the line and says the PF has at most 3" \
                cli_says 1 "/etc/vfio-bind.conf:2: VirtualFunctions= for $PF: refused: VirtualFunctions= asks for 9 virtual functions, and $PF has at most 3 (sriov_totalvfs)"
        systemctl start vfio-bind.service || note scenario-26 "systemctl start vfio-bind.service failed"
        wait_for 20 unit_active vfio-bind.service
        read -r -t 2 -u 9 || :
        unit_props vfio-bind.service
        check scenario-26 "VirtualFunctions=$PF 9: the daemon's status and journal name the PF and the reason" \
                daemon_refused "asks for 9 virtual functions, and $PF has at most 3 (sriov_totalvfs)"
        check scenario-26 "VirtualFunctions=$PF 9: nothing written to sriov_numvfs or autoprobe (kprobes), no VF appeared, numvfs 0, autoprobe 1" \
                all_of nothing_written "attr_is $PF sriov_numvfs 0" "attr_is $PF sriov_drivers_autoprobe 1" "on_driver $PF nvme"

        # a PF with another non-zero count
        printf '0\n' >"/sys/bus/pci/devices/$PF/sriov_drivers_autoprobe"
        printf '1\n' >"/sys/bus/pci/devices/$PF/sriov_numvfs"
        printf '1\n' >"/sys/bus/pci/devices/$PF/sriov_drivers_autoprobe"
        wait_for 10 test -e "/sys/bus/pci/devices/$VF1"
        udevadm settle --timeout=30 || :
        mark "VirtualFunctions=$PF 2 with 1 VF there"
        reconfigure "[Bind]
VirtualFunctions=$PF 2"
        unit_props vfio-bind.service
        check scenario-26 "VirtualFunctions=$PF 2 with 1 VF made by hand: refused, the status and journal say it has 1 already" \
                daemon_refused "refused: it has 1 virtual functions already"
        check scenario-26 "the count stays 1, nothing written after the reload (kprobes), $VF1 not bound to vfio-pci" \
                all_of "attr_is $PF sriov_numvfs 1" "on_driver $VF1 " "no_override $VF1" nothing_written
        run_cli check-1 check
        check scenario-26 "vfio-bind check says so too, naming the line" \
                cli_says 1 "/etc/vfio-bind.conf:2: VirtualFunctions= for $PF: refused: it has 1 virtual functions already"
}
