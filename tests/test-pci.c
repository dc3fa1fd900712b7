/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/pci against the fake trees: enumeration and what is read for each device. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "address.h"
#include "driver.h"
#include "fake-kernel.h"
#include "macro.h"
#include "pci.h"
#include "sysfs.h"
#include "tests.h"
#include "tree.h"

static VbPciAddress addr(const char *s) {
        VbPciAddress a;
        ASSERT_OK(vb_pci_address_parse(s, &a));
        return a;
}

static void open_case(const char *case_name, char **ret_dir, FakeKernel **ret_k, VbContext **ret_ctx) {
        ASSERT_OK(tree_new(case_name, ret_dir));
        ASSERT_OK(fake_kernel_new(ret_k, *ret_dir));
        ASSERT_OK(fake_kernel_new_context(*ret_k, ret_ctx));
}

static void close_case(char *dir, FakeKernel *k, VbContext *ctx) {
        /* Reading never writes. */
        ASSERT_EQ(fake_kernel_n_ops(k), 0);
        ASSERT_EQ(fake_kernel_n_violations(k), 0);
        vb_context_free(ctx);
        fake_kernel_free(k);
        tree_free(dir);
}

TEST(enumerate_desktop) {
        static const char *const expected[] = {
                "0000:00:00.0", "0000:00:01.0", "0000:00:02.0", "0000:00:03.0",
                "0000:00:1f.2", "0000:01:00.0", "0000:01:00.1", "0000:02:00.0",
        };
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciList l = {};

        open_case("desktop", &dir, &k, &ctx);
        ASSERT_OK(vb_pci_enumerate(ctx, &l));
        ASSERT_EQ(l.n, ELEMENTSOF(expected));
        /* Sorted by address (readdir order is not). */
        for (size_t i = 0; i < l.n; i++)
                ASSERT_STREQ(VB_PCI_ADDRESS_STR(&l.devices[i].address), expected[i]);
        vb_pci_list_done(&l);
        close_case(dir, k, ctx);
}

TEST(read_gpu) {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciList l = {};
        const VbPciDevice *d;
        VbPciAddress a = addr("0000:01:00.0");

        open_case("desktop", &dir, &k, &ctx);
        ASSERT_OK(vb_pci_enumerate(ctx, &l));
        d = vb_pci_list_find(&l, &a);
        ASSERT_TRUE(d);
        ASSERT_EQ(d->vendor, 0x1234);
        ASSERT_EQ(d->device, 0x1111);
        ASSERT_EQ(d->class, 0x030000);
        /* Config byte 0x0e is 0x80 (multi-function): the low 7 bits are the type. */
        ASSERT_EQ(d->header_type, 0);
        ASSERT_TRUE(d->boot_vga);
        ASSERT_EQ(d->iommu_group, 1);
        ASSERT_STREQ(d->driver, "bochs-drm");
        /* "(null)" is what the kernel shows for no override. */
        ASSERT_NULL(d->driver_override);
        ASSERT_TRUE(vb_pci_device_is_display(d));
        ASSERT_FALSE(vb_pci_device_is_bridge(d));
        /* Memory BARs only: BAR 0, BAR 2, the ROM. */
        ASSERT_EQ(d->n_resources, 3);
        ASSERT_EQ(d->resources[0].start, 0xc0000000);
        ASSERT_EQ(d->resources[0].end, 0xc0ffffff);
        ASSERT_EQ(d->resources[1].start, 0xc1000000);
        vb_pci_list_done(&l);
        close_case(dir, k, ctx);
}

