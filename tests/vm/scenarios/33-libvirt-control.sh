# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 33, libvirt without vfio-bind (issue 32): the control of 34 and 35. A real libvirtd
# (Debian 12's 9.0, the QEMU driver) in the guest, vfio-bind's service off and no hook: bochs-drm
# and snd_hda_intel take the slot at coldplug. A domain (TCG, no disk: it only has to start and
# run) with both functions as <hostdev managed='yes'>: `virsh start` makes libvirt detach them
# itself (each bound to vfio-pci once, in the kernel log) and QEMU's query-pci shows 1234:1111
# and 8086:293e; `virsh destroy` makes libvirt give them back (bochs-drm and snd_hda_intel bind
# them again). Then managed='no' with the slot on its host drivers: libvirt refuses to start the
# domain ("must be manually detached from the host") and touches nothing: what vfio-bind's hook
# (35) is for. `vfio-bind check` warns about both definitions. libvirt's own lines about the devices (libvirtd.log, debug for util.pci and
# util.hostdev) go to the host and the ones that say what it did are reported as INFO lines.

DESCRIPTION="libvirt without vfio-bind: managed='yes' detaches and reattaches the slot; managed='no' refused"
KERNELS="6.12"
# looks at drivers, never at the boot console or framebuffer
FIRMWARE=bios
LIBVIRT=yes
SERVICE=disabled

DOM=vb33

host_drivers_took_slot() {
        all_of "was_bound bochs-drm $GPU" "was_bound snd_hda_intel $AUDIO" \
               "never_bound vfio-pci $GPU" "never_bound vfio-pci $AUDIO" slot_on_host
}

# libvirt_answers: virsh reaches libvirtd and its QEMU driver (the version goes to the report)
libvirt_answers() {
        virsh_run version version
        virsh_ok || return 1
        note scenario-33 "virsh version: ${VIRSH_OUT//$'\n'/ | }"
}

# started_detached: both functions on vfio-pci, each bound there once since the mark, the host
# drivers not again
started_detached() {
        all_of "gpu_slot_on vfio-pci" "vfio_binds_since_mark_are 1" "host_binds_since_mark_are 0"
}

# reattached: both back on their host drivers (each bound once since the mark), no override
reattached() {
        wait_for 20 slot_on_host || return 1
        all_of "host_binds_since_mark_are 1" "vfio_binds_since_mark_are 0"
}

# refused_untouched: the refused start wrote nothing: the slot on its host drivers, no bind of
# either function since the mark, the domain not running
refused_untouched() {
        all_of slot_on_host "host_binds_since_mark_are 0" "vfio_binds_since_mark_are 0" || return 1
        dom_shut_off "$DOM-unmanaged"
}

checks() {
        local t0
        check scenario-33 "control: bochs-drm and snd_hda_intel bound the slot at coldplug, vfio-pci never did" host_drivers_took_slot
        check scenario-33 "libvirtd answers (virsh version)" libvirt_answers
        # what a host with device assignment has (modules-load.d): without /dev/vfio/vfio libvirt
        # says the host cannot assign devices at all
        modprobe vfio-pci || note scenario-33 "modprobe vfio-pci failed"

        check scenario-33 "a domain with both functions, managed='yes', is defined" dom_define "$DOM" yes "$GPU" "$AUDIO"
        mark "virsh start $DOM (managed='yes')"
        t0=$(uptime_ms)
        virsh_run start-managed start "$DOM"
        timing scenario-33 "virsh start (managed='yes', libvirtd's first domain): $(( $(uptime_ms) - t0 )) ms"
        check scenario-33 "managed='yes': virsh start succeeds" virsh_ok
        check scenario-33 "managed='yes': the domain runs; QEMU's query-pci lists $GPU_ID and $AUDIO_ID" dom_runs_with_slot "$DOM"
        check scenario-33 "managed='yes': libvirt detached both functions itself: on vfio-pci, each bound there once (kernel log), the host drivers not again" \
                started_detached

        mark "virsh destroy $DOM (managed='yes')"
        virsh_run destroy-managed destroy "$DOM"
        check scenario-33 "managed='yes': virsh destroy succeeds, the domain is shut off" all_of virsh_ok "dom_shut_off $DOM"
        check scenario-33 "managed='yes': libvirt reattached both: bochs-drm and snd_hda_intel bound them once each (kernel log), no driver_override" \
                reattached
        # what libvirt says it did with the GPU at start and destroy
        note_libvirt_lines scenario-33 "$GPU"

        check scenario-33 "a domain with both functions, managed='no', is defined" dom_define "$DOM-unmanaged" no "$GPU" "$AUDIO"
        mark "virsh start $DOM-unmanaged (managed='no', the slot on its host drivers)"
        virsh_run start-unmanaged start "$DOM-unmanaged"
        check scenario-33 "managed='no' with the slot on its host drivers: virsh start fails: \"Unmanaged PCI device $GPU must be manually detached from the host\"" \
                virsh_failed_saying "Unmanaged PCI device $GPU must be manually detached from the host"
        note scenario-33 "virsh start (managed='no'): ${VIRSH_OUT//$'\n'/ | }"
        check scenario-33 "managed='no' refused: nothing written (the slot on its host drivers, no bind since, no override), the domain shut off" \
                refused_untouched
        check scenario-33 "vfio-bind check warns about $DOM: managed='yes' on $GPU, which vfio-bind does not hold at boot" \
                check_warns_domain "$DOM" yes
        check scenario-33 "vfio-bind check warns about $DOM-unmanaged: managed='no' on $GPU without the hook" \
                check_warns_domain "$DOM-unmanaged" no
        send_libvirt_logs
}
