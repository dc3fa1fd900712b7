/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* A PCI function address, DDDD:BB:DD.F. */
typedef struct VbPciAddress {
        uint16_t domain;
        uint8_t bus;
        uint8_t slot;     /* 0..31 */
        uint8_t function; /* 0..7 */
} VbPciAddress;

/* "0000:01:00.0" plus NUL */
#define VB_PCI_ADDRESS_MAX 13

/* The value of one hexadecimal digit (either case), or -EINVAL. */
int vb_hex_digit(char c);

/* Parse a full address "0000:0f:00.0" only (the kernel's device name). 0 or -EINVAL. */
int vb_pci_address_parse(const char *s, VbPciAddress *ret);
/* Format into BUF (at least VB_PCI_ADDRESS_MAX bytes); returns BUF. */
char *vb_pci_address_format(const VbPciAddress *a, char buf[static VB_PCI_ADDRESS_MAX]);
bool vb_pci_address_equal(const VbPciAddress *a, const VbPciAddress *b);
int vb_pci_address_compare(const VbPciAddress *a, const VbPciAddress *b);

/* Convenience for printing: VB_PCI_ADDRESS_STR(&a) gives a temporary string. */
#define VB_PCI_ADDRESS_STR(a) vb_pci_address_format((a), (char[VB_PCI_ADDRESS_MAX]){})
