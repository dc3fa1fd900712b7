/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/group-why: why devices share an IOMMU group, on small trees built here with the config
 * space of each device (as root reads it: 256 bytes, or 4096 for PCI Express), their place below
 * the bridges, and the groups the kernel formed. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "group-why.h"
#include "macro.h"
#include "pci-config.h"
#include "snapshot.h"
#include "strv.h"
#include "sysfs-link.h"
#include "tests.h"
#include "tree.h"

#define NO_PCIE (-1)
#define ACS_ALL VB_ACS_ISOLATION

/* One function of a tree: ADDR below PARENT (NULL: the root bus), in GROUP; its config space. */
typedef struct Fn {
        const char *addr;
        const char *parent;
        int group;
        bool bridge;
        bool multifunction;
        int pcie_type; /* NO_PCIE: conventional PCI */
        bool acs;
        uint16_t acs_cap, acs_ctrl;
        size_t config_size; /* 0: as root reads it */
} Fn;

static void put16(uint8_t *b, size_t off, uint16_t v) {
        b[off] = v & 0xff;
        b[off + 1] = v >> 8;
}

static void put32(uint8_t *b, size_t off, uint32_t v) {
        put16(b, off, v & 0xffff);
        put16(b, off + 2, v >> 16);
}

static size_t config_bytes(const Fn *f, uint8_t b[static 4096]) {
        memset(b, 0, 4096);
        put16(b, 0, 0x8086);
        put16(b, 2, f->bridge ? 0x1234 : 0x10d3);
        b[0x0e] = (uint8_t) ((f->bridge ? 1 : 0) | (f->multifunction ? 0x80 : 0));
        if (f->pcie_type != NO_PCIE) {
                put16(b, 0x06, 0x10); /* capability list */
                b[0x34] = 0x50;
                b[0x50] = 0x05; /* MSI first, then PCI Express */
                b[0x51] = 0x70;
                b[0x70] = 0x10;
                b[0x71] = 0x00;
                put16(b, 0x72, (uint16_t) (f->pcie_type << 4 | 2));
                /* AER first, then ACS, in the extended list */
                put32(b, 0x100, 0x0001 | 1u << 16 | (f->acs ? 0x148u : 0u) << 20);
                if (f->acs) {
                        put32(b, 0x148, 0x000d | 1u << 16);
                        put16(b, 0x14c, f->acs_cap);
                        put16(b, 0x14e, f->acs_ctrl);
                }
        }
        if (f->config_size)
                return f->config_size;
        return f->pcie_type != NO_PCIE ? 4096 : 256;
}

/* The device directory of F below sys/devices: "pci0000:00/PARENT…/ADDR". */
static char *device_dir(const Fn *fns, size_t n, const Fn *f) {
        char *s = NULL;
        const char *parent = f->parent;
        _cleanup_free_ char *up = NULL;

        if (!parent)
                return asprintf(&s, "pci0000:00/%s", f->addr) < 0 ? NULL : s;
        for (size_t i = 0; i < n; i++)
                if (streq(fns[i].addr, parent)) {
                        up = device_dir(fns, n, &fns[i]);
                        break;
                }
        ASSERT_TRUE(up);
        return asprintf(&s, "%s/%s", up, f->addr) < 0 ? NULL : s;
}

static void write_bytes(const char *path, const uint8_t *b, size_t n) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(write(fd, b, n) == (ssize_t) n);
}

