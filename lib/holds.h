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
        VB_HOLD_PROGRAM, /* a process has one of its nodes open or its resources mapped */
        _VB_HOLD_KIND_MAX,
        _VB_HOLD_KIND_INVALID = -EINVAL,
} VbHoldKind;

#define VB_HOLD_MASK(kind) (1u << (kind))
#define VB_HOLD_MASK_ALL ((1u << _VB_HOLD_KIND_MAX) - 1)

/* Texts kept in one hold; a further one is counted as "and more". */
#define VB_HOLD_TEXTS_MAX 3

const char *vb_hold_kind_to_string(VbHoldKind k);
VbHoldKind vb_hold_kind_from_string(const char *s);

/* The reasons of one kind the host holds one device. */
typedef struct VbHold {
        VbPciAddress address;
        VbHoldKind kind;
        char **texts; /* NULL-terminated, each once, in the order added; at most VB_HOLD_TEXTS_MAX */
        size_t n_texts;
        bool more; /* further texts were left out */
        /* program: the systemd units of the processes that hold it, each once, NULL-terminated
         * (every one, not capped as the texts); no_unit: a holder runs in no unit */
        char **units;
        size_t n_units;
        bool no_unit;
} VbHold;

typedef struct VbHolds {
        VbHold *holds;
        size_t n, allocated;
} VbHolds;

void vb_holds_done(VbHolds *h);

/* Add a hold (WHAT is copied). Holds of the same device and kind are merged into one: a text
 * already there is not added again, and after VB_HOLD_TEXTS_MAX texts the rest only set "more".
 * Returns 0, -EINVAL (KIND out of range, WHAT NULL) or -ENOMEM. */
int vb_holds_add(VbHolds *h, const VbPciAddress *a, VbHoldKind kind, const char *what);

/* The hold of KIND on A, or NULL. */
const VbHold *vb_holds_find(const VbHolds *h, const VbPciAddress *a, VbHoldKind kind);

/* Note that a process of UNIT (NULL: of no unit) holds A for KIND (after vb_holds_add() of that
 * hold). Returns 0, -ENOENT (no such hold) or -ENOMEM. */
int vb_holds_add_unit(VbHolds *h, const VbPciAddress *a, VbHoldKind kind, const char *unit);

/* Is A held for any kind in MASK? */
bool vb_holds_has(const VbHolds *h, const VbPciAddress *a, unsigned mask);

/* The texts of one hold joined with ", ", then ", and more" if texts were left out. Returns 0 or
 * -ENOMEM. */
int vb_hold_describe(const VbHold *hold, char **ret);

/* Every hold on A of a kind in MASK, in the order of the kinds, each as vb_hold_describe() writes
 * it, joined with "; ". *RET is NULL if there is none. Returns 0 or -ENOMEM. */
int vb_holds_describe(const VbHolds *h, const VbPciAddress *a, unsigned mask, char **ret);
