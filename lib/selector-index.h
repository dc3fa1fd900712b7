/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The one way a device is matched against a list of selectors (Device=, Force=, the kernel
 * command line): addresses and slots in sorted arrays (binary search), IDs in a short list, and
 * a mark per selector that matched, to tell which selectors match nothing. Pure.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct VbSelectorIndex VbSelectorIndex;

/* Index the N selectors of LIST (borrowed: it must outlive the index). */
int vb_selector_index_new(VbSelectorIndex **ret, const VbConfigSelector *list, size_t n);
VbSelectorIndex *vb_selector_index_free(VbSelectorIndex *x);
static inline void vb_selector_index_freep(VbSelectorIndex **x) {
        if (*x)
                vb_selector_index_free(*x);
}

/* Does any selector pick the device at ADDRESS with VENDOR:DEVICE? Marks every one that does. */
bool vb_selector_index_match(VbSelectorIndex *x, const VbPciAddress *address, uint16_t vendor, uint16_t device);
/* Did selector I (of the list) match a device since the index was made? */
bool vb_selector_index_matched(const VbSelectorIndex *x, size_t i);