/* A tree of FNS under a new directory; CMDLINE as /proc/cmdline. */
static char *tree_build(const Fn *fns, size_t n, const char *cmdline) {
        char tmpl[] = "/tmp/vb-group-why-XXXXXX";
        char *dir = mkdtemp(tmpl);

        ASSERT_TRUE(dir);
        dir = strdup(dir);
        ASSERT_OK(tree_write_new(dir, "proc/cmdline", cmdline ?: "BOOT_IMAGE=/vmlinuz root=/dev/vda1\n"));
        ASSERT_OK(tree_mkdirs(dir, "sys/bus/pci/devices"));
        for (size_t i = 0; i < n; i++) {
                const Fn *f = &fns[i];
                _cleanup_free_ char *d = device_dir(fns, n, f), *path = NULL, *uevent = NULL, *link = NULL,
                                    *group = NULL, *full = NULL;
                uint8_t b[4096];
                size_t size = config_bytes(f, b);
                size_t depth = 0;

                ASSERT_TRUE(d);
                for (const char *p = d; *p; p++)
                        depth += *p == '/';
                ASSERT_TRUE(asprintf(&path, "sys/devices/%s", d) > 0);
                ASSERT_OK(tree_mkdirs(dir, path));
                ASSERT_TRUE(asprintf(&uevent, "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SLOT_NAME=%s\n",
                                     f->bridge ? 0x060400 : 0x020000, 0x8086, f->bridge ? 0x1234 : 0x10d3,
                                     f->addr) > 0);
                free(full);
                ASSERT_TRUE(asprintf(&full, "%s/uevent", path) > 0);
                ASSERT_OK(tree_write(dir, full, uevent));
                free(full);
                ASSERT_TRUE(asprintf(&full, "%s/%s/config", dir, path) > 0);
                write_bytes(full, b, size);
                free(full);
                ASSERT_TRUE(asprintf(&full, "%s/driver_override", path) > 0);
                ASSERT_OK(tree_write(dir, full, "(null)\n"));
                /* the group, and the device in it */
                ASSERT_TRUE(asprintf(&group, "sys/kernel/iommu_groups/%d/devices", f->group) > 0);
                ASSERT_OK(tree_mkdirs(dir, group));
                free(full);
                ASSERT_TRUE(asprintf(&full, "%s/iommu_group", path) > 0);
                free(link);
                ASSERT_TRUE(asprintf(&link, "%s/kernel/iommu_groups/%d", "../../..", f->group) > 0);
                {
                        /* from sys/devices/D back to sys/ */
                        _cleanup_free_ char *rel = strdup("..");
                        for (size_t k = 0; k <= depth; k++) {
                                char *t;
                                ASSERT_TRUE(asprintf(&t, "%s/..", rel) > 0);
                                free(rel);
                                rel = t;
                        }
                        free(link);
                        ASSERT_TRUE(asprintf(&link, "%s/kernel/iommu_groups/%d", rel, f->group) > 0);
                }
                ASSERT_OK(tree_symlink(dir, link, full));
                free(link);
                ASSERT_TRUE(asprintf(&link, "../../../devices/%s", d) > 0);
                free(full);
                ASSERT_TRUE(asprintf(&full, "sys/bus/pci/devices/%s", f->addr) > 0);
                ASSERT_OK(tree_symlink(dir, link, full));
        }
        return dir;
}

typedef struct Look {
        char *dir;
        VbContext *ctx;
        VbSnapshot snap;
} Look;

static void look_open(Look *l, const Fn *fns, size_t n, const char *cmdline) {
        _cleanup_free_ char *sys = NULL, *proc = NULL;

        *l = (Look) { .dir = tree_build(fns, n, cmdline) };
        ASSERT_TRUE(asprintf(&sys, "%s/sys", l->dir) > 0);
        ASSERT_TRUE(asprintf(&proc, "%s/proc", l->dir) > 0);
        ASSERT_OK(vb_context_new(&l->ctx, sys, proc));
        ASSERT_OK(vb_snapshot_read(l->ctx, NULL, &l->snap));
        ASSERT_TRUE(l->snap.iommu_enabled);
        ASSERT_EQ(l->snap.devices.n, n);
        ASSERT_OK(vb_snapshot_read_groups(l->ctx, &l->snap));
}

static void look_close(Look *l) {
        vb_snapshot_done(&l->snap);
        vb_context_free(l->ctx);
        tree_remove(l->dir);
        free(l->dir);
}

