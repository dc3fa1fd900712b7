# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 20, a four-function GPU: the GPU's slot also holds a USB-C style xHCI controller (.2,
# xhci_hcd from the xhci_pci module) and a serial-bus function (.3, the serial driver of 8250_pci),
# all four in one IOMMU group. Device= names the slot: all four go to vfio-pci, and no host driver
# that loads as a module (bochs-drm, snd_hda_intel, xhci_hcd) ever binds one. Debian's kernels
# build 8250_pci in, so serial binds .3 while the kernel boots, before any user space: vfio-bindd
# takes it from there (UnbindHost=yes, the default). The control at the end: `vfio-bind release`
# of .2 and .3 hands them to xhci_hcd and serial, which do bind them.

DESCRIPTION="four-function GPU slot (VGA, HDA, xHCI, serial), Device= the slot"
# looks at the GPU's drivers, never at the boot console or framebuffer: SeaBIOS and the PVH
# kernel boot it with about 8 s less CPU than OVMF (tests/vm/README.md, Time)
FIRMWARE=bios
QEMU_EXTRA=("${GPU_FUNCTIONS_EXTRA[@]}")
CONF="[Bind]
Device=$GPU_SLOT"

four_on() {
        all_of "on_driver $GPU $1" "on_driver $AUDIO $1" "on_driver $USB $1" "on_driver $SERIAL $1"
}

classes_right() {
        local a want
        for a in "$GPU:0x030000" "$AUDIO:0x040300" "$USB:0x0c0330" "$SERIAL:0x070002"; do
                want=${a##*:}
                a=${a%:*}
                read_attr "/sys/bus/pci/devices/$a/class" || { WHY="$a is missing"; return 1; }
                [[ $REPLY == "$want" ]] || { WHY="$a has class $REPLY, expected $want"; return 1; }
        done
}

# the functions whose host drivers are modules: never bound by them (kernel log and uevents)
module_drivers_never_bound() {
        all_of "never_bound bochs-drm $GPU" "never_bound snd_hda_intel $AUDIO" "never_bound xhci_hcd $USB" \
               "no_uevent_bind bochs-drm $GPU" "no_uevent_bind snd_hda_intel $AUDIO" "no_uevent_bind xhci_hcd $USB" \
               "was_bound vfio-pci $GPU" "was_bound vfio-pci $AUDIO" "was_bound vfio-pci $USB"
}

# .3: built-in serial bound it during the kernel's boot, vfio-bindd moved it; with 8250_pci as a
# module it would never have bound it
serial_function() {
        if [[ $VM_SERIAL_8250_PCI == y ]]; then
                host_first serial "$SERIAL" || return 1
                journal_before "$SERIAL" serial
        else
                all_of "never_bound serial $SERIAL" "was_bound vfio-pci $SERIAL"
        fi
}

released_to() {
        run_cli "release-${1##*.}" release "$1"
        cli_ok || return 1
        wait_for 10 on_driver "$1" "$2" || return 1
        no_override "$1" || return 1
        load_klog
        was_bound "$2" "$1"
}

checks() {
        check scenario-20 "the four functions have the classes of VGA, HDA, xHCI and 16550 serial" classes_right
        check scenario-20 "all four functions are in one IOMMU group, alone" \
                iommu_group_is "$GPU" "$GPU" "$AUDIO" "$USB" "$SERIAL"
        check scenario-20 "coldplug loaded the host drivers' modules (bochs, snd_hda_intel, xhci_pci)" \
                all_of "module_loaded bochs" "module_loaded snd_hda_intel" "module_loaded xhci_pci"
        check scenario-20 "Device=$GPU_SLOT: all four functions on vfio-pci" four_on vfio-pci
        check scenario-20 "/dev/vfio/<group> exists" vfio_dev_node "$GPU"
        check scenario-20 "kernel log and uevents: bochs-drm, snd_hda_intel and xhci_hcd never bound their function" \
                module_drivers_never_bound
        if [[ $VM_SERIAL_8250_PCI == y ]]; then
                check scenario-20 "8250_pci is built in: serial bound $SERIAL during boot, before vfio-bindd; vfio-bindd moved it (journal: from serial)" \
                        serial_function
        else
                check scenario-20 "serial never bound $SERIAL" serial_function
        fi
        check scenario-20 "vfio-bind.service active, its status names all four" \
                service_status_has "4/4 devices on vfio-pci" "$GPU" "$AUDIO" "$USB" "$SERIAL"
        check scenario-20 "journal: a bind entry for each function" \
                all_of "journal_has bind $GPU vfio-pci" "journal_has bind $AUDIO vfio-pci" \
                       "journal_has bind $USB vfio-pci" "journal_has bind $SERIAL vfio-pci"
        report_ready_time scenario-20 "four functions, console released"
        # the control: the host drivers do bind these functions when vfio-bind lets them
        check scenario-20 "control: vfio-bind release $USB hands it to xhci_hcd, which binds it" released_to "$USB" xhci_hcd
        check scenario-20 "control: vfio-bind release $SERIAL hands it to serial, which binds it" released_to "$SERIAL" serial
}