TEST(read_other_devices) {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciDevice d = {};
        VbPciAddress a;

        open_case("desktop", &dir, &k, &ctx);

        a = addr("0000:01:00.1");
        ASSERT_OK(vb_pci_device_read(ctx, &a, &d));
        ASSERT_EQ(d.vendor, 0x8086);
        ASSERT_EQ(d.device, 0x293e);
        ASSERT_EQ(d.class, 0x040300);
        ASSERT_FALSE(d.boot_vga);
        ASSERT_EQ(d.iommu_group, 1);
        ASSERT_STREQ(d.driver, "snd_hda_intel");
        ASSERT_FALSE(vb_pci_device_is_display(&d));
        vb_pci_device_done(&d);

        a = addr("0000:00:01.0");
        ASSERT_OK(vb_pci_device_read(ctx, &a, &d));
        ASSERT_EQ(d.header_type, 1);
        ASSERT_EQ(d.class, 0x060400);
        ASSERT_EQ(d.iommu_group, 2);
        ASSERT_STREQ(d.driver, "pcieport");
        ASSERT_TRUE(vb_pci_device_is_bridge(&d));
        vb_pci_device_done(&d);

        /* The host bridge: header type 0 but class 0x06, no driver. */
        a = addr("0000:00:00.0");
        ASSERT_OK(vb_pci_device_read(ctx, &a, &d));
        ASSERT_EQ(d.header_type, 0);
        ASSERT_NULL(d.driver);
        ASSERT_TRUE(vb_pci_device_is_bridge(&d));
        vb_pci_device_done(&d);

        a = addr("0000:00:03.0");
        ASSERT_OK(vb_pci_device_read(ctx, &a, &d));
        ASSERT_TRUE(vb_pci_device_is_bridge(&d));
        vb_pci_device_done(&d);

        /* Not present (the hot-plug slot is empty). */
        a = addr("0000:03:00.0");
        ASSERT_ERRNO(vb_pci_device_read(ctx, &a, &d), ENODEV);
        close_case(dir, k, ctx);
}

TEST(override_is_read) {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciDevice d = {};
        VbPciAddress a = addr("0000:01:00.1");

        open_case("desktop", &dir, &k, &ctx);
        ASSERT_OK(tree_write(dir, "sys/bus/pci/devices/0000:01:00.1/driver_override", "vfio-pci\n"));
        ASSERT_OK(vb_pci_device_read(ctx, &a, &d));
        ASSERT_STREQ(d.driver_override, "vfio-pci");
        vb_pci_device_done(&d);
        close_case(dir, k, ctx);
}

TEST(no_iommu_means_no_group) {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciList l = {};

        open_case("no-iommu", &dir, &k, &ctx);
        ASSERT_OK(vb_pci_enumerate(ctx, &l));
        ASSERT_EQ(l.n, 8);
        for (size_t i = 0; i < l.n; i++)
                ASSERT_EQ(l.devices[i].iommu_group, -1);
        vb_pci_list_done(&l);
        close_case(dir, k, ctx);
}

TEST(two_gpus) {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciList l = {};
        VbPciAddress a0 = addr("0000:0e:00.0"), a1 = addr("0000:0f:00.0"), s0 = addr("0000:0e:00.1"),
                     s1 = addr("0000:0f:00.1");
        const VbPciDevice *g0, *g1, *d0, *d1;

        open_case("two-gpus", &dir, &k, &ctx);
        ASSERT_OK(vb_pci_enumerate(ctx, &l));
        g0 = vb_pci_list_find(&l, &a0);
        g1 = vb_pci_list_find(&l, &a1);
        d0 = vb_pci_list_find(&l, &s0);
        d1 = vb_pci_list_find(&l, &s1);
        ASSERT_TRUE(g0 && g1 && d0 && d1);
        ASSERT_TRUE(g0->boot_vga);
        ASSERT_FALSE(g1->boot_vga);
        ASSERT_EQ(g0->device, 0x13c2);
        ASSERT_EQ(g1->device, 0x13c0);
        ASSERT_EQ(d0->device, 0x0fbb);
        ASSERT_EQ(d1->device, 0x0fbb);
        ASSERT_EQ(g0->iommu_group, 13);
        ASSERT_EQ(d1->iommu_group, 14);
        /* 64-bit prefetchable BAR 1 holds the framebuffer aperture. */
        ASSERT_EQ(g0->n_resources, 4);
        ASSERT_EQ(g0->resources[1].start, 0xe0000000);
        ASSERT_EQ(g0->resources[1].end, 0xefffffff);
        vb_pci_list_done(&l);
        close_case(dir, k, ctx);
}

