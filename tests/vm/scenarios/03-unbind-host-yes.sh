# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 3, first half: the host drivers hold both functions before vfio-bindd starts, as when
# a driver was loaded in the initrd (here an early unit loads them, after the uevent recorder and
# before vfio-bind.service). UnbindHost=yes moves both to vfio-pci.

DESCRIPTION="already bound by host drivers before vfio-bindd, UnbindHost=yes"
# looks at the GPU's drivers, never at the boot console or framebuffer: SeaBIOS and the PVH
# kernel boot it with about 8 s less CPU than OVMF (tests/vm/README.md, Time)
FIRMWARE=bios
CONF="[Bind]
Device=$GPU_SLOT
UnbindHost=yes"

payload() {
        cat > "$1/etc/systemd/system/vm-early-modules.service" <<'UNIT'
# Loads the host drivers before vfio-bind.service, as the initrd would.
[Unit]
Description=Load the host GPU drivers early (stands in for the initrd)
DefaultDependencies=no
After=vm-uevents.service
Before=vfio-bind.service sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/modprobe -a bochs snd_hda_intel
UNIT
        ln -s ../vm-early-modules.service "$1/etc/systemd/system/sysinit.target.wants/vm-early-modules.service"
}


checks() {
        check scenario-3 "bochs-drm held the GPU and snd_hda_intel the audio before vfio-bindd started, then vfio-pci took them" \
                all_of "host_first bochs-drm $GPU" "host_first snd_hda_intel $AUDIO"
        check scenario-3 "UnbindHost=yes: both functions on vfio-pci" gpu_slot_on vfio-pci
        check scenario-3 "/dev/vfio/<group> exists" vfio_dev_node "$GPU"
        check scenario-3 "journal: bind entries name the host driver each function was taken from" \
                all_of "journal_has bind $GPU vfio-pci" "journal_has bind $AUDIO vfio-pci" \
                       "journal_before $GPU bochs-drm" "journal_before $AUDIO snd_hda_intel"
        check scenario-3 "vfio-bind.service active, its status names both devices" \
                service_status_has "2/2 devices on vfio-pci" "$GPU" "$AUDIO"
        check scenario-3 "no \"can't reserve\" in the kernel log" klog_absent "*can't reserve*"
        report_ready_time scenario-3 "unbinding bochs-drm and snd_hda_intel"
}

# journal_before ADDR DRIVER: the bind entry of ADDR says VFIO_BIND_DRIVER_BEFORE=DRIVER
journal_before() {
        journal_find bind "$1" vfio-pci || { WHY="no bind entry for $1"; return 1; }
        [[ ${J_BEFORE[REPLY]} == "$2" ]] && return 0
        WHY="the bind entry of $1 has VFIO_BIND_DRIVER_BEFORE=${J_BEFORE[REPLY]}, expected $2"
        return 1
}
