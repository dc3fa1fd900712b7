/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "macro.h"
#include "selector-index.h"

struct VbSelectorIndex {
        const VbConfigSelector *list;
        size_t n;
        size_t *addresses, n_addresses; /* indices into LIST, ordered by address */
        size_t *slots, n_slots;         /* the same for slots (function 0) */
        size_t *ids, n_ids;
        bool *matched;
};

VbSelectorIndex *vb_selector_index_free(VbSelectorIndex *x) {
        if (!x)
                return NULL;
        free(x->addresses);
        free(x->slots);
        free(x->ids);
        free(x->matched);
        free(x);
        return NULL;
}

static int cmp_selector_address(const void *a, const void *b, void *userdata) {
        const VbConfigSelector *list = userdata;
        return vb_pci_address_compare(&list[*(const size_t *) a].selector.address,
                                      &list[*(const size_t *) b].selector.address);
}

int vb_selector_index_new(VbSelectorIndex **ret, const VbConfigSelector *list, size_t n) {
        _cleanup_(vb_selector_index_freep) VbSelectorIndex *x = NULL;
        size_t room = n ?: 1;

        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        x->list = list;
        x->n = n;
        x->addresses = malloc(room * sizeof(size_t));
        x->slots = malloc(room * sizeof(size_t));
        x->ids = malloc(room * sizeof(size_t));
        x->matched = calloc(room, sizeof(bool));
        if (!x->addresses || !x->slots || !x->ids || !x->matched)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                switch (list[i].selector.type) {
                case VB_SELECTOR_ADDRESS:
                        x->addresses[x->n_addresses++] = i;
                        break;
                case VB_SELECTOR_SLOT:
                        x->slots[x->n_slots++] = i;
                        break;
                default:
                        x->ids[x->n_ids++] = i;
                        break;
                }
        /* Slots compare by their address with function 0, which the parser leaves at 0. */
        qsort_r(x->addresses, x->n_addresses, sizeof(size_t), cmp_selector_address, (void *) list);
        qsort_r(x->slots, x->n_slots, sizeof(size_t), cmp_selector_address, (void *) list);
        *ret = TAKE_PTR(x);
        return 0;
}

/* Binary search over SORTED for KEY; marks every equal selector as matched. */
static bool lookup(VbSelectorIndex *x, const size_t *sorted, size_t n, const VbPciAddress *key) {
        size_t lo = 0, hi = n;
        bool found = false;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (vb_pci_address_compare(&x->list[sorted[mid]].selector.address, key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (; lo < n && vb_pci_address_equal(&x->list[sorted[lo]].selector.address, key); lo++) {
                x->matched[sorted[lo]] = true;
                found = true;
        }
        return found;
}

bool vb_selector_index_match(VbSelectorIndex *x, const VbPciAddress *address, uint16_t vendor, uint16_t device) {
        VbPciAddress slot = *address;
        bool found;

        slot.function = 0;
        found = lookup(x, x->addresses, x->n_addresses, address);
        found |= lookup(x, x->slots, x->n_slots, &slot);
        for (size_t i = 0; i < x->n_ids; i++)
                if (vb_selector_match(&x->list[x->ids[i]].selector, address, vendor, device)) {
                        x->matched[x->ids[i]] = true;
                        found = true;
                }
        return found;
}

bool vb_selector_index_matched(const VbSelectorIndex *x, size_t i) {
        return i < x->n && x->matched[i];
}