TEST(driver_exists) {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;

        open_case("desktop", &dir, &k, &ctx);
        ASSERT_TRUE(vb_driver_exists(ctx, "bochs-drm"));
        ASSERT_FALSE(vb_driver_exists(ctx, "vfio-pci"));
        ASSERT_FALSE(vb_driver_exists(ctx, "vfio_pci"));
        close_case(dir, k, ctx);

        open_case("unbound", &dir, &k, &ctx);
        ASSERT_TRUE(vb_driver_exists(ctx, "vfio-pci"));
        close_case(dir, k, ctx);
}

TEST(device_gone_while_enumerating_is_skipped) {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciList l = {};

        open_case("desktop", &dir, &k, &ctx);
        /* A dangling bus link: the device went away between readdir and read. */
        ASSERT_OK(fake_kernel_unplug(k, "0000:02:00.0"));
        ASSERT_OK(tree_symlink(dir, "../../../devices/pci0000:00/0000:00:02.0/0000:02:00.0",
                               "sys/bus/pci/devices/0000:02:00.0"));
        ASSERT_OK(vb_pci_enumerate(ctx, &l));
        ASSERT_EQ(l.n, 7);
        vb_pci_list_done(&l);
        close_case(dir, k, ctx);
}

/* The identity and driver come from the uevent file. On every fixture tree they must be what
 * the vendor, device and class attributes and the driver link say, or the fast path and the
 * kernel's attributes could disagree without a test noticing. */
static uint32_t attr_u32(const char *dir, const char *dev, const char *attr) {
        _cleanup_free_ char *path = NULL, *s = NULL;
        ASSERT_TRUE(asprintf(&path, "sys/bus/pci/devices/%s/%s", dev, attr) > 0);
        s = tree_read(dir, path);
        ASSERT_TRUE(s);
        return (uint32_t) strtoul(s, NULL, 0);
}

static char *link_basename(const char *dir, const char *dev) {
        _cleanup_free_ char *path = NULL;
        char buf[4096];
        ssize_t n;
        ASSERT_TRUE(asprintf(&path, "%s/sys/bus/pci/devices/%s/driver", dir, dev) > 0);
        n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return NULL;
        buf[n] = '\0';
        return strdup(strrchr(buf, '/') + 1);
}

TEST(uevent_agrees_with_attributes) {
        static const char *const cases[] = {
                "desktop", "two-gpus", "unbound", "no-iommu", "shared-group", "simpledrm", "in-use", "in-use-group",
        };
        size_t checked = 0;

        for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
                char *dir;
                FakeKernel *k;
                VbContext *ctx;
                VbPciList l = {};

                open_case(cases[c], &dir, &k, &ctx);
                ASSERT_OK(vb_pci_enumerate(ctx, &l));
                ASSERT_TRUE(l.n > 0);
                for (size_t i = 0; i < l.n; i++) {
                        const VbPciDevice *d = &l.devices[i];
                        const char *name = VB_PCI_ADDRESS_STR(&d->address);
                        _cleanup_free_ char *driver = link_basename(dir, name);

                        ASSERT_EQ(d->vendor, attr_u32(dir, name, "vendor"));
                        ASSERT_EQ(d->device, attr_u32(dir, name, "device"));
                        ASSERT_EQ(d->class, attr_u32(dir, name, "class") & 0xffffff);
                        ASSERT_STREQ(strempty(d->driver), strempty(driver));
                        checked++;
                }
                vb_pci_list_done(&l);
                close_case(dir, k, ctx);
        }
        ASSERT_TRUE(checked >= 40);
}

/* A uevent file without the identity (or none at all): the attributes are read instead, and a
 * DRIVER= line of such a file is not believed. */
