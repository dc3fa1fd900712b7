/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI addresses and device selectors: parsing, canonical form, errors, matching. */

#include "address.h"
#include "macro.h"
#include "selector.h"
#include "tests.h"

#define ADDR(d, b, s, f) ((VbPciAddress) { .domain = (d), .bus = (b), .slot = (s), .function = (f) })

TEST(address_parse_kernel_form) {
        VbPciAddress a;

        ASSERT_OK(vb_pci_address_parse("0000:0f:00.0", &a));
        ASSERT_EQ(a.domain, 0);
        ASSERT_EQ(a.bus, 0x0f);
        ASSERT_EQ(a.slot, 0);
        ASSERT_EQ(a.function, 0);

        ASSERT_OK(vb_pci_address_parse("ffff:ff:1f.7", &a));
        ASSERT_EQ(a.domain, 0xffff);
        ASSERT_EQ(a.bus, 0xff);
        ASSERT_EQ(a.slot, 0x1f);
        ASSERT_EQ(a.function, 7);

        ASSERT_OK(vb_pci_address_parse("10DE:0A:1B.3", &a));
        ASSERT_EQ(a.domain, 0x10de);
        ASSERT_EQ(a.bus, 0x0a);
        ASSERT_EQ(a.slot, 0x1b);
        ASSERT_EQ(a.function, 3);
}

TEST(address_parse_rejects) {
        static const char *const bad[] = {
                "",
                "0f:00.0",      /* the kernel always writes the domain */
                "0000:0f:00",   /* a slot, not a function */
                "0000:0f:00.8", /* function */
                "0000:0f:20.0", /* device > 1f */
                "0000:0g:00.0",
                "00000:0f:00.0",
                "0000:0f:00.0 ",
                "0000:0f:00.00",
                "0000:f:00.0",
                "0000-0f:00.0",
                "0000:0f-00.0",
                "0000:0f:00-0",
                "0000:0f:00.",
                "000:0f:00.0",
                "0000:0f:00.0\n",
                /* domains above ffff: the kernel prints them with "%04x", so never with a
                 * leading zero, and never with more than 8 digits */
                "010000:e1:00.0",
                "00010000:e1:00.0",
                "0ffff:00:00.0",
                "100000000:e1:00.0",
                "000000000:00:00.0",
                "fffffffff:ff:1f.7",
                "10000:e1:00",
                "10000:e1:00.0 ",
                "10000:e1:0.0",
                "10000:e1:20.0",
                "10000-e1:00.0",
                "1000g:e1:00.0",
        };
        VbPciAddress a = ADDR(1, 2, 3, 4);

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (vb_pci_address_parse(bad[i], &a) != -EINVAL)
                        TEST_FAIL("\"%s\" was accepted", bad[i]);
        }
        /* not written on failure */
        ASSERT_EQ(a.domain, 1);
        ASSERT_EQ(a.function, 4);
        ASSERT_ERRNO(vb_pci_address_parse(NULL, &a), EINVAL);
}

TEST(address_format_roundtrip) {
        char buf[VB_PCI_ADDRESS_MAX];
        VbPciAddress a = ADDR(0x1, 0xab, 0x1f, 7), b;

        ASSERT_STREQ(vb_pci_address_format(&a, buf), "0001:ab:1f.7");
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&a), "0001:ab:1f.7");
        ASSERT_OK(vb_pci_address_parse(buf, &b));
        ASSERT_TRUE(vb_pci_address_equal(&a, &b));

        a = ADDR(0, 0, 0, 0);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&a), "0000:00:00.0");
        ASSERT_EQ(strlen(VB_PCI_ADDRESS_STR(&a)), 12);
        /* the longest fills the buffer exactly */
        a = ADDR(0xffffffff, 0xff, 0x1f, 7);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&a), "ffffffff:ff:1f.7");
        ASSERT_EQ(strlen(VB_PCI_ADDRESS_STR(&a)) + 1, VB_PCI_ADDRESS_MAX);

        /* Every bus, slot and function, on a few domains: what the kernel's "%04x:%02x:%02x.%d"
         * gives, and back. */
        static const unsigned domains[] = { 0,       1,       0xa,      0x10,      0x100,      0xabcd,    0xffff,
                                            0x10000, 0x1abcd, 0x100000, 0xfedcba9, 0x80000000, 0xffffffff };
        for (size_t i = 0; i < ELEMENTSOF(domains); i++)
                for (unsigned bus = 0; bus <= 0xff; bus++)
                        for (unsigned slot = 0; slot <= 0x1f; slot++)
                                for (unsigned fn = 0; fn <= 7; fn++) {
                                        char want[32];
                                        a = ADDR(domains[i], bus, slot, fn);
                                        snprintf(want, sizeof(want), "%04x:%02x:%02x.%u", domains[i], bus, slot, fn);
                                        ASSERT_STREQ(vb_pci_address_format(&a, buf), want);
                                        ASSERT_OK(vb_pci_address_parse(buf, &b));
                                        ASSERT_TRUE(vb_pci_address_equal(&a, &b));
                                }
}

