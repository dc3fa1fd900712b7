/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One look at the machine and the plan for it: what the daemon's pass, its --dry-run, and the
 * CLI's status and check all start from, so that they cannot drift apart. */

#include <stdbool.h>

#include "config.h"
#include "console.h"
#include "context.h"
#include "pci.h"
#include "plan.h"

typedef struct VbSnapshot {
        VbPciList devices;
        VbConsoleState console;
        bool have_console; /* the console state could be read */
        bool iommu_enabled;
        VbPlan plan;
        int console_error; /* why the console state could not be read, or 0 */
} VbSnapshot;

void vb_snapshot_done(VbSnapshot *s);

/* Enumerate, read the console, compute the plan, hold back the devices released by hand
 * (RUNTIME_DIR may be NULL). Returns 0 or a negative errno (enumeration or memory). A console
 * that cannot be read is not an error: have_console is false and console_error says why. */
int vb_snapshot_take(VbContext *ctx, const VbConfig *c, const char *runtime_dir, VbSnapshot *ret);
