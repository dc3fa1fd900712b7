/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "pci-config.h"

#define CFG_STATUS 0x06
#define CFG_STATUS_CAP_LIST 0x10
#define CFG_HEADER_TYPE 0x0e
#define CFG_CAP_PTR 0x34
#define CFG_CARDBUS_CAP_PTR 0x14
#define CFG_SIZE 256
#define CFG_EXP_SIZE 4096
#define CAP_ID_EXP 0x10
#define EXT_CAP_ID_ACS 0x000d
#define CAP_TTL 48 /* the kernel's PCI_FIND_CAP_TTL */
#define EXT_CAP_TTL ((CFG_EXP_SIZE - CFG_SIZE) / 8)

static uint16_t get16(const uint8_t *d, size_t off) {
        return (uint16_t) (d[off] | d[off + 1] << 8);
}

static uint32_t get32(const uint8_t *d, size_t off) {
        return (uint32_t) d[off] | (uint32_t) d[off + 1] << 8 | (uint32_t) d[off + 2] << 16 |
               (uint32_t) d[off + 3] << 24;
}

/* The PCI Express capability in the standard list, as the kernel's pci_find_capability() walks it. */
static void find_pcie(const uint8_t *d, uint8_t header_type, VbPciConfig *c) {
        unsigned pos;

        if (!(get16(d, CFG_STATUS) & CFG_STATUS_CAP_LIST))
                return;
        /* Where the list starts, as __pci_bus_find_cap_start() knows it: for any other header
         * type the kernel finds no capability at all (and does not add the function). */
        switch (header_type) {
        case 0: /* endpoint */
        case 1: /* PCI-to-PCI bridge */
                pos = d[CFG_CAP_PTR];
                break;
        case 2:
                pos = d[CFG_CARDBUS_CAP_PTR];
                break;
        default:
                return;
        }
        for (unsigned ttl = CAP_TTL; ttl > 0; ttl--) {
                pos &= ~3u;
                if (pos < 0x40 || pos + 4 > CFG_SIZE)
                        return;
                if (d[pos] == 0xff)
                        return;
                if (d[pos] == CAP_ID_EXP) {
                        c->pcie = true;
                        c->pcie_type = (VbPcieType) ((get16(d, pos + 2) >> 4) & 0xf);
                        return;
                }
                pos = d[pos + 1];
        }
}

/* The ACS capability in the extended list, as pci_find_ext_capability() walks it. */
static void find_acs(const uint8_t *d, VbPciConfig *c) {
        unsigned pos = CFG_SIZE;

        for (unsigned ttl = EXT_CAP_TTL; ttl > 0; ttl--) {
                uint32_t header = get32(d, pos);

                if (header == 0 || header == 0xffffffffu)
                        return;
                if ((header & 0xffff) == EXT_CAP_ID_ACS) {
                        c->acs = true;
                        c->acs_cap = get16(d, pos + 4);
                        c->acs_ctrl = get16(d, pos + 6);
                        return;
                }
                pos = (header >> 20) & 0xffc;
                if (pos < CFG_SIZE || pos + 8 > CFG_EXP_SIZE)
                        return;
        }
}

int vb_pci_config_parse(const uint8_t *data, size_t size, VbPciConfig *ret) {
        VbPciConfig c = {};

        if (!data || size < 64)
                return -ENODATA;
        c.header_type = data[CFG_HEADER_TYPE] & 0x7f;
        c.multifunction = data[CFG_HEADER_TYPE] & 0x80;
        c.complete = size >= CFG_SIZE;
        if (c.complete)
                find_pcie(data, c.header_type, &c);
        /* Look for ACS only on PCI Express functions. The kernel reads the extended list of any
         * function whose space is 4096 bytes (also host bridges and PCI-X mode 2), but its
         * pci_acs_enabled() answers false for a function without PCI Express before ACS. */
        c.extended = c.complete && size >= CFG_EXP_SIZE;
        if (c.extended && c.pcie)
                find_acs(data, &c);
        *ret = c;
        return 0;
}

uint16_t vb_pci_config_acs_missing(const VbPciConfig *c) {
        uint16_t want = VB_ACS_ISOLATION;

        if (!c->acs)
                return want;
        want &= c->acs_cap | VB_ACS_EC;
        return want & ~c->acs_ctrl;
}

const char *vb_pci_acs_flags_format(uint16_t flags, char *buf, size_t size) {
        static const struct {
                uint16_t bit;
                const char *name;
        } names[] = {
                { VB_ACS_SV, "Source Validation" },
                { VB_ACS_RR, "Request Redirect" },
                { VB_ACS_CR, "Completion Redirect" },
                { VB_ACS_UF, "Upstream Forwarding" },
        };
        size_t n = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                int k;
                if (!(flags & names[i].bit))
                        continue;
                k = snprintf(buf + n, size - n, "%s%s", n ? ", " : "", names[i].name);
                if (k < 0 || (size_t) k >= size - n)
                        break;
                n += (size_t) k;
        }
        return buf;
}

const char *vb_pcie_type_to_string(VbPcieType t) {
        switch (t) {
        case VB_PCIE_ENDPOINT:
                return "endpoint";
        case VB_PCIE_LEGACY_ENDPOINT:
                return "legacy endpoint";
        case VB_PCIE_ROOT_PORT:
                return "root port";
        case VB_PCIE_UPSTREAM_PORT:
                return "switch upstream port";
        case VB_PCIE_DOWNSTREAM_PORT:
                return "downstream port";
        case VB_PCIE_TO_PCI_BRIDGE:
                return "PCIe-to-PCI bridge";
        case VB_PCI_TO_PCIE_BRIDGE:
                return "PCI-to-PCIe bridge";
        case VB_PCIE_RC_ENDPOINT:
                return "integrated endpoint";
        case VB_PCIE_RC_EVENT_COLLECTOR:
                return "event collector";
        }
        return "PCIe function";
}
