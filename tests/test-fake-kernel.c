/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fake kernel's own rules, checked against what the real kernel does (KNOWLEDGE.md,
 * Documentation/ABI/testing/sysfs-bus-pci). The library is not involved: the calls go straight
 * to fake_kernel_ops, as the library's context would make them. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

#include "fake-kernel.h"
#include "machine.h"
#include "macro.h"
#include "tests.h"
#include "tree.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define PORT "0000:00:01.0"
#define NIC "0000:02:00.0"

typedef struct Fixture {
        char *dir;
        FakeKernel *k;
        int rootfd;
} Fixture;

static Fixture setup_with(const char *case_name, const char *extra_conf) {
        Fixture f = { .rootfd = -EBADF };

        ASSERT_OK(tree_new(case_name, &f.dir));
        if (extra_conf)
                ASSERT_OK(tree_append(f.dir, "fake-kernel.conf", extra_conf));
        ASSERT_OK(fake_kernel_new(&f.k, f.dir));
        f.rootfd = open(fake_kernel_sysfs_root(f.k), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(f.rootfd >= 0);
        return f;
}

static Fixture setup(const char *case_name) {
        return setup_with(case_name, NULL);
}

static void teardown(Fixture *f) {
        ASSERT_EQ(fake_kernel_n_violations(f->k), 0);
        close(f->rootfd);
        fake_kernel_free(f->k);
        tree_free(f->dir);
}

static int wr(Fixture *f, const char *path, const char *value) {
        return fake_kernel_ops.write_attr(f->k, f->rootfd, path, value);
}

static int load(Fixture *f, const char *driver) {
        return fake_kernel_ops.load_driver(f->k, NULL, driver);
}

TEST(every_case_loads_and_is_consistent) {
        static const char *const cases[] = { "desktop", "two-gpus",  "shared-group", "no-iommu",
                                             "unbound", "simpledrm", "sriov" };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Fixture f = setup(cases[i]);
                _cleanup_free_ char *boot = NULL;

                /* Every PCI device link resolves to a directory with the basics. */
                ASSERT_TRUE(fake_kernel_device_exists(f.k, "0000:00:00.0"));
                boot = fake_kernel_read(f.k, "class/vtconsole/vtcon0/name");
                ASSERT_STREQ(boot, "(S) dummy device");
                ASSERT_TRUE(fake_kernel_driver_loaded(f.k, "pcieport"));
                ASSERT_FALSE(fake_kernel_driver_loaded(f.k, "vfio_pci"));
                teardown(&f);
        }
}

TEST(desktop_layout) {
        Fixture f = setup("desktop");
        _cleanup_free_ char *ov = fake_kernel_read(f.k, "bus/pci/devices/" GPU "/driver_override");
        _cleanup_free_ char *grp = NULL, *bvga = NULL, *ue = NULL;
        unsigned char hdr[64];
        int fd;

        ASSERT_STREQ(ov, "(null)");
        ASSERT_NULL(fake_kernel_override(f.k, GPU));
        ASSERT_DRIVER(&f, GPU, "bochs-drm");
        ASSERT_DRIVER(&f, AUDIO, "snd_hda_intel");
        ASSERT_DRIVER(&f, NIC, "e1000e");
        ASSERT_DRIVER(&f, PORT, "pcieport");
        ASSERT_DRIVER(&f, "0000:00:03.0", "pcieport");
        ASSERT_DRIVER(&f, "0000:00:1f.2", "ahci");
        ASSERT_DRIVER(&f, "0000:00:00.0", NULL);
        ASSERT_FALSE(fake_kernel_driver_loaded(f.k, "vfio-pci"));
        ASSERT_FALSE(fake_kernel_device_exists(f.k, "0000:03:00.0"));

        /* Links with the right depth: reading through them works. */
        grp = fake_kernel_read(f.k, "bus/pci/devices/" GPU "/iommu_group/type");
        ASSERT_STREQ(grp, "DMA");
        ASSERT_TRUE(tree_exists(f.dir, "sys/kernel/iommu_groups/1/devices/" AUDIO "/vendor"));
        ASSERT_TRUE(tree_exists(f.dir, "sys/bus/pci/drivers/bochs-drm/" GPU "/vendor"));
        ASSERT_TRUE(tree_exists(f.dir, "sys/bus/pci/devices/" GPU "/driver/bind"));
        ASSERT_TRUE(tree_exists(f.dir, "sys/bus/pci/devices/" GPU "/subsystem/drivers_probe"));
        bvga = fake_kernel_read(f.k, "bus/pci/devices/" GPU "/boot_vga");
        ASSERT_STREQ(bvga, "1");
        ASSERT_FALSE(tree_exists(f.dir, "sys/bus/pci/devices/" AUDIO "/boot_vga"));
        ue = fake_kernel_read(f.k, "bus/pci/devices/" GPU "/uevent");
        ASSERT_CONTAINS(ue, "DRIVER=bochs-drm\n");
        ASSERT_CONTAINS(ue, "PCI_ID=1234:1111\n");
        ASSERT_CONTAINS(ue, "PCI_SLOT_NAME=0000:01:00.0\n");

        /* Config space: IDs little endian, class, header type (multi-function bit on .0). */
        fd = openat(f.rootfd, "bus/pci/devices/" GPU "/config", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(read(fd, hdr, sizeof(hdr)), 64);
        close(fd);
        ASSERT_EQ(hdr[0] | hdr[1] << 8, 0x1234);
        ASSERT_EQ(hdr[2] | hdr[3] << 8, 0x1111);
        ASSERT_EQ(hdr[0x0b], 0x03);
        ASSERT_EQ(hdr[0x0e], 0x80);
        fd = openat(f.rootfd, "bus/pci/devices/" PORT "/config", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(read(fd, hdr, sizeof(hdr)), 64);
        close(fd);
        ASSERT_EQ(hdr[0x0e], 0x01);
        teardown(&f);
}

TEST(override_store_and_clear) {
        Fixture f = setup("desktop");
        _cleanup_free_ char *raw = NULL;
        char *ov;

        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio-pci"));
        ov = fake_kernel_override(f.k, GPU);
        ASSERT_STREQ(ov, "vfio-pci");
        free(ov);
        /* Writing it triggers nothing: still on bochs-drm. */
        ASSERT_DRIVER(&f, GPU, "bochs-drm");

        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", ""));
        raw = fake_kernel_read(f.k, "bus/pci/devices/" GPU "/driver_override");
        ASSERT_STREQ(raw, "(null)");
        ASSERT_NULL(fake_kernel_override(f.k, GPU));

        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio-pci\n"));
        ov = fake_kernel_override(f.k, GPU);
        ASSERT_STREQ(ov, "vfio-pci");
        free(ov);
        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "\n"));
        ASSERT_NULL(fake_kernel_override(f.k, GPU));

        ASSERT_HISTORY(&f,
                       "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"
                       "bus/pci/devices/0000:01:00.0/driver_override=\n"
                       "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"
                       "bus/pci/devices/0000:01:00.0/driver_override=\n");
        teardown(&f);
}

