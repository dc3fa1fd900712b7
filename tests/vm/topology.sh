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

# The SR-IOV machine of scenarios 25-26 (QEMU_EXTRA=("${SRIOV_EXTRA[@]}"), KPROBES=$SRIOV_KPROBES):
# QEMU 7.2's nvme as an SR-IOV PF with 3 VFs at most (sriov_vq_flexible and sriov_vi_flexible at
# QEMU's minimums: 2 queues and 1 interrupt per VF) at function 0 (QEMU leaves the Function
# Dependency Link at 0, so at function 1 the kernel refuses sriov_numvfs), below a root port of
# its own at 00:05.0 with ACS (no disable-acs). VF n is at function n (offset 1, stride 1).
SRIOV_PORT=0000:00:05.0
SRIOV_PF=0000:04:00.0 # nvme
SRIOV_VF1=0000:04:00.1
SRIOV_VF2=0000:04:00.2
SRIOV_VF3=0000:04:00.3 # the third possible VF
# shellcheck disable=SC2054
SRIOV_EXTRA=(
        -device pcie-root-port,id=rp4,bus=pcie.0,chassis=4,slot=4,addr=0x5
        -device nvme-subsys,id=vbnvmes
        -device nvme,bus=rp4,addr=0x0,serial=vbsriov,subsys=vbnvmes,sriov_max_vfs=3,sriov_vq_flexible=6,sriov_vi_flexible=3
)
# Boot-time kprobes (printed by tp_printk) on every write to a PF's sriov_drivers_autoprobe and
# sriov_numvfs (the device's name, struct device -> kobject -> name, and the first byte written:
# 48 '0', 49 '1', 50 '2', …) and on nvme's own probe function (armed when the module loads; the
# pci_dev's devfn, at offset 56 on 6.1 and 6.12: 0 the PF, n VF n).
SRIOV_KPROBES='p:vm/vb_autoprobe,sriov_drivers_autoprobe_store,dev=+0(+0(%di)):string,buf=+0(%dx):u8;p:vm/vb_numvfs,sriov_numvfs_store,dev=+0(+0(%di)):string,buf=+0(%dx):u8;p:vm/vb_nvme_probe,nvme:nvme_probe,devfn=+56(%di):u32'

# The variant-driver machine of scenarios 27-29 (QEMU_EXTRA=("${VIRTIO_NIC_EXTRA[@]}")): a modern
# virtio-net function (virtio-net-pci with disable-legacy=on: 1af4:1041, the device id
# virtio_vfio_pci's alias names) behind a root port of its own at 00:05.0 (with ACS: the NIC is
# alone in its IOMMU group), not the guest's management NIC; its user-mode network reaches
# nothing. Its host driver is virtio-pci (a module on 6.12-nixos, loaded by coldplug).
VIRTIO_NIC_PORT=0000:00:05.0
VIRTIO_NIC=0000:04:00.0
VIRTIO_NIC_ALIAS='vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i*'
# shellcheck disable=SC2054
VIRTIO_NIC_EXTRA=(
        -device pcie-root-port,id=rp4,bus=pcie.0,chassis=4,slot=4,addr=0x5
        -device virtio-net-pci,bus=rp4,addr=0x0,disable-legacy=on,netdev=vnic0
        -netdev user,id=vnic0,restrict=on
)
