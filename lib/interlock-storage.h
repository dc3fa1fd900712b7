/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 *   mount    a block device holding a mounted file system, walked up to its PCI ancestor
 *            (/proc/self/mountinfo, /sys/dev/block, /sys/class/block, through dm/md slaves)
 *   swap     a block device (or the file system of a swap file) in /proc/swaps
 */

#include <stddef.h>

#include "address.h"
#include "context.h"
#include "holds.h"

/* Mounted file systems and active swap, walked to their PCI controllers. A missing mountinfo or
 * swaps file means nothing is known from it. Returns 0 or a negative errno. */
int vb_interlock_read_storage(VbContext *ctx, VbHolds *h);

/* The PCI devices behind block device NAME ("sda2", "dm-0", "nvme0n1p1"): its nearest PCI
 * ancestor, or those of the devices it is stacked on. Sorted, without duplicates. For tests and
 * the CLI. */
int vb_interlock_block_devices(VbContext *ctx, const char *name, VbPciAddress **ret, size_t *ret_n);