/* Intel VMD: the devices behind the controller are in domains 10000 and up, which the kernel
 * names with "%04x": 5 to 8 digits, no leading zero. */
TEST(address_parse_vmd_domains) {
        static const struct {
                const char *s;
                uint32_t domain;
                uint8_t bus, slot, function;
        } good[] = {
                { "10000:e1:00.0", 0x10000, 0xe1, 0, 0 },
                { "10000:e0:1d.0", 0x10000, 0xe0, 0x1d, 0 },
                { "1abcd:00:00.7", 0x1abcd, 0, 0, 7 },
                { "100000:01:02.3", 0x100000, 1, 2, 3 },
                { "fedcba9:ff:1f.7", 0xfedcba9, 0xff, 0x1f, 7 },
                { "10000000:00:00.0", 0x10000000, 0, 0, 0 },
                { "ffffffff:ff:1f.7", 0xffffffff, 0xff, 0x1f, 7 },
                { "ABCDEF12:0A:1B.3", 0xabcdef12, 0x0a, 0x1b, 3 }, /* either case, like 4 digits */
        };
        VbPciAddress a;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                if (vb_pci_address_parse(good[i].s, &a) < 0)
                        TEST_FAIL("\"%s\" was rejected", good[i].s);
                ASSERT_EQ(a.domain, good[i].domain);
                ASSERT_EQ(a.bus, good[i].bus);
                ASSERT_EQ(a.slot, good[i].slot);
                ASSERT_EQ(a.function, good[i].function);
        }
}

TEST(address_format_digits) {
        /* At least 4 digits, one more for each hex digit the domain needs beyond them. */
        static const struct {
                uint32_t domain;
                const char *s;
        } cases[] = {
                { 0xffff, "ffff:00:00.0" },         { 0x10000, "10000:00:00.0" },
                { 0xfffff, "fffff:00:00.0" },       { 0x100000, "100000:00:00.0" },
                { 0xffffff, "ffffff:00:00.0" },     { 0x1000000, "1000000:00:00.0" },
                { 0xfffffff, "fffffff:00:00.0" },   { 0x10000000, "10000000:00:00.0" },
                { 0xffffffff, "ffffffff:00:00.0" },
        };
        char buf[VB_PCI_ADDRESS_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                VbPciAddress a = ADDR(cases[i].domain, 0, 0, 0), b;

                ASSERT_STREQ(vb_pci_address_format(&a, buf), cases[i].s);
                ASSERT_OK(vb_pci_address_parse(buf, &b));
                ASSERT_TRUE(vb_pci_address_equal(&a, &b));
        }

        /* Every domain with one bit set, and its neighbours: what "%04x" gives, and back. */
        for (unsigned bit = 0; bit < 32; bit++)
                for (int delta = -1; delta <= 1; delta++) {
                        uint32_t d = (uint32_t) ((1u << bit) + (unsigned) delta);
                        VbPciAddress a = ADDR(d, 0xe1, 0x1d, 5), b;
                        char want[32];

                        snprintf(want, sizeof(want), "%04x:e1:1d.5", (unsigned) d);
                        ASSERT_STREQ(vb_pci_address_format(&a, buf), want);
                        ASSERT_OK(vb_pci_address_parse(buf, &b));
                        ASSERT_TRUE(vb_pci_address_equal(&a, &b));
                }
}

