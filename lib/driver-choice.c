/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "alloc-util.h"
#include "driver-choice.h"
#include "driver.h"
#include "macro.h"
#include "modalias.h"
#include "pci.h"
#include "sysfs.h"

static const char *const kind_table[_VB_DRIVER_CHOICE_KIND_MAX] = {
        [VB_DRIVER_CHOICE_VARIANT] = "variant",
        [VB_DRIVER_CHOICE_PLAIN] = "plain",
        [VB_DRIVER_CHOICE_NO_INDEX] = "no-index",
};

const char *vb_driver_choice_kind_to_string(VbDriverChoiceKind k) {
        return k >= 0 && k < _VB_DRIVER_CHOICE_KIND_MAX ? kind_table[k] : NULL;
}

void vb_driver_choice_done(VbDriverChoice *c) {
        if (!c)
                return;
        free(c->module);
        free(c->driver);
        free(c->alias);
        free(c->pattern);
        free(c->tie);
        *c = (VbDriverChoice) {};
}

typedef struct Ranking {
        char *module, *pattern, *tie;
        unsigned wildcards, n_matches;
        char **seen; /* modules counted */
        size_t n_seen, seen_allocated;
        int error;
} Ranking;

/* Is A a better choice than the best so far (B, with B_WILDCARDS)? */
static bool better(const char *a, unsigned a_wildcards, const char *b, unsigned b_wildcards) {
        if (!b || a_wildcards != b_wildcards)
                return !b || a_wildcards < b_wildcards;
        if (streq(b, VB_DRIVER_PLAIN_MODULE))
                return false;
        return streq(a, VB_DRIVER_PLAIN_MODULE) || strcmp(a, b) < 0;
}

static int rank_one(void *userdata, const char *module, const char *pattern) {
        Ranking *k = userdata;
        unsigned w = vb_modalias_wildcards(pattern);
        bool seen = false;

        for (size_t i = 0; i < k->n_seen; i++)
                seen = seen || streq(k->seen[i], module);
        if (!seen) {
                if (!VB_GREEDY_REALLOC(k->seen, k->seen_allocated, k->n_seen + 1))
                        return -ENOMEM;
                k->seen[k->n_seen] = strdup(module);
                if (!k->seen[k->n_seen])
                        return -ENOMEM;
                k->n_seen++;
                k->n_matches++;
        }

        if (k->module && streq(k->module, module)) {
                /* Another pattern of the same module: keep its most specific one. */
                if (w < k->wildcards) {
                        char *p = strdup(pattern);
                        if (!p)
                                return -ENOMEM;
                        free(k->pattern);
                        k->pattern = p;
                        k->wildcards = w;
                }
                return 0;
        }
        if (better(module, w, k->module, k->wildcards)) {
                char *m = strdup(module), *p = strdup(pattern);
                if (!m || !p) {
                        free(m);
                        free(p);
                        return -ENOMEM;
                }
                free(k->tie);
                /* The one beaten by name only is the tie. */
                k->tie = k->module && k->wildcards == w ? TAKE_PTR(k->module) : NULL;
                free(k->module);
                free(k->pattern);
                k->module = m;
                k->pattern = p;
                k->wildcards = w;
        } else if (w == k->wildcards && !k->tie) {
                k->tie = strdup(module);
                if (!k->tie)
                        return -ENOMEM;
        }
        return 0;
}

static void ranking_done(Ranking *k) {
        free(k->module);
        free(k->pattern);
        free(k->tie);
        for (size_t i = 0; i < k->n_seen; i++)
                free(k->seen[i]);
        free(k->seen);
}

/* The device's modalias: the MODALIAS= of its uevent file (which the enumeration reads anyway),
 * else its modalias attribute; both are the kernel's one format (pci_uevent(), modalias_show()). */
