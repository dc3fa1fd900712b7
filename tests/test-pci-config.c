/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/pci-config on configuration space built byte by byte: header, capability lists, ACS. */
#include <stdint.h>
#include <string.h>

#include "macro.h"
#include "pci-config.h"
#include "tests.h"

/* Big enough for the whole PCI Express space; the tests hand the parser the first SIZE bytes. */
typedef struct Space {
        uint8_t b[4096];
} Space;

static void put16(Space *s, unsigned pos, uint16_t v) {
        s->b[pos] = v & 0xff;
        s->b[pos + 1] = v >> 8;
}

static void put32(Space *s, unsigned pos, uint32_t v) {
        put16(s, pos, v & 0xffff);
        put16(s, pos + 2, v >> 16);
}

/* A header of type HEADER_TYPE (bit 7 the multifunction bit) whose capability list starts at
 * FIRST (0: no list, the Status bit clear). */
static void header(Space *s, uint8_t header_type, uint8_t first) {
        memset(s->b, 0, sizeof(s->b));
        put16(s, 0x00, 0x8086); /* vendor */
        put16(s, 0x02, 0x1234); /* device */
        s->b[0x0e] = header_type;
        if (first == 0)
                return;
        put16(s, 0x06, 0x0010); /* Status: Capabilities List */
        s->b[(header_type & 0x7f) == 2 ? 0x14 : 0x34] = first;
}

/* A standard capability ID at POS, the next one at NEXT. */
static void cap(Space *s, unsigned pos, uint8_t id, uint8_t next) {
        s->b[pos] = id;
        s->b[pos + 1] = next;
}

/* The PCI Express capability (version 2) of device/port type TYPE. */
static void cap_pcie(Space *s, unsigned pos, VbPcieType type, uint8_t next) {
        cap(s, pos, 0x10, next);
        put16(s, pos + 2, (uint16_t) (0x0002 | type << 4));
}

/* An extended capability header: ID, version 1, the next one at NEXT. */
static void ext_cap(Space *s, unsigned pos, uint16_t id, unsigned next) {
        put32(s, pos, id | 1u << 16 | (uint32_t) next << 20);
}

static void ext_acs(Space *s, unsigned pos, unsigned next, uint16_t acs_cap, uint16_t acs_ctrl) {
        ext_cap(s, pos, 0x000d, next);
        put16(s, pos + 4, acs_cap);
        put16(s, pos + 6, acs_ctrl);
}

/* A PCI Express function of TYPE: the power management capability at 0x40, then MSI at 0x50,
 * then PCI Express at 0x70. */
static void pcie_function(Space *s, uint8_t header_type, VbPcieType type) {
        header(s, header_type, 0x40);
        cap(s, 0x40, 0x01, 0x50);
        cap(s, 0x50, 0x05, 0x70);
        cap_pcie(s, 0x70, type, 0x00);
}

static VbPciConfig parse(const Space *s, size_t size) {
        VbPciConfig c;

        ASSERT_OK(vb_pci_config_parse(s->b, size, &c));
        return c;
}

#define SV VB_ACS_SV
#define TB VB_ACS_TB
#define RR VB_ACS_RR
#define CR VB_ACS_CR
#define UF VB_ACS_UF
#define EC VB_ACS_EC
#define DT VB_ACS_DT

TEST(too_short) {
        Space s;
        VbPciConfig c = { .header_type = 0x42 };

        pcie_function(&s, 0x00, VB_PCIE_ENDPOINT);
        ASSERT_ERRNO(vb_pci_config_parse(s.b, 0, &c), ENODATA);
        ASSERT_ERRNO(vb_pci_config_parse(s.b, 63, &c), ENODATA);
        ASSERT_ERRNO(vb_pci_config_parse(NULL, 4096, &c), ENODATA);
        /* ret untouched on failure */
        ASSERT_EQ(c.header_type, 0x42);
}