TEST(unbind) {
        Fixture f = setup("desktop");
        _cleanup_free_ char *ue = NULL;

        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/snd_hda_intel/unbind", GPU), ENODEV);
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/bochs-drm/unbind", "0000:09:00.0"), ENODEV);
        ASSERT_DRIVER(&f, GPU, "bochs-drm");
        ASSERT_OK(wr(&f, "bus/pci/drivers/bochs-drm/unbind", GPU));
        ASSERT_DRIVER(&f, GPU, NULL);
        ASSERT_FALSE(tree_exists(f.dir, "sys/bus/pci/drivers/bochs-drm/" GPU));
        ue = fake_kernel_read(f.k, "bus/pci/devices/" GPU "/uevent");
        ASSERT_TRUE(!strstr(ue, "DRIVER="));
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/bochs-drm/unbind", GPU), ENODEV);
        /* A driver that does not exist has no unbind file. */
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/vfio-pci/unbind", GPU), ENOENT);

        ASSERT_HISTORY(&f,
                       "bus/pci/drivers/snd_hda_intel/unbind=0000:01:00.0 -> -ENODEV\n"
                       "bus/pci/drivers/bochs-drm/unbind=0000:09:00.0 -> -ENODEV\n"
                       "bus/pci/drivers/bochs-drm/unbind=0000:01:00.0\n"
                       "bus/pci/drivers/bochs-drm/unbind=0000:01:00.0 -> -ENODEV\n"
                       "bus/pci/drivers/vfio-pci/unbind=0000:01:00.0 -> -ENOENT\n");
        teardown(&f);
}

TEST(unbind_through_the_device_link_is_normalized) {
        Fixture f = setup("desktop");
        const FakeOp *op;

        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver/unbind", GPU));
        ASSERT_DRIVER(&f, GPU, NULL);
        op = fake_kernel_op(f.k, 0);
        ASSERT_STREQ(op->path, "bus/pci/devices/0000:01:00.0/driver/unbind");
        ASSERT_STREQ(op->normalized, "bus/pci/drivers/bochs-drm/unbind");
        /* The link is gone with the driver. */
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" GPU "/driver/unbind", GPU), ENOENT);
        teardown(&f);
}

TEST(bind_file) {
        Fixture f = setup("desktop");

        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/bochs-drm/bind", GPU), EBUSY);
        ASSERT_OK(wr(&f, "bus/pci/drivers/bochs-drm/unbind", GPU));
        /* No match line says e1000e drives a VGA device. */
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/e1000e/bind", GPU), ENODEV);
        /* An override naming another driver keeps the matching driver out. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio-pci"));
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/bochs-drm/bind", GPU), ENODEV);
        ASSERT_DRIVER(&f, GPU, NULL);
        /* An override naming a driver lets it bind even without a match line. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "e1000e"));
        ASSERT_OK(wr(&f, "bus/pci/drivers/e1000e/bind", GPU));
        ASSERT_DRIVER(&f, GPU, "e1000e");
        ASSERT_OK(wr(&f, "bus/pci/drivers/e1000e/unbind", GPU));
        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", ""));
        ASSERT_OK(wr(&f, "bus/pci/drivers/bochs-drm/bind", GPU));
        ASSERT_DRIVER(&f, GPU, "bochs-drm");
        teardown(&f);
}

TEST(drivers_probe_without_override_rebinds_the_host_driver) {
        Fixture f = setup("desktop");

        ASSERT_ERRNO(wr(&f, "bus/pci/drivers_probe", "0000:09:00.0"), ENODEV);
        ASSERT_OK(wr(&f, "bus/pci/drivers/bochs-drm/unbind", GPU));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", GPU));
        ASSERT_DRIVER(&f, GPU, "bochs-drm");
        /* Bound already: a no-op that succeeds. */
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", GPU));
        ASSERT_DRIVER(&f, GPU, "bochs-drm");
        /* The host bridge: nothing matches, nothing binds, still success. */
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", "0000:00:00.0"));
        ASSERT_DRIVER(&f, "0000:00:00.0", NULL);
        teardown(&f);
}

TEST(libvirt_order_binds_vfio) {
        Fixture f = setup("desktop");
        _cleanup_free_ char *log = NULL, *hist = NULL;

        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_TRUE(fake_kernel_driver_loaded(f.k, "vfio-pci"));
        /* Loading attaches to nothing: every device has a driver. */
        ASSERT_DRIVER(&f, GPU, "bochs-drm");
        ASSERT_EQ(load(&f, "vfio-pci"), 0);
        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers/bochs-drm/unbind", GPU));
        ASSERT_DRIVER(&f, GPU, NULL);
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", GPU));
        ASSERT_DRIVER(&f, GPU, "vfio-pci");
        ASSERT_TRUE(tree_exists(f.dir, "sys/bus/pci/drivers/vfio-pci/" GPU "/vendor"));

        hist = fake_kernel_history(f.k);
        ASSERT_STREQ(hist,
                     "load vfio-pci -> 1\n"
                     "load vfio-pci -> 0\n"
                     "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"
                     "bus/pci/drivers/bochs-drm/unbind=0000:01:00.0\n"
                     "bus/pci/drivers_probe=0000:01:00.0\n");
        /* The log says the same, for a test that watches another process. */
        log = fake_kernel_read_log(f.dir);
        ASSERT_STREQ(log, hist);

        /* Release: clear, unbind, probe → back to the host driver. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", ""));
        ASSERT_OK(wr(&f, "bus/pci/drivers/vfio-pci/unbind", GPU));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", GPU));
        ASSERT_DRIVER(&f, GPU, "bochs-drm");
        teardown(&f);
}

TEST(wrong_order_leaves_the_host_driver) {
        Fixture f = setup("desktop");

        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        /* Probe before unbind: a bound device is left alone. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", GPU));
        ASSERT_DRIVER(&f, GPU, "bochs-drm");
        teardown(&f);

        /* Unbind before override: the host driver takes it back on probe. */
        f = setup("desktop");
        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_OK(wr(&f, "bus/pci/drivers/bochs-drm/unbind", GPU));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", GPU));
        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio-pci"));
        ASSERT_DRIVER(&f, GPU, "bochs-drm");
        teardown(&f);
}

TEST(module_name_binds_nothing) {
        Fixture f = setup("desktop");

        /* The module is vfio_pci, the driver vfio-pci: modprobe takes either name, but the
         * override must name the driver. */
        ASSERT_EQ(load(&f, "vfio_pci"), 1);
        ASSERT_EQ(load(&f, "vfio-pci"), 0);
        ASSERT_ERRNO(load(&f, "vfio_pcie"), ENOENT);
        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio_pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers/bochs-drm/unbind", GPU));
        /* drivers_probe reports success while nothing bound, like the kernel. */
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", GPU));
        ASSERT_DRIVER(&f, GPU, NULL);
        teardown(&f);
}

TEST(module_load_attaches_to_overridden_devices) {
        Fixture f = setup("desktop");

        /* Override and unbind first, then load: the registering driver takes the device. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers/bochs-drm/unbind", GPU));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", GPU));
        ASSERT_DRIVER(&f, GPU, NULL);
        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_DRIVER(&f, GPU, "vfio-pci");
        /* Others are untouched. */
        ASSERT_DRIVER(&f, AUDIO, "snd_hda_intel");
        teardown(&f);
}

