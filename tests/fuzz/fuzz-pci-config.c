/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: vb_pci_config_parse() (lib/pci-config.h) on the bytes of a sysfs "config"
 * file, what the IOMMU grouping facts (header type, PCI Express port type, ACS) are read from.
 * Inputs over 8192 bytes are not fuzzed (the file is at most 4096).
 *
 * Oracles: -ENODATA exactly when the input is under 64 bytes, and then the result untouched;
 * the header type and multifunction bit are byte 0x0e's; complete exactly from 256 bytes,
 * extended exactly from 4096; PCI Express only when complete, ACS only on a PCI Express function
 * with the extended space. The PCI Express capability and the ACS capability are looked for
 * again here, by walks written apart from the parser's: the standard list with a bitmap of the
 * places seen (a place seen twice is a loop; 48 places from 0x40 to 0xfc, so this ends where the
 * kernel's TTL of 48 does), the extended list recursively with the kernel's depth of 480. PCI
 * Express is found exactly when this walk finds it, with the type nibble of the capability it
 * found; ACS exactly when this walk finds it, at a 4-aligned place from 0x100 whose 16-bit ID is
 * 0x000d, with the capability and control registers the 16-bit words 4 and 6 bytes after it.
 * Parsing only the first 256 (or 64, or 4096) bytes gives the same facts up to what those bytes
 * can say; parsing twice gives the same. vb_pci_config_acs_missing() is within VB_ACS_ISOLATION,
 * all of it without ACS, else exactly the controls the capability offers and the control
 * register leaves off. vb_pci_acs_flags_format() in a VB_PCI_ACS_FLAGS_MAX buffer: terminated,
 * nothing written past it, empty exactly when no isolation flag is set, each flag's name there
 * exactly when the flag is; in buffers of 0, 1, 5 and an input-chosen size: nothing written past
 * the buffer, a terminated prefix of the full text. vb_pcie_type_to_string() never empty.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "pci-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX 8192
#define GUARD 16

static unsigned le16(const uint8_t *d, unsigned pos) {
        return d[pos] + 256u * d[pos + 1];
}

/* Where the PCI Express capability is in the standard list, 0 if nowhere. */
static unsigned pcie_at(const uint8_t *d) {
        bool seen[256] = {};
        unsigned ptr;

        if (!(d[0x06] & 0x10)) /* Status: Capabilities List */
                return 0;
        switch (d[0x0e] & 0x7f) {
        case 0x00:
        case 0x01:
                ptr = d[0x34];
                break;
        case 0x02:
                ptr = d[0x14];
                break;
        default:
                return 0;
        }
        while (ptr >= 0x40) {
                unsigned at = ptr - ptr % 4;

                if (seen[at] || d[at] == 0xff)
                        return 0;
                seen[at] = true;
                if (d[at] == 0x10)
                        return at;
                ptr = d[at + 1];
        }
        return 0;
}

/* Where ACS is in the extended list from AT, looking at DEPTH capabilities at most; 0 if nowhere.
 * A next pointer into the standard space ends the list; one with no room for the 8 bytes of ACS's
 * header and registers too (the kernel would still read the header at 0xffc, and the registers
 * beyond the 4096 bytes as all ones: there are no bytes here to say so). */
static unsigned acs_at(const uint8_t *d, unsigned at, unsigned depth) {
        unsigned next;

        if (depth == 0)
                return 0;
        if (le16(d, at) == 0x000d)
                return at;
        next = le16(d, at + 2) >> 4 & ~3u;
        if (next < 256 || next + 8 > 4096)
                return 0;
        return acs_at(d, next, depth - 1);
}

static bool same(const VbPciConfig *a, const VbPciConfig *b) {
        return a->complete == b->complete && a->extended == b->extended && a->header_type == b->header_type &&
               a->multifunction == b->multifunction && a->pcie == b->pcie &&
               (!a->pcie || a->pcie_type == b->pcie_type) && a->acs == b->acs &&
               (!a->acs || (a->acs_cap == b->acs_cap && a->acs_ctrl == b->acs_ctrl));
}

static VbPciConfig parse_ok(const uint8_t *data, size_t size) {
        VbPciConfig c;

        if (vb_pci_config_parse(data, size, &c) != 0)
                abort();
        return c;
}

static void check_format(uint16_t flags, size_t small) {
        static const struct {
                uint16_t bit;
                const char *name;
        } names[] = {
                { VB_ACS_SV, "Source Validation" },
                { VB_ACS_RR, "Request Redirect" },
                { VB_ACS_CR, "Completion Redirect" },
                { VB_ACS_UF, "Upstream Forwarding" },
        };
        char full[VB_PCI_ACS_FLAGS_MAX + GUARD], buf[VB_PCI_ACS_FLAGS_MAX + GUARD];
        const size_t sizes[] = { 0, 1, 5, small };
        size_t len, commas = 0, set = 0;

        memset(full, 0x5a, sizeof(full));
        if (vb_pci_acs_flags_format(flags, full, VB_PCI_ACS_FLAGS_MAX) != full)
                abort();
        len = strnlen(full, VB_PCI_ACS_FLAGS_MAX);
        if (len == VB_PCI_ACS_FLAGS_MAX)
                abort();
        for (size_t i = VB_PCI_ACS_FLAGS_MAX; i < sizeof(full); i++)
                if (full[i] != 0x5a)
                        abort();
        if ((len > 0) != ((flags & VB_ACS_ISOLATION) != 0))
                abort();
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                if (!!strstr(full, names[i].name) != !!(flags & names[i].bit))
                        abort();
                set += !!(flags & names[i].bit);
        }
        for (const char *p = full; (p = strstr(p, ", ")); p += 2)
                commas++;
        if (set > 0 && commas != set - 1)
                abort();

        for (size_t k = 0; k < ELEMENTSOF(sizes); k++) {
                size_t n = sizes[k];

                memset(buf, 0x5a, sizeof(buf));
                if (vb_pci_acs_flags_format(flags, buf, n) != buf)
                        abort();
                for (size_t i = n; i < sizeof(buf); i++)
                        if (buf[i] != 0x5a)
                                abort();
                if (n == 0)
                        continue;
                len = strnlen(buf, n);
                if (len == n || memcmp(buf, full, len) != 0)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        VbPciConfig c, again, poison;
        uint16_t missing, input_flags;
        size_t small;
        int r;

        if (size > INPUT_MAX)
                return 0;

        memset(&poison, 0xa5, sizeof(poison));
        c = poison;
        r = vb_pci_config_parse(data, size, &c);
        input_flags = size >= 2 ? (uint16_t) le16(data, (unsigned) size - 2) : 0;
        small = size > 0 ? data[size - 1] % (VB_PCI_ACS_FLAGS_MAX + 1) : 0;
        check_format(input_flags, small);
        if (size < 64) {
                if (r != -ENODATA || memcmp(&c, &poison, sizeof(c)) != 0)
                        abort();
                return 0;
        }
        if (r != 0)
                abort();

        /* The header. */
        if (c.header_type != (data[0x0e] & 0x7f) || c.multifunction != !!(data[0x0e] & 0x80))
                abort();
        if (c.complete != (size >= 256) || c.extended != (size >= 4096))
                abort();
        if ((c.pcie && !c.complete) || (c.acs && !(c.pcie && c.extended)))
                abort();

        /* The capabilities, found again. */
        if (c.complete) {
                unsigned at = pcie_at(data);

                if (c.pcie != (at != 0))
                        abort();
                if (c.pcie && c.pcie_type != (VbPcieType) (data[at + 2] >> 4))
                        abort();
        }
        if (c.pcie && c.extended) {
                unsigned at = acs_at(data, 256, 480);

                if (c.acs != (at != 0))
                        abort();
                if (c.acs && (at % 4 != 0 || at < 256 || at + 8 > 4096 || le16(data, at) != 0x000d ||
                              c.acs_cap != le16(data, at + 4) || c.acs_ctrl != le16(data, at + 6)))
                        abort();
        }

        /* Fewer bytes say the same, as far as they go; twice says the same. */
        again = parse_ok(data, 64);
        if (again.complete || again.pcie || again.acs || again.header_type != c.header_type ||
            again.multifunction != c.multifunction)
                abort();
        if (c.complete) {
                again = parse_ok(data, 256);
                if (!again.complete || again.extended || again.acs || again.header_type != c.header_type ||
                    again.multifunction != c.multifunction || again.pcie != c.pcie ||
                    (c.pcie && again.pcie_type != c.pcie_type))
                        abort();
        }
        if (c.extended) {
                again = parse_ok(data, 4096);
                if (!same(&c, &again))
                        abort();
        }
        again = parse_ok(data, size);
        if (!same(&c, &again))
                abort();

        /* What is missing for isolation, as pci_acs_flags_enabled() judges it. */
        missing = vb_pci_config_acs_missing(&c);
        if (missing & ~VB_ACS_ISOLATION)
                abort();
        if (!c.acs && missing != VB_ACS_ISOLATION)
                abort();
        for (uint16_t bit = 1; c.acs && bit; bit <<= 1) {
                bool want = (bit & VB_ACS_ISOLATION) && (c.acs_cap & bit) && !(c.acs_ctrl & bit);

                if (!!(missing & bit) != want)
                        abort();
        }
        check_format(missing, small);
        if (c.acs)
                check_format(c.acs_ctrl, small);

        if (c.pcie && vb_pcie_type_to_string(c.pcie_type)[0] == '\0')
                abort();
        return 0;
}
