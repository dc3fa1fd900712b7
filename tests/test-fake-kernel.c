/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fake kernel's own rules, checked against what the real kernel does (KNOWLEDGE.md,
 * Documentation/ABI/testing/sysfs-bus-pci). The library is not involved: the calls go straight
 * to fake_kernel_ops, as the library's context would make them. */
#include <fcntl.h>
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
        static const char *const cases[] = { "desktop", "two-gpus", "shared-group", "no-iommu", "unbound", "simpledrm" };

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

        /* The module is vfio_pci, the driver vfio-pci: the fake kernel only knows drivers. */
        ASSERT_ERRNO(load(&f, "vfio_pci"), ENOENT);
        ASSERT_EQ(load(&f, "vfio-pci"), 1);
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