TEST(builtin_driver_loads_as_zero) {
        Fixture f = setup("unbound");

        ASSERT_DRIVER(&f, GPU, NULL);
        ASSERT_DRIVER(&f, AUDIO, NULL);
        ASSERT_EQ(load(&f, "vfio-pci"), 0);
        /* Built in: nothing probes the unbound devices by itself. */
        ASSERT_DRIVER(&f, GPU, NULL);
        ASSERT_ERRNO(load(&f, "nvidia"), ENOENT);
        teardown(&f);
}

TEST(vfio_refuses_bridges_and_groupless_devices) {
        Fixture f = setup("desktop");

        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_OK(wr(&f, "bus/pci/devices/" PORT "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers/pcieport/unbind", PORT));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", PORT));
        ASSERT_DRIVER(&f, PORT, NULL);
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/vfio-pci/bind", PORT), EINVAL);
        teardown(&f);

        f = setup("no-iommu");
        ASSERT_FALSE(tree_exists(f.dir, "sys/kernel/iommu_groups"));
        ASSERT_FALSE(tree_exists(f.dir, "sys/bus/pci/devices/" GPU "/iommu_group"));
        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers/bochs-drm/unbind", GPU));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", GPU));
        ASSERT_DRIVER(&f, GPU, NULL);
        teardown(&f);
}

TEST(refuse_rule) {
        Fixture f = setup_with("unbound", "refuse vfio-pci 0000:01:00.1\n");

        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/devices/" AUDIO "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", GPU));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", AUDIO));
        ASSERT_DRIVER(&f, GPU, "vfio-pci");
        ASSERT_DRIVER(&f, AUDIO, NULL);
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/vfio-pci/bind", AUDIO), EINVAL);
        teardown(&f);
}

TEST(new_id_is_a_violation) {
        Fixture f = setup("unbound");

        ASSERT_OK(wr(&f, "bus/pci/drivers/vfio-pci/new_id", "1234 1111"));
        ASSERT_EQ(fake_kernel_n_violations(f.k), 1);
        ASSERT_CONTAINS(fake_kernel_violation(f.k, 0), "new_id");
        /* It changed nothing. */
        ASSERT_DRIVER(&f, GPU, NULL);
        fake_kernel_forget(f.k);
        teardown(&f);
}

TEST(unclean_paths_are_violations) {
        Fixture f = setup("desktop");
        int other;

        ASSERT_ERRNO(wr(&f, "../proc/cmdline", "x"), EINVAL);
        ASSERT_ERRNO(wr(&f, "/sys/bus/pci/drivers_probe", GPU), EINVAL);
        ASSERT_ERRNO(wr(&f, "bus/pci//drivers_probe", GPU), EINVAL);
        ASSERT_EQ(fake_kernel_n_violations(f.k), 3);
        fake_kernel_forget(f.k);

        /* The write must come with the tree's root fd. */
        other = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(other >= 0);
        (void) fake_kernel_ops.write_attr(f.k, other, "bus/pci/drivers_probe", GPU);
        close(other);
        ASSERT_EQ(fake_kernel_n_violations(f.k), 1);
        fake_kernel_forget(f.k);
        teardown(&f);
}

TEST(vtconsole_bind) {
        Fixture f = setup("desktop");
        char *b;

        ASSERT_ERRNO(wr(&f, "class/vtconsole/vtcon0/bind", "0"), EINVAL);
        b = fake_kernel_read(f.k, "class/vtconsole/vtcon0/bind");
        ASSERT_STREQ(b, "1");
        free(b);
        ASSERT_OK(wr(&f, "class/vtconsole/vtcon1/bind", "0"));
        b = fake_kernel_read(f.k, "class/vtconsole/vtcon1/bind");
        ASSERT_STREQ(b, "0");
        free(b);
        ASSERT_ERRNO(wr(&f, "class/vtconsole/vtcon1/bind", "yes"), EINVAL);
        ASSERT_OK(wr(&f, "class/vtconsole/vtcon1/bind", "1"));
        b = fake_kernel_read(f.k, "class/vtconsole/vtcon1/bind");
        ASSERT_STREQ(b, "1");
        free(b);
        ASSERT_ERRNO(wr(&f, "class/vtconsole/vtcon7/bind", "0"), ENOENT);
        ASSERT_HISTORY(&f,
                       "class/vtconsole/vtcon0/bind=0 -> -EINVAL\n"
                       "class/vtconsole/vtcon1/bind=0\n"
                       "class/vtconsole/vtcon1/bind=yes -> -EINVAL\n"
                       "class/vtconsole/vtcon1/bind=1\n"
                       "class/vtconsole/vtcon7/bind=0 -> -ENOENT\n");
        teardown(&f);
}

TEST(platform_framebuffer_unbind) {
        Fixture f = setup("desktop");
        char *d;

        d = fake_kernel_platform_driver(f.k, "efi-framebuffer.0");
        ASSERT_STREQ(d, "efi-framebuffer");
        free(d);
        ASSERT_ERRNO(wr(&f, "bus/platform/drivers/efi-framebuffer/unbind", "simple-framebuffer.0"), ENODEV);
        ASSERT_ERRNO(wr(&f, "bus/platform/drivers/simple-framebuffer/unbind", "efi-framebuffer.0"), ENOENT);
        ASSERT_OK(wr(&f, "bus/platform/drivers/efi-framebuffer/unbind", "efi-framebuffer.0"));
        ASSERT_NULL(fake_kernel_platform_driver(f.k, "efi-framebuffer.0"));
        ASSERT_FALSE(tree_exists(f.dir, "sys/bus/platform/drivers/efi-framebuffer/efi-framebuffer.0"));
        /* "No such device": already gone. */
        ASSERT_ERRNO(wr(&f, "bus/platform/drivers/efi-framebuffer/unbind", "efi-framebuffer.0"), ENODEV);
        ASSERT_OK(wr(&f, "bus/platform/drivers/efi-framebuffer/bind", "efi-framebuffer.0"));
        d = fake_kernel_platform_driver(f.k, "efi-framebuffer.0");
        ASSERT_STREQ(d, "efi-framebuffer");
        free(d);
        teardown(&f);

        /* Newer kernels: simple-framebuffer.0 under the GPU, through its own driver link. */
        f = setup("simpledrm");
        ASSERT_TRUE(tree_exists(f.dir, "sys/bus/pci/devices/" GPU "/simple-framebuffer.0/driver"));
        ASSERT_OK(wr(&f, "bus/platform/devices/simple-framebuffer.0/driver/unbind", "simple-framebuffer.0"));
        ASSERT_NULL(fake_kernel_platform_driver(f.k, "simple-framebuffer.0"));
        ASSERT_HISTORY(&f, "bus/platform/drivers/simple-framebuffer/unbind=simple-framebuffer.0\n");
        teardown(&f);
}

TEST(other_files) {
        Fixture f = setup("desktop");
        char *v;

        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/enable", "0"));
        v = fake_kernel_read(f.k, "bus/pci/devices/" GPU "/enable");
        ASSERT_STREQ(v, "0");
        free(v);
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" GPU "/reset", "1"), ENOENT);
        /* The last component is not followed (O_NOFOLLOW), directories are not written. */
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" GPU, "1"), ELOOP);
        ASSERT_ERRNO(wr(&f, "bus/pci/devices", "1"), EISDIR);
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/0000:09:00.0/driver_override", "vfio-pci"), ENOENT);
        teardown(&f);
}

