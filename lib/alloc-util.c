/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "alloc-util.h"

void *vb_greedy_realloc(void **p, size_t *allocated, size_t need, size_t size) {
        size_t n, bytes;
        void *q;

        assert(p);
        assert(allocated);
        assert(size > 0);

        if (*p && *allocated >= need)
                return *p;
        if (__builtin_mul_overflow(need, 2, &n) || __builtin_mul_overflow(n, size, &bytes)) {
                errno = ENOMEM;
                return NULL;
        }
        if (bytes < 64) {
                n = 64 / size ?: 1;
                bytes = n * size;
        }
        q = realloc(*p, bytes);
        if (!q)
                return NULL;
        *p = q;
        *allocated = n;
        return q;
}
