# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 5, second half: the same machine (audio on snd_hda_intel before vfio-bindd starts, only
# the GPU function configured), now with Group=take: both functions go to vfio-pci.

DESCRIPTION="Group=take, only the GPU function configured, audio on snd_hda_intel"
# looks at the GPU's drivers, never at the boot console or framebuffer: SeaBIOS and the PVH
# kernel boot it with about 8 s less CPU than OVMF (tests/vm/README.md, Time)
FIRMWARE=bios
CONF="[Bind]
Device=$GPU
Group=take"

payload() {
        cat > "$1/etc/systemd/system/vm-early-modules.service" <<'UNIT'
# Loads the audio function's host driver before vfio-bind.service, as the initrd would.
[Unit]
Description=Load the host audio driver early (stands in for the initrd)
DefaultDependencies=no
After=vm-uevents.service
Before=vfio-bind.service sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/modprobe snd_hda_intel
UNIT
        ln -s ../vm-early-modules.service "$1/etc/systemd/system/sysinit.target.wants/vm-early-modules.service"
}

checks() {
        check scenario-5 "the audio function was on snd_hda_intel before vfio-bindd started" was_bound snd_hda_intel "$AUDIO"
        check scenario-5 "Group=take: both functions on vfio-pci" gpu_slot_on vfio-pci
        check scenario-5 "Group=take: bochs-drm never bound the GPU" never_bound bochs-drm "$GPU"
        check scenario-5 "Group=take: /dev/vfio/<group> exists" vfio_dev_node "$GPU"
        check scenario-5 "Group=take: the status names both devices" \
                service_status_has "2/2 devices on vfio-pci" "$GPU" "$AUDIO"
        check scenario-5 "Group=take: journal bind entries for both, the audio's from snd_hda_intel" \
                all_of "journal_has bind $GPU vfio-pci" "journal_has bind $AUDIO vfio-pci" "audio_from_host"
}

audio_from_host() {
        journal_find bind "$AUDIO" vfio-pci || return 1
        [[ ${J_BEFORE[REPLY]} == snd_hda_intel ]] && return 0
        WHY="the audio's bind entry has VFIO_BIND_DRIVER_BEFORE=${J_BEFORE[REPLY]}"
        return 1
}
