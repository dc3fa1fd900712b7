/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Why the kernel put devices into one IOMMU group, told from what the hardware shows. The kernel's
 * rules (drivers/iommu/iommu.c pci_device_group(), drivers/pci/pci.c pci_acs_enabled(),
 * drivers/pci/search.c pci_for_each_dma_alias()) are followed here on the facts of the look:
 *
 *   - a device behind a PCIe-to-PCI or conventional PCI bridge DMAs with the bridge's requester ID
 *     and goes into the bridge's group;
 *   - otherwise a device goes into the group of the bridge above it unless every device from that
 *     bridge to the root isolates it with ACS (Source Validation, Request and Completion Redirect,
 *     Upstream Forwarding: only root and downstream ports, and multifunction endpoints, can);
 *   - a multifunction device's functions without ACS go together.
 *
 * What the rules give is compared with the groups the kernel formed: where they differ, a kernel
 * quirk (a DMA alias, a device declared isolated) or pcie_acs_override= is at work, and the text
 * says which way; where a config space could not be read, it says that instead of guessing.
 */

#include <stdbool.h>

#include "context.h"
#include "pci.h"

/* The facts of one device (index as in the device list). */
typedef struct VbGroupFacts {
        bool read;       /* looked at: it is in a group of several, or above one */
        bool has_parent; /* on a bus below a bridge (else on a root bus) */
        VbPciAddress parent;
        int config_error;   /* 0, or why its config space could not be read */
        VbPciConfig config; /* when config_error is 0 */
} VbGroupFacts;

typedef struct VbGroupLook {
        VbGroupFacts *facts; /* one per device of the list it was read for */
        size_t n;
        bool acs_override; /* pcie_acs_override= on the kernel command line */
} VbGroupLook;

void vb_group_look_done(VbGroupLook *l);

/* Read the facts of the devices in groups of more than one, and of every bridge above them:
 * their place (the device link) and their config space. Returns 0 or -ENOMEM; what cannot be
 * read is said per device. */
int vb_group_look_read(VbContext *ctx, const VbPciList *devices, VbGroupLook *ret);

/* One reason of a group, in the order the text is built. */
typedef enum VbGroupWhyKind {
        VB_GROUP_WHY_FUNCTIONS,    /* functions of one multifunction device without ACS */
        VB_GROUP_WHY_ALIAS,        /* behind a PCIe-to-PCI or PCI bridge: one requester ID */
        VB_GROUP_WHY_NOT_ISOLATED, /* below a bridge whose path to the root lacks ACS isolation */
        VB_GROUP_WHY_UNKNOWN,      /* a config space that could not be read */
        VB_GROUP_WHY_QUIRK_JOINS,  /* the kernel joined what the rules keep apart */
        VB_GROUP_WHY_QUIRK_SPLITS, /* the kernel kept apart what the rules join */
        _VB_GROUP_WHY_KIND_MAX,
} VbGroupWhyKind;

typedef struct VbGroupWhy {
        VbGroupWhyKind kind;
        char *text; /* one short line */
} VbGroupWhy;

typedef struct VbGroupWhyList {
        VbGroupWhy *items;
        size_t n;
} VbGroupWhyList;

void vb_group_why_list_done(VbGroupWhyList *l);

/* Why the members of IOMMU group GROUP (as DEVICES show it) are together, one item per reason.
 * Empty for a group of one. Pure. Returns 0 or -ENOMEM. */
int vb_group_why_explain(const VbPciList *devices, const VbGroupLook *look, int group, VbGroupWhyList *ret);

/* What would let the device out of a group that keeps it from a guest, for each kind of reason
 * in L, one line each (check's advice; never a kernel patch). Returns 0 or -ENOMEM. */
int vb_group_why_advice(const VbGroupWhyList *l, char ***ret);