/* The lines of GROUP joined with "\n" ("" for none). */
static char *why(const Look *l, int group) {
        _cleanup_(vb_group_why_list_done) VbGroupWhyList w = {};
        _cleanup_strv_free_ char **lines = NULL;
        size_t n = 0;

        ASSERT_OK(vb_snapshot_group_why(&l->snap, group, &w));
        for (size_t i = 0; i < w.n; i++)
                ASSERT_OK(strv_extend_printf(&lines, &n, "%s", w.items[i].text));
        return strv_join(lines, "\n");
}

/* What check would advise for GROUP. */
static char **advice_for(const Look *l, int group) {
        _cleanup_(vb_group_why_list_done) VbGroupWhyList w = {};
        char **advice = NULL;

        ASSERT_OK(vb_snapshot_group_why(&l->snap, group, &w));
        ASSERT_OK(vb_group_why_advice(&w, &advice));
        return advice;
}

static size_t n_kind(const Look *l, int group, VbGroupWhyKind kind) {
        _cleanup_(vb_group_why_list_done) VbGroupWhyList w = {};
        size_t n = 0;

        ASSERT_OK(vb_snapshot_group_why(&l->snap, group, &w));
        for (size_t i = 0; i < w.n; i++)
                n += w.items[i].kind == kind;
        return n;
}

#define RP_ACS(a, g) \
        { a, NULL, g, true, false, VB_PCIE_ROOT_PORT, true, ACS_ALL, ACS_ALL, 0 }

TEST(multifunction_endpoint_without_acs) {
        const Fn fns[] = {
                RP_ACS("0000:00:01.0", 1),
                { "0000:01:00.0", "0000:00:01.0", 2, false, true, NO_PCIE, false, 0, 0, 0 },
                { "0000:01:00.1", "0000:00:01.0", 2, false, true, NO_PCIE, false, 0, 0, 0 },
        };
        _cleanup_free_ char *text = NULL, *one = NULL;
        Look l;

        look_open(&l, fns, ELEMENTSOF(fns), NULL);
        text = why(&l, 2);
        ASSERT_STREQ(text, "0000:01:00.0, 0000:01:00.1: functions of one multifunction device without ACS");
        /* a group of one says nothing */
        one = why(&l, 1);
        ASSERT_STREQ(one, "");
        look_close(&l);
}

TEST(multifunction_endpoint_with_acs) {
        /* PCIe functions with ACS are isolated: the kernel gives each a group; if it did not,
         * something the rules do not see (a quirk) joined them. */
        const Fn apart[] = {
                RP_ACS("0000:00:01.0", 1),
                { "0000:01:00.0", "0000:00:01.0", 2, false, true, VB_PCIE_ENDPOINT, true, ACS_ALL, ACS_ALL, 0 },
                { "0000:01:00.1", "0000:00:01.0", 3, false, true, VB_PCIE_ENDPOINT, true, ACS_ALL, ACS_ALL, 0 },
        };
        Fn joined[ELEMENTSOF(apart)];
        _cleanup_free_ char *a = NULL, *b = NULL;
        Look l;

        look_open(&l, apart, ELEMENTSOF(apart), NULL);
        a = why(&l, 2);
        ASSERT_STREQ(a, "");
        look_close(&l);

        memcpy(joined, apart, sizeof(apart));
        joined[2].group = 2;
        look_open(&l, joined, ELEMENTSOF(joined), NULL);
        b = why(&l, 2);
        ASSERT_CONTAINS(b, "nothing in ACS or the topology joins them");
        ASSERT_CONTAINS(b, "a DMA alias");
        ASSERT_EQ(n_kind(&l, 2, VB_GROUP_WHY_QUIRK_JOINS), 1u);
        look_close(&l);
}

