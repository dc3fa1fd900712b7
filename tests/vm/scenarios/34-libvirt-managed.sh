# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 34, libvirt's managed='yes' on a slot vfio-bind binds (issue 32): the slot is in
# /etc/vfio-bind.conf, vfio-bindd binds it at boot, and a domain has both functions as
# <hostdev managed='yes'> (the libvirt default, what virt-manager writes). libvirt's detach finds
# them on vfio-pci already and leaves them; its reattach at `virsh destroy` must not give them
# to the host drivers while vfio-bindd holds them for vfio-pci, or the two fight over the slot
# (libvirt reprobes, bochs-drm binds, vfio-bindd takes it back, on every stop). Checked through
# three start/destroy rounds, libvirtd restarted while the third domain runs (what libvirt knew
# of the devices then comes from its status file): the domain runs with both functions each
# time (query-pci), the slot is still on vfio-pci after each destroy, the kernel log has no bind
# of the slot by a host driver in the whole boot and no bind at all after the boot's, vfio-bindd
# logged one bind per function (the boot's) and still says 2/2; `vfio-bind check` has no warning
# about the domain. The control is 33: there
# libvirt's reattach gives the slot back to bochs-drm and snd_hda_intel. What libvirt logs about
# the devices (util.pci, util.hostdev at debug level) is reported as INFO lines: libvirt 9.0
# says "Device 0000:01:00.0 is already bound to vfio-pci" at the start and "Unbind from stub
# skipped for PCI device 0000:01:00.0" at the destroy.

DESCRIPTION="libvirt managed='yes' on a slot vfio-bind binds: start/destroy three times (a libvirtd restart in one), no rebind, no fight"
KERNELS="6.12"
# looks at drivers, never at the boot console or framebuffer
FIRMWARE=bios
LIBVIRT=yes
CONF="[Bind]
Device=$GPU_SLOT"

DOM=vb34

# journal_binds_are ADDR N: vfio-bindd's journal has exactly N bind entries for ADDR
journal_binds_are() {
        local i n=0
        load_journal vfio-bind.service
        for ((i = 0; i < ${#J_ACTION[@]}; i++)); do
                [[ ${J_ACTION[i]} == bind && ${J_DEVICE[i]} == "$1" ]] && n=$((n + 1))
        done
        ((n == $2)) && return 0
        WHY="vfio-bindd's journal has $n bind entries for $1, expected $2"
        return 1
}

# daemon_calm: vfio-bindd is active, never restarted, bound each function once (at boot), and its
# status still says 2/2
daemon_calm() {
        service_status_has "2/2 devices on vfio-pci" || return 1
        [[ ${PROP[NRestarts]} == 0 ]] || { WHY="NRestarts=${PROP[NRestarts]}"; return 1; }
        all_of "journal_binds_are $GPU 1" "journal_binds_are $AUDIO 1"
}

# still_on_vfio: some seconds after the destroy, both functions on vfio-pci and not bound again
# by anyone since the mark
still_on_vfio() {
        udevadm settle --timeout=10 || :
        read -r -t 3 -u 9 || :
        all_of "gpu_slot_on vfio-pci" "host_binds_since_mark_are 0" "vfio_binds_since_mark_are 0"
}

# libvirtd_restarted: libvirtd stopped and started again (it reads the running domain back from
# its status file: what it remembers of each device's original state is in there or lost)
libvirtd_restarted() {
        local out
        out=$(systemctl restart libvirtd.service 2>&1) || { WHY="systemctl restart libvirtd: ${out//$'\n'/ | }"; return 1; }
        dom_state_is "$DOM" running
}

# round N [restart]: start, check, (restart libvirtd,) destroy, check
round() {
        local n=$1 restart=${2:-} t0
        mark "virsh start $DOM, round $n"
        t0=$(uptime_ms)
        virsh_run "start-$n" start "$DOM"
        timing scenario-34 "virsh start, round $n: $(( $(uptime_ms) - t0 )) ms"
        check scenario-34 "round $n: virsh start succeeds" virsh_ok
        check scenario-34 "round $n: the domain runs; QEMU's query-pci lists $GPU_ID and $AUDIO_ID" dom_runs_with_slot "$DOM"
        check scenario-34 "round $n: libvirt's detach bound nothing (no bind of the slot since the start)" \
                all_of "gpu_slot_on vfio-pci" "host_binds_since_mark_are 0" "vfio_binds_since_mark_are 0"
        if [[ -n $restart ]]; then
                check scenario-34 "round $n: libvirtd restarted while the domain runs; the domain still runs" libvirtd_restarted
        fi
        mark "virsh destroy $DOM, round $n"
        virsh_run "destroy-$n" destroy "$DOM"
        check scenario-34 "round $n: virsh destroy succeeds, the domain is shut off" all_of virsh_ok "dom_shut_off $DOM"
        check scenario-34 "round $n: after the destroy the slot stays on vfio-pci; no bind of either function since (kernel log)" still_on_vfio
}

checks() {
        check scenario-34 "boot: vfio-bindd bound the slot; bochs-drm and snd_hda_intel never bound it (kernel log)" \
                all_of "gpu_slot_on vfio-pci" host_drivers_never_bound_klog
        check scenario-34 "a domain with both functions, managed='yes', is defined" dom_define "$DOM" yes "$GPU" "$AUDIO"
        round 1
        round 2
        # libvirtd keeps what it found of each device in memory and in the domain's status file;
        # a restart between start and destroy must not turn "already on vfio-pci" into a reattach
        round 3 restart
        load_klog
        check scenario-34 "the whole boot: bochs-drm and snd_hda_intel never bound the slot (kernel log)" \
                all_of "never_bound bochs-drm $GPU" "never_bound snd_hda_intel $AUDIO"
        check scenario-34 "vfio-bindd: active, no restart, one bind per function (the boot's), STATUS= still 2/2: no fight with libvirt" \
                daemon_calm
        check scenario-34 "vfio-bind check has no warning about $DOM (the slot is held at boot)" check_quiet_about_domain "$DOM"
        note_libvirt_lines scenario-34 "$GPU"
        send_libvirt_logs
}