TEST(fail_rule_counts) {
        Fixture f = setup_with("unbound",
                               "fail bus/pci/devices/0000:01:00.0/driver_override EBUSY 2\n"
                               "fail bus/pci/drivers_probe 5\n");

        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio-pci"), EBUSY);
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio-pci"), EBUSY);
        ASSERT_NULL(fake_kernel_override(f.k, GPU));
        ASSERT_OK(wr(&f, "bus/pci/devices/" GPU "/driver_override", "vfio-pci"));
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers_probe", GPU), EIO);
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers_probe", GPU), EIO);
        ASSERT_DRIVER(&f, GPU, NULL);
        teardown(&f);
}

TEST(vanish_rule) {
        Fixture f = setup_with("desktop", "vanish 0000:01:00.0 bus/pci/drivers/bochs-drm/unbind\n");

        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/bochs-drm/unbind", GPU), ENODEV);
        ASSERT_FALSE(fake_kernel_device_exists(f.k, GPU));
        ASSERT_FALSE(tree_exists(f.dir, "sys/kernel/iommu_groups/1/devices/" GPU));
        ASSERT_FALSE(tree_exists(f.dir, "sys/devices/pci0000:00/0000:00:01.0/" GPU));
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers_probe", GPU), ENODEV);
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" GPU "/driver_override", ""), ENOENT);
        ASSERT_DRIVER(&f, AUDIO, "snd_hda_intel");
        teardown(&f);
}

TEST(hang_rule) {
        Fixture f = setup_with("desktop", "hang bus/pci/drivers_probe 300\n");
        struct timespec a, b;
        long ms;

        clock_gettime(CLOCK_MONOTONIC, &a);
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", GPU));
        clock_gettime(CLOCK_MONOTONIC, &b);
        ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        ASSERT_INT(ms, >=, 300);
        /* Other paths do not wait. */
        clock_gettime(CLOCK_MONOTONIC, &a);
        ASSERT_OK(wr(&f, "bus/pci/drivers/bochs-drm/unbind", GPU));
        clock_gettime(CLOCK_MONOTONIC, &b);
        ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        ASSERT_INT(ms, <, 300);
        teardown(&f);
}

TEST(hotplug) {
        Fixture f = setup("desktop");
        _cleanup_free_ char *devpath = NULL, *grp = NULL;

        ASSERT_EQ(fake_kernel_plug(f.k, "0000:03:00.0", &devpath), 1);
        ASSERT_STREQ(devpath, "devices/pci0000:00/0000:00:03.0/0000:03:00.0");
        ASSERT_DRIVER(&f, "0000:03:00.0", "e1000e");
        grp = fake_kernel_read(f.k, "bus/pci/devices/0000:03:00.0/iommu_group/type");
        ASSERT_STREQ(grp, "DMA");
        ASSERT_TRUE(tree_exists(f.dir, "sys/kernel/iommu_groups/9/devices/0000:03:00.0/vendor"));
        ASSERT_TRUE(tree_exists(f.dir, "sys/bus/pci/devices/0000:03:00.0/subsystem/drivers_probe"));
        ASSERT_EQ(fake_kernel_plug(f.k, "0000:03:00.0", NULL), -EEXIST);
        ASSERT_EQ(fake_kernel_plug(f.k, "0000:04:00.0", NULL), -ENOENT);
        ASSERT_OK(fake_kernel_unplug(f.k, "0000:03:00.0"));
        ASSERT_FALSE(fake_kernel_device_exists(f.k, "0000:03:00.0"));
        ASSERT_FALSE(tree_exists(f.dir, "sys/bus/pci/drivers/e1000e/0000:03:00.0"));
        /* No writes: the kernel did this by itself. */
        ASSERT_EQ(fake_kernel_n_ops(f.k), 0);
        teardown(&f);

        /* Without IOMMU the device joins no group. */
        f = setup("no-iommu");
        ASSERT_EQ(fake_kernel_plug(f.k, "0000:03:00.0", NULL), 1);
        ASSERT_DRIVER(&f, "0000:03:00.0", "e1000e");
        ASSERT_FALSE(tree_exists(f.dir, "sys/bus/pci/devices/0000:03:00.0/iommu_group"));
        ASSERT_FALSE(tree_exists(f.dir, "sys/kernel"));
        teardown(&f);
}

/* ---- SR-IOV (case sriov; drivers/pci/iov.c) ---------------------------------------------------- */

#define PF0 "0000:03:00.0"
#define PF1 "0000:03:00.1"
#define VF00 "0000:03:10.0" /* PF0's VF 0: routing ID 0x300 + 128 */
#define VF01 "0000:03:10.2" /* PF0's VF 1: + stride 2 */
#define VF10 "0000:03:10.1" /* PF1's VF 0 */
#define NVME "0000:02:00.0"
#define PF0_DIR "devices/pci0000:00/0000:00:03.0/" PF0

/* The target of a link in the tree ("" if it is none). */
static char *link_target(Fixture *f, const char *path) {
        char buf[PATH_MAX];
        ssize_t n = readlinkat(f->rootfd, path, buf, sizeof(buf) - 1);

        if (n < 0)
                return strdup("");
        buf[n] = '\0';
        return strdup(buf);
}

#define ASSERT_LINK(f, path, expected)                            \
        do {                                                      \
                _cleanup_free_ char *_t = link_target((f), path); \
                ASSERT_STREQ(_t, (expected));                     \
        } while (0)

#define ASSERT_ATTR(f, path, expected)                                    \
        do {                                                              \
                _cleanup_free_ char *_v = fake_kernel_read((f)->k, path); \
                ASSERT_STREQ(_v, (expected));                             \
        } while (0)

