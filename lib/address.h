/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A PCI function address, DDDD:BB:DD.F. The domain has 32 bits: Intel VMD puts the devices
 * behind it in domains 10000 and up, and the kernel prints a domain with "%04x" (4 to 8 digits:
 * "10000:e1:00.0"). */
typedef struct VbPciAddress {
        uint32_t domain;
        uint8_t bus;
        uint8_t slot;     /* 0..31 */
        uint8_t function; /* 0..7 */
} VbPciAddress;

/* The longest, "ffffffff:ff:1f.7", plus NUL. Most are shorter: "0000:01:00.0" has 12 characters,
 * and a domain above ffff adds one character per digit beyond 4. */
#define VB_PCI_ADDRESS_MAX 17

/* The value of one hexadecimal digit (either case), or -EINVAL. */
int vb_hex_digit(char c);

/* Parse a full address "0000:0f:00.0" or "10000:e1:00.0" only, exactly as the kernel names the
 * device ("%04x:%02x:%02x.%d": a domain of 4 digits, or of 5 to 8 without a leading zero). 0 or
 * -EINVAL. */
int vb_pci_address_parse(const char *s, VbPciAddress *ret);
/* Format into BUF (at least VB_PCI_ADDRESS_MAX bytes) as the kernel does, lower case, the domain
 * with at least 4 digits and more only when it needs them; returns BUF. */
char *vb_pci_address_format(const VbPciAddress *a, char buf[static VB_PCI_ADDRESS_MAX]);
bool vb_pci_address_equal(const VbPciAddress *a, const VbPciAddress *b);
/* Domain, then bus, slot, function, each as a number (so 0000:… < ffff:… < 10000:…). */
int vb_pci_address_compare(const VbPciAddress *a, const VbPciAddress *b);

/* Binary search over the N elements of BASE, each SIZE bytes with its address OFFSET bytes in,
 * sorted by address (vb_pci_address_compare()): the index of the first whose address is not below
 * KEY, N if there is none. It is where KEY would be inserted. */
size_t vb_pci_address_lower_bound(const void *base, size_t n, size_t size, size_t offset, const VbPciAddress *key);
/* The same search: the first element whose address is KEY, or NULL. */
void *vb_pci_address_bsearch(const void *base, size_t n, size_t size, size_t offset, const VbPciAddress *key);

/* Both for a typed ARRAY of N elements sorted by their address MEMBER:
 *         const VbPlanEntry *e = VB_PCI_ADDRESS_BSEARCH(p->entries, p->n, address, a); */
#define VB_PCI_ADDRESS_LOWER_BOUND(array, n, member, key) \
        vb_pci_address_lower_bound((array), (n), sizeof((array)[0]), offsetof(__typeof__((array)[0]), member), (key))
#define VB_PCI_ADDRESS_BSEARCH(array, n, member, key)                                       \
        ((__typeof__(&(array)[0])) vb_pci_address_bsearch((array), (n), sizeof((array)[0]), \
                                                          offsetof(__typeof__((array)[0]), member), (key)))

/* Convenience for printing: VB_PCI_ADDRESS_STR(&a) gives a temporary string. */
#define VB_PCI_ADDRESS_STR(a) vb_pci_address_format((a), (char[VB_PCI_ADDRESS_MAX]) {})