TEST(address_compare) {
        VbPciAddress a = ADDR(0, 1, 0, 0), b = ADDR(0, 1, 0, 1), c = ADDR(0, 2, 0, 0), d = ADDR(1, 0, 0, 0),
                     e = ADDR(0, 1, 1, 0);

        ASSERT_EQ(vb_pci_address_compare(&a, &a), 0);
        ASSERT_INT(vb_pci_address_compare(&a, &b), <, 0);
        ASSERT_INT(vb_pci_address_compare(&b, &a), >, 0);
        ASSERT_INT(vb_pci_address_compare(&b, &e), <, 0); /* slot before function */
        ASSERT_INT(vb_pci_address_compare(&e, &c), <, 0); /* bus before slot */
        ASSERT_INT(vb_pci_address_compare(&c, &d), <, 0); /* domain first */
        ASSERT_TRUE(vb_pci_address_equal(&a, &a));
        ASSERT_FALSE(vb_pci_address_equal(&a, &b));
}

static int cmp_address(const void *a, const void *b) {
        return vb_pci_address_compare(a, b);
}

TEST(address_compare_domains) {
        /* By number, not by string: "10000:…" sorts after "ffff:…" although '1' < 'f'. */
        static const char *const sorted[] = {
                "0000:00:00.0",  "0000:e1:00.0",  "0001:00:00.0",   "ffff:ff:1f.7",
                "10000:00:00.0", "10000:e0:1d.0", "10000:e1:00.0",  "10000:e1:00.1",
                "10001:00:00.0", "fffff:ff:1f.7", "100000:00:00.0", "ffffffff:ff:1f.7",
        };
        VbPciAddress a[ELEMENTSOF(sorted)];

        for (size_t i = 0; i < ELEMENTSOF(sorted); i++)
                ASSERT_OK(vb_pci_address_parse(sorted[i], &a[ELEMENTSOF(sorted) - 1 - i]));
        for (size_t i = 0; i + 1 < ELEMENTSOF(sorted); i++)
                ASSERT_INT(vb_pci_address_compare(&a[i + 1], &a[i]), <, 0);
        qsort(a, ELEMENTSOF(a), sizeof(a[0]), cmp_address);
        for (size_t i = 0; i < ELEMENTSOF(sorted); i++) {
                ASSERT_STREQ(VB_PCI_ADDRESS_STR(&a[i]), sorted[i]);
                for (size_t j = 0; j < ELEMENTSOF(sorted); j++) {
                        int c = vb_pci_address_compare(&a[i], &a[j]);
                        ASSERT_EQ(c < 0 ? -1 : c > 0, i < j ? -1 : i > j);
                        ASSERT_EQ(vb_pci_address_equal(&a[i], &a[j]), i == j);
                }
        }

        /* Domains that agree in their low 16 bits are still different. */
        VbPciAddress low = ADDR(0x0000, 0xe1, 0, 0), high = ADDR(0x10000, 0xe1, 0, 0);
        ASSERT_FALSE(vb_pci_address_equal(&low, &high));
        ASSERT_INT(vb_pci_address_compare(&low, &high), <, 0);
}

static void check_parse(const char *s, VbSelectorType type, const char *canonical) {
        char buf[VB_SELECTOR_STRING_MAX], error[VB_SELECTOR_ERROR_MAX] = "";
        const char *why = NULL;
        VbSelector sel, sel2;
        VbSelectorType kind = VB_SELECTOR_ID;

        if (vb_selector_parse(s, &sel, &why) < 0)
                TEST_FAIL("\"%s\" rejected: %s", s, why);
        if (sel.type != type)
                TEST_FAIL("\"%s\": type %d, expected %d", s, sel.type, type);
        ASSERT_STREQ(vb_selector_format(&sel, buf), canonical);

        /* the explaining variant agrees */
        ASSERT_OK(vb_selector_parse_explain(s, &sel2, &kind, error, sizeof(error)));
        ASSERT_TRUE(vb_selector_equal(&sel, &sel2));
        ASSERT_STREQ(error, "");

        /* the canonical form parses to the same selector */
        ASSERT_OK(vb_selector_parse(canonical, &sel2, NULL));
        ASSERT_TRUE(vb_selector_equal(&sel, &sel2));
}

