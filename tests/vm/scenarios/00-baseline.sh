# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Baseline, no vfio-bind: the machine looks like the seed's, the IOMMU groups are as expected, and
# without vfio-bind the host drivers do win the race. This also proves the instruments: the
# kernel log's driver_bound lines and the recorded uevents do show a host driver binding when it
# happens, so their absence in the other scenarios means something.

DESCRIPTION="no vfio-bind: topology, IOMMU groups, host drivers bind (the race is real)"
SERVICE=disabled
KERNELS="6.1 6.12 6.12-nixos"

# group_is GROUP ADDR…: the IOMMU group holds exactly these devices
group_is() {
        local g=$1 p found=()
        shift
        for p in /sys/kernel/iommu_groups/"$g"/devices/*; do
                [[ -e $p ]] && found+=("${p##*/}")
        done
        [[ "${found[*]}" == "$*" ]] && return 0
        WHY="group $g holds ${found[*]:-nothing}, expected $*"
        return 1
}

classes_as_expected() {
        local a want
        for a in "$GPU:0x030000" "$AUDIO:0x040300" "$NIC:0x020000"; do
                want=${a##*:}
                a=${a%:*}
                read_attr "/sys/bus/pci/devices/$a/class" || { WHY="$a is missing"; return 1; }
                [[ $REPLY == "$want" ]] || { WHY="$a has class $REPLY, expected $want"; return 1; }
        done
}

root_ports_on_pcieport() {
        local rp
        for rp in "${ROOT_PORTS[@]}"; do
                on_driver "$rp" pcieport || return 1
        done
}

gpu_and_audio_share_a_group() {
        iommu_group "$GPU" || { WHY="$GPU has no IOMMU group (is the IOMMU on?)"; return 1; }
        group_is "$REPLY" "$GPU" "$AUDIO"
}

nic_alone() {
        iommu_group "$NIC" || { WHY="$NIC has no IOMMU group"; return 1; }
        group_is "$REPLY" "$NIC"
}

root_ports_alone() {
        local rp
        for rp in "${ROOT_PORTS[@]}"; do
                iommu_group "$rp" || { WHY="$rp has no IOMMU group"; return 1; }
                group_is "$REPLY" "$rp" || return 1
        done
}

gpu_is_boot_vga() {
        read_attr "/sys/bus/pci/devices/$GPU/boot_vga"
        [[ $REPLY == 1 ]] || { WHY="$GPU boot_vga is ${REPLY:-unreadable}"; return 1; }
        was_bound "$VM_BOOT_FB_DRIVER" "$VM_BOOT_FB"
}

host_drivers_bound() {
        all_of "was_bound bochs-drm $GPU" "was_bound snd_hda_intel $AUDIO" "was_bound e1000e $NIC" \
               "on_driver $GPU bochs-drm" "on_driver $AUDIO snd_hda_intel" "on_driver $NIC e1000e"
}

uevents_saw_host_drivers() {
        all_of "uevent_bind bochs-drm $GPU" "uevent_bind snd_hda_intel $AUDIO" "uevent_bind e1000e $NIC"
}

bochs_removed_boot_fb() {
        local rm_at
        klog_find "$(klog_fb_removed_pattern "$VM_BOOT_FB")" || { WHY="no kprobe line for the removal of $VM_BOOT_FB in the kernel log"; return 1; }
        rm_at=$REPLY
        klog_find "$(klog_probe_pattern bochs-drm "$GPU")" || { WHY="bochs-drm never probed $GPU"; return 1; }
        ((rm_at > REPLY)) && return 0
        WHY="$VM_BOOT_FB was removed (line $rm_at) before bochs-drm probed (line $REPLY)"
        return 1
}

# on Debian's kernels efifb drives efi-framebuffer.0; on the NixOS-like kernel simpledrm drives
# simple-framebuffer.0, and there is no efi-framebuffer.0 (where it hangs: scenario 6)
boot_fb_as_configured() {
        local other=simple-framebuffer.0
        [[ $VM_BOOT_FB == simple-framebuffer.0 ]] && other=efi-framebuffer.0
        was_bound "$VM_BOOT_FB_DRIVER" "$VM_BOOT_FB" || return 1
        never_bound "${other%.0}" "$other" || return 1
        [[ ! -e /sys/bus/platform/devices/$other ]] && return 0
        WHY="$other exists too"
        return 1
}

no_vfio_bind() {
        unit_props vfio-bind.service
        [[ ${PROP[ActiveState]} == inactive ]] && return 0
        WHY="vfio-bind.service is ${PROP[ActiveState]}"
        return 1
}

checks() {
        check scenario-0 "the IOMMU is on (/sys/class/iommu/dmar0)" test -e /sys/class/iommu/dmar0
        check scenario-0 "GPU, audio and NIC have the expected PCI classes" classes_as_expected
        check scenario-0 "the three root ports are on pcieport" root_ports_on_pcieport
        check scenario-0 "GPU and audio share one IOMMU group, alone" gpu_and_audio_share_a_group
        check scenario-0 "the NIC has an IOMMU group of its own" nic_alone
        check scenario-0 "each root port has an IOMMU group of its own" root_ports_alone
        check scenario-0 "the GPU is the boot VGA device and $VM_BOOT_FB_DRIVER bound $VM_BOOT_FB" gpu_is_boot_vga
        check scenario-0 "the boot framebuffer is $VM_BOOT_FB, the one this kernel's configuration makes, and no other" boot_fb_as_configured
        check scenario-0 "vfio-bind.service did not run" no_vfio_bind
        check scenario-0 "without vfio-bind the host drivers bind (kernel log, final state)" host_drivers_bound
        check scenario-0 "without vfio-bind the recorded uevents show the host drivers binding" uevents_saw_host_drivers
        check scenario-0 "bochs-drm removed $VM_BOOT_FB when it probed the GPU" bochs_removed_boot_fb
}
