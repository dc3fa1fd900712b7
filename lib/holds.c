/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "alloc-util.h"
#include "holds.h"
#include "macro.h"
#include "strv.h"

static const char *const hold_kind_table[_VB_HOLD_KIND_MAX] = {
        [VB_HOLD_MOUNT] = "mount",     [VB_HOLD_SWAP] = "swap",       [VB_HOLD_NETWORK] = "network",
        [VB_HOLD_CONSOLE] = "console", [VB_HOLD_PROGRAM] = "program",
};

const char *vb_hold_kind_to_string(VbHoldKind k) {
        return k >= 0 && k < _VB_HOLD_KIND_MAX ? hold_kind_table[k] : NULL;
}

VbHoldKind vb_hold_kind_from_string(const char *s) {
        for (size_t i = 0; s && i < _VB_HOLD_KIND_MAX; i++)
                if (streq(hold_kind_table[i], s))
                        return (VbHoldKind) i;
        return _VB_HOLD_KIND_INVALID;
}

void vb_holds_done(VbHolds *h) {
        if (!h)
                return;
        for (size_t i = 0; i < h->n; i++) {
                strv_free(h->holds[i].texts);
                strv_free(h->holds[i].units);
        }
        free(h->holds);
        *h = (VbHolds) {};
}

static bool hold_has_text(const VbHold *o, const char *what) {
        for (size_t i = 0; i < o->n_texts; i++)
                if (streq(o->texts[i], what))
                        return true;
        return false;
}

static int hold_add_text(VbHold *o, const char *what) {
        /* The same text twice (a file system mounted twice on one place, bind mounts of one
         * device): once is enough. */
        if (hold_has_text(o, what))
                return 0;
        if (o->n_texts >= VB_HOLD_TEXTS_MAX) {
                o->more = true;
                return 0;
        }
        return strv_extend_printf(&o->texts, &o->n_texts, "%s", what);
}

int vb_holds_add(VbHolds *h, const VbPciAddress *a, VbHoldKind kind, const char *what) {
        VbHold *n;
        int r;

        if (kind < 0 || kind >= _VB_HOLD_KIND_MAX || !what)
                return -EINVAL;

        for (size_t i = 0; i < h->n; i++) {
                VbHold *o = &h->holds[i];

                if (o->kind == kind && vb_pci_address_equal(&o->address, a))
                        return hold_add_text(o, what);
        }

        n = VB_GREEDY_REALLOC(h->holds, h->allocated, h->n + 1);
        if (!n)
                return -ENOMEM;
        n[h->n] = (VbHold) { .address = *a, .kind = kind };
        r = hold_add_text(&n[h->n], what);
        if (r < 0)
                return r;
        h->n++;
        return 0;
}

const VbHold *vb_holds_find(const VbHolds *h, const VbPciAddress *a, VbHoldKind kind) {
        for (size_t i = 0; h && i < h->n; i++)
                if (h->holds[i].kind == kind && vb_pci_address_equal(&h->holds[i].address, a))
                        return &h->holds[i];
        return NULL;
}

int vb_holds_add_unit(VbHolds *h, const VbPciAddress *a, VbHoldKind kind, const char *unit) {
        VbHold *o = (VbHold *) vb_holds_find(h, a, kind);

        if (!o)
                return -ENOENT;
        if (!unit) {
                o->no_unit = true;
                return 0;
        }
        if (strv_contains(o->units, unit))
                return 0;
        return strv_extend_printf(&o->units, &o->n_units, "%s", unit);
}

bool vb_holds_has(const VbHolds *h, const VbPciAddress *a, unsigned mask) {
        for (size_t i = 0; h && i < h->n; i++)
                if ((mask & VB_HOLD_MASK(h->holds[i].kind)) && vb_pci_address_equal(&h->holds[i].address, a))
                        return true;
        return false;
}

int vb_hold_describe(const VbHold *hold, char **ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        for (size_t i = 0; i < hold->n_texts; i++) {
                r = vb_join_append(&s, ", ", "%s", hold->texts[i]);
                if (r < 0)
                        return r;
        }
        if (hold->more) {
                r = vb_join_append(&s, ", ", "and more");
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int vb_holds_describe(const VbHolds *h, const VbPciAddress *a, unsigned mask, char **ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        /* In the order of the kinds, so that the text does not depend on reading order. */
        for (int k = 0; k < _VB_HOLD_KIND_MAX; k++) {
                if (!(mask & VB_HOLD_MASK(k)))
                        continue;
                for (size_t i = 0; h && i < h->n; i++) {
                        const VbHold *o = &h->holds[i];
                        _cleanup_free_ char *text = NULL;

                        if ((int) o->kind != k || !vb_pci_address_equal(&o->address, a))
                                continue;
                        r = vb_hold_describe(o, &text);
                        if (r < 0)
                                return r;
                        r = vb_join_append(&s, "; ", "%s", strempty(text));
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}