TEST(root_port_without_acs_above_two_slots) {
        /* Two root ports, functions of one device (as on many chipsets), neither with ACS: they
         * go together, and each endpoint below joins its port. */
        const Fn fns[] = {
                { "0000:00:1c.0", NULL, 1, true, true, VB_PCIE_ROOT_PORT, false, 0, 0, 0 },
                { "0000:00:1c.4", NULL, 1, true, true, VB_PCIE_ROOT_PORT, false, 0, 0, 0 },
                { "0000:02:00.0", "0000:00:1c.0", 1, false, false, VB_PCIE_ENDPOINT, false, 0, 0, 0 },
                { "0000:03:00.0", "0000:00:1c.4", 1, false, false, VB_PCIE_ENDPOINT, false, 0, 0, 0 },
        };
        _cleanup_free_ char *text = NULL;
        Look l;

        look_open(&l, fns, ELEMENTSOF(fns), NULL);
        text = why(&l, 1);
        ASSERT_CONTAINS(text, "0000:00:1c.0, 0000:00:1c.4: functions of one multifunction device without ACS");
        ASSERT_CONTAINS(text, "0000:02:00.0: below the root port 0000:00:1c.0, which has no ACS capability");
        ASSERT_CONTAINS(text, "0000:03:00.0: below the root port 0000:00:1c.4, which has no ACS capability");
        ASSERT_EQ(n_kind(&l, 1, VB_GROUP_WHY_QUIRK_JOINS), 0u);
        look_close(&l);
}

TEST(root_port_with_acs_lacking_controls) {
        const Fn fns[] = {
                { "0000:00:01.0", NULL, 1, true, false, VB_PCIE_ROOT_PORT, true, ACS_ALL, VB_ACS_SV | VB_ACS_CR, 0 },
                { "0000:01:00.0", "0000:00:01.0", 1, false, false, VB_PCIE_ENDPOINT, false, 0, 0, 0 },
        };
        const Fn unoffered[] = {
                /* a control the capability does not offer counts as enabled: isolated */
                { "0000:00:01.0", NULL, 1, true, false, VB_PCIE_ROOT_PORT, true, ACS_ALL & ~VB_ACS_UF,
                  ACS_ALL & ~VB_ACS_UF, 0 },
                { "0000:01:00.0", "0000:00:01.0", 2, false, false, VB_PCIE_ENDPOINT, false, 0, 0, 0 },
        };
        _cleanup_free_ char *text = NULL, *none = NULL;
        Look l;

        look_open(&l, fns, ELEMENTSOF(fns), NULL);
        text = why(&l, 1);
        ASSERT_STREQ(text,
                     "0000:01:00.0: below the root port 0000:00:01.0, which has ACS without Request Redirect, "
                     "Upstream Forwarding enabled");
        look_close(&l);

        look_open(&l, unoffered, ELEMENTSOF(unoffered), NULL);
        none = why(&l, 2);
        ASSERT_STREQ(none, "");
        look_close(&l);
}

/* A switch below an isolating root port: upstream port 04:00.0, downstream ports 05:00.0 and
 * 05:01.0, an endpoint below each. */
static void switch_fns(Fn fns[static 6], bool downstream_acs) {
        const Fn base[] = {
                RP_ACS("0000:00:06.0", 1),
                { "0000:04:00.0", "0000:00:06.0", 2, true, false, VB_PCIE_UPSTREAM_PORT, false, 0, 0, 0 },
                { "0000:05:00.0", "0000:04:00.0", 3, true, false, VB_PCIE_DOWNSTREAM_PORT, downstream_acs, ACS_ALL,
                  ACS_ALL, 0 },
                { "0000:05:01.0", "0000:04:00.0", 4, true, false, VB_PCIE_DOWNSTREAM_PORT, downstream_acs, ACS_ALL,
                  ACS_ALL, 0 },
                { "0000:06:00.0", "0000:05:00.0", downstream_acs ? 5 : 3, false, false, VB_PCIE_ENDPOINT, false, 0, 0,
                  0 },
                { "0000:07:00.0", "0000:05:01.0", downstream_acs ? 6 : 4, false, false, VB_PCIE_ENDPOINT, false, 0, 0,
                  0 },
        };
        memcpy(fns, base, sizeof(base));
}