static bool exists(Fixture *f, const char *sys_path) {
        return faccessat(f->rootfd, sys_path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

TEST(sriov_layout) {
        Fixture f = setup("sriov");

        ASSERT_DRIVER(&f, PF0, "igb");
        ASSERT_DRIVER(&f, PF1, "igb");
        ASSERT_DRIVER(&f, "0000:01:00.0", "e1000e");
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_totalvfs", "7");
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0");
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_offset", "128");
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_stride", "2");
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_vf_device", "10ca");
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_drivers_autoprobe", "1");
        ASSERT_FALSE(exists(&f, "bus/pci/devices/0000:01:00.0/sriov_numvfs"));
        ASSERT_FALSE(exists(&f, "bus/pci/devices/" PF0 "/virtfn0"));
        ASSERT_FALSE(fake_kernel_device_exists(f.k, VF00));
        ASSERT_FALSE(fake_kernel_device_exists(f.k, NVME));
        ASSERT_TRUE(tree_exists(f.dir, "hotplug/" NVME "/sriov_totalvfs"));
        /* No store method: kernfs refuses to open them for writing. */
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" PF0 "/sriov_totalvfs", "8"), EACCES);
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" PF0 "/sriov_vf_device", "10cb"), EACCES);
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_totalvfs", "7");
        /* Not SR-IOV capable: no such attribute. */
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/0000:01:00.0/sriov_numvfs", "1"), ENOENT);
        teardown(&f);
}

TEST(sriov_numvfs_creates_vfs) {
        Fixture f = setup("sriov");
        _cleanup_free_ char *ue = NULL, *res = NULL;
        unsigned char hdr[64];
        size_t lines = 0;
        int fd;

        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2\n"));
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2");
        ASSERT_TRUE(fake_kernel_device_exists(f.k, VF00));
        ASSERT_TRUE(fake_kernel_device_exists(f.k, VF01));
        ASSERT_FALSE(fake_kernel_device_exists(f.k, "0000:03:10.4"));

        /* Siblings of the PF under its root port, and the bus link. */
        ASSERT_TRUE(exists(&f, "devices/pci0000:00/0000:00:03.0/" VF00 "/vendor"));
        ASSERT_TRUE(exists(&f, "devices/pci0000:00/0000:00:03.0/" VF01 "/vendor"));
        ASSERT_LINK(&f, "bus/pci/devices/" VF00, "../../../devices/pci0000:00/0000:00:03.0/" VF00);
        ASSERT_TRUE(exists(&f, "bus/pci/devices/" VF00 "/subsystem/drivers_probe"));

        /* Links both ways. */
        ASSERT_LINK(&f, PF0_DIR "/virtfn0", "../" VF00);
        ASSERT_LINK(&f, PF0_DIR "/virtfn1", "../" VF01);
        ASSERT_FALSE(exists(&f, PF0_DIR "/virtfn2"));
        ASSERT_LINK(&f, "bus/pci/devices/" VF00 "/physfn", "../" PF0);
        ASSERT_TRUE(exists(&f, "bus/pci/devices/" VF01 "/physfn/sriov_numvfs"));
        ASSERT_FALSE(exists(&f, "bus/pci/devices/" VF00 "/sriov_numvfs"));

        /* IDs: the PF's vendor, class and subsystem, sriov_vf_device. */
        ASSERT_ATTR(&f, "bus/pci/devices/" VF00 "/vendor", "0x8086");
        ASSERT_ATTR(&f, "bus/pci/devices/" VF00 "/device", "0x10ca");
        ASSERT_ATTR(&f, "bus/pci/devices/" VF00 "/class", "0x020000");
        ASSERT_ATTR(&f, "bus/pci/devices/" VF00 "/subsystem_vendor", "0x1af4");
        ASSERT_ATTR(&f, "bus/pci/devices/" VF00 "/subsystem_device", "0x1100");
        ASSERT_ATTR(&f, "bus/pci/devices/" VF00 "/driver_override", "(null)");
        ue = fake_kernel_read(f.k, "bus/pci/devices/" VF01 "/uevent");
        ASSERT_CONTAINS(ue, "PCI_CLASS=20000\n");
        ASSERT_CONTAINS(ue, "PCI_ID=8086:10CA\n");
        ASSERT_CONTAINS(ue, "PCI_SUBSYS_ID=1AF4:1100\n");
        ASSERT_CONTAINS(ue, "PCI_SLOT_NAME=0000:03:10.2\n");
        ASSERT_CONTAINS(ue, "MODALIAS=pci:v00008086d000010CAsv00001AF4sd00001100bc02sc00i00");

        /* Config space: a VF's vendor and device registers read 0xffff, header type 0. */
        fd = openat(f.rootfd, "bus/pci/devices/" VF00 "/config", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(read(fd, hdr, sizeof(hdr)), 64);
        close(fd);
        ASSERT_EQ(hdr[0] & hdr[1] & hdr[2] & hdr[3], 0xff);
        ASSERT_EQ(hdr[0x0b], 0x02);
        ASSERT_EQ(hdr[0x0e], 0x00);

        /* 13 resource lines; BAR 0 and 3 are the VF's slices of the PF's VF BARs. */
        res = fake_kernel_read(f.k, "bus/pci/devices/" VF01 "/resource");
        ASSERT_TRUE(res != NULL);
        for (const char *c = res; *c; c++)
                lines += *c == '\n';
        ASSERT_EQ(lines + 1, 13);
        ASSERT_TRUE(strneq(res, "0x00000000c1244000 0x00000000c1247fff 0x0000000000040200\n", 57));

        /* Each VF in its own new group, numbered by the sriov line (10 + i). */
        ASSERT_LINK(&f, "bus/pci/devices/" VF00 "/iommu_group", "../../../../kernel/iommu_groups/10");
        ASSERT_LINK(&f, "bus/pci/devices/" VF01 "/iommu_group", "../../../../kernel/iommu_groups/11");
        ASSERT_ATTR(&f, "kernel/iommu_groups/11/type", "DMA");
        ASSERT_TRUE(exists(&f, "kernel/iommu_groups/10/devices/" VF00 "/vendor"));
        ASSERT_FALSE(exists(&f, "kernel/iommu_groups/10/devices/" VF01));

        /* The other PF's VFs interleave: 03:10.1, group 20. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF1 "/sriov_numvfs", "1"));
        ASSERT_LINK(&f, "devices/pci0000:00/0000:00:03.0/" PF1 "/virtfn0", "../" VF10);
        ASSERT_TRUE(exists(&f, "kernel/iommu_groups/20/devices/" VF10));

        ASSERT_HISTORY(&f,
                       "bus/pci/devices/0000:03:00.0/sriov_numvfs=2\n"
                       "bus/pci/devices/0000:03:00.1/sriov_numvfs=1\n");
        teardown(&f);
}

TEST(sriov_autoprobe_binds_the_vf_driver) {
        Fixture f = setup("sriov");
        _cleanup_free_ char *ue = NULL;

        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2"));
        ASSERT_DRIVER(&f, VF00, "igbvf");
        ASSERT_DRIVER(&f, VF01, "igbvf");
        ASSERT_TRUE(exists(&f, "bus/pci/drivers/igbvf/" VF00 "/physfn"));
        ue = fake_kernel_read(f.k, "bus/pci/devices/" VF00 "/uevent");
        ASSERT_CONTAINS(ue, "DRIVER=igbvf\n");
        /* The PF keeps its driver. */
        ASSERT_DRIVER(&f, PF0, "igb");
        teardown(&f);
}

TEST(sriov_autoprobe_off_binds_nothing) {
        Fixture f = setup("sriov");

        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_drivers_autoprobe", "0\n"));
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_drivers_autoprobe", "0");
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2"));
        ASSERT_TRUE(fake_kernel_device_exists(f.k, VF00));
        ASSERT_DRIVER(&f, VF00, NULL);
        ASSERT_DRIVER(&f, VF01, NULL);
        ASSERT_FALSE(exists(&f, "bus/pci/drivers/igbvf/" VF00));
        /* pci_device_can_probe(): without an override, no driver gets it by any path. */
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", VF00));
        ASSERT_DRIVER(&f, VF00, NULL);
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/igbvf/bind", VF00), ENODEV);
        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_DRIVER(&f, VF00, NULL);
        ASSERT_DRIVER(&f, VF01, NULL);
        /* Another PF's VFs are not affected. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF1 "/sriov_numvfs", "1"));
        ASSERT_DRIVER(&f, VF10, "igbvf");
        teardown(&f);
}

TEST(sriov_autoprobe_off_override_binds) {
        Fixture f = setup("sriov");

        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_drivers_autoprobe", "0"));
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2"));
        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_OK(wr(&f, "bus/pci/devices/" VF00 "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", VF00));
        ASSERT_DRIVER(&f, VF00, "vfio-pci");
        ASSERT_TRUE(exists(&f, "bus/pci/drivers/vfio-pci/" VF00 "/physfn"));
        /* Bind without an override: the probe says -ENODEV. */
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/vfio-pci/bind", VF01), ENODEV);
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/igbvf/bind", VF01), ENODEV);
        ASSERT_DRIVER(&f, VF01, NULL);
        /* With one it binds through the bind file too, also the host driver. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" VF01 "/driver_override", "igbvf"));
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/vfio-pci/bind", VF01), ENODEV);
        ASSERT_OK(wr(&f, "bus/pci/drivers/igbvf/bind", VF01));
        ASSERT_DRIVER(&f, VF01, "igbvf");
        teardown(&f);

        /* A module loaded after the override takes the VF, like any unbound device. */
        f = setup("sriov");
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_drivers_autoprobe", "0"));
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "1"));
        ASSERT_OK(wr(&f, "bus/pci/devices/" VF00 "/driver_override", "vfio-pci"));
        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_DRIVER(&f, VF00, "vfio-pci");
        teardown(&f);
}

TEST(sriov_autoprobe_store) {
        Fixture f = setup("sriov");
        static const struct {
                const char *value;
                int result;
                const char *after;
        } cases[] = {
                { "0", 0, "0" },
                { "1\n", 0, "1" },
                { "n", 0, "0" },
                { "Y", 0, "1" },
                { "off", 0, "0" },
                { "on\n", 0, "1" },
                { "2", -EINVAL, "1" },
                { "o", -EINVAL, "1" },
                { " 0", -EINVAL, "1" },
                /* kstrtobool() looks at the first character only. */
                { "0x", 0, "0" },
                { "1zzz", 0, "1" },
                /* An empty write calls no store method. */
                { "", 0, "1" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *v = NULL;

                ASSERT_EQ(wr(&f, "bus/pci/devices/" PF0 "/sriov_drivers_autoprobe", cases[i].value), cases[i].result);
                v = fake_kernel_read(f.k, "bus/pci/devices/" PF0 "/sriov_drivers_autoprobe");
                ASSERT_STREQ(v, cases[i].after);
        }
        ASSERT_ATTR(&f, "bus/pci/devices/" PF1 "/sriov_drivers_autoprobe", "1");
        teardown(&f);
}

TEST(sriov_numvfs_range) {
        Fixture f = setup("sriov");

        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "8"), ERANGE);
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0");
        ASSERT_FALSE(fake_kernel_device_exists(f.k, VF00));
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "7"));
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "7");
        /* The last: 0x300 + 128 + 6 * 2 = 03:11.4, group 16. */
        ASSERT_LINK(&f, PF0_DIR "/virtfn6", "../0000:03:11.4");
        ASSERT_TRUE(exists(&f, "kernel/iommu_groups/16/devices/0000:03:11.4"));
        ASSERT_DRIVER(&f, "0000:03:11.4", "igbvf");
        ASSERT_FALSE(exists(&f, PF0_DIR "/virtfn7"));
        teardown(&f);
}

