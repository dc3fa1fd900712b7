/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 *   network  a network interface that is up and has an address (not counting link-local IPv6):
 *            /sys/class/net/IF/flags, /proc/net/if_inet6, /proc/net/route; an interface that is
 *            a lower device of such an interface (a bridge port, a bond slave) counts too
 */

#include "context.h"
#include "holds.h"

/* Network interfaces that are up with addresses, walked to their PCI devices. Returns 0 or a
 * negative errno. */
int vb_interlock_read_network(VbContext *ctx, VbHolds *h);
