/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reset.h"
#include "macro.h"
#include "pci.h"
#include "sysfs.h"

int vb_reset_read(VbContext *ctx, const VbPciAddress *a, char **ret_methods) {
        _cleanup_free_ char *text = NULL;
        const char *dir = VB_PCI_DEVICE_PATH(a, NULL), *methods = VB_PCI_DEVICE_PATH(a, "reset_method"),
                   *reset = VB_PCI_DEVICE_PATH(a, "reset");
        char *out, *w;
        int r;

        *ret_methods = NULL;
        if (!dir || !methods || !reset)
                return -ENAMETOOLONG;
        r = vb_sysfs_read(ctx, methods, &text);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (vb_sysfs_exists(ctx, reset))
                        return VB_RESET_UNKNOWN;
                return vb_sysfs_exists(ctx, dir) ? VB_RESET_NONE : -ENODEV;
        }

        /* Words separated by single spaces, whatever the kernel's spacing. */
        out = w = text;
        for (const char *p = text; *p; p++) {
                if (*p == ' ' || *p == '\n' || *p == '\t') {
                        if (w != out && w[-1] != ' ')
                                *w++ = ' ';
                } else
                        *w++ = *p;
        }
        if (w != out && w[-1] == ' ')
                w--;
        *w = '\0';
        if (!*out)
                return VB_RESET_NONE;
        *ret_methods = TAKE_PTR(text);
        return VB_RESET_METHODS;
}