TEST(switch_without_and_with_acs) {
        Fn fns[6];
        _cleanup_free_ char *a = NULL, *b = NULL;
        Look l;

        /* As QEMU's xio3130 ports: no ACS, each endpoint with its downstream port (what the
         * kernel formed in scenario 23). */
        switch_fns(fns, false);
        look_open(&l, fns, ELEMENTSOF(fns), NULL);
        a = why(&l, 3);
        ASSERT_STREQ(a, "0000:06:00.0: below the downstream port 0000:05:00.0, which has no ACS capability");
        b = why(&l, 4);
        ASSERT_STREQ(b, "0000:07:00.0: below the downstream port 0000:05:01.0, which has no ACS capability");
        look_close(&l);

        switch_fns(fns, true);
        look_open(&l, fns, ELEMENTSOF(fns), NULL);
        for (int g = 1; g <= 6; g++) {
                _cleanup_free_ char *t = why(&l, g);
                ASSERT_STREQ(t, "");
        }
        look_close(&l);
}

TEST(isolation_stops_higher_up) {
        /* The downstream port has ACS, the root port above it does not: the endpoint joins its
         * downstream port, and the line names the root port. */
        const Fn fns[] = {
                { "0000:00:06.0", NULL, 1, true, false, VB_PCIE_ROOT_PORT, false, 0, 0, 0 },
                { "0000:04:00.0", "0000:00:06.0", 1, true, false, VB_PCIE_UPSTREAM_PORT, false, 0, 0, 0 },
                { "0000:05:00.0", "0000:04:00.0", 1, true, false, VB_PCIE_DOWNSTREAM_PORT, true, ACS_ALL, ACS_ALL, 0 },
                { "0000:06:00.0", "0000:05:00.0", 1, false, false, VB_PCIE_ENDPOINT, false, 0, 0, 0 },
        };
        _cleanup_free_ char *text = NULL;
        Look l;

        look_open(&l, fns, ELEMENTSOF(fns), NULL);
        text = why(&l, 1);
        ASSERT_CONTAINS(text,
                        "0000:06:00.0: below 0000:05:00.0, not isolated from the root: the root port "
                        "0000:00:06.0 above it has no ACS capability");
        ASSERT_CONTAINS(text, "0000:04:00.0: below the root port 0000:00:06.0, which has no ACS capability");
        look_close(&l);
}

TEST(pcie_to_pci_bridge) {
        const Fn fns[] = {
                RP_ACS("0000:00:07.0", 1),
                { "0000:08:00.0", "0000:00:07.0", 2, true, false, VB_PCIE_TO_PCI_BRIDGE, false, 0, 0, 0 },
                { "0000:09:01.0", "0000:08:00.0", 2, false, false, NO_PCIE, false, 0, 0, 0 },
                { "0000:09:02.0", "0000:08:00.0", 2, false, false, NO_PCIE, false, 0, 0, 0 },
        };
        _cleanup_strv_free_ char **advice = NULL;
        _cleanup_free_ char *text = NULL;
        Look l;

        look_open(&l, fns, ELEMENTSOF(fns), NULL);
        text = why(&l, 2);
        ASSERT_STREQ(text,
                     "0000:09:01.0, 0000:09:02.0: behind the PCIe-to-PCI bridge 0000:08:00.0 (one requester ID "
                     "for all behind it)");
        advice = advice_for(&l, 2);
        ASSERT_EQ(strv_length(advice), 2u);
        ASSERT_CONTAINS(advice[0], "share its requester ID");
        ASSERT_CONTAINS(advice[1], "only pretends this isolation");
        ASSERT_NOT_CONTAINS(advice[1], "apply");
        look_close(&l);
}

