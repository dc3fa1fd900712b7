/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One look at the machine and the plan for it: what the daemon's pass, its --dry-run, and the
 * CLI's status and check all start from, so that they cannot drift apart. */

#include <stdbool.h>

#include "config.h"
#include "console.h"
#include "context.h"
#include "interlock.h"
#include "pci.h"
#include "plan.h"

typedef struct VbSnapshot {
        VbPciList devices;
        VbConsoleState console;
        bool have_console; /* the console state could be read */
        bool iommu_enabled;
        VbHolds holds;     /* what the host uses (interlocks) */
        int holds_error;   /* why the interlock facts are incomplete, or 0 */
        VbPlan plan;
        int console_error; /* why the console state could not be read, or 0 */
} VbSnapshot;

void vb_snapshot_done(VbSnapshot *s);

/* Enumerate, read the console and what the host uses (interlocks), compute the plan, hold back
 * the devices released by hand (RUNTIME_DIR may be NULL). Returns 0 or a negative errno
 * (enumeration or memory). A console that cannot be read is not an error: have_console is false
 * and console_error says why. Interlock facts that cannot be read completely are not an error
 * either: holds has what was found and holds_error says why the rest is missing. */
int vb_snapshot_take(VbContext *ctx, const VbConfig *c, const char *runtime_dir, VbSnapshot *ret);
