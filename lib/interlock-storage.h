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

/* A line of /proc/self/mountinfo: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw". */
typedef struct VbMount {
        char *majmin;     /* "98:0": the st_dev of the file system */
        char *mountpoint; /* octal escapes undone */
        char *fstype;
        char *source; /* octal escapes undone */
} VbMount;

void vb_mounts_free(VbMount *m, size_t n);

/* The mounts in the text of /proc/self/mountinfo (as vb_procfs_read() returns it); lines that
 * do not parse are skipped. No I/O. Returns 0 (RET: RET_N mounts, NULL if none; free with
 * vb_mounts_free()) or -ENOMEM. */
int vb_interlock_mountinfo_parse(const char *text, VbMount **ret, size_t *ret_n);

/* A line of /proc/swaps after the header: "/dev/sda3  partition  8388604  0  -2". */
typedef struct VbSwap {
        char *file; /* octal escapes undone */
        char *type; /* "partition", "file" */
} VbSwap;

void vb_swaps_free(VbSwap *s, size_t n);

/* The swap areas in the text of /proc/swaps (as vb_procfs_read() returns it): every line after
 * the first (the header) with at least two fields. No I/O. Returns 0 (RET: RET_N areas, NULL if
 * none; free with vb_swaps_free()) or -ENOMEM. */
int vb_interlock_swaps_parse(const char *text, VbSwap **ret, size_t *ret_n);

/* Mounted file systems and active swap, walked to their PCI controllers. A missing mountinfo or
 * swaps file means nothing is known from it. Returns 0 or a negative errno. */
int vb_interlock_read_storage(VbContext *ctx, VbHolds *h);

/* What vb_interlock_read_storage() does with the parsed files: hold the PCI devices behind each
 * mount's block device (its st_dev, else its source), and behind each swap area's block device
 * (a swap file: that of the mount it lies on, MOUNTS). Reads sysfs (links, dm names), never
 * /proc. Returns 0 or a negative errno. */
int vb_interlock_hold_mounts(VbContext *ctx, const VbMount *mounts, size_t n, VbHolds *h);
int vb_interlock_hold_swaps(VbContext *ctx, const VbSwap *swaps, size_t n, const VbMount *mounts, size_t n_mounts,
                            VbHolds *h);

/* The PCI devices behind block device NAME ("sda2", "dm-0", "nvme0n1p1"): its nearest PCI
 * ancestor, or those of the devices it is stacked on. Sorted, without duplicates. For tests and
 * the CLI. */
int vb_interlock_block_devices(VbContext *ctx, const char *name, VbPciAddress **ret, size_t *ret_n);
