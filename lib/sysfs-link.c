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

bool vb_sysfs_link_pci_parent(const char *target, VbPciAddress *ret) {
        const char *end = target + strlen(target), *last, *prev;
        char comp[VB_PCI_ADDRESS_MAX];

        while (end > target && end[-1] == '/')
                end--;
        last = end;
        while (last > target && last[-1] != '/')
                last--;
        if (last == target)
                return false;
        prev = last - 1;
        while (prev > target && prev[-1] == '/')
                prev--;
        end = prev;
        while (prev > target && prev[-1] != '/')
                prev--;
        if ((size_t) (end - prev) >= VB_PCI_ADDRESS_MAX)
                return false;
        memcpy(comp, prev, (size_t) (end - prev));
        comp[end - prev] = '\0';
        return vb_pci_address_parse(comp, ret) >= 0;
}

/* "pciDDDD:BB", "pci10000:e0": a root bus in a device path. */
static bool is_root_bus(const char *comp, size_t n) {
        size_t digits = 0, i = 3;

        if (n < 8 || !strneq(comp, "pci", 3))
                return false;
        for (; i < n && comp[i] != ':'; i++, digits++)
                if (vb_hex_digit(comp[i]) < 0)
                        return false;
        return digits >= 4 && digits <= 8 && i + 3 == n && vb_hex_digit(comp[i + 1]) >= 0 &&
               vb_hex_digit(comp[i + 2]) >= 0;
}

bool vb_sysfs_link_bus_host(const char *target, VbPciAddress *ret) {
        bool have_device = false, found = false;
        VbPciAddress last = {};
        const char *p = target;

        while (*p) {
                size_t n = strcspn(p, "/");

                if (is_root_bus(p, n)) {
                        if (have_device) {
                                *ret = last;
                                found = true;
                        }
                } else if (n < VB_PCI_ADDRESS_MAX) {
                        char comp[VB_PCI_ADDRESS_MAX];
                        VbPciAddress a;

                        memcpy(comp, p, n);
                        comp[n] = '\0';
                        if (vb_pci_address_parse(comp, &a) >= 0) {
                                last = a;
                                have_device = true;
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