TEST(uevent_without_identity_falls_back) {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciDevice d = {};
        VbPciAddress a = addr("0000:01:00.1");

        open_case("desktop", &dir, &k, &ctx);
        ASSERT_OK(tree_write(dir, "sys/bus/pci/devices/0000:01:00.1/uevent", "DRIVER=wrong\nPCI_CLASS=40300\n"));
        ASSERT_OK(vb_pci_device_read(ctx, &a, &d));
        ASSERT_EQ(d.vendor, 0x8086);
        ASSERT_EQ(d.device, 0x293e);
        ASSERT_EQ(d.class, 0x040300);
        ASSERT_STREQ(d.driver, "snd_hda_intel");
        vb_pci_device_done(&d);

        /* Garbage in PCI_ID is not half-believed either. */
        ASSERT_OK(tree_write(dir, "sys/bus/pci/devices/0000:01:00.1/uevent", "PCI_ID=zz:293E\nPCI_CLASS=40300\n"));
        ASSERT_OK(vb_pci_device_read(ctx, &a, &d));
        ASSERT_EQ(d.vendor, 0x8086);
        ASSERT_STREQ(d.driver, "snd_hda_intel");
        vb_pci_device_done(&d);

        /* PCI_ID without PCI_CLASS: the class comes from the attribute, not as 0. */
        ASSERT_OK(
                tree_write(dir, "sys/bus/pci/devices/0000:01:00.1/uevent", "DRIVER=snd_hda_intel\nPCI_ID=8086:293E\n"));
        ASSERT_OK(vb_pci_device_read(ctx, &a, &d));
        ASSERT_EQ(d.class, 0x040300);
        ASSERT_EQ(d.device, 0x293e);
        ASSERT_STREQ(d.driver, "snd_hda_intel");
        vb_pci_device_done(&d);

        ASSERT_OK(tree_unlink(dir, "sys/bus/pci/devices/0000:01:00.1/uevent"));
        ASSERT_OK(vb_pci_device_read(ctx, &a, &d));
        ASSERT_EQ(d.device, 0x293e);
        ASSERT_STREQ(d.driver, "snd_hda_intel");
        vb_pci_device_done(&d);
        close_case(dir, k, ctx);
}

/* The sysfs readers (issue 16: a mutant that dropped the sign check survived): a number that
 * strtoul() would wrap ("-18446744073709551615" reads as 1) is refused, and a link target with trailing
 * slashes still has its last component as its basename. */
TEST(sysfs_readers_refuse_wrapped_numbers_and_read_trailing_slashes) {
        _cleanup_free_ char *base = NULL;
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        uint32_t v = 7;

        open_case("desktop", &dir, &k, &ctx);
        ASSERT_OK(tree_write(dir, "sys/bus/pci/devices/0000:01:00.1/vendor", "-18446744073709551615\n"));
        ASSERT_EQ(vb_sysfs_read_u32(ctx, "bus/pci/devices/0000:01:00.1/vendor", &v), -EINVAL);
        ASSERT_EQ(v, 7u);
        ASSERT_OK(tree_write(dir, "sys/bus/pci/devices/0000:01:00.1/vendor", "0x8086\n"));
        ASSERT_OK(vb_sysfs_read_u32(ctx, "bus/pci/devices/0000:01:00.1/vendor", &v));
        ASSERT_EQ(v, 0x8086u);

        ASSERT_OK(tree_unlink(dir, "sys/bus/pci/devices/0000:01:00.1/driver"));
        ASSERT_OK(tree_symlink(dir, "../../../../bus/pci/drivers/snd_hda_intel//",
                               "sys/bus/pci/devices/0000:01:00.1/driver"));
        ASSERT_OK(vb_sysfs_readlink_basename(ctx, "bus/pci/devices/0000:01:00.1/driver", &base));
        ASSERT_STREQ(base, "snd_hda_intel");
        close_case(dir, k, ctx);
}

/* Write SIZE bytes (NULs included) to PATH below DIR. */
static void write_bytes(const char *dir, const char *path, const char *data, size_t size) {
        _cleanup_free_ char *full = NULL;
        _cleanup_close_ int fd = -EBADF;

        ASSERT_TRUE(asprintf(&full, "%s/%s", dir, path) >= 0);
        fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, data, size), (ssize_t) size);
}

/* What the pure parsers' fuzz targets model of the file path (tests/fuzz/fuzz-text.h): a read
 * drops the newlines at the end of the file and its text ends at the first NUL byte, so a
 * uevent file whose PCI_CLASS= lies after a NUL has no identity (the attributes are read), and
 * a number followed by a NUL reads, one followed by a newline and a NUL does not. */