TEST(selector_parse_forms) {
        check_parse("0000:0f:00.0", VB_SELECTOR_ADDRESS, "0000:0f:00.0");
        check_parse("0f:00.1", VB_SELECTOR_ADDRESS, "0000:0f:00.1");
        check_parse("0001:0f:1f.7", VB_SELECTOR_ADDRESS, "0001:0f:1f.7");
        check_parse("1:0f:00.0", VB_SELECTOR_ADDRESS, "0001:0f:00.0"); /* short domain */
        check_parse("f:1:0.0", VB_SELECTOR_ADDRESS, "000f:01:00.0");   /* lspci-style short fields */
        check_parse("1:0.0", VB_SELECTOR_ADDRESS, "0000:01:00.0");
        check_parse("0A:1B.2", VB_SELECTOR_ADDRESS, "0000:0a:1b.2"); /* either case */
        check_parse("0f:00", VB_SELECTOR_SLOT, "0000:0f:00");
        check_parse("0000:0f:00", VB_SELECTOR_SLOT, "0000:0f:00");
        check_parse("abcd:ff:1f", VB_SELECTOR_SLOT, "abcd:ff:1f");
        check_parse("10de:13c0", VB_SELECTOR_ID, "10de:13c0");
        check_parse("10DE:13C0", VB_SELECTOR_ID, "10de:13c0");
        check_parse("ffff:0000", VB_SELECTOR_ID, "ffff:0000");
}

TEST(selector_parse_vmd_domains) {
        check_parse("10000:e1:00.0", VB_SELECTOR_ADDRESS, "10000:e1:00.0");
        check_parse("10000:E1:00.0", VB_SELECTOR_ADDRESS, "10000:e1:00.0");
        check_parse("10000:e0:1d", VB_SELECTOR_SLOT, "10000:e0:1d");
        check_parse("1abcd:1:2.3", VB_SELECTOR_ADDRESS, "1abcd:01:02.3");
        check_parse("ffffffff:ff:1f.7", VB_SELECTOR_ADDRESS, "ffffffff:ff:1f.7");
        check_parse("ffffffff:ff:1f", VB_SELECTOR_SLOT, "ffffffff:ff:1f");
        check_parse("FEDCBA98:00:00.0", VB_SELECTOR_ADDRESS, "fedcba98:00:00.0");
        /* a user may write up to 8 digits with leading zeros; the canonical form has none */
        check_parse("00010000:e1:00.0", VB_SELECTOR_ADDRESS, "10000:e1:00.0");
        check_parse("00000:0f:00.0", VB_SELECTOR_ADDRESS, "0000:0f:00.0");
        check_parse("00000000:0f:00", VB_SELECTOR_SLOT, "0000:0f:00");
        check_parse("0ffff:0f:00.0", VB_SELECTOR_ADDRESS, "ffff:0f:00.0");

        /* the canonical form of an address is the kernel's name of the device */
        VbSelector sel;
        VbPciAddress a;
        ASSERT_OK(vb_selector_parse("10000:e1:00.0", &sel, NULL));
        ASSERT_OK(vb_pci_address_parse("10000:e1:00.0", &a));
        ASSERT_TRUE(vb_pci_address_equal(&sel.address, &a));
        ASSERT_EQ(sel.address.domain, 0x10000);
}

static void check_error(const char *s, VbSelectorType kind, const char *static_message, const char *explained) {
        char error[VB_SELECTOR_ERROR_MAX];
        const char *why = NULL;
        VbSelector sel = { .type = VB_SELECTOR_ID, .vendor = 0x1234 };
        VbSelectorType got_kind = VB_SELECTOR_ADDRESS;

        if (vb_selector_parse(s, &sel, &why) != -EINVAL)
                TEST_FAIL("\"%s\" was accepted", s);
        ASSERT_STREQ(why, static_message);
        ASSERT_EQ(sel.vendor, 0x1234); /* not written on failure */

        ASSERT_ERRNO(vb_selector_parse_explain(s, &sel, &got_kind, error, sizeof(error)), EINVAL);
        ASSERT_STREQ(error, explained);
        if (got_kind != kind)
                TEST_FAIL("\"%s\": guessed kind %d, expected %d", s, got_kind, kind);
}

