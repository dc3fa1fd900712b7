/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The named mechanics of lib/: array growth. */

#include <stdint.h>

#include "alloc-util.h"
#include "macro.h"
#include "tests.h"

TEST(greedy_realloc_many_appends) {
        _cleanup_free_ uint32_t *a = NULL;
        size_t n = 0, allocated = 0, reallocations = 0;

        for (uint32_t i = 0; i < 100000; i++) {
                uint32_t *before = a;
                size_t room = allocated;

                ASSERT_TRUE(VB_GREEDY_REALLOC(a, allocated, n + 1));
                ASSERT_INT(allocated, >=, n + 1);
                if (a != before || allocated != room)
                        reallocations++;
                a[n++] = i;
        }
        for (uint32_t i = 0; i < n; i++)
                ASSERT_EQ(a[i], i);
        /* doubling: about log2(100000 / 16) reallocations, not one per append */
        ASSERT_INT(reallocations, <=, 20);
}

TEST(greedy_realloc_enough_room_keeps_the_array) {
        _cleanup_free_ char *s = NULL;
        size_t allocated = 0;
        char *before;

        ASSERT_TRUE(VB_GREEDY_REALLOC(s, allocated, 10));
        ASSERT_INT(allocated, >=, 20);
        before = s;
        ASSERT_TRUE(VB_GREEDY_REALLOC(s, allocated, allocated) == before);
        ASSERT_TRUE(VB_GREEDY_REALLOC(s, allocated, 1) == before);
}

typedef struct Big {
        char bytes[1000];
} Big;

TEST(greedy_realloc_zero) {
        _cleanup_free_ uint64_t *a = NULL;
        _cleanup_free_ Big *big = NULL;
        size_t allocated = 0, big_allocated = 0;

        /* Nothing needed still gives an array (at least 64 bytes), never NULL for success. */
        ASSERT_TRUE(VB_GREEDY_REALLOC(a, allocated, 0));
        ASSERT_EQ(allocated, 64 / sizeof(uint64_t));
        ASSERT_TRUE(VB_GREEDY_REALLOC(big, big_allocated, 0));
        ASSERT_EQ(big_allocated, 1);
}

TEST(greedy_realloc_stale_count_without_array) {
        _cleanup_free_ int *a = NULL;
        size_t allocated = 1000; /* left behind by an array that was given away */

        ASSERT_TRUE(VB_GREEDY_REALLOC(a, allocated, 3));
        ASSERT_EQ(allocated, 16);
        a[2] = 7;
        ASSERT_EQ(a[2], 7);
}

TEST(greedy_realloc_overflow_refused) {
        _cleanup_free_ uint64_t *a = NULL;
        size_t allocated = 0;
        uint64_t *before;

        ASSERT_TRUE(VB_GREEDY_REALLOC(a, allocated, 4));
        a[3] = 42;
        before = a;
        /* need * 2 overflows, then need * 2 * 8 does */
        for (size_t need = SIZE_MAX; need > SIZE_MAX / 16; need /= 2) {
                errno = 0;
                ASSERT_NULL(VB_GREEDY_REALLOC(a, allocated, need));
                ASSERT_EQ(errno, ENOMEM);
                /* untouched: the same array, the same room */
                ASSERT_TRUE(a == before);
                ASSERT_EQ(allocated, 8);
                ASSERT_EQ(a[3], 42);
        }
}

TESTS_MAIN();
