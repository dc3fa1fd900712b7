/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan as data: freeing it, finding and counting its entries. It is computed in
 * lib/plan-decide.c, with lib/plan-sriov.c for the VirtualFunctions= lines, and put into words in
 * lib/plan-text.c. */
#include "plan.h"
#include "macro.h"
#include "strv.h"

static void plan_entry_done(VbPlanEntry *e) {
        free(e->driver_before);
        free(e->driver);
        free(e->module);
        free(e->driver_why);
        free(e->detail);
        free(e->in_use);
}

void vb_plan_done(VbPlan *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                plan_entry_done(&p->entries[i]);
        free(p->entries);
        free(p->console_reason);
        free(p->unmatched);
        for (size_t i = 0; i < p->n_sriov; i++) {
                free(p->sriov[i].pf_driver);
                free(p->sriov[i].vfs);
                free(p->sriov[i].detail);
                free(p->sriov[i].driver);
                free(p->sriov[i].module);
                free(p->sriov[i].driver_why);
        }
        free(p->sriov);
        for (size_t i = 0; i < p->n_modules; i++)
                free(p->modules[i].name);
        free(p->modules);
        free(p->restore_autoprobe);
        *p = (VbPlan) {};
}

unsigned vb_plan_hold_mask(const VbConfig *c, bool at_boot) {
        unsigned mask = VB_HOLD_MASK(VB_HOLD_MOUNT) | VB_HOLD_MASK(VB_HOLD_SWAP) | VB_HOLD_MASK(VB_HOLD_NETWORK) |
                        VB_HOLD_MASK(VB_HOLD_PROGRAM);

        /* With Release=auto/yes the console is released before its device is bound; with
         * Release=no binding the device would take the console from under the host. */
        if (c->release == VB_RELEASE_NO)
                mask |= VB_HOLD_MASK(VB_HOLD_CONSOLE);
        if (at_boot)
                mask &= ~VB_HOLD_MASK(VB_HOLD_PROGRAM);
        return mask;
}

const VbPlanEntry *vb_plan_find(const VbPlan *p, const VbPciAddress *a) {
        return VB_PCI_ADDRESS_BSEARCH(p->entries, p->n, address, a);
}

size_t vb_plan_count(const VbPlan *p, VbAction a) {
        size_t n = 0;
        for (size_t i = 0; i < p->n; i++)
                if (p->entries[i].action == a)
                        n++;
        return n;
}

size_t vb_plan_count_sriov(const VbPlan *p, VbSriovAction a) {
        size_t n = 0;
        for (size_t i = 0; i < p->n_sriov; i++)
                if (p->sriov[i].action == a)
                        n++;
        return n;
}

const VbPlanSriov *vb_plan_find_sriov(const VbPlan *p, const VbPciAddress *a) {
        for (size_t i = 0; i < p->n_sriov; i++)
                if (vb_pci_address_equal(&p->sriov[i].pf, a))
                        return &p->sriov[i];
        return NULL;
}

const VbPlanModule *vb_plan_find_module(const VbPlan *p, const char *name) {
        for (size_t i = 0; i < p->n_modules; i++)
                if (streq(p->modules[i].name, name))
                        return &p->modules[i];
        return NULL;
}

char *vb_plan_modules_join(const VbPlan *p) {
        char *s = NULL;

        for (size_t i = 0; i < p->n_modules; i++)
                if (vb_join_append(&s, ", ", "%s", p->modules[i].name) < 0) {
                        free(s);
                        return NULL;
                }
        return s;
}

const char *vb_plan_entry_driver(const VbPlanEntry *e) {
        return e->driver ?: e->module ?: "?";
}

/* The choices are in address order (lib/snapshot). */