TEST(unprivileged_read_of_64_bytes) {
        Space s;
        VbPciConfig c;

        /* What a user who is not root reads: the header only, although the function is a
         * multifunction PCI Express bridge with capabilities. */
        pcie_function(&s, 0x81, VB_PCIE_ROOT_PORT);
        c = parse(&s, 64);
        ASSERT_FALSE(c.complete);
        ASSERT_FALSE(c.extended);
        ASSERT_EQ(c.header_type, 1);
        ASSERT_TRUE(c.multifunction);
        ASSERT_FALSE(c.pcie);
        ASSERT_FALSE(c.acs);
        ASSERT_EQ(vb_pci_config_acs_missing(&c), VB_ACS_ISOLATION);

        /* Anything between the header and the 256 bytes is as incomplete. */
        c = parse(&s, 255);
        ASSERT_FALSE(c.complete);
        ASSERT_FALSE(c.pcie);
}

TEST(conventional_endpoint) {
        Space s;
        VbPciConfig c;

        header(&s, 0x00, 0x40);
        cap(&s, 0x40, 0x01, 0x50); /* power management */
        cap(&s, 0x50, 0x05, 0x00); /* MSI */
        c = parse(&s, 256);
        ASSERT_TRUE(c.complete);
        ASSERT_FALSE(c.extended);
        ASSERT_EQ(c.header_type, 0);
        ASSERT_FALSE(c.multifunction);
        ASSERT_FALSE(c.pcie);
        ASSERT_FALSE(c.acs);

        /* No capability list at all: the Status bit is clear, whatever the pointer says. */
        header(&s, 0x00, 0);
        s.b[0x34] = 0x40;
        cap_pcie(&s, 0x40, VB_PCIE_ENDPOINT, 0);
        c = parse(&s, 256);
        ASSERT_TRUE(c.complete);
        ASSERT_FALSE(c.pcie);
}

TEST(multifunction_bit) {
        Space s;
        VbPciConfig c;

        header(&s, 0x80, 0);
        c = parse(&s, 256);
        ASSERT_EQ(c.header_type, 0);
        ASSERT_TRUE(c.multifunction);

        header(&s, 0x81, 0);
        c = parse(&s, 256);
        ASSERT_EQ(c.header_type, 1);
        ASSERT_TRUE(c.multifunction);

        header(&s, 0x01, 0);
        c = parse(&s, 256);
        ASSERT_EQ(c.header_type, 1);
        ASSERT_FALSE(c.multifunction);
}

TEST(cardbus_capability_pointer) {
        Space s;
        VbPciConfig c;

        /* A CardBus bridge's list starts at 0x14; 0x34 is something else in its header. */
        header(&s, 0x02, 0x80);
        cap_pcie(&s, 0x80, VB_PCIE_ENDPOINT, 0);
        s.b[0x34] = 0x40; /* not a pointer here */
        c = parse(&s, 256);
        ASSERT_EQ(c.header_type, 2);
        ASSERT_TRUE(c.pcie);

        header(&s, 0x02, 0);
        put16(&s, 0x06, 0x0010);
        s.b[0x34] = 0x80;
        cap_pcie(&s, 0x80, VB_PCIE_ENDPOINT, 0);
        c = parse(&s, 256);
        ASSERT_FALSE(c.pcie);
}

TEST(unknown_header_type_has_no_capabilities) {
        Space s;
        VbPciConfig c;

        /* The kernel's __pci_bus_find_cap_start() knows where the list starts only for header
         * types 0, 1 and 2: for any other, pci_find_capability() finds nothing. */
        for (unsigned t = 3; t < 0x80; t++) {
                pcie_function(&s, (uint8_t) t, VB_PCIE_ROOT_PORT);
                ext_acs(&s, 0x100, 0, SV | RR | CR | UF, SV | RR | CR | UF);
                c = parse(&s, 4096);
                ASSERT_EQ(c.header_type, t);
                ASSERT_FALSE(c.pcie);
                ASSERT_FALSE(c.acs);
        }
        pcie_function(&s, 0x83, VB_PCIE_ENDPOINT);
        c = parse(&s, 4096);
        ASSERT_TRUE(c.multifunction);
        ASSERT_FALSE(c.pcie);
}