TEST(sriov_vfs_on_the_next_bus) {
        Fixture f = setup("sriov");

        /* A VF offset that carries devfn past 0xff: the VFs are on bus 04, still siblings of the
         * PF under 00:03.0 (the VF's parent is the PF's parent). */
        ASSERT_OK(tree_write(f.dir, "sys/bus/pci/devices/" PF1 "/sriov_offset", "255\n"));
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF1 "/sriov_numvfs", "2"));
        ASSERT_LINK(&f, "bus/pci/devices/" PF1 "/virtfn0", "../0000:04:00.0");
        ASSERT_LINK(&f, "bus/pci/devices/" PF1 "/virtfn1", "../0000:04:00.2");
        ASSERT_TRUE(exists(&f, "devices/pci0000:00/0000:00:03.0/0000:04:00.2/physfn"));
        ASSERT_ATTR(&f, "bus/pci/devices/0000:04:00.0/uevent",
                    "DRIVER=igbvf\n"
                    "PCI_CLASS=20000\n"
                    "PCI_ID=8086:10CA\n"
                    "PCI_SUBSYS_ID=1AF4:1100\n"
                    "PCI_SLOT_NAME=0000:04:00.0\n"
                    "MODALIAS=pci:v00008086d000010CAsv00001AF4sd00001100bc02sc00i00");
        teardown(&f);

        /* Beyond bus 0xff: sriov_enable() refuses ("bus out of range"). */
        f = setup("sriov");
        ASSERT_OK(tree_write(f.dir, "sys/bus/pci/devices/" PF0 "/sriov_offset", "65535\n"));
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "1"), ENOMEM);
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0");
        ASSERT_FALSE(exists(&f, PF0_DIR "/virtfn0"));
        teardown(&f);
}

TEST(sriov_numvfs_change_is_busy) {
        Fixture f = setup("sriov");

        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2"));
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "3"), EBUSY);
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "1"), EBUSY);
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2");
        ASSERT_FALSE(fake_kernel_device_exists(f.k, "0000:03:10.4"));
        ASSERT_TRUE(fake_kernel_device_exists(f.k, VF01));
        ASSERT_HISTORY(&f,
                       "bus/pci/devices/0000:03:00.0/sriov_numvfs=2\n"
                       "bus/pci/devices/0000:03:00.0/sriov_numvfs=3 -> -EBUSY\n"
                       "bus/pci/devices/0000:03:00.0/sriov_numvfs=1 -> -EBUSY\n");
        teardown(&f);
}

TEST(sriov_numvfs_same_count_is_a_no_op) {
        Fixture f = setup("sriov");

        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2"));
        /* A driver change on a VF stays: nothing is recreated. */
        ASSERT_OK(wr(&f, "bus/pci/drivers/igbvf/unbind", VF00));
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2\n"));
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2");
        ASSERT_DRIVER(&f, VF00, NULL);
        ASSERT_DRIVER(&f, VF01, "igbvf");
        ASSERT_FALSE(exists(&f, PF0_DIR "/virtfn2"));
        /* The count is compared before the driver: 0 on an unbound PF without VFs is fine. */
        ASSERT_OK(wr(&f, "bus/pci/drivers/igb/unbind", PF1));
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF1 "/sriov_numvfs", "0"));
        teardown(&f);
}

