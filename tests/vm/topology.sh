# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# The PCI addresses the guest's firmware gives the emulated devices (run.sh builds the machine,
# the scenarios name these in their configurations and checks). Sourced on the host and in the
# guest.

GPU=0000:01:00.0      # -device VGA, function 0 of the slot behind root port 00:02.0
AUDIO=0000:01:00.1    # -device ich9-intel-hda, function 1 of the same slot (same IOMMU group)
GPU_SLOT=0000:01:00
NIC=0000:02:00.0      # -device e1000e behind root port 00:03.0
HOTNIC=0000:03:00.0   # where a NIC hot-added into the free root port 00:04.0 appears
ROOT_PORTS=(0000:00:02.0 0000:00:03.0 0000:00:04.0)

# The four-function GPU of scenarios 20-22 (QEMU_EXTRA=("${GPU_FUNCTIONS_EXTRA[@]}")): a USB-C
# style xHCI controller and a serial-bus function added to the GPU's slot, all four functions in
# one IOMMU group, as on GPUs with USB-C (the real fourth function is a UCSI controller).
USB=0000:01:00.2      # -device qemu-xhci: xhci_hcd (the xhci_pci module)
SERIAL=0000:01:00.3   # -device pci-serial: serial (8250_pci, built into Debian's kernels)
# shellcheck disable=SC2054
GPU_FUNCTIONS_EXTRA=(-device qemu-xhci,bus=rp1,addr=0x0.2 -device pci-serial,bus=rp1,addr=0x0.3)
