/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Holds: why the host uses a PCI device right now ("/dev/sda2 is mounted on /"), by device and
 * kind. The interlocks (lib/interlock.h) find them; the plan reads them. Pure data.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "address.h"

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
