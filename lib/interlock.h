/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Interlocks: which PCI devices the host is using right now, so that the plan can refuse to take
 * them away. Facts only (lib/holds.h); the plan decides (lib/plan.c).
 *
 *   mount, swap  lib/interlock-storage.h
 *   network      lib/interlock-network.h
 *   program      lib/interlock-process.h
 *   console      the device owning the console that is in use (a bound framebuffer vtconsole or
 *                boot framebuffer); the plan only counts it when Release=no
 *
 * Everything is read through the context's sysfs and procfs roots. A file that does not exist
 * (no /proc/net/if_inet6 without IPv6, a fake tree without mountinfo) means nothing is known from
 * it, and is not an error.
 */

#include "console.h"
#include "context.h"
#include "holds.h"
#include "interlock-network.h"
#include "interlock-process.h"
#include "interlock-storage.h"
#include "pci.h"

/* The devices owning a console that is held (pure: from the console state). */
int vb_interlock_add_console(const VbConsoleState *console, const VbPciList *devices, VbHolds *h);

/* All of the above into a new VbHolds. CONSOLE may be NULL (not known). Returns 0, or the first
 * failure other than a missing file; RET then still holds everything that could be read. */
int vb_interlock_read(VbContext *ctx, const VbConsoleState *console, const VbPciList *devices, VbHolds *ret);
