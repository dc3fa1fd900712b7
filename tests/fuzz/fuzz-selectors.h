/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The configuration targets' oracle that no selector is listed twice, in O(n log n): the list
 * is sorted on a copy by the fields vb_selector_equal() compares (written out here, not
 * through the library's vb_selector_key()), and neighbours are compared with
 * vb_selector_equal(). Comparing every pair was quadratic: with the thousands of selectors a
 * fuzzer packs into a few kilobytes it took most of the time of an execution.
 */

#include <stdlib.h>

#include "config.h"
#include "selector.h"

static inline int fuzz_selector_cmp(const void *x, const void *y) {
        const VbSelector *a = x, *b = y;
        uint64_t ka[4] = { (uint64_t) a->type }, kb[4] = { (uint64_t) b->type };

        if (a->type == VB_SELECTOR_ID) {
                ka[1] = a->vendor, kb[1] = b->vendor;
                ka[2] = a->device, kb[2] = b->device;
        } else {
                ka[1] = a->address.domain, kb[1] = b->address.domain;
                ka[2] = (uint64_t) a->address.bus << 8 | a->address.slot;
                kb[2] = (uint64_t) b->address.bus << 8 | b->address.slot;
                if (a->type == VB_SELECTOR_ADDRESS)
                        ka[3] = a->address.function, kb[3] = b->address.function;
        }
        for (size_t i = 0; i < 4; i++)
                if (ka[i] != kb[i])
                        return ka[i] < kb[i] ? -1 : 1;
        return 0;
}

/* Aborts if two selectors of L are equal. */
static inline void fuzz_check_unique_selectors(const VbConfigSelector *l, size_t n) {
        VbSelector *s;

        if (n < 2)
                return;
        s = malloc(n * sizeof(VbSelector));
        if (!s)
                return;
        for (size_t i = 0; i < n; i++)
                s[i] = l[i].selector;
        qsort(s, n, sizeof(VbSelector), fuzz_selector_cmp);
        for (size_t i = 1; i < n; i++)
                if (vb_selector_equal(&s[i - 1], &s[i]))
                        abort();
        free(s);
}