TEST(sriov_numvfs_zero_removes_the_vfs) {
        Fixture f = setup("sriov");

        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2"));
        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_OK(wr(&f, "bus/pci/devices/" VF01 "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers/igbvf/unbind", VF01));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", VF01));
        ASSERT_DRIVER(&f, VF01, "vfio-pci");

        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0\n"));
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0");
        ASSERT_FALSE(fake_kernel_device_exists(f.k, VF00));
        ASSERT_FALSE(fake_kernel_device_exists(f.k, VF01));
        ASSERT_FALSE(exists(&f, "devices/pci0000:00/0000:00:03.0/" VF00));
        ASSERT_FALSE(exists(&f, "bus/pci/devices/" VF01));
        ASSERT_FALSE(exists(&f, "bus/pci/drivers/igbvf/" VF00));
        ASSERT_FALSE(exists(&f, "bus/pci/drivers/vfio-pci/" VF01));
        ASSERT_FALSE(exists(&f, PF0_DIR "/virtfn0"));
        ASSERT_FALSE(exists(&f, PF0_DIR "/virtfn1"));
        /* The groups went with their last device. */
        ASSERT_FALSE(exists(&f, "kernel/iommu_groups/10"));
        ASSERT_FALSE(exists(&f, "kernel/iommu_groups/11"));
        ASSERT_TRUE(exists(&f, "kernel/iommu_groups/5/devices/" PF0));
        ASSERT_DRIVER(&f, PF0, "igb");

        /* And they can come back. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "1"));
        ASSERT_DRIVER(&f, VF00, "igbvf");
        ASSERT_ATTR(&f, "kernel/iommu_groups/10/type", "DMA");
        teardown(&f);
}

TEST(sriov_numvfs_needs_a_pf_driver) {
        Fixture f = setup("sriov");

        ASSERT_OK(wr(&f, "bus/pci/drivers/igb/unbind", PF0));
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "1"), ENOENT);
        ASSERT_FALSE(exists(&f, PF0_DIR "/virtfn0"));
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0");
        /* vfio-pci on the PF: its sriov_configure() says -ENOENT (enable_sriov is off). */
        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", PF0));
        ASSERT_DRIVER(&f, PF0, "vfio-pci");
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "1"), ENOENT);
        ASSERT_FALSE(fake_kernel_device_exists(f.k, VF00));
        teardown(&f);
}

TEST(sriov_numvfs_parses_like_kstrtou16) {
        Fixture f = setup("sriov");
        static const char *const bad[] = { "abc", "-1", " 1", "1 ", "1\n\n", "70000", "0x", "1.0", "08" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_ERRNO(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", bad[i]), EINVAL);
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0");
        ASSERT_FALSE(exists(&f, PF0_DIR "/virtfn0"));
        /* An empty write calls no store method. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", ""));
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0");
        /* Base 0: hex and octal, an optional "+". */
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0x2"));
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2");
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "+0"));
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0");
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "03\n"));
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "3");
        ASSERT_TRUE(fake_kernel_device_exists(f.k, "0000:03:10.4"));
        teardown(&f);
}

TEST(sriov_pf_driver_unbind_disables_sriov) {
        Fixture f = setup("sriov");

        /* igb_remove() disables SR-IOV: the VFs go, then vfio-pci may take the PF. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2"));
        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers/igb/unbind", PF0));
        ASSERT_FALSE(fake_kernel_device_exists(f.k, VF00));
        ASSERT_FALSE(exists(&f, "bus/pci/drivers/igbvf/" VF00));
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0");
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", PF0));
        ASSERT_DRIVER(&f, PF0, "vfio-pci");
        teardown(&f);
}

TEST(sriov_vfio_refuses_a_pf_with_vfs) {
        Fixture f = setup_with("sriov", "keep-vfs igb\n");

        /* A PF driver that leaves its VFs on remove: the PF is unbound with 2 VFs. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2"));
        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers/igb/unbind", PF0));
        ASSERT_DRIVER(&f, PF0, NULL);
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2");
        ASSERT_DRIVER(&f, VF00, "igbvf");
        /* "Cannot bind to PF with SR-IOV enabled". */
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", PF0));
        ASSERT_DRIVER(&f, PF0, NULL);
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/vfio-pci/bind", PF0), EBUSY);
        ASSERT_DRIVER(&f, PF0, NULL);
        /* Nor can the VFs be disabled now: no PF driver. */
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0"), ENOENT);
        /* The VFs themselves are fine for vfio-pci. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" VF00 "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers/igbvf/unbind", VF00));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", VF00));
        ASSERT_DRIVER(&f, VF00, "vfio-pci");
        /* A PF without VFs binds. */
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF1 "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers/igb/unbind", PF1));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", PF1));
        ASSERT_DRIVER(&f, PF1, "vfio-pci");
        teardown(&f);
}

TEST(sriov_unplug_pf_removes_vfs) {
        Fixture f = setup("sriov");

        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2"));
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF1 "/sriov_numvfs", "1"));
        ASSERT_OK(fake_kernel_unplug(f.k, PF0));
        ASSERT_FALSE(fake_kernel_device_exists(f.k, PF0));
        ASSERT_FALSE(fake_kernel_device_exists(f.k, VF00));
        ASSERT_FALSE(fake_kernel_device_exists(f.k, VF01));
        ASSERT_FALSE(exists(&f, "devices/pci0000:00/0000:00:03.0/" VF00));
        ASSERT_FALSE(exists(&f, "bus/pci/drivers/igbvf/" VF01));
        ASSERT_FALSE(exists(&f, "bus/pci/drivers/igb/" PF0));
        ASSERT_FALSE(exists(&f, "kernel/iommu_groups/10"));
        ASSERT_FALSE(exists(&f, "kernel/iommu_groups/5"));
        /* The other PF and its VF stay. */
        ASSERT_DRIVER(&f, PF1, "igb");
        ASSERT_DRIVER(&f, VF10, "igbvf");
        ASSERT_LINK(&f, "bus/pci/devices/" PF1 "/virtfn0", "../" VF10);
        ASSERT_EQ(fake_kernel_n_ops(f.k), 2);
        teardown(&f);
}

TEST(sriov_hotplug_pf) {
        Fixture f = setup("sriov");
        _cleanup_free_ char *devpath = NULL;

        ASSERT_EQ(fake_kernel_plug(f.k, NVME, &devpath), 1);
        ASSERT_STREQ(devpath, "devices/pci0000:00/0000:00:02.0/" NVME);
        ASSERT_DRIVER(&f, NVME, "nvme");
        ASSERT_TRUE(exists(&f, "kernel/iommu_groups/9/devices/" NVME));
        ASSERT_ATTR(&f, "bus/pci/devices/" NVME "/sriov_vf_device", "a824");

        ASSERT_OK(wr(&f, "bus/pci/devices/" NVME "/sriov_numvfs", "4"));
        for (unsigned i = 0; i < 4; i++) {
                char vf[16], path[128], target[32];
                _cleanup_free_ char *drv = NULL;

                snprintf(vf, sizeof(vf), "0000:02:00.%u", i + 1);
                snprintf(path, sizeof(path), "bus/pci/devices/" NVME "/virtfn%u", i);
                snprintf(target, sizeof(target), "../%s", vf);
                ASSERT_LINK(&f, path, target);
                snprintf(path, sizeof(path), "devices/pci0000:00/0000:00:02.0/%s/physfn", vf);
                ASSERT_LINK(&f, path, "../" NVME);
                snprintf(path, sizeof(path), "kernel/iommu_groups/%u/devices/%s", 30 + i, vf);
                ASSERT_TRUE(exists(&f, path));
                drv = fake_kernel_driver(f.k, vf);
                ASSERT_STREQ(drv, "nvme");
        }
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" NVME "/sriov_numvfs", "5"), ERANGE);

        /* nvme_remove() leaves SR-IOV enabled (keep-vfs nvme): vfio-pci then refuses the PF. */
        ASSERT_EQ(load(&f, "vfio-pci"), 1);
        ASSERT_OK(wr(&f, "bus/pci/devices/" NVME "/driver_override", "vfio-pci"));
        ASSERT_OK(wr(&f, "bus/pci/drivers/nvme/unbind", NVME));
        ASSERT_ATTR(&f, "bus/pci/devices/" NVME "/sriov_numvfs", "4");
        ASSERT_ERRNO(wr(&f, "bus/pci/drivers/vfio-pci/bind", NVME), EBUSY);

        ASSERT_OK(fake_kernel_unplug(f.k, NVME));
        ASSERT_FALSE(fake_kernel_device_exists(f.k, "0000:02:00.1"));
        ASSERT_FALSE(fake_kernel_device_exists(f.k, "0000:02:00.4"));
        ASSERT_FALSE(exists(&f, "kernel/iommu_groups/33"));
        ASSERT_FALSE(exists(&f, "kernel/iommu_groups/9"));
        ASSERT_FALSE(exists(&f, "bus/pci/drivers/nvme/0000:02:00.2"));
        teardown(&f);
}

