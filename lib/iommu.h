/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "context.h"
#include "pci.h"

/* Are there IOMMU groups at all? (none means the IOMMU is off or absent) */
bool vb_iommu_enabled(VbContext *ctx);

/* Members of group N, as addresses, sorted. */
int vb_iommu_group_members(VbContext *ctx, int group, VbPciAddress **ret, size_t *ret_n);

/* Does device D keep its IOMMU group from a guest as it stands: an endpoint on a driver other
 * than a VFIO driver or pci-stub? */
bool vb_iommu_member_blocks(const VbPciDevice *d);
/* Could GROUP be handed to a guest as it stands: no member of it blocks? false without a group. */
bool vb_iommu_group_viable(const VbPciList *devices, int group);

/* The advice when there are no IOMMU groups. */
#define VB_IOMMU_HINT "add intel_iommu=on or amd_iommu=on to the kernel command line"