TEST(pcie_types) {
        static const struct {
                uint8_t header_type;
                VbPcieType type;
        } cases[] = {
                { 0x00, VB_PCIE_ENDPOINT },           { 0x00, VB_PCIE_LEGACY_ENDPOINT },
                { 0x01, VB_PCIE_ROOT_PORT },          { 0x01, VB_PCIE_UPSTREAM_PORT },
                { 0x01, VB_PCIE_DOWNSTREAM_PORT },    { 0x01, VB_PCIE_TO_PCI_BRIDGE },
                { 0x01, VB_PCI_TO_PCIE_BRIDGE },      { 0x00, VB_PCIE_RC_ENDPOINT },
                { 0x00, VB_PCIE_RC_EVENT_COLLECTOR },
        };
        Space s;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                VbPciConfig c;

                pcie_function(&s, cases[i].header_type, cases[i].type);
                c = parse(&s, 4096);
                ASSERT_TRUE(c.complete);
                ASSERT_TRUE(c.extended);
                ASSERT_TRUE(c.pcie);
                ASSERT_EQ(c.pcie_type, cases[i].type);
                ASSERT_EQ(c.header_type, cases[i].header_type);
                ASSERT_FALSE(c.acs); /* 0x100 is all zero: no extended capability */

                /* The 256 bytes of a function whose extended space is not there say the same. */
                c = parse(&s, 256);
                ASSERT_TRUE(c.pcie);
                ASSERT_EQ(c.pcie_type, cases[i].type);
        }
}

TEST(pcie_capability_version_and_other_bits) {
        Space s;
        VbPciConfig c;

        /* Only bits 7:4 of the PCI Express Capabilities register are the type. */
        pcie_function(&s, 0x01, VB_PCIE_DOWNSTREAM_PORT);
        put16(&s, 0x72, 0xff6f);
        c = parse(&s, 256);
        ASSERT_TRUE(c.pcie);
        ASSERT_EQ(c.pcie_type, VB_PCIE_DOWNSTREAM_PORT);

        /* Pointers have their low two bits ignored. */
        pcie_function(&s, 0x00, VB_PCIE_ENDPOINT);
        cap(&s, 0x50, 0x05, 0x73);
        put16(&s, 0x72, 0x0092);
        c = parse(&s, 256);
        ASSERT_TRUE(c.pcie);
        ASSERT_EQ(c.pcie_type, VB_PCIE_RC_ENDPOINT);
}

TEST(first_pcie_capability_wins) {
        Space s;
        VbPciConfig c;

        pcie_function(&s, 0x01, VB_PCIE_ROOT_PORT);
        cap_pcie(&s, 0x70, VB_PCIE_ROOT_PORT, 0x90);
        cap_pcie(&s, 0x90, VB_PCIE_DOWNSTREAM_PORT, 0x00);
        c = parse(&s, 256);
        ASSERT_EQ(c.pcie_type, VB_PCIE_ROOT_PORT);
}

TEST(capability_list_ends) {
        Space s;
        VbPciConfig c;

        /* A pointer into the header ends the list (the kernel: pos < 0x40). */
        pcie_function(&s, 0x00, VB_PCIE_ENDPOINT);
        cap(&s, 0x50, 0x05, 0x3c);
        c = parse(&s, 256);
        ASSERT_FALSE(c.pcie);

        /* So does ID 0xff (a function that is gone reads all ones). */
        pcie_function(&s, 0x00, VB_PCIE_ENDPOINT);
        cap(&s, 0x50, 0xff, 0x70);
        c = parse(&s, 256);
        ASSERT_FALSE(c.pcie);

        /* And a first pointer under 0x40. */
        pcie_function(&s, 0x00, VB_PCIE_ENDPOINT);
        s.b[0x34] = 0x10;
        c = parse(&s, 256);
        ASSERT_FALSE(c.pcie);

        /* 0xfc is the last place a capability can be. */
        pcie_function(&s, 0x00, VB_PCIE_ENDPOINT);
        cap(&s, 0x50, 0x05, 0xff);
        cap_pcie(&s, 0xfc, VB_PCIE_LEGACY_ENDPOINT, 0x00);
        c = parse(&s, 256);
        ASSERT_TRUE(c.pcie);
        ASSERT_EQ(c.pcie_type, VB_PCIE_LEGACY_ENDPOINT);
}

