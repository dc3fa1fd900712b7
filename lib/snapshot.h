/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One look at the machine and the plan for it: what the daemon's pass, its --dry-run, and the
 * CLI's status, check and bind all start from, so that they cannot drift apart. */

#include <stdbool.h>

#include "config.h"
#include "console.h"
#include "context.h"
#include "device-facts.h"
#include "driver-choice.h"
#include "group-why.h"
#include "interlock.h"
#include "pci.h"
#include "plan.h"

typedef struct VbSnapshot {
        VbPciList devices;
        VbConsoleState console;
        bool have_console; /* the console state could be read */
        int console_error; /* why the console state could not be read, or 0 */
        bool iommu_enabled;
        VbCpuVendor cpu_vendor; /* read only when the IOMMU is off (for the advice) */
        VbHolds holds;          /* what the host uses (interlocks) */
        int holds_error;        /* why the interlock facts are incomplete, or 0 */
        VbPciAddress *released; /* release marks (vfio-bind release) */
        size_t n_released;
        VbPciAddress *failed; /* set by the caller before planning: binds that failed before */
        size_t n_failed;
        VbPciAddress *stuck; /* set by the caller before planning: writes that hang (of FAILED) */
        size_t n_stuck;
        bool at_boot;            /* set by the caller before planning: plan as at boot (VbPlanInput) */
        bool driver_loaded;      /* the driver the plan is for is registered */
        VbDriverChoice *choices; /* Driver=auto: one per device that is not a bridge */
        size_t n_choices;
        VbDriverChoice *vf_choices; /* Driver=auto: one per VirtualFunctions= line */
        size_t n_vf_choices;
        VbDeviceFacts *facts;        /* parallel to devices: reset, VFIO node, VMD (read for some) */
        VbPciAddress *autoprobe_off; /* PFs an earlier run left with sriov_drivers_autoprobe off */
        size_t n_autoprobe_off;
        VbPlan plan;
        VbGroupLook group_look; /* vb_snapshot_read_groups(): why groups are what they are */
} VbSnapshot;

void vb_snapshot_done(VbSnapshot *s);

/* Look: enumerate, read the console, what the host uses (interlocks) and the marks under
 * RUNTIME_DIR (NULL: none): the release marks and the PFs whose autoprobe an earlier run left
 * off. Returns 0 or a negative errno (enumeration or memory). A console that cannot be read is
 * not an error: have_console is false and console_error says why. Interlock facts that cannot be
 * read completely are not an error either: holds has what was found and holds_error says why the
 * rest is missing. */
int vb_snapshot_read(VbContext *ctx, const char *runtime_dir, VbSnapshot *ret);
/* Also look at what the plan for C needs of the devices C reaches (lib/reach.h): Driver=auto's
 * choices (and the VFs' to be), whether the driver is registered, and their facts (reset methods,
 * VFIO node, VMD). The plan reads nothing itself. 0 or a negative errno. */
int vb_snapshot_read_reach(VbContext *ctx, const VbConfig *c, VbSnapshot *s);
/* Also read the facts of every device that is not a bridge (groups, dump). 0 or -ENOMEM. */
int vb_snapshot_read_facts(VbContext *ctx, VbSnapshot *s);
/* The facts of the device at A, NULL if they were not read. */
const VbDeviceFacts *vb_snapshot_facts(const VbSnapshot *s, const VbPciAddress *a);
/* Also look at what makes the IOMMU groups (lib/group-why.h): config space and places of the
 * devices in groups of several and the bridges above them. Only the commands that explain groups
 * (groups, status, check, dump) read it. 0 or -ENOMEM. */
int vb_snapshot_read_groups(VbContext *ctx, VbSnapshot *s);
/* Why S's group G is what it is (empty for a group of one). 0 or -ENOMEM. */
int vb_snapshot_group_why(const VbSnapshot *s, int group, VbGroupWhyList *ret);
/* Plan: compute S->plan for C from the facts in S (replacing an earlier plan), read by
 * vb_snapshot_read() and vb_snapshot_read_reach() for the same C. No I/O. */
int vb_snapshot_plan(const VbConfig *c, VbSnapshot *s);
/* The three: read, read_reach, plan. */
int vb_snapshot_take(VbContext *ctx, const VbConfig *c, const char *runtime_dir, VbSnapshot *ret);
/* Let a release mark no longer count (a hand bind takes the device again). */
void vb_snapshot_forget_release(VbSnapshot *s, const VbPciAddress *a);
