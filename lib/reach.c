/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "reach.h"

static int cmp_int(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;
        return x < y ? -1 : x > y;
}

size_t vb_reach_groups_sort(int *groups, size_t n) {
        size_t k = 0;

        if (n == 0)
                return 0;
        qsort(groups, n, sizeof(int), cmp_int);
        for (size_t i = 1; i < n; i++)
                if (groups[i] != groups[k])
                        groups[++k] = groups[i];
        return k + 1;
}

bool vb_reach_in_groups(const VbConfig *c, const VbReachDevice *d, const int *groups, size_t n_groups) {
        return c->group != VB_GROUP_IGNORE && d->iommu_group >= 0 && n_groups > 0 &&
               bsearch(&d->iommu_group, groups, n_groups, sizeof(int), cmp_int);
}

VbReach vb_reach(const VbConfig *c, VbSelectorIndex *selectors, const VbReachDevice *d, const int *groups,
                 size_t n_groups) {
        if (vb_selector_index_match(selectors, &d->address, d->vendor, d->device))
                return VB_REACH_SELECTED;
        if (d->is_virtfn && vb_config_find_vfs(c, &d->physfn))
                return VB_REACH_VF;
        if (vb_reach_in_groups(c, d, groups, n_groups))
                return VB_REACH_GROUP;
        if (vb_config_find_vfs(c, &d->address))
                return VB_REACH_PF;
        return VB_REACH_NONE;
}
