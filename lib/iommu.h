/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "context.h"
#include "pci.h"

/* Are there IOMMU groups at all? (none means the IOMMU is off or absent) */
bool vb_iommu_enabled(VbContext *ctx);

/* Members of group N, as addresses, sorted. */
int vb_iommu_group_members(VbContext *ctx, int group, VbPciAddress **ret, size_t *ret_n);

/* Can a driver be considered harmless for group viability? (vfio drivers, pci-stub, none) */
bool vb_driver_is_vfio_safe(const char *driver);
