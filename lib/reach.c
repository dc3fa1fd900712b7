/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reach.h"

VbReach vb_reach(const VbConfig *c, VbSelectorIndex *selectors, const VbReachDevice *d, const int *groups,
                 size_t n_groups) {
        if (vb_selector_index_match(selectors, &d->address, d->vendor, d->device))
                return VB_REACH_SELECTED;
        if (d->is_virtfn && vb_config_find_vfs(c, &d->physfn))
                return VB_REACH_VF;
        if (c->group != VB_GROUP_IGNORE && d->iommu_group >= 0)
                for (size_t i = 0; i < n_groups; i++)
                        if (groups[i] == d->iommu_group)
                                return VB_REACH_GROUP;
        if (vb_config_find_vfs(c, &d->address))
                return VB_REACH_PF;
        return VB_REACH_NONE;
}
