/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the kernel's IOMMU grouping reads of a PCI function's configuration space, parsed from the
 * bytes of its sysfs "config" file: the header type and its multifunction bit, the PCI Express
 * capability's device/port type, and the Access Control Services (ACS) extended capability's
 * capability and control registers. Pure: no I/O, any bytes accepted.
 *
 * The file gives root the whole space (256 bytes for conventional PCI, 4096 for PCI Express) and
 * everyone else only the first 64 bytes, which hold no capability at all: such a read is
 * "incomplete", and nothing beyond the header may be concluded from it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The device/port type of the PCI Express capability (the kernel's PCI_EXP_TYPE_*). */
typedef enum VbPcieType {
        VB_PCIE_ENDPOINT = 0x0,
        VB_PCIE_LEGACY_ENDPOINT = 0x1,
        VB_PCIE_ROOT_PORT = 0x4,
        VB_PCIE_UPSTREAM_PORT = 0x5,
        VB_PCIE_DOWNSTREAM_PORT = 0x6,
        VB_PCIE_TO_PCI_BRIDGE = 0x7, /* PCI Express to PCI/PCI-X bridge */
        VB_PCI_TO_PCIE_BRIDGE = 0x8, /* PCI/PCI-X to PCI Express bridge */
        VB_PCIE_RC_ENDPOINT = 0x9,   /* root complex integrated endpoint */
        VB_PCIE_RC_EVENT_COLLECTOR = 0xa,
} VbPcieType;

/* ACS capability and control bits (PCI_ACS_*). */
#define VB_ACS_SV 0x0001 /* Source Validation */
#define VB_ACS_TB 0x0002 /* Translation Blocking */
#define VB_ACS_RR 0x0004 /* P2P Request Redirect */
#define VB_ACS_CR 0x0008 /* P2P Completion Redirect */
#define VB_ACS_UF 0x0010 /* Upstream Forwarding */
#define VB_ACS_EC 0x0020 /* P2P Egress Control */
#define VB_ACS_DT 0x0040 /* Direct Translated P2P */
/* What the kernel requires for isolation (drivers/iommu/iommu.c REQ_ACS_FLAGS). */
#define VB_ACS_ISOLATION (VB_ACS_SV | VB_ACS_RR | VB_ACS_CR | VB_ACS_UF)

typedef struct VbPciConfig {
        bool complete;       /* the standard 256 bytes were there: the capabilities are known */
        bool extended;       /* the 4096 bytes of PCI Express were there: the extended ones too */
        uint8_t header_type; /* low 7 bits: 0 endpoint, 1 PCI bridge, 2 CardBus bridge */
        bool multifunction;  /* bit 7 of the header type */
        bool pcie;           /* has the PCI Express capability (complete only) */
        VbPcieType pcie_type;
        bool acs; /* has the ACS extended capability (extended only) */
        uint16_t acs_cap, acs_ctrl;
} VbPciConfig;

/* Parse SIZE bytes of config space. Returns 0, or -ENODATA when SIZE is under the 64 bytes of
 * the header. A capability list that loops or points outside the bytes ends where it goes wrong,
 * as the kernel's walk does; a header type other than 0, 1 or 2 has no capability list, as the
 * kernel sees it (it does not add such a function at all). */
int vb_pci_config_parse(const uint8_t *data, size_t size, VbPciConfig *ret);

/* The ACS controls of VB_ACS_ISOLATION that C does not have enabled, as the kernel judges them
 * (pci_acs_flags_enabled(): a control the capability does not offer counts as enabled).
 * VB_ACS_ISOLATION when C has no ACS capability. */
uint16_t vb_pci_config_acs_missing(const VbPciConfig *c);

/* "Source Validation, Request Redirect" for the bits of VB_ACS_ISOLATION set in FLAGS, into BUF. */
const char *vb_pci_acs_flags_format(uint16_t flags, char *buf, size_t size);
#define VB_PCI_ACS_FLAGS_MAX 96

/* "root port", "downstream port", "PCIe-to-PCI bridge", "endpoint", …: for messages. */
const char *vb_pcie_type_to_string(VbPcieType t);
