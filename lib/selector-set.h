/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A list of selectors, each with where it was written, that holds no selector twice. The list is
 * a plain array its owner reads (VbConfig's Device= and Force= lists); the set beside it indexes
 * it by vb_selector_key(), so that a duplicate is found in constant time and thousands of
 * Device= lines load in linear time. */

#include <stddef.h>

#include "selector.h"

typedef struct VbConfigSelector {
        VbSelector selector;
        char *file; /* where it was written; VB_CMDLINE_SOURCE for the kernel command line */
        unsigned line;
} VbConfigSelector;

typedef struct VbSelectorSet VbSelectorSet;

VbSelectorSet *vb_selector_set_free(VbSelectorSet *x);

/* Append S (written at FILE:LINE, which is copied) to *LIST unless it is there already. *SET
 * indexes *LIST and is created on first use; the two go together. Returns 0; -EEXIST with
 * *RET_EXISTING set to the entry already there; -E2BIG if *N_LIST is MAX already; or -ENOMEM. */
int vb_selector_set_add(VbSelectorSet **set, VbConfigSelector **list, size_t *n_list, size_t max, const VbSelector *s,
                        const char *file, unsigned line, const VbConfigSelector **ret_existing);
