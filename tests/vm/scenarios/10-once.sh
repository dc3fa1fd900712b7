# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 10, the --once mode the initrd uses: vfio-bind.service is not enabled; an early oneshot
# unit runs `vfio-bindd --once` instead. It must bind the GPU slot and exit 0.

DESCRIPTION="vfio-bindd --once from an early oneshot unit"
SERVICE=disabled
CONF="[Bind]
Device=$GPU_SLOT"
KERNELS="6.1 6.12 6.12-nixos"

payload() {
        cat > "$1/etc/systemd/system/vfio-bind-once.service" <<UNIT
# What an initrd would run: vfio-bindd --once, early, before udev coldplug.
[Unit]
Description=vfio-bindd --once (stands in for the initrd unit)
DefaultDependencies=no
After=vm-uevents.service
Before=systemd-udev-trigger.service systemd-modules-load.service sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=$GUEST_DAEMON --once
UNIT
        ln -s ../vfio-bind-once.service "$1/etc/systemd/system/sysinit.target.wants/vfio-bind-once.service"
}

once_exited_0() {
        unit_props vfio-bind-once.service
        [[ ${PROP[Result]} == success && ${PROP[ExecMainStatus]} == 0 && ${PROP[ExecMainCode]} == 1 ]] && return 0
        WHY="vfio-bind-once.service: result ${PROP[Result]}, exit status ${PROP[ExecMainStatus]} (code ${PROP[ExecMainCode]})"
        return 1
}

no_daemon_left() {
        local c
        for c in /proc/[0-9]*/comm; do
                read_attr "$c" 2>/dev/null || continue
                [[ $REPLY == vfio-bindd ]] && { WHY="a vfio-bindd process is still running (${c%/comm})"; return 1; }
        done
        return 0
}

report_once_time() {
        unit_props vfio-bind-once.service
        local start=${PROP[ExecMainStartTimestampMonotonic]:-0} end=${PROP[ExecMainExitTimestampMonotonic]:-0}
        ((start > 0 && end >= start)) || return 0
        usec_to_s $((end - start))
        timing scenario-10 "vfio-bindd --once: start -> exit $REPLY s (2 devices, console released)"
}

checks() {
        check scenario-10 "vfio-bindd --once exited 0" once_exited_0
        check scenario-10 "no vfio-bindd process is left running" no_daemon_left
        check scenario-10 "both functions on vfio-pci" gpu_slot_on vfio-pci
        check scenario-10 "kernel log: vfio-pci bound both, bochs-drm and snd_hda_intel never did" host_drivers_never_bound_klog
        check scenario-10 "vfio-bind.service did not run (only the oneshot)" unit_inactive vfio-bind.service
        load_journal vfio-bind-once.service
        check scenario-10 "journal of the oneshot: a bind entry for each function" \
                all_of "journal_has bind $GPU vfio-pci" "journal_has bind $AUDIO vfio-pci"
        report_once_time
}

unit_inactive() {
        unit_props "$1"
        [[ ${PROP[ActiveState]} == inactive ]] && return 0
        WHY="$1 is ${PROP[ActiveState]}"
        return 1
}
