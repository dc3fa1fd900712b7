/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "driver.h"
#include "iommu.h"
#include "macro.h"
#include "sysfs.h"

#define IOMMU_GROUPS_PATH "kernel/iommu_groups"

bool vb_iommu_enabled(VbContext *ctx) {
        _cleanup_strv_free_ char **groups = NULL;

        if (vb_sysfs_list(ctx, IOMMU_GROUPS_PATH, &groups) < 0)
                return false;
        return groups[0] != NULL;
}

static int cmp_address(const void *a, const void *b) {
        return vb_pci_address_compare(a, b);
}

int vb_iommu_group_members(VbContext *ctx, int group, VbPciAddress **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ VbPciAddress *members = NULL;
        char path[64];
        size_t n = 0, count = 0;
        int r;

        if (group < 0)
                return -EINVAL;
        snprintf(path, sizeof(path), IOMMU_GROUPS_PATH "/%d/devices", group);
        r = vb_sysfs_list(ctx, path, &names);
        if (r < 0)
                return r;
        count = strv_length(names);
        members = calloc(count ?: 1, sizeof(VbPciAddress));
        if (!members)
                return -ENOMEM;
        for (char **i = names; *i; i++)
                if (vb_pci_address_parse(*i, &members[n]) >= 0) /* non-PCI members are not ours */
                        n++;
        qsort(members, n, sizeof(VbPciAddress), cmp_address);
        *ret = TAKE_PTR(members);
        *ret_n = n;
        return 0;
}

bool vb_iommu_member_blocks(const VbPciDevice *d) {
        /* Bridges on pcieport do not count; an endpoint must be driverless or on a VFIO driver
         * (or pci-stub) for the group to be used by a guest. */
        return !vb_pci_device_is_bridge(d) && !vb_driver_is_vfio_safe(d->driver);
}

bool vb_iommu_group_viable(const VbPciList *devices, int group) {
        if (group < 0)
                return false;
        for (size_t i = 0; i < devices->n; i++)
                if (devices->devices[i].iommu_group == group && vb_iommu_member_blocks(&devices->devices[i]))
                        return false;
        return true;
}