static int read_modalias(VbContext *ctx, const VbPciAddress *a, char **ret) {
        _cleanup_free_ char *text = NULL;
        char vfio[VB_MODALIAS_MAX + 16];
        const char *line = NULL;
        int r;

        r = vb_sysfs_read(ctx, VB_PCI_DEVICE_PATH(a, "uevent"), &text);
        if (r == -ENOMEM)
                return r;
        for (const char *p = r >= 0 ? text : NULL; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if ((line = startswith(p, "MODALIAS=")))
                        break;
        if (!line) {
                free(text);
                text = NULL;
                r = vb_sysfs_read(ctx, VB_PCI_DEVICE_PATH(a, "modalias"), &text);
                if (r < 0)
                        return r;
                line = text;
        }
        r = vb_modalias_to_vfio(line, vfio, sizeof(vfio));
        if (r < 0)
                return r;
        *ret = strdup(vfio);
        return *ret ? 0 : -ENOMEM;
}

int vb_driver_choice_read(VbContext *ctx, const VbPciAddress *a, VbDriverChoice *ret) {
        _cleanup_free_ char *alias = NULL;
        int r;

        r = read_modalias(ctx, a, &alias);
        if (r == -ENOMEM)
                return r;
        return vb_driver_choice_lookup(ctx, a, alias, r < 0 ? r : 0, ret);
}

int vb_driver_choice_lookup(VbContext *ctx, const VbPciAddress *a, const char *alias, int error, VbDriverChoice *ret) {
        _cleanup_(vb_driver_choice_done) VbDriverChoice c = { .address = *a };
        Ranking k = {};
        int r = error;

        if (alias) {
                c.alias = strdup(alias);
                if (!c.alias)
                        return -ENOMEM;
        }
        if (r >= 0 && !alias)
                r = -ENOENT;
        if (r >= 0) {
                r = vb_context_find_aliases(ctx, c.alias, rank_one, &k);
                if (r == -ENOMEM) {
                        ranking_done(&k);
                        return r;
                }
        }
        if (r < 0) {
                vb_debug(ctx, "%s: no driver choice through the module index: %s", VB_PCI_ADDRESS_STR(a), strerror(-r));
                c.kind = VB_DRIVER_CHOICE_NO_INDEX;
                c.error = r;
        } else {
                c.kind = k.module && !streq(k.module, VB_DRIVER_PLAIN_MODULE) ? VB_DRIVER_CHOICE_VARIANT
                                                                              : VB_DRIVER_CHOICE_PLAIN;
                c.n_matches = k.n_matches;
                c.wildcards = k.wildcards;
                c.pattern = TAKE_PTR(k.pattern);
                c.tie = TAKE_PTR(k.tie);
                if (c.kind == VB_DRIVER_CHOICE_VARIANT)
                        c.module = TAKE_PTR(k.module);
        }
        ranking_done(&k);

        if (c.kind != VB_DRIVER_CHOICE_VARIANT) {
                c.module = strdup(VB_DRIVER_PLAIN_MODULE);
                c.driver = strdup(VB_DRIVER_PLAIN);
                if (!c.module || !c.driver)
                        return -ENOMEM;
                c.registered = vb_driver_exists(ctx, c.driver);
        } else {
                r = vb_driver_from_module(ctx, c.module, &c.driver);
                if (r == -ENOMEM)
                        return r;
                c.registered = r >= 0;
        }
        vb_debug(ctx, "%s: %s chooses %s (module %s, %u matches)", VB_PCI_ADDRESS_STR(a), strna(c.alias),
                 strna(c.driver), c.module, c.n_matches);
        *ret = c;
        c = (VbDriverChoice) {};
        return 0;
}

int vb_driver_choice_explain(const VbDriverChoice *c, char **ret) {
        _cleanup_free_ char *tie = NULL;
        int r;

        if (c->tie && asprintf(&tie, "; %s's alias is as specific, the name %s wins", c->tie, c->module) < 0)
                return -ENOMEM;
        switch (c->kind) {
        case VB_DRIVER_CHOICE_VARIANT:
                if (c->driver)
                        r = asprintf(ret,
                                     "variant driver %s (module %s: its alias %s is the most specific of %u match%s%s)",
                                     c->driver, c->module, c->pattern, c->n_matches, c->n_matches == 1 ? "" : "es",
                                     strempty(tie));
                else
                        r = asprintf(
                                ret,
                                "the variant driver of module %s, not loaded yet (its alias %s is the most specific "
                                "of %u match%s%s)",
                                c->module, c->pattern, c->n_matches, c->n_matches == 1 ? "" : "es", strempty(tie));
                break;
        case VB_DRIVER_CHOICE_PLAIN:
                r = asprintf(ret, "%s (no variant driver's alias matches %s%s)", VB_DRIVER_PLAIN, strna(c->alias),
                             strempty(tie));
                break;
        default:
                r = asprintf(ret, "%s (%s%s%s)", VB_DRIVER_PLAIN,
                             c->alias ? "no module index to look the device up in" : "the device has no modalias",
                             c->error == -ENOENT ? "" : ": ", c->error == -ENOENT ? "" : strerror(-c->error));
                break;
        }
        return r < 0 ? -ENOMEM : 0;
}
