# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 3, second half: the host drivers hold both functions before vfio-bindd starts and
# UnbindHost=no: vfio-bindd leaves them there, and its status says why.

DESCRIPTION="already bound by host drivers before vfio-bindd, UnbindHost=no"
# looks at the GPU's drivers, never at the boot console or framebuffer: SeaBIOS and the PVH
# kernel boot it with about 8 s less CPU than OVMF (tests/vm/README.md, Time)
FIRMWARE=bios
CONF="[Bind]
Device=$GPU_SLOT
UnbindHost=no"

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
        check scenario-3 "UnbindHost=no: the GPU stays on bochs-drm, the audio on snd_hda_intel" \
                all_of "on_driver $GPU bochs-drm" "on_driver $AUDIO snd_hda_intel"
        check scenario-3 "UnbindHost=no: vfio-pci never bound them, no driver_override left behind" \
                all_of "never_bound vfio-pci $GPU" "never_bound vfio-pci $AUDIO" "no_override $GPU" "no_override $AUDIO"
        check scenario-3 "UnbindHost=no: vfio-bind.service active, its status names each device, its host driver and UnbindHost=no" \
                service_status_has "$GPU" "bochs-drm" "$AUDIO" "snd_hda_intel" "UnbindHost=no"
        check scenario-3 "UnbindHost=no: the journal has an entry naming each device" \
                all_of "journal_names $GPU" "journal_names $AUDIO"
        report_ready_time scenario-3 "UnbindHost=no, nothing to do"
}

# journal_names ADDR: some entry has VFIO_BIND_DEVICE=ADDR and ADDR in its message
journal_names() {
        local i
        for ((i = 0; i < ${#J_DEVICE[@]}; i++)); do
                [[ ${J_DEVICE[i]} == "$1" && ${J_MESSAGE[i]} == *"$1"* ]] && return 0
        done
        WHY="no journal entry with VFIO_BIND_DEVICE=$1"
        return 1
}
