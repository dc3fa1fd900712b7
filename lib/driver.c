/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "driver.h"
#include "macro.h"
#include "pci.h"
#include "strv.h"
#include "sysfs.h"

bool vb_driver_is_vfio(const char *driver) {
        if (!driver)
                return false;
        /* "vfio-pci" and "vfio_pci" style names, and variants whose driver name ends in it. */
        if (strneq(driver, "vfio", 4))
                return true;
        return strstr(driver, "_vfio_pci") || strstr(driver, "-vfio-pci");
}

bool vb_driver_is_vfio_safe(const char *driver) {
        return !driver || streq(driver, "pci-stub") || vb_driver_is_vfio(driver);
}

bool vb_driver_exists(VbContext *ctx, const char *driver) {
        char path[256];
        int n = snprintf(path, sizeof(path), VB_PCI_DRIVERS_PATH "/%s", driver);
        if (n < 0 || (size_t) n >= sizeof(path))
                return false;
        return vb_sysfs_exists(ctx, path);
}

int vb_driver_load(VbContext *ctx, const char *driver) {
        int r;

        /* A registered driver means its module is loaded or built in: nothing to do. */
        if (vb_driver_exists(ctx, driver))
                return 0;
        r = vb_context_load_module(ctx, driver);
        if (r < 0)
                return r;
        if (!vb_driver_exists(ctx, driver)) {
                vb_debug(ctx, "the module for %s is loaded, but no PCI driver of that name exists", driver);
                return -ENOENT;
        }
        return r;
}

int vb_driver_from_module(VbContext *ctx, const char *module, char **ret) {
        _cleanup_(strv_freep) char **entries = NULL;
        char path[256], alt[128];
        int n, r;

        n = snprintf(path, sizeof(path), "module/%s/drivers", module);
        if (n < 0 || (size_t) n >= sizeof(path))
                return -ENAMETOOLONG;
        r = vb_sysfs_list(ctx, path, &entries);
        if (r == -ENOMEM)
                return r;
        for (char **e = r >= 0 ? entries : NULL; e && *e; e++) {
                const char *name = startswith(*e, "pci:");
                if (name && vb_driver_exists(ctx, name)) {
                        *ret = strdup(name);
                        return *ret ? 0 : -ENOMEM;
                }
        }

        n = snprintf(alt, sizeof(alt), "%s", module);
        if (n < 0 || (size_t) n >= sizeof(alt))
                return -ENAMETOOLONG;
        for (int pass = 0; pass < 2; pass++) {
                if (vb_driver_exists(ctx, alt)) {
                        *ret = strdup(alt);
                        return *ret ? 0 : -ENOMEM;
                }
                for (char *c = alt; *c; c++)
                        if (*c == '_')
                                *c = '-';
        }
        return -ENOENT;
}

int vb_driver_load_module(VbContext *ctx, const char *module, char **ret_driver) {
        int r, loaded = 0;

        r = vb_driver_from_module(ctx, module, ret_driver);
        if (r != -ENOENT)
                return r;
        loaded = vb_context_load_module(ctx, module);
        if (loaded < 0)
                return loaded;
        r = vb_driver_from_module(ctx, module, ret_driver);
        if (r == -ENOENT)
                vb_debug(ctx, "module %s is loaded, but registers no PCI driver", module);
        return r < 0 ? r : loaded;
}