TEST(sysfs_readers_stop_at_nul) {
        static const char uevent[] = "DRIVER=wrong\nPCI_ID=1234:5678\n\0PCI_CLASS=40300\n";
        _cleanup_free_ char *text = NULL;
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciDevice d = {};
        VbPciAddress a = addr("0000:01:00.1");
        uint32_t v = 7;

        open_case("desktop", &dir, &k, &ctx);
        write_bytes(dir, "sys/bus/pci/devices/0000:01:00.1/uevent", uevent, sizeof(uevent) - 1);
        ASSERT_OK(vb_pci_device_read_identity(ctx, &a, &d));
        ASSERT_EQ(d.vendor, 0x8086);
        ASSERT_EQ(d.device, 0x293e);
        ASSERT_EQ(d.class, 0x040300);
        ASSERT_STREQ(d.driver, "snd_hda_intel");
        vb_pci_device_done(&d);

        write_bytes(dir, "sys/fuzz-attribute", "0x10\0junk\n", 10);
        ASSERT_OK(vb_sysfs_read(ctx, "fuzz-attribute", &text));
        ASSERT_STREQ(text, "0x10");
        ASSERT_OK(vb_sysfs_read_u32(ctx, "fuzz-attribute", &v));
        ASSERT_EQ(v, 0x10u);
        write_bytes(dir, "sys/fuzz-attribute", "0x10\n\0\n\n", 7);
        ASSERT_EQ(vb_sysfs_read_u32(ctx, "fuzz-attribute", &v), -EINVAL);
        ASSERT_EQ(v, 0x10u);
        write_bytes(dir, "sys/fuzz-attribute", "0x11\n\n", 6);
        ASSERT_OK(vb_sysfs_read_u32(ctx, "fuzz-attribute", &v));
        ASSERT_EQ(v, 0x11u);
        close_case(dir, k, ctx);
}

/* An unbind through the (fake) kernel shows in the next read. */
TEST(read_follows_unbind) {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciDevice d = {};
        VbPciAddress a = addr("0000:01:00.1");

        open_case("desktop", &dir, &k, &ctx);
        ASSERT_OK(vb_pci_device_read(ctx, &a, &d));
        ASSERT_STREQ(d.driver, "snd_hda_intel");
        vb_pci_device_done(&d);
        ASSERT_OK(vb_sysfs_write(ctx, "bus/pci/drivers/snd_hda_intel/unbind", "0000:01:00.1"));
        ASSERT_OK(vb_pci_device_read(ctx, &a, &d));
        ASSERT_NULL(d.driver);
        ASSERT_EQ(d.vendor, 0x8086);
        vb_pci_device_done(&d);
        ASSERT_EQ(fake_kernel_n_violations(k), 0);
        vb_context_free(ctx);
        fake_kernel_free(k);
        tree_free(dir);
}

TEST(read_identity_only) {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciDevice d = {};
        VbPciAddress a = addr("0000:01:00.0");

        open_case("desktop", &dir, &k, &ctx);
        ASSERT_OK(vb_pci_device_read_identity(ctx, &a, &d));
        ASSERT_EQ(d.vendor, 0x1234);
        ASSERT_EQ(d.device, 0x1111);
        ASSERT_EQ(d.class, 0x030000);
        ASSERT_EQ(d.header_type, 0);
        ASSERT_STREQ(d.driver, "bochs-drm");
        /* the rest is not read */
        ASSERT_FALSE(d.boot_vga);
        ASSERT_EQ(d.iommu_group, -1);
        ASSERT_EQ(d.n_resources, 0);
        vb_pci_device_done(&d);

        a = addr("0000:00:01.0");
        ASSERT_OK(vb_pci_device_read_identity(ctx, &a, &d));
        ASSERT_EQ(d.header_type, 1);
        ASSERT_TRUE(vb_pci_device_is_bridge(&d));
        vb_pci_device_done(&d);

        a = addr("0000:03:00.0");
        ASSERT_ERRNO(vb_pci_device_read_identity(ctx, &a, &d), ENODEV);
        close_case(dir, k, ctx);
}

/* tests/sysfs/vmd: the devices behind Intel VMD are in domain 10000, on a root bus that lives
 * inside the VMD endpoint's directory, and share its IOMMU group. */
