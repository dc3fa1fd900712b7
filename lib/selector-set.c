/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "selector-set.h"

/* Where each selector of the list is, by vb_selector_key(). Open addressing with linear probing,
 * at most half full. It also holds how much room the list has. */
struct VbSelectorSet {
        uint64_t *keys; /* key + 1; 0 is an empty slot */
        uint32_t *at;   /* the selector's index in the list */
        size_t size;    /* slots, a power of two */
        size_t n;
        size_t allocated; /* entries the list has room for */
};

VbSelectorSet *vb_selector_set_free(VbSelectorSet *x) {
        if (x) {
                free(x->keys);
                free(x->at);
                free(x);
        }
        return NULL;
}

static size_t selector_set_slot(const VbSelectorSet *x, uint64_t key) {
        size_t i = (size_t) ((key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (x->size - 1);

        while (x->keys[i] != 0 && x->keys[i] != key + 1)
                i = (i + 1) & (x->size - 1);
        return i;
}

static int selector_set_grow(VbSelectorSet *x) {
        VbSelectorSet old = *x;
        size_t size = x->size ? x->size * 2 : 64;

        x->keys = calloc(size, sizeof(uint64_t));
        x->at = calloc(size, sizeof(uint32_t));
        if (!x->keys || !x->at) {
                free(x->keys);
                free(x->at);
                x->keys = old.keys;
                x->at = old.at;
                return -ENOMEM;
        }
        x->size = size;
        for (size_t i = 0; i < old.size; i++)
                if (old.keys[i] != 0) {
                        size_t j = selector_set_slot(x, old.keys[i] - 1);
                        x->keys[j] = old.keys[i];
                        x->at[j] = old.at[i];
                }
        free(old.keys);
        free(old.at);
        return 0;
}

int vb_selector_set_add(VbSelectorSet **set, VbConfigSelector **list, size_t *n_list, size_t max, const VbSelector *s,
                        const char *file, unsigned line, const VbConfigSelector **ret_existing) {
        uint64_t key = vb_selector_key(s);
        VbSelectorSet *x = *set;
        size_t slot;
        char *f;
        int r;

        if (!x) {
                x = calloc(1, sizeof(VbSelectorSet));
                if (!x)
                        return -ENOMEM;
                *set = x;
        }
        if ((x->n + 1) * 2 > x->size) {
                r = selector_set_grow(x);
                if (r < 0)
                        return r;
        }
        slot = selector_set_slot(x, key);
        if (x->keys[slot] != 0) {
                *ret_existing = &(*list)[x->at[slot]];
                return -EEXIST;
        }
        if (*n_list >= max)
                return -E2BIG;

        if (!VB_GREEDY_REALLOC(*list, x->allocated, *n_list + 1))
                return -ENOMEM;
        f = strdup(file);
        if (!f)
                return -ENOMEM;
        (*list)[*n_list] = (VbConfigSelector) {
                .selector = *s,
                .file = f,
                .line = line,
        };
        x->keys[slot] = key + 1;
        x->at[slot] = (uint32_t) (*n_list)++;
        x->n++;
        return 0;
}
