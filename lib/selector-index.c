/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "macro.h"
#include "selector-index.h"

/* An address or slot selector: its address, and its index in the list. */
typedef struct Entry {
        VbPciAddress address;
        size_t at;
} Entry;

struct VbSelectorIndex {
        const VbConfigSelector *list;
        size_t n;
        Entry *addresses; /* ordered by address */
        size_t n_addresses;
        Entry *slots; /* the same for slots (function 0) */
        size_t n_slots;
        size_t *ids, n_ids; /* indices into LIST */
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

static int cmp_entry(const void *a, const void *b) {
        const Entry *x = a, *y = b;
        int c = vb_pci_address_compare(&x->address, &y->address);
        return c != 0 ? c : x->at < y->at ? -1 : x->at > y->at;
}

int vb_selector_index_new(VbSelectorIndex **ret, const VbConfigSelector *list, size_t n) {
        _cleanup_(vb_selector_index_freep) VbSelectorIndex *x = NULL;
        size_t room = n ?: 1;

        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        x->list = list;
        x->n = n;
        x->addresses = malloc(room * sizeof(Entry));
        x->slots = malloc(room * sizeof(Entry));
        x->ids = malloc(room * sizeof(size_t));
        x->matched = calloc(room, sizeof(bool));
        if (!x->addresses || !x->slots || !x->ids || !x->matched)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                switch (list[i].selector.type) {
                case VB_SELECTOR_ADDRESS:
                        x->addresses[x->n_addresses++] = (Entry) { list[i].selector.address, i };
                        break;
                case VB_SELECTOR_SLOT:
                        x->slots[x->n_slots++] = (Entry) { list[i].selector.address, i };
                        break;
                default:
                        x->ids[x->n_ids++] = i;
                        break;
                }
        /* Slots compare by their address with function 0, which the parser leaves at 0. */
        qsort(x->addresses, x->n_addresses, sizeof(Entry), cmp_entry);
        qsort(x->slots, x->n_slots, sizeof(Entry), cmp_entry);
        *ret = TAKE_PTR(x);
        return 0;
}

/* Binary search over SORTED for KEY; marks every equal selector as matched. */
static bool lookup(VbSelectorIndex *x, const Entry *sorted, size_t n, const VbPciAddress *key) {
        bool found = false;

        for (size_t i = VB_PCI_ADDRESS_LOWER_BOUND(sorted, n, address, key);
             i < n && vb_pci_address_equal(&sorted[i].address, key); i++) {
                x->matched[sorted[i].at] = true;
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
