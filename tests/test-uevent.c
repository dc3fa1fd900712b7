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

TESTS_MAIN()
