# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 22, the machine of scenario 21 (xhci_hcd and serial hold .2 and .3 when vfio-bindd
# starts, only .0 and .1 configured), now with Group=take: all four functions go to vfio-pci,
# .2 and .3 taken from their host drivers (the control: those drivers did bind them first).

DESCRIPTION="four-function GPU slot, only .0 and .1 configured, Group=take"
# looks at the GPU's drivers, never at the boot console or framebuffer: SeaBIOS and the PVH
# kernel boot it with about 8 s less CPU than OVMF (tests/vm/README.md, Time)
FIRMWARE=bios
QEMU_EXTRA=("${GPU_FUNCTIONS_EXTRA[@]}")
CONF="[Bind]
Device=$GPU $AUDIO
Group=take"

payload() {
        early_modules_unit "$1" xhci_pci
}

checks() {
        check scenario-22 "control: xhci_hcd held $USB and serial held $SERIAL before vfio-bindd started, then vfio-pci took them" \
                all_of "host_first xhci_hcd $USB" "host_first serial $SERIAL"
        check scenario-22 "Group=take: all four functions on vfio-pci" \
                all_of "on_driver $GPU vfio-pci" "on_driver $AUDIO vfio-pci" "on_driver $USB vfio-pci" "on_driver $SERIAL vfio-pci"
        check scenario-22 "Group=take: bochs-drm and snd_hda_intel never bound .0 and .1" \
                all_of "never_bound bochs-drm $GPU" "never_bound snd_hda_intel $AUDIO"
        check scenario-22 "Group=take: /dev/vfio/<group> exists" vfio_dev_node "$GPU"
        check scenario-22 "Group=take: the status names all four" \
                service_status_has "4/4 devices on vfio-pci" "$GPU" "$AUDIO" "$USB" "$SERIAL"
        check scenario-22 "Group=take: journal bind entries for all four, .2 from xhci_hcd and .3 from serial" \
                all_of "journal_has bind $GPU vfio-pci" "journal_has bind $AUDIO vfio-pci" \
                       "journal_before $USB xhci_hcd" "journal_before $SERIAL serial"
}