TEST(sriov_fail_rule) {
        Fixture f = setup_with("sriov", "fail bus/pci/devices/0000:03:00.0/sriov_numvfs EIO 1\n");

        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2"), EIO);
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0");
        ASSERT_FALSE(fake_kernel_device_exists(f.k, VF00));
        /* Through the device's directory: the normalized path, and the rule is spent. */
        ASSERT_OK(wr(&f, PF0_DIR "/sriov_numvfs", "2"));
        ASSERT_DRIVER(&f, VF00, "igbvf");
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_drivers_autoprobe", "0"));
        ASSERT_HISTORY(&f,
                       "bus/pci/devices/0000:03:00.0/sriov_numvfs=2 -> -EIO\n"
                       "bus/pci/devices/0000:03:00.0/sriov_numvfs=2\n"
                       "bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe=0\n");
        teardown(&f);

        /* Written through the root port's link: the rule names the normalized path. */
        f = setup_with("sriov", "fail bus/pci/devices/" PF0 "/sriov_drivers_autoprobe EPERM\n");
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/0000:00:03.0/" PF0 "/sriov_drivers_autoprobe", "0"), EPERM);
        ASSERT_ERRNO(wr(&f, "bus/pci/devices/" PF0 "/sriov_drivers_autoprobe", "0"), EPERM);
        ASSERT_ATTR(&f, "bus/pci/devices/" PF0 "/sriov_drivers_autoprobe", "1");
        teardown(&f);
}

TEST(sriov_conf_rules) {
        _cleanup_free_ char *dir = NULL;
        FakeKernel *k = NULL;

        ASSERT_OK(tree_new("sriov", &dir));
        ASSERT_OK(tree_write(dir, "fake-kernel.conf", "sriov 0000:03:00.0\n"));
        ASSERT_ERRNO(fake_kernel_new(&k, dir), EINVAL);
        ASSERT_OK(tree_write(dir, "fake-kernel.conf", "sriov 0000:03:00.0 -2\n"));
        ASSERT_ERRNO(fake_kernel_new(&k, dir), EINVAL);
        ASSERT_OK(tree_write(dir, "fake-kernel.conf", "keep-vfs\n"));
        ASSERT_ERRNO(fake_kernel_new(&k, dir), EINVAL);
        ASSERT_NULL(k);
        dir = tree_free(TAKE_PTR(dir));

        /* "pf": the VFs join the PF's group; -1: no group. */
        Fixture f = setup_with("sriov", "sriov 0000:03:00.0 pf\nsriov 0000:03:00.1 -1\n");
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "2"));
        ASSERT_TRUE(exists(&f, "kernel/iommu_groups/5/devices/" VF01));
        ASSERT_LINK(&f, "bus/pci/devices/" VF00 "/iommu_group", "../../../../kernel/iommu_groups/5");
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF0 "/sriov_numvfs", "0"));
        ASSERT_TRUE(exists(&f, "kernel/iommu_groups/5/devices/" PF0));
        ASSERT_FALSE(exists(&f, "kernel/iommu_groups/5/devices/" VF00));
        ASSERT_OK(wr(&f, "bus/pci/devices/" PF1 "/sriov_numvfs", "1"));
        ASSERT_FALSE(exists(&f, "bus/pci/devices/" VF10 "/iommu_group"));
        ASSERT_FALSE(exists(&f, "kernel/iommu_groups/20"));
        teardown(&f);
}

TEST(two_kernels_share_the_tree) {
        Fixture f = setup("desktop");
        FakeKernel *other;
        _cleanup_free_ char *log = NULL;

        ASSERT_OK(fake_kernel_new(&other, f.dir));
        ASSERT_EQ(fake_kernel_ops.load_driver(other, NULL, "vfio-pci"), 1);
        ASSERT_OK(fake_kernel_ops.write_attr(other, f.rootfd, "bus/pci/devices/" GPU "/driver_override", "vfio-pci"));
        fake_kernel_free(other);
        /* This one sees the other's work: loaded driver, override. */
        ASSERT_EQ(load(&f, "vfio-pci"), 0);
        ASSERT_OK(wr(&f, "bus/pci/drivers/bochs-drm/unbind", GPU));
        ASSERT_OK(wr(&f, "bus/pci/drivers_probe", GPU));
        ASSERT_DRIVER(&f, GPU, "vfio-pci");
        log = fake_kernel_read_log(f.dir);
        ASSERT_STREQ(log,
                     "load vfio-pci -> 1\n"
                     "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"
                     "load vfio-pci -> 0\n"
                     "bus/pci/drivers/bochs-drm/unbind=0000:01:00.0\n"
                     "bus/pci/drivers_probe=0000:01:00.0\n");
        teardown(&f);
}

TEST(bad_conf_is_rejected) {
        _cleanup_free_ char *dir = NULL;
        FakeKernel *k = NULL;

        ASSERT_OK(tree_new("desktop", &dir));
        ASSERT_OK(tree_append(dir, "fake-kernel.conf", "match 1234 bochs-drm\n"));
        ASSERT_ERRNO(fake_kernel_new(&k, dir), EINVAL);
        ASSERT_OK(tree_write(dir, "fake-kernel.conf", "fail bus/pci/drivers_probe ENOTANERRNO\n"));
        ASSERT_ERRNO(fake_kernel_new(&k, dir), EINVAL);
        ASSERT_OK(tree_write(dir, "fake-kernel.conf", "explode now\n"));
        ASSERT_ERRNO(fake_kernel_new(&k, dir), EINVAL);
        ASSERT_NULL(k);
        dir = tree_free(TAKE_PTR(dir));
}

TEST(tree_new_and_free) {
        char *dir = NULL;
        _cleanup_free_ char *keep = NULL;
        struct stat st;

        ASSERT_OK(tree_new("two-gpus", &dir));
        keep = strdup(dir);
        ASSERT_TRUE(tree_exists(dir, "sys/bus/pci/devices/0000:0f:00.1"));
        ASSERT_TRUE(tree_exists(dir, "hotplug") == false);
        ASSERT_ERRNO(tree_new("../etc", &(char *) { NULL }), EINVAL);
        ASSERT_ERRNO(tree_new("no-such-case", &(char *) { NULL }), ENOENT);
        tree_free(dir);
        if (!getenv("VB_TEST_KEEP_TREES"))
                ASSERT_TRUE(stat(keep, &st) < 0 && errno == ENOENT);
}

TESTS_MAIN()
