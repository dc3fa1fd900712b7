/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Interlocks: which PCI devices the host is using right now, so that the plan can refuse to take
 * them away. Facts only; the plan decides (lib/plan.c).
 *
 *   mount    a block device holding a mounted file system, walked up to its PCI ancestor
 *            (/proc/self/mountinfo, /sys/dev/block, /sys/class/block, through dm/md slaves)
 *   swap     a block device (or the file system of a swap file) in /proc/swaps
 *   network  a network interface that is up and has an address (not counting link-local IPv6):
 *            /sys/class/net/IF/flags, /proc/net/if_inet6, /proc/net/route; an interface that is
 *            a lower device of such an interface (a bridge port, a bond slave) counts too
 *   console  the device owning the console that is in use (a bound framebuffer vtconsole or
 *            boot framebuffer); the plan only counts it when Release=no
 *
 * Everything is read through the context's sysfs and procfs roots. A file that does not exist
 * (no /proc/net/if_inet6 without IPv6, a fake tree without mountinfo) means nothing is known from
 * it, and is not an error.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "address.h"
#include "console.h"
#include "context.h"
#include "pci.h"

typedef enum VbHoldKind {
        VB_HOLD_MOUNT,
        VB_HOLD_SWAP,
        VB_HOLD_NETWORK,
        VB_HOLD_CONSOLE,
        _VB_HOLD_KIND_MAX,
        _VB_HOLD_KIND_INVALID = -EINVAL,
} VbHoldKind;

#define VB_HOLD_MASK(kind) (1u << (kind))
#define VB_HOLD_MASK_ALL ((1u << _VB_HOLD_KIND_MAX) - 1)

const char *vb_hold_kind_to_string(VbHoldKind k);
VbHoldKind vb_hold_kind_from_string(const char *s);

/* One reason the host holds one device: "/dev/sda2 is mounted on /". */
typedef struct VbHold {
        VbPciAddress address;
        VbHoldKind kind;
        char *what;
} VbHold;

typedef struct VbHolds {
        VbHold *holds;
        size_t n;
} VbHolds;

void vb_holds_done(VbHolds *h);

/* Add a hold (WHAT is copied). Holds of the same device and kind are merged into one, their
 * texts joined with ", " (at most a few; then "and more"). Returns 0 or -ENOMEM. */
int vb_holds_add(VbHolds *h, const VbPciAddress *a, VbHoldKind kind, const char *what);

/* Is A held for any kind in MASK? */
bool vb_holds_has(const VbHolds *h, const VbPciAddress *a, unsigned mask);

/* Every hold on A of a kind in MASK, joined with "; ". *RET is NULL if there is none. Returns 0
 * or -ENOMEM. */
int vb_holds_describe(const VbHolds *h, const VbPciAddress *a, unsigned mask, char **ret);

/* Mounted file systems and active swap, walked to their PCI controllers. */
int vb_interlock_read_storage(VbContext *ctx, VbHolds *h);
/* Network interfaces that are up with addresses, walked to their PCI devices. */
int vb_interlock_read_network(VbContext *ctx, VbHolds *h);
/* The devices owning a console that is held (pure: from the console state). */
int vb_interlock_add_console(const VbConsoleState *console, const VbPciList *devices, VbHolds *h);

/* All of the above into a new VbHolds. CONSOLE may be NULL (not known). Returns 0, or the first
 * failure other than a missing file; RET then still holds everything that could be read. */
int vb_interlock_read(VbContext *ctx, const VbConsoleState *console, const VbPciList *devices, VbHolds *ret);

/* The PCI devices behind block device NAME ("sda2", "dm-0", "nvme0n1p1"): its nearest PCI
 * ancestor, or those of the devices it is stacked on. Sorted, without duplicates. For tests and
 * the CLI. */
int vb_interlock_block_devices(VbContext *ctx, const char *name, VbPciAddress **ret, size_t *ret_n);
