/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "holds.h"
#include "macro.h"

/* Texts merged into one hold before "and more". */
#define HOLD_TEXTS_MAX 3

static const char *const hold_kind_table[_VB_HOLD_KIND_MAX] = {
        [VB_HOLD_MOUNT] = "mount",
        [VB_HOLD_SWAP] = "swap",
        [VB_HOLD_NETWORK] = "network",
        [VB_HOLD_CONSOLE] = "console",
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
        for (size_t i = 0; i < h->n; i++)
                free(h->holds[i].what);
        free(h->holds);
        *h = (VbHolds) {};
}

/* Is ITEM one of the ", "-separated texts of LIST? */
static bool list_has(const char *list, const char *item) {
        size_t n = strlen(item);

        for (const char *p = list; (p = strstr(p, item)); p++)
                if ((p == list || (p >= list + 2 && strneq(p - 2, ", ", 2))) && (p[n] == '\0' || strneq(p + n, ", ", 2)))
                        return true;
        return false;
}

static size_t count_texts(const char *what) {
        size_t n = 1;
        for (const char *p = what; (p = strstr(p, ", ")); p += 2)
                n++;
        return n;
}

int vb_holds_add(VbHolds *h, const VbPciAddress *a, VbHoldKind kind, const char *what) {
        VbHold *n;
        char *s;

        if (kind < 0 || kind >= _VB_HOLD_KIND_MAX || !what)
                return -EINVAL;

        for (size_t i = 0; i < h->n; i++) {
                VbHold *o = &h->holds[i];

                if (o->kind != kind || !vb_pci_address_equal(&o->address, a))
                        continue;
                /* The same text twice (a file system mounted twice on one place, bind mounts of
                 * one device): once is enough. */
                if (list_has(o->what, what))
                        return 0;
                if (strstr(o->what, ", and more"))
                        return 0;
                if (count_texts(o->what) >= HOLD_TEXTS_MAX) {
                        if (asprintf(&s, "%s, and more", o->what) < 0)
                                return -ENOMEM;
                } else if (asprintf(&s, "%s, %s", o->what, what) < 0)
                        return -ENOMEM;
                free(o->what);
                o->what = s;
                return 0;
        }

        s = strdup(what);
        if (!s)
                return -ENOMEM;
        n = realloc(h->holds, (h->n + 1) * sizeof(VbHold));
        if (!n) {
                free(s);
                return -ENOMEM;
        }
        h->holds = n;
        h->holds[h->n++] = (VbHold) { .address = *a, .kind = kind, .what = s };
        return 0;
}

bool vb_holds_has(const VbHolds *h, const VbPciAddress *a, unsigned mask) {
        for (size_t i = 0; h && i < h->n; i++)
                if ((mask & VB_HOLD_MASK(h->holds[i].kind)) && vb_pci_address_equal(&h->holds[i].address, a))
                        return true;
        return false;
}

int vb_holds_describe(const VbHolds *h, const VbPciAddress *a, unsigned mask, char **ret) {
        char *s = NULL;

        /* In the order of the kinds, so that the text does not depend on reading order. */
        for (int k = 0; k < _VB_HOLD_KIND_MAX; k++) {
                if (!(mask & VB_HOLD_MASK(k)))
                        continue;
                for (size_t i = 0; h && i < h->n; i++) {
                        const VbHold *o = &h->holds[i];
                        char *n;

                        if ((int) o->kind != k || !vb_pci_address_equal(&o->address, a))
                                continue;
                        if (asprintf(&n, "%s%s%s", strempty(s), s ? "; " : "", o->what) < 0) {
                                free(s);
                                return -ENOMEM;
                        }
                        free(s);
                        s = n;
                }
        }
        *ret = s;
        return 0;
}