TEST(capability_list_loops) {
        Space s;
        VbPciConfig c;

        /* 0x40 -> 0x50 -> 0x40 -> …: the walk ends (TTL) without finding anything. */
        pcie_function(&s, 0x00, VB_PCIE_ENDPOINT);
        cap(&s, 0x50, 0x05, 0x40);
        c = parse(&s, 4096);
        ASSERT_FALSE(c.pcie);
        ASSERT_FALSE(c.acs);

        /* A capability pointing to itself. */
        pcie_function(&s, 0x00, VB_PCIE_ENDPOINT);
        cap(&s, 0x40, 0x01, 0x40);
        c = parse(&s, 256);
        ASSERT_FALSE(c.pcie);

        /* The longest list there can be without a loop: 48 capabilities, 0x40 to 0xfc, the
         * last PCI Express. */
        header(&s, 0x00, 0x40);
        for (unsigned pos = 0x40; pos < 0xfc; pos += 4)
                cap(&s, pos, 0x09, (uint8_t) (pos + 4));
        cap_pcie(&s, 0xfc, VB_PCIE_ENDPOINT, 0);
        c = parse(&s, 256);
        ASSERT_TRUE(c.pcie);
}

TEST(acs_registers) {
        Space s;
        VbPciConfig c;

        pcie_function(&s, 0x01, VB_PCIE_ROOT_PORT);
        ext_acs(&s, 0x100, 0, 0x005f, 0x001d);
        c = parse(&s, 4096);
        ASSERT_TRUE(c.extended);
        ASSERT_TRUE(c.pcie);
        ASSERT_TRUE(c.acs);
        ASSERT_EQ(c.acs_cap, 0x005f);
        ASSERT_EQ(c.acs_ctrl, 0x001d);
        ASSERT_EQ(vb_pci_config_acs_missing(&c), 0);
}

TEST(acs_after_another_extended_capability) {
        Space s;
        VbPciConfig c;

        /* AER at 0x100, then a vendor-specific one, then ACS at 0x2a0. */
        pcie_function(&s, 0x01, VB_PCIE_DOWNSTREAM_PORT);
        ext_cap(&s, 0x100, 0x0001, 0x148);
        ext_cap(&s, 0x148, 0x000b, 0x2a0);
        ext_acs(&s, 0x2a0, 0x000, SV | RR | CR | UF | EC, RR);
        c = parse(&s, 4096);
        ASSERT_TRUE(c.acs);
        ASSERT_EQ(c.acs_cap, SV | RR | CR | UF | EC);
        ASSERT_EQ(c.acs_ctrl, RR);
        ASSERT_EQ(vb_pci_config_acs_missing(&c), SV | CR | UF);

        /* Low two bits of the next pointer ignored: 0x2a3 is 0x2a0. */
        ext_cap(&s, 0x148, 0x000b, 0x2a3);
        c = parse(&s, 4096);
        ASSERT_TRUE(c.acs);
        ASSERT_EQ(c.acs_ctrl, RR);
}