TEST(selector_parse_errors) {
        check_error("0g:00.0", VB_SELECTOR_ADDRESS, "bus is not hexadecimal", "bus \"0g\" is not hexadecimal");
        check_error("0000:100:00.0", VB_SELECTOR_ADDRESS, "bus is out of range (00-ff)",
                    "bus \"100\" is out of range (00-ff)");
        check_error("0000:000f:00.0", VB_SELECTOR_ADDRESS, "bus has more than 2 hex digits",
                    "bus \"000f\" has more than 2 hex digits");
        check_error("0f:20.0", VB_SELECTOR_ADDRESS, "device is out of range (00-1f)",
                    "device \"20\" is out of range (00-1f)");
        check_error("0f:00.8", VB_SELECTOR_ADDRESS, "function is out of range (0-7)",
                    "function \"8\" is out of range (0-7)");
        check_error("0f:00.a", VB_SELECTOR_ADDRESS, "function is out of range (0-7)",
                    "function \"a\" is out of range (0-7)");
        check_error("0f:00.0x", VB_SELECTOR_ADDRESS, "function has trailing characters",
                    "function \"0x\" has trailing characters");
        check_error("0f:00.0.1", VB_SELECTOR_ADDRESS, "function has trailing characters",
                    "function \"0.1\" has trailing characters");
        check_error("0f:00.", VB_SELECTOR_ADDRESS, "function is empty", "function is empty");
        check_error("000000000:0f:00.0", VB_SELECTOR_ADDRESS, "domain has more than 8 hex digits",
                    "domain \"000000000\" has more than 8 hex digits");
        check_error("000010000:e1:00.0", VB_SELECTOR_ADDRESS, "domain has more than 8 hex digits",
                    "domain \"000010000\" has more than 8 hex digits");
        check_error("100000000:0f:00.0", VB_SELECTOR_ADDRESS, "domain is out of range (0-ffffffff)",
                    "domain \"100000000\" is out of range (0-ffffffff)");
        check_error("fffffffff:ff:1f", VB_SELECTOR_SLOT, "domain is out of range (0-ffffffff)",
                    "domain \"fffffffff\" is out of range (0-ffffffff)");
        check_error("1000g:e1:00.0", VB_SELECTOR_ADDRESS, "domain is not hexadecimal",
                    "domain \"1000g\" is not hexadecimal");
        check_error("10000:100:00.0", VB_SELECTOR_ADDRESS, "bus is out of range (00-ff)",
                    "bus \"100\" is out of range (00-ff)");
        check_error("10000:e1:20.0", VB_SELECTOR_ADDRESS, "device is out of range (00-1f)",
                    "device \"20\" is out of range (00-1f)");
        /* without a second colon, a long first part is a vendor ID, not a domain */
        check_error("10000:e1", VB_SELECTOR_ID, "vendor ID is not 4 hex digits",
                    "vendor ID \"10000\" is not 4 hex digits");
        check_error("zz:0f:00.0", VB_SELECTOR_ADDRESS, "domain is not hexadecimal", "domain \"zz\" is not hexadecimal");
        check_error(":0f:00.0", VB_SELECTOR_ADDRESS, "domain is empty", "domain is empty");
        check_error("0000::00.0", VB_SELECTOR_ADDRESS, "bus is empty", "bus is empty");
        check_error("-1:00.0", VB_SELECTOR_ADDRESS, "bus is not hexadecimal", "bus \"-1\" is not hexadecimal");
        check_error("0f:3f", VB_SELECTOR_SLOT, "device is out of range (00-1f)",
                    "device \"3f\" is out of range (00-1f)");
        check_error("0x:00", VB_SELECTOR_SLOT, "bus is not hexadecimal", "bus \"0x\" is not hexadecimal");
        check_error("0000:0f:", VB_SELECTOR_SLOT, "device is empty", "device is empty");
        check_error("10de:13c", VB_SELECTOR_ID, "device ID is not 4 hex digits",
                    "device ID \"13c\" is not 4 hex digits");
        check_error("10d:13c0", VB_SELECTOR_ID, "vendor ID is not 4 hex digits",
                    "vendor ID \"10d\" is not 4 hex digits");
        check_error("10de:13c00", VB_SELECTOR_ID, "device ID is not 4 hex digits",
                    "device ID \"13c00\" is not 4 hex digits");
        check_error("10dx:13c0", VB_SELECTOR_ID, "vendor ID is not hexadecimal",
                    "vendor ID \"10dx\" is not hexadecimal");
        check_error("10de:", VB_SELECTOR_ID, "device ID is not 4 hex digits", "device ID is not 4 hex digits");
        check_error("", _VB_SELECTOR_TYPE_INVALID, "selector is empty", "selector is empty");
        check_error("10de13c0", _VB_SELECTOR_TYPE_INVALID,
                    "selector has no colon (expected an address 0f:00.0, a slot 0f:00 or a vendor:device ID 10de:13c0)",
                    "selector has no colon (expected an address 0f:00.0, a slot 0f:00 or a vendor:device ID 10de:13c0)");
        check_error("0:0:0:0.0", _VB_SELECTOR_TYPE_INVALID, "selector has too many colons",
                    "selector has too many colons");
        check_error(":::::::::", _VB_SELECTOR_TYPE_INVALID, "selector has too many colons",
                    "selector has too many colons");
}

