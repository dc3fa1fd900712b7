# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 2, the modules-load race: the host drivers are listed in /etc/modules-load.d/ (what
# NixOS boot.kernelModules produces), so systemd-modules-load.service loads them early, not only
# udev coldplug. vfio-bind.service is ordered before it and must still win.

DESCRIPTION="modules-load race: bochs and snd_hda_intel in /etc/modules-load.d"
# looks at the GPU's drivers, never at the boot console or framebuffer: SeaBIOS and the PVH
# kernel boot it with about 8 s less CPU than OVMF (tests/vm/README.md, Time)
FIRMWARE=bios
CONF="[Bind]
Device=$GPU_SLOT"

payload() {
        mkdir -p "$1/etc/modules-load.d"
        printf 'bochs\nsnd_hda_intel\n' > "$1/etc/modules-load.d/host-gpu.conf"
}

modules_load_loaded_them() {
        local line seen=
        while IFS= read -r line; do
                [[ $line == *"Inserted module 'bochs'"* ]] && seen+=b
                [[ $line == *"Inserted module 'snd_hda_intel'"* ]] && seen+=s
        done < <(journalctl -b -u systemd-modules-load.service -o cat --no-pager)
        [[ $seen == *b* && $seen == *s* ]] && return 0
        WHY="systemd-modules-load.service did not log inserting both bochs and snd_hda_intel (is it a module here?)"
        return 1
}

checks() {
        check scenario-2 "systemd-modules-load.service inserted bochs and snd_hda_intel" modules_load_loaded_them
        check scenario-2 "vfio-bind.service was active before systemd-modules-load.service started" \
                active_before vfio-bind.service systemd-modules-load.service
        check scenario-2 "both functions on vfio-pci" gpu_slot_on vfio-pci
        check scenario-2 "/dev/vfio/<group> exists" vfio_dev_node "$GPU"
        check scenario-2 "kernel log: vfio-pci bound both, bochs-drm and snd_hda_intel never did" host_drivers_never_bound_klog
        check scenario-2 "uevents: vfio-pci bound both, no host driver ever did, udev's record ends on vfio-pci" host_drivers_never_bound_udev
        check scenario-2 "vfio-bind.service active, its status names both devices" \
                service_status_has "2/2 devices on vfio-pci" "$GPU" "$AUDIO"
        check scenario-2 "journal: a bind entry with the address for each device" \
                all_of "journal_has bind $GPU vfio-pci" "journal_has bind $AUDIO vfio-pci"
        report_ready_time scenario-2 "modules-load boot, 2 devices"
}