TEST(acs_missing_flags) {
        Space s;
        VbPciConfig c;

        pcie_function(&s, 0x01, VB_PCIE_ROOT_PORT);

        /* Everything offered and enabled. */
        ext_acs(&s, 0x100, 0, SV | TB | RR | CR | UF | EC | DT, SV | RR | CR | UF);
        c = parse(&s, 4096);
        ASSERT_EQ(vb_pci_config_acs_missing(&c), 0);

        /* Request Redirect and Upstream Forwarding offered but switched off. */
        ext_acs(&s, 0x100, 0, SV | TB | RR | CR | UF | EC | DT, SV | CR);
        c = parse(&s, 4096);
        ASSERT_EQ(vb_pci_config_acs_missing(&c), RR | UF);

        /* A port that does not offer Upstream Forwarding control: hard-wired, counts as
         * enabled (the kernel's pci_acs_flags_enabled()). */
        ext_acs(&s, 0x100, 0, SV | RR | CR, SV | RR | CR);
        c = parse(&s, 4096);
        ASSERT_EQ(vb_pci_config_acs_missing(&c), 0);
        ext_acs(&s, 0x100, 0, SV | RR | CR, SV);
        c = parse(&s, 4096);
        ASSERT_EQ(vb_pci_config_acs_missing(&c), RR | CR);

        /* A capability offering nothing: nothing can be missing. */
        ext_acs(&s, 0x100, 0, 0, 0);
        c = parse(&s, 4096);
        ASSERT_TRUE(c.acs);
        ASSERT_EQ(vb_pci_config_acs_missing(&c), 0);

        /* Controls outside the isolation set never count. */
        ext_acs(&s, 0x100, 0, 0xffff, SV | RR | CR | UF);
        c = parse(&s, 4096);
        ASSERT_EQ(vb_pci_config_acs_missing(&c), 0);

        /* No ACS capability: all four missing. */
        ext_cap(&s, 0x100, 0x0001, 0);
        c = parse(&s, 4096);
        ASSERT_FALSE(c.acs);
        ASSERT_EQ(vb_pci_config_acs_missing(&c), VB_ACS_ISOLATION);
}

TEST(acs_needs_the_extended_space) {
        Space s;
        VbPciConfig c;

        /* 256 bytes of a PCI Express function (a root's read on a platform without extended
         * configuration access): the ACS capability, if any, cannot be seen. */
        pcie_function(&s, 0x01, VB_PCIE_ROOT_PORT);
        ext_acs(&s, 0x100, 0, SV | RR | CR | UF, SV | RR | CR | UF);
        c = parse(&s, 256);
        ASSERT_TRUE(c.complete);
        ASSERT_FALSE(c.extended);
        ASSERT_TRUE(c.pcie);
        ASSERT_FALSE(c.acs);
        ASSERT_EQ(vb_pci_config_acs_missing(&c), VB_ACS_ISOLATION);

        c = parse(&s, 4095);
        ASSERT_FALSE(c.extended);
        ASSERT_FALSE(c.acs);

        /* Extended capabilities of a function without the PCI Express capability are not
         * looked at. */
        header(&s, 0x01, 0x40);
        cap(&s, 0x40, 0x01, 0x00);
        ext_acs(&s, 0x100, 0, SV | RR | CR | UF, SV | RR | CR | UF);
        c = parse(&s, 4096);
        ASSERT_TRUE(c.extended);
        ASSERT_FALSE(c.pcie);
        ASSERT_FALSE(c.acs);
}

TEST(extended_list_ends) {
        Space s;
        VbPciConfig c;

        pcie_function(&s, 0x01, VB_PCIE_ROOT_PORT);

        /* A next pointer back into the standard space ends the list. */
        ext_acs(&s, 0x0fc, 0, SV, SV);
        ext_cap(&s, 0x100, 0x0001, 0x0fc);
        c = parse(&s, 4096);
        ASSERT_FALSE(c.acs);

        /* All ones (a function that is gone) at 0x100. */
        put32(&s, 0x100, 0xffffffff);
        c = parse(&s, 4096);
        ASSERT_FALSE(c.acs);

        /* The last place with room for ACS's registers. */
        ext_cap(&s, 0x100, 0x0001, 0xff8);
        ext_acs(&s, 0xff8, 0, SV | RR, SV);
        c = parse(&s, 4096);
        ASSERT_TRUE(c.acs);
        ASSERT_EQ(c.acs_cap, SV | RR);
        ASSERT_EQ(c.acs_ctrl, SV);
}

