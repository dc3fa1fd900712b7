/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The handoff of [Handoff] StopUnits=: before a bind, stop the listed units whose processes hold
 * a device the plan refuses only for them, and wait until they let go; after a release, start
 * them again (lib/runtime.h keeps what was stopped under /run/vfio-bind/stopped/).
 */

#include "common.h"
#include "config.h"
#include "snapshot.h"

/* Stop what may be stopped for the plan in S. Returns the number of units stopped (0: none, the
 * plan stands as it is), or a negative errno (said already). */
int vbc_handoff_stop(const VbcArgs *a, VbContext *ctx, const VbConfig *c, VbSnapshot *s);

/* After the release of the devices at ADDRESSES (N): start again, in the reverse order, the
 * units that were stopped for them, and forget them. Returns 0, or a negative errno when a unit
 * could not be started (said already; its record is kept for the next release). */
int vbc_handoff_start(const VbcArgs *a, const VbPciAddress *addresses, size_t n);

/* Why the units of the programs that hold D are not stopped (for a refusal), or NULL. */
char *vbc_handoff_why_not(const VbConfig *c, const VbSnapshot *s, const VbPciAddress *d);
