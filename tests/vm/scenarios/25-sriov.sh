# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 25, SR-IOV at boot (VirtualFunctions=): vfio-bindd creates the virtual functions of a
# real kernel's SR-IOV physical function with sriov_drivers_autoprobe off, so the host's VF driver
# (nvme) never gets to probe one, and binds each VF to vfio-pci; the PF keeps nvme.
#
# The machine (topology.sh, SRIOV_EXTRA): QEMU 7.2's nvme (nvme-subsys + nvme with
# sriov_max_vfs=3, sriov_vq_flexible=6 and sriov_vi_flexible=3, QEMU's minimums for 3 VFs: 2
# queues and 1 interrupt per VF) at function 0 (QEMU leaves the Function Dependency Link at 0: at
# function 1 the kernel refuses sriov_numvfs) below its own root port 00:05.0, which has ACS (no
# disable-acs): the PF is 04:00.0, its VFs 04:00.1 and 04:00.2 (offset 1, stride 1). The groups
# the kernel formed, 6.1 and 6.12 alike: the root port 4, the PF 8, the VFs 9 and 10, each alone
# (the VFs are not multifunction and the root port's ACS isolates the bus); the checks assert that
# each is alone and report the numbers.
#
# The boot: vfio-bindd starts before coldplug, when nvme is not loaded yet, so the PF has no driver
# and the first pass waits ("sriov-wait"); coldplug loads nvme, its bind uevent brings the pass that
# creates the VFs. Boot-time kprobes (SRIOV_KPROBES, printed by tp_printk) log every write to
# sriov_drivers_autoprobe and sriov_numvfs, and every call of nvme's probe function with the
# device's devfn: the order autoprobe 0, numvfs 2, autoprobe 1 after nvme bound the PF, and that
# nvme_probe ran for the PF only, are read from the kernel itself. The driver core's really_probe
# line for nvme does appear for each VF even with autoprobe off (it offers the new device to the
# driver; pci_device_probe then rejects the match with -ENODEV, logged with call_driver_probe's
# dyndbg): the checks require that rejection for every such offer.
#
# The control that nvme does take VFs is scenario 26 (autoprobe 1, numvfs by hand) and, in this
# boot, `vfio-bind release` of the second VF, which nvme's probe then runs for; the count stays.

KERNELS="6.1 6.12 6.12-nixos"
# never looks at the boot console or the GPU: SeaBIOS boots it faster than OVMF
FIRMWARE=bios
DESCRIPTION="VirtualFunctions=: nvme PF's 2 VFs created with autoprobe off at boot, bound to vfio-pci"
RP_SRIOV=$SRIOV_PORT PF=$SRIOV_PF VF1=$SRIOV_VF1 VF2=$SRIOV_VF2 VF3=$SRIOV_VF3
QEMU_EXTRA=("${SRIOV_EXTRA[@]}")
KPROBES=$SRIOV_KPROBES
CONF="[Bind]
VirtualFunctions=$PF 2"
# the driver core also says when a probe rejects the match with -ENODEV (pci_device_probe does for
# a VF that may not be probed: autoprobe off and no override naming the driver)
APPEND='dyndbg="func call_driver_probe +p"'

# the PF and its two VFs: an nvme PF with sriov_totalvfs 3, sriov_numvfs 2, virtfn0 and virtfn1
# pointing at VF1 and VF2, no third VF
layout() {
        local l
        all_of "attr_is $PF class 0x010802" "attr_is $PF sriov_totalvfs 3" "attr_is $PF sriov_numvfs 2" \
               "attr_is $PF sriov_offset 1" "attr_is $PF sriov_stride 1" || return 1
        l=$(readlink "/sys/bus/pci/devices/$PF/virtfn0") && [[ $l == */"$VF1" ]] ||
                { WHY="$PF/virtfn0 -> ${l:-nothing}, not $VF1"; return 1; }
        l=$(readlink "/sys/bus/pci/devices/$PF/virtfn1") && [[ $l == */"$VF2" ]] ||
                { WHY="$PF/virtfn1 -> ${l:-nothing}, not $VF2"; return 1; }
        [[ ! -e /sys/bus/pci/devices/$PF/virtfn2 && ! -e /sys/bus/pci/devices/$VF3 ]] ||
                { WHY="a third VF exists"; return 1; }
        l=$(readlink "/sys/bus/pci/devices/$VF1/physfn") && [[ $l == */"$PF" ]] ||
                { WHY="$VF1/physfn -> ${l:-nothing}"; return 1; }
        attr_is "$VF1" vendor 0x1b36
}