TEST(extended_list_loops) {
        Space s;
        VbPciConfig c;

        pcie_function(&s, 0x01, VB_PCIE_ROOT_PORT);
        ext_cap(&s, 0x100, 0x0001, 0x140);
        ext_cap(&s, 0x140, 0x0019, 0x100);
        c = parse(&s, 4096);
        ASSERT_TRUE(c.pcie);
        ASSERT_FALSE(c.acs);

        /* A capability pointing to itself. */
        ext_cap(&s, 0x100, 0x0001, 0x100);
        c = parse(&s, 4096);
        ASSERT_FALSE(c.acs);

        /* The walk stops after 480 capabilities (the kernel's TTL): ACS as the 480th is
         * found, as the 481st not (4 bytes apart: headers only). */
        for (unsigned i = 0; i < 479; i++)
                ext_cap(&s, 0x100 + 4 * i, 0x000b, 0x100 + 4 * (i + 1));
        ext_acs(&s, 0x100 + 4 * 479, 0, SV, SV);
        c = parse(&s, 4096);
        ASSERT_TRUE(c.acs);
        ext_cap(&s, 0x100 + 4 * 479, 0x000b, 0x100 + 4 * 480);
        ext_acs(&s, 0x100 + 4 * 480, 0, SV, SV);
        c = parse(&s, 4096);
        ASSERT_FALSE(c.acs);
}

TEST(acs_flags_format) {
        char buf[VB_PCI_ACS_FLAGS_MAX];

        ASSERT_STREQ(vb_pci_acs_flags_format(RR | UF, buf, sizeof(buf)), "Request Redirect, Upstream Forwarding");
        ASSERT_STREQ(vb_pci_acs_flags_format(VB_ACS_ISOLATION, buf, sizeof(buf)),
                     "Source Validation, Request Redirect, Completion Redirect, Upstream Forwarding");
        ASSERT_STREQ(vb_pci_acs_flags_format(SV, buf, sizeof(buf)), "Source Validation");
        ASSERT_STREQ(vb_pci_acs_flags_format(CR | TB | EC | DT, buf, sizeof(buf)), "Completion Redirect");
        ASSERT_STREQ(vb_pci_acs_flags_format(0, buf, sizeof(buf)), "");
        ASSERT_STREQ(vb_pci_acs_flags_format(TB | EC | DT, buf, sizeof(buf)), "");

        /* A buffer too small holds what fits, terminated; nothing is written past it. */
        memset(buf, 'x', sizeof(buf));
        ASSERT_TRUE(vb_pci_acs_flags_format(RR, buf, 0) == buf);
        ASSERT_EQ(buf[0], 'x');
        ASSERT_STREQ(vb_pci_acs_flags_format(RR, buf, 1), "");
        ASSERT_EQ(buf[1], 'x');
        vb_pci_acs_flags_format(VB_ACS_ISOLATION, buf, 20);
        ASSERT_TRUE(strlen(buf) < 20);
        ASSERT_EQ(buf[20], 'x');
}

TEST(pcie_type_to_string) {
        ASSERT_STREQ(vb_pcie_type_to_string(VB_PCIE_ENDPOINT), "endpoint");
        ASSERT_STREQ(vb_pcie_type_to_string(VB_PCIE_ROOT_PORT), "root port");
        ASSERT_STREQ(vb_pcie_type_to_string(VB_PCIE_UPSTREAM_PORT), "switch upstream port");
        ASSERT_STREQ(vb_pcie_type_to_string(VB_PCIE_DOWNSTREAM_PORT), "downstream port");
        ASSERT_STREQ(vb_pcie_type_to_string(VB_PCIE_TO_PCI_BRIDGE), "PCIe-to-PCI bridge");
        ASSERT_STREQ(vb_pcie_type_to_string(VB_PCI_TO_PCIE_BRIDGE), "PCI-to-PCIe bridge");
        ASSERT_STREQ(vb_pcie_type_to_string(VB_PCIE_RC_ENDPOINT), "integrated endpoint");
        /* Reserved values still name something. */
        for (unsigned t = 0; t < 16; t++)
                ASSERT_TRUE(vb_pcie_type_to_string((VbPcieType) t)[0] != '\0');
        ASSERT_STREQ(vb_pcie_type_to_string((VbPcieType) 0x2), "PCIe function");
}

TESTS_MAIN()
