/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's pure reading of a kernel uevent (daemon/uevent.c): which ones concern it, and
 * the PCI_ID= property that spares it a sysfs read per uevent in a storm. */

#include "macro.h"
#include "tests.h"
#include "uevent.h"

TEST(parse_takes_add_bind_remove_of_a_pci_function) {
        VbdUeventAction act;
        VbPciAddress a;

        ASSERT_EQ(vbd_uevent_parse("add", "0000:03:00.0", &act, &a), 1);
        ASSERT_EQ(act, VBD_UEVENT_ADD);
        ASSERT_EQ(a.bus, 3);
        ASSERT_EQ(vbd_uevent_parse("bind", "10000:e1:00.1", &act, &a), 1);
        ASSERT_EQ(act, VBD_UEVENT_BIND);
        ASSERT_EQ(a.domain, 0x10000);
        ASSERT_EQ(a.function, 1);
        ASSERT_EQ(vbd_uevent_parse("remove", "0000:03:00.0", &act, &a), 1);
        ASSERT_EQ(act, VBD_UEVENT_REMOVE);
}

TEST(parse_ignores_the_rest) {
        VbdUeventAction act = VBD_UEVENT_BIND;
        VbPciAddress a = { .bus = 9 };

        ASSERT_EQ(vbd_uevent_parse("change", "0000:03:00.0", &act, &a), 0);
        ASSERT_EQ(vbd_uevent_parse("unbind", "0000:03:00.0", &act, &a), 0);
        ASSERT_EQ(vbd_uevent_parse("add", "pci0000:00", &act, &a), 0);
        ASSERT_EQ(vbd_uevent_parse("add", NULL, &act, &a), 0);
        ASSERT_EQ(vbd_uevent_parse(NULL, "0000:03:00.0", &act, &a), 0);
        /* nothing written when ignored */
        ASSERT_EQ(act, VBD_UEVENT_BIND);
        ASSERT_EQ(a.bus, 9);
}

TEST(pci_id_as_the_kernel_writes_it) {
        uint16_t vendor, device;

        ASSERT_OK(vbd_uevent_parse_pci_id("8086:10D3", &vendor, &device));
        ASSERT_EQ(vendor, 0x8086);
        ASSERT_EQ(device, 0x10d3);
        ASSERT_OK(vbd_uevent_parse_pci_id("1af4:1041", &vendor, &device));
        ASSERT_EQ(vendor, 0x1af4);
        ASSERT_EQ(device, 0x1041);
        ASSERT_OK(vbd_uevent_parse_pci_id("FFFF:0000", &vendor, &device));
        ASSERT_EQ(vendor, 0xffff);
        ASSERT_EQ(device, 0);
}

TEST(pci_id_rejects) {
        static const char *const bad[] = {
                "",          "8086",        "8086:",      ":10d3",      "8086:10d",
                "808:10d3",  "8086:10d3 ",  " 8086:10d3", "8086-10d3",  "8086:10d3\n",
                "8086:10g3", "0x8086:10d3", "+8086:10d3", "18086:10d3", "8086:010d3",
        };
        uint16_t vendor = 1, device = 2;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (vbd_uevent_parse_pci_id(bad[i], &vendor, &device) != -EINVAL)
                        TEST_FAIL("\"%s\" was accepted", bad[i]);
        ASSERT_ERRNO(vbd_uevent_parse_pci_id(NULL, &vendor, &device), EINVAL);
        ASSERT_EQ(vendor, 1);
        ASSERT_EQ(device, 2);
}

TESTS_MAIN()