# nvme is a module here, loaded by coldplug after vfio-bindd was ready: the first pass waited for
# the PF's driver. The journal's times are journald's (it receives late at boot), never earlier
# than the message: the wait entry's time is before nvme bound the PF (kernel log), and the VFs
# were created after that (the kprobe check below)
waited_for_pf_driver() {
        local i wait=-1 create=-1 bound
        [[ -e /sys/module/nvme/initstate ]] || { WHY="nvme is built in here: the PF had its driver before user space"; return 1; }
        for ((i = 0; i < ${#J_ACTION[@]}; i++)); do
                [[ ${J_DEVICE[i]} == "$PF" ]] || continue
                [[ ${J_ACTION[i]} == sriov-wait && $wait -lt 0 ]] && wait=$i
                [[ ${J_ACTION[i]} == sriov-create && $create -lt 0 ]] && create=$i
        done
        ((wait >= 0)) || { WHY="no sriov-wait entry for $PF in the journal"; return 1; }
        [[ ${J_MESSAGE[wait]} == "$PF: waiting for its host driver"* ]] ||
                { WHY="the wait entry says \"${J_MESSAGE[wait]}\""; return 1; }
        ((create > wait)) || { WHY="no sriov-create entry for $PF after the wait entry"; return 1; }
        journal_mentions "first pass done" || return 1
        for ((i = 0; i < ${#J_MESSAGE[@]}; i++)); do
                [[ ${J_MESSAGE[i]} == "first pass done"* ]] || continue
                [[ ${J_MESSAGE[i]} == *"$PF: waiting for its host driver"* ]] ||
                        { WHY="the first pass says \"${J_MESSAGE[i]}\""; return 1; }
                break
        done
        klog_find "$(klog_bound_pattern nvme "$PF")" || { WHY="nvme never bound $PF"; return 1; }
        klog_time "$REPLY"
        bound=$REPLY
        ((J_MONO[wait] < bound)) && return 0
        WHY="the wait entry (${J_MONO[wait]} us) is not from before nvme bound the PF ($bound us)"
        return 1
}

# the kernel's record of the writes: nvme bound the PF, then (and only then) sriov_drivers_autoprobe
# 0, sriov_numvfs 2, sriov_drivers_autoprobe 1, each exactly once in the whole boot, and the VFs
# were added between the numvfs write and autoprobe's going back to 1
writes_in_order() {
        local bound vf_added
        klog_find "$(klog_bound_pattern nvme "$PF")" || { WHY="nvme never bound $PF"; return 1; }
        bound=$REPLY
        kprobe_writes 0
        [[ "${WRITES[*]}" == "autoprobe:$PF:48 numvfs:$PF:50 autoprobe:$PF:49" ]] ||
                { WHY="the writes logged by the kprobes: ${WRITES[*]:-none}"; return 1; }
        ((WRITE_AT[0] > bound)) || { WHY="autoprobe was switched off (line ${WRITE_AT[0]}) before nvme bound the PF (line $bound)"; return 1; }
        klog_find "*pci $VF1: ?1b36:0010? type 00 class 0x010802*" || { WHY="no enumeration line of $VF1"; return 1; }
        vf_added=$REPLY
        ((vf_added > WRITE_AT[1] && vf_added < WRITE_AT[2])) && return 0
        WHY="$VF1 was enumerated at line $vf_added, not between the numvfs write (${WRITE_AT[1]}) and autoprobe 1 (${WRITE_AT[2]})"
        return 1
}

# The driver core offers a new VF to nvme while the VF is added, before user space can act: its
# really_probe line is there even with autoprobe off, but the PCI bus's probe rejects the match
# (pci_device_can_probe: autoprobe off, no override naming nvme, -ENODEV) before nvme's probe
# function runs. So, for each VF: every nvme probe attempt was rejected with -19; nvme's probe
# function ran once in the whole boot, for the PF (devfn 0, the kprobe on nvme_probe), never for a
# VF (nor its "pci function ADDR" line); nvme never bound a VF (kernel log, uevents); vfio-pci
# bound both. REJECTED says how many attempts were rejected.
REJECTED=''
nvme_reject_pattern() {
        printf '%s\n%s' "*nvme: probe of $1 rejects match -19*" "* $1: probe with driver nvme rejects match -19*"
}
vfs_never_host() {
        local vf probes
        REJECTED=''
        nvme_probes
        [[ "${NVME_PROBES[*]}" == 0 ]] || { WHY="nvme_probe ran for devfns: ${NVME_PROBES[*]:-none} (expected only the PF, 0)"; return 1; }
        for vf in "$VF1" "$VF2"; do
                klog_count "$(klog_probe_pattern nvme "$vf")"
                probes=$REPLY
                klog_count "$(nvme_reject_pattern "$vf")"
                ((REPLY == probes)) || { WHY="$vf: $probes nvme probe attempts, $REPLY rejected"; return 1; }
                REJECTED+="${REJECTED:+, }$vf: $probes"
                klog_absent "*nvme nvme*: pci function $vf*" || return 1
                all_of "never_bound nvme $vf" "no_uevent_bind nvme $vf" "was_bound vfio-pci $vf" "uevent_bind vfio-pci $vf" ||
                        return 1
        done
}

# each VF alone in its IOMMU group, the groups distinct, /dev/vfio/N there; the PF and the root
# port each alone too. GROUPS_SEEN says which.
GROUPS_SEEN=''
own_groups() {
        local a g seen=' '
        GROUPS_SEEN=''
        for a in "$RP_SRIOV" "$PF" "$VF1" "$VF2"; do
                iommu_group_is "$a" "$a" || { WHY="$a: $WHY"; return 1; }
                iommu_group "$a"
                g=$REPLY
                [[ $seen != *" $g "* ]] || { WHY="group $g twice"; return 1; }
                seen+="$g "
                GROUPS_SEEN+="${GROUPS_SEEN:+, }$a: $g"
        done
        all_of "vfio_dev_node $VF1" "vfio_dev_node $VF2"
}

pf_stays() {
        all_of "on_driver $PF nvme" "no_override $PF" "never_bound vfio-pci $PF" "attr_is $PF sriov_drivers_autoprobe 1"
}

vfs_on() {
        all_of "on_driver $VF1 $1" "on_driver $VF2 $1"
}

journal_messages() {
        journal_mentions "$PF: created 2 virtual functions for vfio-pci, sriov_drivers_autoprobe off while they were created: $VF1 $VF2" ||
                return 1
        journal_mentions "$PF: 2/2 virtual functions on vfio-pci" || return 1
        all_of "journal_has sriov-create $PF" "journal_has sriov $PF" \
               "journal_has bind $VF1 vfio-pci" "journal_has bind $VF2 vfio-pci"
}

cli_says() {
        local t
        cli_ok || return 1
        for t in "$@"; do
                [[ $CLI_OUT == *"$t"* ]] || { WHY="the output does not say \"$t\": ${CLI_OUT//$'\n'/ | }"; return 1; }
        done
}

# `vfio-bind release VF2`: VF2 leaves vfio-pci with no override, nvme's probe function runs for it
# (the kprobe: devfn 2, and its "pci function" line; the VF's controller is offline until the PF's
# driver gives it resources, so nvme then gives up: "Device not ready"), nothing writes
# sriov_numvfs or autoprobe, VF1 and the PF stay; and 3 s later vfio-bindd has left it alone
released() {
        local from
        cli_ok || return 1
        wait_for 20 eval '! on_driver "$VF2" vfio-pci && klog_from_mark && klog_find "*nvme nvme*: pci function $VF2*" "$REPLY"' ||
                { pci_driver "$VF2"; WHY="$VF2 is on ${REPLY:-no driver}, and nvme's probe did not run for it after the release (no \"pci function $VF2\" line)"; return 1; }
        no_override "$VF2" || return 1
        read -r -t 3 -u 9 || :
        pci_driver "$VF2"
        [[ $REPLY != vfio-pci ]] || { WHY="vfio-bindd took $VF2 back"; return 1; }
        klog_from_mark || return 1
        from=$REPLY
        nvme_probes "$from"
        [[ " ${NVME_PROBES[*]} " == *" 2 "* ]] || { WHY="no nvme_probe for devfn 2 after the release: ${NVME_PROBES[*]:-none}"; return 1; }
        kprobe_writes "$from"
        ((${#WRITES[@]} == 0)) || { WHY="written after the release: ${WRITES[*]}"; return 1; }
        all_of "attr_is $PF sriov_numvfs 2" "on_driver $VF1 vfio-pci" "on_driver $PF nvme"
}

# the daemon done: both VFs on vfio-pci and its status says 2/2
settled() {
        vfs_on vfio-pci || return 1
        unit_props vfio-bind.service
        status_has "virtual functions on vfio-pci: $PF 2/2"
}

checks() {
        # nvme loads late in coldplug (about 43 s into a 6.1 boot here): udev may have settled while
        # vfio-bindd still binds the VFs, so wait for it before reading the logs again
        wait_for 60 settled || note scenario-25 "vfio-bindd not settled after 60 s: $WHY"
        udevadm settle --timeout=30 || :
        load_klog
        load_uevents
        load_journal vfio-bind.service
        check scenario-25 "layout: $PF is an nvme SR-IOV PF (sriov_totalvfs 3) with 2 VFs, $VF1 and $VF2 (virtfn0/1, physfn), no third" layout
        check scenario-25 "the PF stays on nvme, no override, autoprobe is 1 again" pf_stays
        check scenario-25 "both VFs on vfio-pci" vfs_on vfio-pci
        check scenario-25 "kernel log, kprobe and uevents: nvme_probe ran only for the PF, never for a VF (each offer of a VF to nvme rejected with -19), nvme never bound one; vfio-pci bound both" \
                vfs_never_host
        note scenario-25 "nvme probe attempts rejected by pci_device_probe (autoprobe off): $REJECTED"
        check scenario-25 "IOMMU groups: the root port, the PF and each VF each alone in its own group; /dev/vfio/N of each VF" own_groups
        note scenario-25 "IOMMU groups: $GROUPS_SEEN"
        check scenario-25 "journal: the first pass waited for the PF's driver (nvme loads with coldplug), then nvme bound the PF" \
                waited_for_pf_driver
        check scenario-25 "kprobes: after nvme bound the PF, autoprobe 0, numvfs 2, autoprobe 1, once each; the VFs appeared in between" \
                writes_in_order
        unit_props vfio-bind.service
        check scenario-25 "STATUS=: 2/2 devices on vfio-pci, both VFs, virtual functions on vfio-pci: $PF 2/2" \
                service_status_has "2/2 devices on vfio-pci: $VF1 $VF2" "virtual functions on vfio-pci: $PF 2/2"
        check scenario-25 "journal: created 2 virtual functions (autoprobe off while they were created), 2/2 on vfio-pci, a bind entry per VF" \
                journal_messages
        run_cli status status
        check scenario-25 "vfio-bind status: Virtual functions of $PF (nvme): 2/2 on vfio-pci" \
                cli_says "Virtual functions of $PF (nvme): 2/2 on vfio-pci"
        run_cli check check
        check scenario-25 "vfio-bind check: the PF has its 2 virtual functions already, for vfio-pci (naming the configuration's line)" \
                cli_says "sr-iov: $PF (VirtualFunctions= at /etc/vfio-bind.conf:2): has its 2 virtual functions already, for vfio-pci: $VF1 $VF2"
        report_ready_time scenario-25 "PF waited for, then 2 VFs created and bound"

        # the host would take a VF: released, nvme probes it; the count stays
        mark "vfio-bind release $VF2"
        run_cli release-vf2 release "$VF2"
        check scenario-25 "vfio-bind release $VF2: off vfio-pci, nvme's probe runs for it, no override; sriov_numvfs stays 2, nothing written to it or autoprobe, $VF1 stays, vfio-bindd leaves it" \
                released
        pci_driver "$VF2"
        note scenario-25 "$VF2 after the release: on ${REPLY:-no driver}; CLI: ${CLI_OUT//$'\n'/ | }"
}
