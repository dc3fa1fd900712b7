/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What lib/plan-decide.c (the decision) and lib/plan-sriov.c (the VirtualFunctions= lines) share
 * while they build a plan; private to them. The texts of a plan are lib/plan-text.c.
 */

#include <sys/types.h>

#include "plan.h"
#include "selector-index.h"

/* What the plan is built from, with the indexes that keep it O(n log n): the entry of each
 * device (by index in the device list), and the devices ordered by IOMMU group. */
typedef struct PlanBuild {
        VbPlan *p;
        size_t allocated, unmatched_allocated; /* room in p->entries, p->unmatched */
        const VbPlanInput *in;
        const VbPciList *devices;
        VbSelectorIndex *selectors; /* Device= and the kernel command line */
        VbSelectorIndex *force;     /* Force= */
        ssize_t *entry_of;          /* devices->n: index into p->entries, or -1 */
        size_t *by_group;           /* indices of the devices with a group, ordered by (group, address) */
        size_t n_by_group;
} PlanBuild;

/* The wanted driver of a device: Driver='s, or under Driver=auto the choice CH (NULL: none was
 * read: vfio-pci). */
int vb_plan_want_driver(const VbPlanInput *in, const VbDriverChoice *ch, char **driver, char **module, bool *registered,
                        char **why);
/* The driver a device that wants MODULE gets when MODULE cannot be had: vfio-pci for a variant
 * Driver=auto chose, NULL otherwise. */
const char *vb_plan_fallback(const VbPlanInput *in, const char *module);
/* The first Device= selector that picks the device at A with VENDOR:DEVICE, or NULL. */
const VbConfigSelector *vb_plan_device_selector(const VbConfig *c, const VbPciAddress *a, uint16_t vendor,
                                                uint16_t device);
bool vb_plan_address_in(const VbPciAddress *list, size_t n, const VbPciAddress *a);
/* Plan every VirtualFunctions= line of the configuration into B's plan (lib/plan-sriov.c). */
int vb_plan_sriov(PlanBuild *b);
