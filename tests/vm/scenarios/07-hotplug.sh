# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 6, hotplug, with the second half of scenario 4: only NICs are configured, the one
# present at boot and one that is hot-added through QMP into the free root port after boot.
# e1000e is loaded by then (coldplug loads it for the first NIC's modalias), so it binds the new
# NIC during device_add, before any uevent; vfio-bindd must react to the uevents and move it.
# bochs is kept out (modprobe.blacklist=bochs) so that efifb and the framebuffer console stay on
# the GPU: with only NICs configured, Release=auto must release nothing.

DESCRIPTION="hotplug: NIC hot-added through QMP; only NICs configured, Release=auto releases nothing"
APPEND="modprobe.blacklist=bochs"
CONF="[Bind]
Device=$NIC
Device=$HOTNIC
Timeout=2s
[Console]
Release=auto"
HOTPLUG="driver=e1000e bus=rp3 addr=0x0 id=hotnic"
KERNELS="6.1 6.12 6.12-nixos"

console_untouched() {
        vtcon_fb
        [[ -n $REPLY ]] || { WHY="no frame buffer vtconsole"; return 1; }
        local vt=$REPLY
        read_attr "/sys/class/vtconsole/$vt/bind"
        [[ $REPLY == 1 ]] || { WHY="$vt (frame buffer device) was unbound"; return 1; }
        platform_driver "$VM_BOOT_FB" || { WHY="$VM_BOOT_FB is gone"; return 1; }
        [[ $REPLY == "$VM_BOOT_FB_DRIVER" ]] || { WHY="$VM_BOOT_FB is on ${REPLY:-no driver}"; return 1; }
        klog_absent "$(klog_fb_removed_pattern "$VM_BOOT_FB")"
}

# where the boot framebuffer hangs: 6.1 registers it on the platform bus's root, 6.12 below the
# GPU whose memory it uses
boot_fb_parent() {
        local parent want=$GPU
        parent=$(readlink -f "/sys/bus/platform/devices/$VM_BOOT_FB/..")
        [[ $VM_KERNEL == 6.1 ]] && want=platform
        [[ ${parent##*/} == "$want" ]] && return 0
        WHY="$VM_BOOT_FB hangs below ${parent:-nothing}, expected .../$want"
        return 1
}

no_console_release_in_status() {
        unit_props vfio-bind.service
        [[ ${PROP[StatusText]} != *"console released"* ]] && return 0
        WHY="status: ${PROP[StatusText]}"
        return 1
}

hotnic_on_vfio() { on_driver "$HOTNIC" vfio-pci; }

# the time from the kernel's add uevent of the new NIC to the kernel's bind uevent with vfio-pci
hotplug_timing() {
        local add bind s_add
        uevent_find KERNEL add "$HOTNIC" || { WHY="no KERNEL add uevent for $HOTNIC"; return 1; }
        add=$REPLY
        uevent_find KERNEL bind "$HOTNIC" vfio-pci || { WHY="no KERNEL bind uevent of $HOTNIC with vfio-pci"; return 1; }
        bind=$REPLY
        s_add=${UE_TIME[add]}
        local a_us b_us
        a_us=$(( 10#${s_add%.*} * 1000000 + 10#${s_add#*.} ))
        b_us=$(( 10#${UE_TIME[bind]%.*} * 1000000 + 10#${UE_TIME[bind]#*.} ))
        usec_to_s $((b_us - a_us))
        timing scenario-6 "hotplug: udev add event -> bound to vfio-pci ${REPLY} s (kernel uevents at ${UE_TIME[add]} and ${UE_TIME[bind]})"
        if uevent_find KERNEL bind "$HOTNIC" e1000e; then
                note scenario-6 "e1000e bound $HOTNIC during device_add (at ${UE_TIME[REPLY]}), as the kernel does for a loaded driver; vfio-bindd moved it"
        fi
        return 0
}

checks() {
        check scenario-4 "only NICs configured: the NIC present at boot is on vfio-pci" on_driver "$NIC" vfio-pci
        check scenario-4 "only NICs configured, Release=auto: $VM_BOOT_FB and the framebuffer vtconsole stay on the GPU" console_untouched
        if [[ $VM_KERNEL == 6.1 ]]; then
                check scenario-4 "6.1: $VM_BOOT_FB is registered on the platform bus's root, not below the GPU" boot_fb_parent
        else
                check scenario-4 "$VM_KERNEL: $VM_BOOT_FB is registered below the GPU $GPU" boot_fb_parent
        fi
        check scenario-4 "only NICs configured, Release=auto: no release-console entry in the journal" journal_lacks release-console
        check scenario-4 "only NICs configured, Release=auto: status does not mention a console release" no_console_release_in_status
        check scenario-6 "before the hotplug: $HOTNIC is not there and the status says so" \
                all_of "absent $HOTNIC" "service_status_has $HOTNIC"
        report_ready_time scenario-6 "one NIC present, one missing until Timeout=2s"

        _result "HOTPLUG-REQUEST $HOTNIC"
        if ! wait_for 90 hotnic_on_vfio; then
                pci_driver "$HOTNIC"
                fail scenario-6 "the hot-added NIC $HOTNIC reached vfio-pci within 90 s: it is ${REPLY:-not there or on no driver}"
                return
        fi
        pass scenario-6 "the hot-added NIC $HOTNIC is on vfio-pci"
        load_uevents
        load_journal vfio-bind.service
        load_klog
        check scenario-6 "journal: a bind entry for $HOTNIC" journal_has bind "$HOTNIC" vfio-pci
        check scenario-6 "the status now names both NICs on vfio-pci" \
                service_status_has "2/2 devices on vfio-pci" "$NIC" "$HOTNIC"
        check scenario-6 "vfio-pci bound the new NIC (kernel log)" was_bound vfio-pci "$HOTNIC"
        check scenario-6 "uevents: add then bind to vfio-pci, timed" hotplug_timing
}

absent() {
        [[ -e /sys/bus/pci/devices/$1 ]] || return 0
        WHY="$1 is already there"
        return 1
}
