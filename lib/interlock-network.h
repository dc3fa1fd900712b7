/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 *   network  a network interface that is up and has a global address, IPv4 or IPv6, whatever
 *            routing table it is in (not link-local, not loopback): /sys/class/net/IF/flags and
 *            the addresses (getifaddrs(), or a dump's ifaddrs; lib/ifaddr); without those (a fake
 *            tree, an older dump) /proc/net/if_inet6 and the main table's /proc/net/route; an
 *            interface that is a lower device of such an interface (a bridge port, a bond slave)
 *            counts too
 */

#include "context.h"
#include "holds.h"

/* Network interfaces that are up with addresses, walked to their PCI devices. Returns 0 or a
 * negative errno. */
int vb_interlock_read_network(VbContext *ctx, VbHolds *h);
