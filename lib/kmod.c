/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libkmod.h>

#include "kmod.h"
#include "macro.h"
#include "pci.h"

static void kmod_module_unref_listp(struct kmod_list **l) {
        if (*l)
                kmod_module_unref_list(*l);
}

int vb_kmod_load_driver(VbContext *ctx, const char *driver) {
        _cleanup_(kmod_module_unref_listp) struct kmod_list *list = NULL;
        struct kmod_ctx *k;
        struct kmod_list *i;
        bool inserted = false;
        int r;

        /* A registered driver means its module is loaded or built in: nothing to do. */
        if (vb_pci_driver_exists(ctx, driver))
                return 0;

        r = vb_context_get_kmod(ctx, &k);
        if (r < 0)
                return r;

        /* The lookup normalises "vfio-pci" to the module name "vfio_pci" and also resolves
         * aliases, so a driver name that differs from its module's name still works. */
        r = kmod_module_new_from_lookup(k, driver, &list);
        if (r < 0)
                return r;
        if (!list) {
                vb_debug(ctx, "no kernel module provides driver %s", driver);
                return -ENOENT;
        }

        kmod_list_foreach(i, list) {
                struct kmod_module *m = kmod_module_get_module(i);
                int state = kmod_module_get_initstate(m);

                if (state == KMOD_MODULE_BUILTIN || state == KMOD_MODULE_LIVE) {
                        vb_debug(ctx, "module %s is %s", kmod_module_get_name(m),
                                 state == KMOD_MODULE_BUILTIN ? "built in" : "loaded");
                        kmod_module_unref(m);
                        continue;
                }
                r = kmod_module_probe_insert_module(m, 0, NULL, NULL, NULL, NULL);
                vb_debug(ctx, "loading module %s: %s", kmod_module_get_name(m), r < 0 ? strerror(-r) : "ok");
                kmod_module_unref(m);
                if (r < 0)
                        return r;
                inserted = true;
        }

        if (!vb_pci_driver_exists(ctx, driver)) {
                vb_debug(ctx, "module for %s is loaded, but no PCI driver named %s exists", driver, driver);
                return -ENOENT;
        }
        return inserted;
}