TEST(selector_error_quotes_only_safe_text) {
        char error[VB_SELECTOR_ERROR_MAX];
        VbSelector sel;

        /* a control character is not copied into the message */
        ASSERT_ERRNO(vb_selector_parse_explain("0\x1b:00.0", &sel, NULL, error, sizeof(error)), EINVAL);
        ASSERT_STREQ(error, "bus is not hexadecimal");
        /* nor is a very long field */
        ASSERT_ERRNO(vb_selector_parse_explain("00000000000000000000000000000000:0f:00.0", &sel, NULL, error,
                                               sizeof(error)),
                     EINVAL);
        ASSERT_STREQ(error, "domain has more than 8 hex digits");
        ASSERT_ERRNO(vb_selector_parse_explain("10000000000000000000000000000000:0f:00.0", &sel, NULL, error,
                                               sizeof(error)),
                     EINVAL);
        ASSERT_STREQ(error, "domain is out of range (0-ffffffff)");
        /* quotes are not copied either */
        ASSERT_ERRNO(vb_selector_parse_explain("\"0f\":00.0", &sel, NULL, error, sizeof(error)), EINVAL);
        ASSERT_STREQ(error, "bus is not hexadecimal");
        /* a small buffer is truncated, not overrun */
        char tiny[8];
        ASSERT_ERRNO(vb_selector_parse_explain("0g:00.0", &sel, NULL, tiny, sizeof(tiny)), EINVAL);
        ASSERT_STREQ(tiny, "bus \"0g");
        /* no buffer at all is fine */
        ASSERT_ERRNO(vb_selector_parse_explain("0g:00.0", &sel, NULL, NULL, 0), EINVAL);
        ASSERT_ERRNO(vb_selector_parse("0g:00.0", NULL, NULL), EINVAL);
        ASSERT_ERRNO(vb_selector_parse(NULL, &sel, NULL), EINVAL);
}

TEST(selector_equal) {
        VbSelector a, b;

        ASSERT_OK(vb_selector_parse("01:00.0", &a, NULL));
        ASSERT_OK(vb_selector_parse("0000:01:00.0", &b, NULL));
        ASSERT_TRUE(vb_selector_equal(&a, &b));

        ASSERT_OK(vb_selector_parse("0000:01:00.1", &b, NULL));
        ASSERT_FALSE(vb_selector_equal(&a, &b));
        ASSERT_OK(vb_selector_parse("0001:01:00.0", &b, NULL));
        ASSERT_FALSE(vb_selector_equal(&a, &b));

        /* a slot is not the same selector as its function 0 */
        ASSERT_OK(vb_selector_parse("01:00", &b, NULL));
        ASSERT_FALSE(vb_selector_equal(&a, &b));
        ASSERT_OK(vb_selector_parse("0000:01:00", &a, NULL));
        ASSERT_TRUE(vb_selector_equal(&a, &b));

        ASSERT_OK(vb_selector_parse("10de:13c0", &a, NULL));
        ASSERT_OK(vb_selector_parse("10DE:13C0", &b, NULL));
        ASSERT_TRUE(vb_selector_equal(&a, &b));
        ASSERT_OK(vb_selector_parse("10de:13c1", &b, NULL));
        ASSERT_FALSE(vb_selector_equal(&a, &b));
        ASSERT_OK(vb_selector_parse("10df:13c0", &b, NULL));
        ASSERT_FALSE(vb_selector_equal(&a, &b));
}

TEST(selector_match_address) {
        VbSelector s;
        VbPciAddress a = ADDR(0, 0x0f, 0, 0), b = ADDR(0, 0x0f, 0, 1), c = ADDR(1, 0x0f, 0, 0);

        ASSERT_OK(vb_selector_parse("0f:00.0", &s, NULL));
        ASSERT_TRUE(vb_selector_match(&s, &a, 0x10de, 0x13c0));
        ASSERT_TRUE(vb_selector_match(&s, &a, 0x8086, 0x1234)); /* IDs do not matter */
        ASSERT_FALSE(vb_selector_match(&s, &b, 0x10de, 0x13c0));
        ASSERT_FALSE(vb_selector_match(&s, &c, 0x10de, 0x13c0)); /* other domain */
}