TEST(unreadable_config) {
        /* As an unprivileged reader sees it: 64 bytes each. Nothing is guessed. */
        Fn fns[] = {
                { "0000:00:1c.0", NULL, 1, true, false, VB_PCIE_ROOT_PORT, false, 0, 0, 64 },
                { "0000:02:00.0", "0000:00:1c.0", 1, false, true, VB_PCIE_ENDPOINT, false, 0, 0, 64 },
                { "0000:02:00.1", "0000:00:1c.0", 1, false, true, VB_PCIE_ENDPOINT, false, 0, 0, 64 },
        };
        _cleanup_strv_free_ char **advice = NULL;
        _cleanup_free_ char *text = NULL;
        Look l;

        look_open(&l, fns, ELEMENTSOF(fns), NULL);
        text = why(&l, 1);
        ASSERT_STREQ(text,
                     "0000:02:00.0, 0000:02:00.1: cannot tell why: the config space of 0000:00:1c.0 could not "
                     "be read whole (only root can)");
        ASSERT_EQ(n_kind(&l, 1, VB_GROUP_WHY_QUIRK_JOINS), 0u);
        advice = advice_for(&l, 1);
        ASSERT_EQ(strv_length(advice), 0u);
        look_close(&l);
}

TEST(override_or_quirk_splits_what_the_rules_join) {
        /* The root port has no ACS, yet the kernel gave the endpoints groups of their own, and a
         * second endpoint shares one of them (so there is a group of several to explain). */
        const Fn fns[] = {
                { "0000:00:1c.0", NULL, 1, true, false, VB_PCIE_ROOT_PORT, false, 0, 0, 0 },
                { "0000:02:00.0", "0000:00:1c.0", 2, false, true, NO_PCIE, false, 0, 0, 0 },
                { "0000:02:00.1", "0000:00:1c.0", 2, false, true, NO_PCIE, false, 0, 0, 0 },
        };
        _cleanup_free_ char *quirk = NULL, *override = NULL;
        Look l;

        look_open(&l, fns, ELEMENTSOF(fns), NULL);
        quirk = why(&l, 2);
        ASSERT_CONTAINS(quirk,
                        "0000:02:00.0, 0000:02:00.1: ACS and the topology would join 0000:00:1c.0 (root port), "
                        "which the kernel keeps apart: a device quirk of the kernel");
        ASSERT_CONTAINS(quirk, "functions of one multifunction device without ACS");
        look_close(&l);

        look_open(&l, fns, ELEMENTSOF(fns), "BOOT_IMAGE=/vmlinuz pcie_acs_override=downstream,multifunction\n");
        ASSERT_TRUE(l.snap.group_look.acs_override);
        override = why(&l, 2);
        ASSERT_CONTAINS(override, "pcie_acs_override= is on the kernel command line");
        look_close(&l);
}

TEST(parent_from_the_link) {
        VbPciAddress a;

        ASSERT_TRUE(vb_sysfs_link_pci_parent("../../../devices/pci0000:00/0000:00:06.0/0000:04:00.0", &a));
        ASSERT_EQ(a.bus, 0);
        ASSERT_EQ(a.slot, 6);
        ASSERT_TRUE(vb_sysfs_link_pci_parent("../../../devices/pci0000:00/0000:00:06.0/0000:04:00.0/", &a));
        ASSERT_FALSE(vb_sysfs_link_pci_parent("../../../devices/pci0000:00/0000:00:1f.2", &a));
        ASSERT_FALSE(vb_sysfs_link_pci_parent("0000:00:1f.2", &a));
        ASSERT_FALSE(vb_sysfs_link_pci_parent("", &a));
        ASSERT_FALSE(vb_sysfs_link_pci_parent("/0000:00:1f.2", &a));
}

TESTS_MAIN();
