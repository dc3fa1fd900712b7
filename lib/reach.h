/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Which devices the configuration reaches: the one answer the look (whose driver choices to read),
 * the plan (what it selects) and the daemon's uevent filter (which uevents start a pass) give, so
 * that a new kind of selector is one edit here. Pure.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "config.h"
#include "selector-index.h"

/* How the configuration reaches a device, the first that holds in this order. */
typedef enum VbReach {
        VB_REACH_NONE,
        VB_REACH_SELECTED, /* a Device= selector picks it */
        VB_REACH_VF,       /* a VF of a PF with VirtualFunctions= */
        VB_REACH_GROUP,    /* under Group=check or take, a member of an IOMMU group of GROUPS */
        VB_REACH_PF,       /* a PF with VirtualFunctions= (its VFs are made once its driver binds) */
} VbReach;

/* The facts of a device that reach depends on. */
typedef struct VbReachDevice {
        VbPciAddress address;
        uint16_t vendor, device;
        bool is_virtfn; /* an SR-IOV VF of physfn */
        VbPciAddress physfn;
        int iommu_group; /* -1: none, or not read (no group is in reach) */
} VbReachDevice;

/* The facts of a VbPciDevice D (lib/pci.h) that reach depends on, as an initializer. */
#define VB_REACH_DEVICE(d)                                                                                          \
        {                                                                                                           \
                .address = (d)->address, .vendor = (d)->vendor, .device = (d)->device, .is_virtfn = (d)->is_virtfn, \
                .physfn = (d)->physfn, .iommu_group = (d)->iommu_group                                              \
        }

/* How C (SELECTORS: the index of its selectors) reaches D, given GROUPS (N_GROUPS, sorted by
 * vb_reach_groups_sort()): the IOMMU groups of the devices it selects. */
VbReach vb_reach(const VbConfig *c, VbSelectorIndex *selectors, const VbReachDevice *d, const int *groups,
                 size_t n_groups);

/* Does C reach D through GROUPS (as vb_reach() takes them): Group=check or take, and D in one? */
bool vb_reach_in_groups(const VbConfig *c, const VbReachDevice *d, const int *groups, size_t n_groups);
/* Sort GROUPS (N of them) and drop the repeated ones, as vb_reach() wants them; returns how many
 * are left. */
size_t vb_reach_groups_sort(int *groups, size_t n);

/* Does the plan select a device so reached (bind it, not only look at it): SELECTED and VF. */
static inline bool vb_reach_selects(VbReach r) {
        return r == VB_REACH_SELECTED || r == VB_REACH_VF;
}