TEST(selector_match_slot) {
        VbSelector s;

        ASSERT_OK(vb_selector_parse("0f:00", &s, NULL));
        for (uint8_t f = 0; f < 8; f++) {
                VbPciAddress a = ADDR(0, 0x0f, 0, f);
                ASSERT_TRUE(vb_selector_match(&s, &a, 0x10de, (uint16_t) (0x13c0 + f)));
        }
        VbPciAddress other_slot = ADDR(0, 0x0f, 1, 0), other_bus = ADDR(0, 0x10, 0, 0),
                     other_domain = ADDR(2, 0x0f, 0, 0);
        ASSERT_FALSE(vb_selector_match(&s, &other_slot, 0x10de, 0x13c0));
        ASSERT_FALSE(vb_selector_match(&s, &other_bus, 0x10de, 0x13c0));
        ASSERT_FALSE(vb_selector_match(&s, &other_domain, 0x10de, 0x13c0));

        ASSERT_OK(vb_selector_parse("0002:0f:00", &s, NULL));
        ASSERT_TRUE(vb_selector_match(&s, &other_domain, 0, 0));
}

TEST(selector_match_vmd_domain) {
        VbSelector s;
        VbPciAddress nvme = ADDR(0x10000, 0xe1, 0, 0), port = ADDR(0x10000, 0xe0, 0x1d, 0), low = ADDR(0, 0xe1, 0, 0),
                     next = ADDR(0x10001, 0xe1, 0, 0);

        ASSERT_OK(vb_selector_parse("10000:e1:00.0", &s, NULL));
        ASSERT_TRUE(vb_selector_match(&s, &nvme, 0x8086, 0xf1a8));
        ASSERT_FALSE(vb_selector_match(&s, &low, 0x8086, 0xf1a8)); /* same low 16 bits */
        ASSERT_FALSE(vb_selector_match(&s, &next, 0x8086, 0xf1a8));
        ASSERT_FALSE(vb_selector_match(&s, &port, 0x8086, 0xf1a8));

        ASSERT_OK(vb_selector_parse("10000:e1:00", &s, NULL));
        ASSERT_TRUE(vb_selector_match(&s, &nvme, 0, 0));
        ASSERT_FALSE(vb_selector_match(&s, &low, 0, 0));

        /* the short form is domain 0000, never a VMD domain */
        ASSERT_OK(vb_selector_parse("e1:00.0", &s, NULL));
        ASSERT_TRUE(vb_selector_match(&s, &low, 0, 0));
        ASSERT_FALSE(vb_selector_match(&s, &nvme, 0, 0));
}

TEST(selector_key_domains) {
        /* The key is equal exactly when the selectors are: the 32-bit domain does not spill into
         * the bus or the type. */
        static const char *const sels[] = {
                "0000:e1:00.0", "10000:e1:00.0",  "10001:e1:00.0", "ffffffff:ff:1f.7", "ffff:ff:1f.7", "0000:e1:00",
                "10000:e1:00",  "ffffffff:ff:1f", "0001:00:00.0",  "0000:01:00.0",     "10de:13c0",    "0001:0000",
        };
        VbSelector a, b;

        for (size_t i = 0; i < ELEMENTSOF(sels); i++)
                for (size_t j = 0; j < ELEMENTSOF(sels); j++) {
                        ASSERT_OK(vb_selector_parse(sels[i], &a, NULL));
                        ASSERT_OK(vb_selector_parse(sels[j], &b, NULL));
                        ASSERT_EQ(vb_selector_equal(&a, &b), i == j);
                        if ((vb_selector_key(&a) == vb_selector_key(&b)) != (i == j))
                                TEST_FAIL("keys of \"%s\" and \"%s\" disagree with equality", sels[i], sels[j]);
                }
        ASSERT_OK(vb_selector_parse("00010000:E1:00.0", &a, NULL));
        ASSERT_OK(vb_selector_parse("10000:e1:00.0", &b, NULL));
        ASSERT_TRUE(vb_selector_equal(&a, &b));
        ASSERT_EQ(vb_selector_key(&a), vb_selector_key(&b));
}

