/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Arrays that grow as they are appended to. */

#include <stddef.h>

/* Make room for NEED elements of SIZE bytes in the array *P, which has room for *ALLOCATED. When it
 * has too little, it grows to twice NEED (and at least 64 bytes), so that appending one element at
 * a time costs a logarithmic number of reallocations, not one each. Returns the array, or NULL (errno
 * ENOMEM) on out of memory or when the size would overflow; *P and *ALLOCATED are then unchanged.
 * With *P NULL, *ALLOCATED is not trusted: an array that was given away may leave it behind. */
void *vb_greedy_realloc(void **p, size_t *allocated, size_t need, size_t size);

/* The same for a typed ARRAY variable and its ALLOCATED (size_t) counter:
 *         if (!VB_GREEDY_REALLOC(l->items, l->allocated, l->n + 1))
 *                 return -ENOMEM;
 *         l->items[l->n++] = x; */
#define VB_GREEDY_REALLOC(array, allocated, need)                                              \
        ({                                                                                     \
                void *_a_ = (array);                                                           \
                void *_q_ = vb_greedy_realloc(&_a_, &(allocated), (need), sizeof((array)[0])); \
                if (_q_)                                                                       \
                        (array) = _q_;                                                         \
                _q_;                                                                           \
        })
