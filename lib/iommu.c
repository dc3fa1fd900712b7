/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

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

bool vb_driver_is_vfio_safe(const char *driver) {
        /* No driver, a VFIO driver (vfio-pci and vendor variants such as mlx5_vfio_pci), or
         * pci-stub: the kernel lets a group with these be used by a guest. */
        return !driver || streq(driver, "pci-stub") || strneq(driver, "vfio", 4) ||
                strstr(driver, "_vfio_pci") || strstr(driver, "-vfio-pci");
}