TEST(selector_match_id) {
        VbSelector s;
        VbPciAddress a = ADDR(0, 0x0f, 0, 0), b = ADDR(0x10, 0x81, 0x1f, 7);

        ASSERT_OK(vb_selector_parse("10de:13c0", &s, NULL));
        ASSERT_TRUE(vb_selector_match(&s, &a, 0x10de, 0x13c0));
        ASSERT_TRUE(vb_selector_match(&s, &b, 0x10de, 0x13c0));  /* any address */
        ASSERT_FALSE(vb_selector_match(&s, &a, 0x10de, 0x13c1)); /* vendor and device both */
        ASSERT_FALSE(vb_selector_match(&s, &a, 0x10df, 0x13c0));
        ASSERT_FALSE(vb_selector_match(&s, &a, 0x13c0, 0x10de)); /* not swapped */
}

TEST(selector_type_strings) {
        ASSERT_STREQ(vb_selector_type_to_string(VB_SELECTOR_ADDRESS), "address");
        ASSERT_STREQ(vb_selector_type_to_string(VB_SELECTOR_SLOT), "slot");
        ASSERT_STREQ(vb_selector_type_to_string(VB_SELECTOR_ID), "id");
        ASSERT_NULL(vb_selector_type_to_string(_VB_SELECTOR_TYPE_MAX));
        ASSERT_NULL(vb_selector_type_to_string(_VB_SELECTOR_TYPE_INVALID));
        for (int t = 0; t < _VB_SELECTOR_TYPE_MAX; t++)
                ASSERT_EQ(vb_selector_type_from_string(vb_selector_type_to_string(t)), t);
        ASSERT_EQ(vb_selector_type_from_string("Address"), _VB_SELECTOR_TYPE_INVALID);
        ASSERT_EQ(vb_selector_type_from_string(NULL), _VB_SELECTOR_TYPE_INVALID);
}

TEST(selector_format_fits) {
        char buf[VB_SELECTOR_STRING_MAX];
        VbSelector s = {
                .type = VB_SELECTOR_ADDRESS,
                .address = ADDR(0xffff, 0xff, 0x1f, 7),
        };

        ASSERT_STREQ(vb_selector_format(&s, buf), "ffff:ff:1f.7");
        s.type = VB_SELECTOR_SLOT;
        ASSERT_STREQ(vb_selector_format(&s, buf), "ffff:ff:1f");
        s = (VbSelector) { .type = VB_SELECTOR_ADDRESS, .address = ADDR(0xffffffff, 0xff, 0x1f, 7) };
        ASSERT_STREQ(vb_selector_format(&s, buf), "ffffffff:ff:1f.7");
        ASSERT_EQ(strlen(buf) + 1, sizeof(buf));
        s.type = VB_SELECTOR_SLOT;
        ASSERT_STREQ(vb_selector_format(&s, buf), "ffffffff:ff:1f");
        s = (VbSelector) { .type = VB_SELECTOR_ID, .vendor = 0xffff, .device = 0xffff };
        ASSERT_STREQ(vb_selector_format(&s, buf), "ffff:ffff");
}

/* Every string of up to 5 characters from an alphabet that covers all separators and edge digits:
 * parsing never crashes, and whatever parses formats to something that parses to the same. */
TEST(selector_parse_exhaustive_small) {
        static const char alphabet[] = "0f:.7g8-";
        const size_t n = sizeof(alphabet) - 1;
        char s[8];
        unsigned accepted = 0;

        for (size_t len = 0; len <= 5; len++) {
                size_t total = 1;
                for (size_t i = 0; i < len; i++)
                        total *= n;
                for (size_t k = 0; k < total; k++) {
                        size_t v = k;
                        char buf[VB_SELECTOR_STRING_MAX], error[VB_SELECTOR_ERROR_MAX];
                        VbSelector a, b;

                        for (size_t i = 0; i < len; i++) {
                                s[i] = alphabet[v % n];
                                v /= n;
                        }
                        s[len] = '\0';
                        if (vb_selector_parse_explain(s, &a, NULL, error, sizeof(error)) < 0) {
                                ASSERT_TRUE(error[0] != '\0');
                                continue;
                        }
                        accepted++;
                        ASSERT_OK(vb_selector_parse(vb_selector_format(&a, buf), &b, NULL));
                        ASSERT_TRUE(vb_selector_equal(&a, &b));
                }
        }
        /* "0:0", "f:7", "0:0.0", "00:00", … */
        ASSERT_INT(accepted, >, 50);
}

TESTS_MAIN();
