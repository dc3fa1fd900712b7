/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/reach: one table of devices and configurations, run through vb_reach() (which the daemon's
 * uevent filter calls), the look's driver choices and the plan: all three must agree on what the
 * configuration reaches. */
#include "config.h"
#include "machine.h"
#include "reach.h"
#include "selector-index.h"
#include "snapshot.h"
#include "tests.h"

typedef struct Case {
        const char *tree;
        const char *conf;
        const char *address;
        VbReach reach;
} Case;

static const Case cases[] = {
        /* a selected GPU under Group=take: its group's other functions, nothing else */
        { "shared-group", "[Bind]\nDevice=04:00.0\nGroup=take\n", "0000:04:00.0", VB_REACH_SELECTED },
        { "shared-group", "[Bind]\nDevice=04:00.0\nGroup=take\n", "0000:04:00.1", VB_REACH_GROUP },
        { "shared-group", "[Bind]\nDevice=04:00.0\nGroup=take\n", "0000:04:00.2", VB_REACH_GROUP },
        { "shared-group", "[Bind]\nDevice=04:00.0\nGroup=take\n", "0000:01:00.0", VB_REACH_NONE },
        { "shared-group", "[Bind]\nDevice=04:00.0\nGroup=take\n", "0000:00:04.0", VB_REACH_NONE },
        /* Group=check looks at the members too */
        { "shared-group", "[Bind]\nDevice=04:00.0\nGroup=check\n", "0000:04:00.1", VB_REACH_GROUP },
        /* Group=ignore does not */
        { "shared-group", "[Bind]\nDevice=04:00.0\nGroup=ignore\n", "0000:04:00.1", VB_REACH_NONE },
        /* by vendor and device: both functions of the slot that match */
        { "shared-group", "[Bind]\nDevice=04:00\nGroup=ignore\n", "0000:04:00.2", VB_REACH_SELECTED },
        { "shared-group", "[Bind]\nDevice=04:00\nGroup=ignore\n", "0000:02:00.0", VB_REACH_NONE },
        /* a PF whose VFs the configuration makes; not its sibling */
        { "sriov", "[Bind]\nVirtualFunctions=03:00.0 2\n", "0000:03:00.0", VB_REACH_PF },
        { "sriov", "[Bind]\nVirtualFunctions=03:00.0 2\n", "0000:03:00.1", VB_REACH_NONE },
};

static bool has_choice(const VbSnapshot *s, const VbPciAddress *a) {
        for (size_t i = 0; i < s->n_choices; i++)
                if (vb_pci_address_equal(&s->choices[i].address, a))
                        return true;
        return false;
}

TEST(look_plan_and_filter_agree_on_reach) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const Case *x = &cases[i];
                _cleanup_(vb_config_freep) VbConfig *c = NULL;
                _cleanup_(vb_selector_index_freep) VbSelectorIndex *sel = NULL;
                _cleanup_(vb_snapshot_done) VbSnapshot s = {};
                _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
                VbPciAddress a = machine_addr(x->address);
                const VbPciDevice *d;
                const VbPlanEntry *e;
                int groups[64];
                size_t n_groups = 0;
                VbReach r;
                Machine m;

                machine_open(&m, x->tree, NULL);
                ASSERT_OK(vb_config_new(&c));
                ASSERT_OK(vb_config_parse_text(c, "test.conf", x->conf, strlen(x->conf), &diag));
                ASSERT_OK(vb_snapshot_take(m.ctx, c, NULL, &s));
                d = vb_pci_list_find(&s.devices, &a);
                ASSERT_TRUE(d);

                /* the groups of what the plan selects, as the daemon keeps them */
                for (size_t k = 0; k < s.plan.n; k++)
                        if (s.plan.entries[k].selected && s.plan.entries[k].iommu_group >= 0 && n_groups < 64)
                                groups[n_groups++] = s.plan.entries[k].iommu_group;
                n_groups = vb_reach_groups_sort(groups, n_groups);
                ASSERT_OK(vb_selector_index_new(&sel, c->selectors, c->n_selectors));
                r = vb_reach(c, sel, &(VbReachDevice) VB_REACH_DEVICE(d), groups, n_groups);
                if (r != x->reach)
                        TEST_FAIL("case %zu (%s): vb_reach says %d, expected %d", i, x->address, r, x->reach);

                /* the look reads a driver choice for what the plan may bind, bridges never */
                if (has_choice(&s, &a) != (r != VB_REACH_NONE && r != VB_REACH_PF && !vb_pci_device_is_bridge(d)))
                        TEST_FAIL("case %zu (%s): the look %s a driver choice", i, x->address,
                                  has_choice(&s, &a) ? "has" : "lacks");
                /* the plan selects what is selected, and under Group=take lists the members of its
                 * groups (under check it looks at them for what blocks) */
                e = vb_plan_find(&s.plan, &a);
                if ((e && e->selected) != vb_reach_selects(r))
                        TEST_FAIL("case %zu (%s): the plan %s it", i, x->address,
                                  e && e->selected ? "selects" : "does not select");
                if (r == VB_REACH_GROUP && c->group == VB_GROUP_TAKE && !e && !vb_pci_device_is_bridge(d))
                        TEST_FAIL("case %zu (%s): the plan does not list the group member", i, x->address);
                if (r == VB_REACH_NONE && e)
                        TEST_FAIL("case %zu (%s): the plan lists what nothing reaches", i, x->address);
                machine_close(&m);
        }
}

TESTS_MAIN();