TEST(enumerate_vmd) {
        static const char *const expected[] = {
                "0000:00:00.0",  "0000:00:0e.0",  "0000:00:1f.6",  "10000:e0:17.0",
                "10000:e0:1c.0", "10000:e0:1d.0", "10000:e1:00.0", /* after domain 0000 */
        };
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciList l = {};

        open_case("vmd", &dir, &k, &ctx);
        ASSERT_OK(vb_pci_enumerate(ctx, &l));
        ASSERT_EQ(l.n, ELEMENTSOF(expected));
        for (size_t i = 0; i < l.n; i++)
                ASSERT_STREQ(VB_PCI_ADDRESS_STR(&l.devices[i].address), expected[i]);
        vb_pci_list_done(&l);
        close_case(dir, k, ctx);
}

TEST(read_devices_behind_vmd) {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciList l = {};
        VbPciDevice d = {};
        const VbPciDevice *e;
        VbPciAddress nvme = addr("10000:e1:00.0"), port = addr("10000:e0:1d.0"), vmd = addr("0000:00:0e.0"),
                     low = addr("0000:e1:00.0");

        open_case("vmd", &dir, &k, &ctx);
        /* One device read by its address: the path bus/pci/devices/10000:e1:00.0/… */
        ASSERT_OK(vb_pci_device_read(ctx, &nvme, &d));
        ASSERT_EQ(d.address.domain, 0x10000);
        ASSERT_EQ(d.vendor, 0x144d);
        ASSERT_EQ(d.device, 0xa80a);
        ASSERT_EQ(d.class, 0x010802);
        ASSERT_EQ(d.header_type, 0);
        ASSERT_STREQ(d.driver, "nvme");
        ASSERT_NULL(d.driver_override);
        ASSERT_EQ(d.iommu_group, 7);
        ASSERT_FALSE(vb_pci_device_is_bridge(&d));
        vb_pci_device_done(&d);
        ASSERT_OK(vb_pci_device_read_identity(ctx, &nvme, &d));
        ASSERT_STREQ(d.driver, "nvme");
        vb_pci_device_done(&d);
        /* The same bus and slot in domain 0000 is not there. */
        ASSERT_ERRNO(vb_pci_device_read(ctx, &low, &d), ENODEV);

        ASSERT_OK(vb_pci_enumerate(ctx, &l));
        e = vb_pci_list_find(&l, &port);
        ASSERT_TRUE(e);
        ASSERT_TRUE(vb_pci_device_is_bridge(e));
        ASSERT_STREQ(e->driver, "pcieport");
        ASSERT_EQ(e->iommu_group, 7);
        /* The VMD controller: an endpoint (RAID class 0104), in the group it shares. */
        e = vb_pci_list_find(&l, &vmd);
        ASSERT_TRUE(e);
        ASSERT_EQ(e->vendor, 0x8086);
        ASSERT_EQ(e->device, 0x9a0b);
        ASSERT_EQ(e->class, 0x010400);
        ASSERT_FALSE(vb_pci_device_is_bridge(e));
        ASSERT_STREQ(e->driver, "vmd");
        ASSERT_EQ(e->iommu_group, 7);
        ASSERT_NULL(vb_pci_list_find(&l, &low));
        vb_pci_list_done(&l);
        close_case(dir, k, ctx);
}

/* What the lead's "behind VMD" check can rely on in the fixture: the device's sysfs directory is
 * under the VMD endpoint's ("…/0000:00:0e.0/pci10000:e0/…"), its domain is not that of the
 * endpoint, and its iommu_group is the endpoint's. */
TEST(vmd_fixture_layout) {
        static const char *const behind[] = { "10000:e0:1c.0", "10000:e0:1d.0", "10000:e1:00.0", "10000:e0:17.0" };
        _cleanup_free_ char *vmd_link = NULL;
        char buf[PATH_MAX], *dir;
        ssize_t n;

        ASSERT_OK(tree_new("vmd", &dir));
        for (size_t i = 0; i < ELEMENTSOF(behind); i++) {
                _cleanup_free_ char *link = NULL, *group = NULL;

                ASSERT_TRUE(asprintf(&link, "%s/sys/bus/pci/devices/%s", dir, behind[i]) >= 0);
                n = readlink(link, buf, sizeof(buf) - 1);
                ASSERT_INT(n, >, 0);
                buf[n] = '\0';
                ASSERT_CONTAINS(buf, "/devices/pci0000:00/0000:00:0e.0/pci10000:e0/");
                ASSERT_TRUE(asprintf(&group, "%s/iommu_group", link) >= 0);
                n = readlink(group, buf, sizeof(buf) - 1);
                ASSERT_INT(n, >, 0);
                buf[n] = '\0';
                if (!strstr(buf, "/kernel/iommu_groups/7") || strstr(buf, "/kernel/iommu_groups/7/"))
                        TEST_FAIL("%s: iommu_group -> %s", behind[i], buf);
        }
        ASSERT_TRUE(asprintf(&vmd_link, "%s/sys/bus/pci/devices/0000:00:0e.0", dir) >= 0);
        n = readlink(vmd_link, buf, sizeof(buf) - 1);
        ASSERT_INT(n, >, 0);
        buf[n] = '\0';
        ASSERT_STREQ(buf, "../../../devices/pci0000:00/0000:00:0e.0");
        tree_free(dir);
}

