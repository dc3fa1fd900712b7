/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "address.h"

int vb_hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

/* Exactly N hex digits at S. */
static int parse_hex_fixed(const char *s, unsigned n, unsigned *ret) {
        unsigned v = 0;

        for (unsigned i = 0; i < n; i++) {
                int d = vb_hex_digit(s[i]);
                if (d < 0)
                        return -EINVAL;
                v = v * 16 + (unsigned) d;
        }
        *ret = v;
        return 0;
}

int vb_pci_address_parse(const char *s, VbPciAddress *ret) {
        unsigned domain, bus, slot, function;
        size_t n = 0;

        /* The kernel's device names are always "%04x:%02x:%02x.%d": be exactly that strict, so
         * that a name read from sysfs and the name we format are the same string. The domain
         * has 4 digits, or 5 to 8 with no leading zero (VMD domains, 10000 and up). */
        if (!s || !ret)
                return -EINVAL;
        while (n < 9 && vb_hex_digit(s[n]) >= 0)
                n++;
        if (n < 4 || n > 8 || (n > 4 && s[0] == '0'))
                return -EINVAL;
        if (parse_hex_fixed(s, (unsigned) n, &domain) < 0)
                return -EINVAL;
        s += n - 4; /* from here on, the layout of "0000:0f:00.0" */
        if (s[4] != ':' || parse_hex_fixed(s + 5, 2, &bus) < 0 || s[7] != ':' || parse_hex_fixed(s + 8, 2, &slot) < 0 ||
            s[10] != '.' || s[11] < '0' || s[11] > '7' || s[12] != '\0')
                return -EINVAL;
        if (slot > 0x1f)
                return -EINVAL;
        function = (unsigned) (s[11] - '0');

        *ret = (VbPciAddress) {
                .domain = (uint32_t) domain,
                .bus = (uint8_t) bus,
                .slot = (uint8_t) slot,
                .function = (uint8_t) function,
        };
        return 0;
}

char *vb_pci_address_format(const VbPciAddress *a, char buf[static VB_PCI_ADDRESS_MAX]) {
        /* By hand: every sysfs path of a device is built from this, and snprintf() costs a
         * hundred times more. */
        static const char hex[] = "0123456789abcdef";
        unsigned digits = 4;
        char *p = buf;

        /* "%04x": at least 4 digits, more when the domain needs them (VMD: 10000 and up). */
        while (digits < 8 && a->domain >> (4 * digits))
                digits++;
        for (unsigned i = digits; i > 0; i--)
                *p++ = hex[(a->domain >> (4 * (i - 1))) & 0xf];
        *p++ = ':';
        *p++ = hex[a->bus >> 4];
        *p++ = hex[a->bus & 0xf];
        *p++ = ':';
        *p++ = hex[(a->slot & 0x1f) >> 4];
        *p++ = hex[a->slot & 0xf];
        *p++ = '.';
        *p++ = (char) ('0' + (a->function & 0x7));
        *p = '\0';
        return buf;
}

bool vb_pci_address_equal(const VbPciAddress *a, const VbPciAddress *b) {
        return vb_pci_address_compare(a, b) == 0;
}

int vb_pci_address_compare(const VbPciAddress *a, const VbPciAddress *b) {
        if (a->domain != b->domain)
                return a->domain < b->domain ? -1 : 1;
        if (a->bus != b->bus)
                return a->bus < b->bus ? -1 : 1;
        if (a->slot != b->slot)
                return a->slot < b->slot ? -1 : 1;
        if (a->function != b->function)
                return a->function < b->function ? -1 : 1;
        return 0;
}

static const VbPciAddress *address_at(const void *base, size_t i, size_t size, size_t offset) {
        return (const VbPciAddress *) (const void *) ((const char *) base + i * size + offset);
}

size_t vb_pci_address_lower_bound(const void *base, size_t n, size_t size, size_t offset, const VbPciAddress *key) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (vb_pci_address_compare(address_at(base, mid, size, offset), key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

void *vb_pci_address_bsearch(const void *base, size_t n, size_t size, size_t offset, const VbPciAddress *key) {
        size_t i = vb_pci_address_lower_bound(base, n, size, offset, key);

        if (i == n || !vb_pci_address_equal(address_at(base, i, size, offset), key))
                return NULL;
        return (char *) base + i * size;
}
