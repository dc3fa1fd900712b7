/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <string.h>

#include "macro.h"
#include "sysfs-link.h"

bool vb_sysfs_link_pci_ancestor(const char *target, VbPciAddress *ret) {
        bool found = false;
        const char *p = target;

        while (*p) {
                char comp[VB_PCI_ADDRESS_MAX];
                size_t n = strcspn(p, "/");
                VbPciAddress a;

                /* Any component that fits is tried: the address parser is strict. */
                if (n < VB_PCI_ADDRESS_MAX) {
                        memcpy(comp, p, n);
                        comp[n] = '\0';
                        if (vb_pci_address_parse(comp, &a) >= 0) {
                                *ret = a;
                                found = true;
                        }
                }
                p += n;
                p += strspn(p, "/");
        }
        return found;
}

bool vb_sysfs_link_name_is_safe(const char *s) {
        return s && *s && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..") && strlen(s) < NAME_MAX;
}
