# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 5, first half: only the GPU function is configured, with Group=check, while the audio
# function of the same IOMMU group is on its host driver (snd_hda_intel, loaded early as by the
# initrd). The group could not go to a guest, so vfio-bindd refuses the GPU and says why.

DESCRIPTION="Group=check, only the GPU function configured, audio on snd_hda_intel"
# looks at the GPU's drivers, never at the boot console or framebuffer: SeaBIOS and the PVH
# kernel boot it with about 8 s less CPU than OVMF (tests/vm/README.md, Time)
FIRMWARE=bios
CONF="[Bind]
Device=$GPU
Group=check"

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
        check scenario-5 "Group=check: the GPU is refused: vfio-pci never bound it, no driver_override left" \
                all_of "never_bound vfio-pci $GPU" "no_override $GPU"
        check scenario-5 "Group=check: the audio function stays on snd_hda_intel" on_driver "$AUDIO" snd_hda_intel
        check scenario-5 "Group=check: the GPU went to its host driver" on_driver "$GPU" bochs-drm
        check scenario-5 "Group=check: the status explains (GPU refused, audio on snd_hda_intel, Group=check)" \
                service_status_has "$GPU refused" "$AUDIO" "snd_hda_intel" "Group=check"
        check scenario-5 "Group=check: a refuse entry for the GPU in the journal" journal_has refuse "$GPU"
}