TEST(pci_id_as_the_kernel_writes_it) {
        uint16_t vendor, device;

        ASSERT_OK(vb_pci_id_parse("8086:10D3", &vendor, &device));
        ASSERT_EQ(vendor, 0x8086);
        ASSERT_EQ(device, 0x10d3);
        ASSERT_OK(vb_pci_id_parse("1af4:1041", &vendor, &device));
        ASSERT_EQ(vendor, 0x1af4);
        ASSERT_EQ(device, 0x1041);
        ASSERT_OK(vb_pci_id_parse("FFFF:0000", &vendor, &device));
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
                if (vb_pci_id_parse(bad[i], &vendor, &device) != -EINVAL)
                        TEST_FAIL("\"%s\" was accepted", bad[i]);
        ASSERT_ERRNO(vb_pci_id_parse(NULL, &vendor, &device), EINVAL);
        ASSERT_EQ(vendor, 1);
        ASSERT_EQ(device, 2);
}

/* The uevent file and the daemon's uevent filter read PCI_ID= with one parser: an identity the
 * filter would not take is not taken from the file either (the reader then reads the attributes). */
TEST(uevent_file_and_filter_agree_on_pci_id) {
        static const char *const ids[] = {
                "8086:10D3",  "1af4:1041", "0x8086:10d3", "+8086:10d3", " 8086:10d3",
                "8086:10d3 ", "8086:10d",  "18086:10d3",  "8086:+10d",  "8086:0x10",
        };
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                _cleanup_free_ char *text = NULL, *driver = NULL;
                uint16_t v, d, v2, d2;
                uint32_t class;
                int filter = vb_pci_id_parse(ids[i], &v, &d), file;

                ASSERT_TRUE(asprintf(&text, "DRIVER=e1000e\nPCI_CLASS=20000\nPCI_ID=%s\n", ids[i]) > 0);
                file = vb_pci_uevent_parse(text, &v2, &d2, &class, &driver);
                if ((filter == 0) != (file == 0))
                        TEST_FAIL("PCI_ID=%s: the filter says %d, the file's parser %d", ids[i], filter, file);
                if (file == 0) {
                        ASSERT_EQ(v, v2);
                        ASSERT_EQ(d, d2);
                        ASSERT_EQ(class, 0x020000u);
                } else
                        ASSERT_EQ(file, -ENODATA);
        }
}

TEST(pci_class_as_the_kernel_writes_it) {
        static const char *const bad[] = { "", "0x20000", "+20000", " 20000", "20000 ", "1000000", "2g000", "-1" };
        uint32_t c = 7;

        ASSERT_OK(vb_pci_class_parse("20000", &c));
        ASSERT_EQ(c, 0x020000u);
        ASSERT_OK(vb_pci_class_parse("C0330", &c));
        ASSERT_EQ(c, 0x0c0330u);
        ASSERT_OK(vb_pci_class_parse("FFFFFF", &c));
        ASSERT_EQ(c, 0xffffffu);
        ASSERT_OK(vb_pci_class_parse("0", &c));
        ASSERT_EQ(c, 0u);
        c = 7;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (vb_pci_class_parse(bad[i], &c) != -EINVAL)
                        TEST_FAIL("\"%s\" was accepted", bad[i]);
        ASSERT_ERRNO(vb_pci_class_parse(NULL, &c), EINVAL);
        ASSERT_EQ(c, 7u);
}

TESTS_MAIN()
