# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 28, the control of scenario 27 on the same machine (the modern virtio-net NIC,
# 1af4:1041, behind its own root port at 00:05.0), with vfio-bind.service disabled at boot and the
# same Device= configured: the host driver virtio-pci binds the NIC (so it would have it, had
# vfio-bindd not moved it). virtio_pci is a module, but it is loaded and binds the NIC about a
# second after PID 1 started (seen at 17.2 s with PID 1 run at 16.0 s under TCG), before any unit
# and before vm-uevents.service records uevents: no unit ordering can beat it, so scenario 27's
# vfio-bindd finds the NIC on virtio-pci and moves it (UnbindHost=yes); virtio_vfio_pci is not loaded (nothing loads a
# VFIO variant driver by itself: it matches only through driver_override), and `vfio-bind check`
# still says which driver Driver=auto would choose, from the module index, without binding.

KERNELS="6.12-nixos"
# never looks at the boot console or the GPU: SeaBIOS boots it faster than OVMF
FIRMWARE=bios
DESCRIPTION="variant-driver control: service off, virtio-pci binds the modern virtio-net NIC"
SERVICE=disabled
VNIC=$VIRTIO_NIC
QEMU_EXTRA=("${VIRTIO_NIC_EXTRA[@]}")
CONF="[Bind]
Device=$VNIC"

host_driver_took_it() {
        local l
        unit_active vfio-bind.service && { WHY="vfio-bind.service runs"; return 1; }
        all_of "attr_is $VNIC vendor 0x1af4" "attr_is $VNIC device 0x1041" "on_driver $VNIC virtio-pci" \
               "was_bound virtio-pci $VNIC" "no_override $VNIC" || return 1
        l=$(readlink "/sys/bus/pci/devices/$VNIC/driver") || { WHY="$VNIC has no driver link"; return 1; }
        [[ ${l##*/} == virtio-pci ]] || { WHY="$VNIC/driver -> ${l##*/}"; return 1; }
        [[ -e /sys/module/virtio_pci/initstate ]] || { WHY="virtio_pci is not a loaded module"; return 1; }
        iommu_group_is "$VNIC" "$VNIC"
}

variant_not_loaded() {
        [[ ! -e /sys/module/virtio_vfio_pci ]] && return 0
        WHY="virtio_vfio_pci is loaded although nothing asked for it"
        return 1
}

# `vfio-bind check` with the service off: the plan names the variant driver's module (its driver's
# name is known only once the module is loaded: "the variant driver of module virtio_vfio_pci, not loaded yet") and its alias
check_would_choose_variant() {
        local line found=0
        while IFS= read -r line; do
                # shellcheck disable=SC2053
                [[ $line == "$VNIC: driver: the variant driver of module virtio_vfio_pci, not loaded yet "* ]] && found=1
        done <<<"$CLI_OUT"
        ((found)) || { WHY="no \"$VNIC: driver: the variant driver of module virtio_vfio_pci, not loaded yet …\" line: ${CLI_OUT//$'\n'/ | }"; return 1; }
        [[ $CLI_OUT == *"$VIRTIO_NIC_ALIAS"* ]] || { WHY="the alias $VIRTIO_NIC_ALIAS is not named: ${CLI_OUT//$'\n'/ | }"; return 1; }
        return 0
}

checks() {
        check scenario-28 "control: service off, virtio-pci (a module) bound $VNIC (kernel log, driver link); no override; alone in its group" \
                host_driver_took_it
        check scenario-28 "control: virtio_vfio_pci is not loaded (a variant driver binds only through driver_override)" variant_not_loaded
        run_cli check check
        check scenario-28 "vfio-bind check (service off): Driver=auto would choose the variant driver of virtio_vfio_pci for $VNIC, naming the alias $VIRTIO_NIC_ALIAS" \
                check_would_choose_variant
        check scenario-28 "vfio-bind check changed nothing: $VNIC still on virtio-pci, no override, virtio_vfio_pci not loaded" \
                all_of "on_driver $VNIC virtio-pci" "no_override $VNIC" variant_not_loaded
}
