/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/console against the fake trees: what holds the console, who owns it, the release. */
#include "address.h"
#include "console.h"
#include "fake-kernel.h"
#include "macro.h"
#include "pci.h"
#include "tests.h"
#include "tree.h"

typedef struct Machine {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbPciList devices;
        VbConsoleState console;
} Machine;

static void machine_open(Machine *m, const char *case_name, const char *boot_vga_gpu, const char *boot_vga) {
        *m = (Machine) {};
        ASSERT_OK(tree_new(case_name, &m->dir));
        if (boot_vga_gpu) {
                _cleanup_free_ char *p = NULL;
                ASSERT_TRUE(asprintf(&p, "sys/bus/pci/devices/%s/boot_vga", boot_vga_gpu) > 0);
                ASSERT_OK(tree_write(m->dir, p, boot_vga));
        }
        ASSERT_OK(fake_kernel_new(&m->k, m->dir));
        ASSERT_OK(fake_kernel_new_context(m->k, &m->ctx));
        ASSERT_OK(vb_pci_enumerate(m->ctx, &m->devices));
        ASSERT_OK(vb_console_read(m->ctx, &m->console));
}

static void machine_close(Machine *m) {
        ASSERT_EQ(fake_kernel_n_violations(m->k), 0);
        vb_console_state_done(&m->console);
        vb_pci_list_done(&m->devices);
        vb_context_free(m->ctx);
        fake_kernel_free(m->k);
        tree_free(m->dir);
}

static const VbPciDevice *dev(Machine *m, const char *s) {
        VbPciAddress a;
        const VbPciDevice *d;

        ASSERT_OK(vb_pci_address_parse(s, &a));
        d = vb_pci_list_find(&m->devices, &a);
        ASSERT_TRUE(d);
        return d;
}

/* Keep only the iomem lines that do not name a framebuffer range. */
static void drop_iomem_framebuffer(Machine *m) {
        ASSERT_OK(tree_write(m->dir, "proc/iomem",
                             "00000000-00000fff : Reserved\n"
                             "c0000000-febfffff : PCI Bus 0000:00\n"
                             "  c0000000-c0ffffff : 0000:01:00.0\n"));
        vb_console_state_done(&m->console);
        ASSERT_OK(vb_console_read(m->ctx, &m->console));
}

TEST(read_desktop) {
        Machine m;

        machine_open(&m, "desktop", NULL, NULL);
        ASSERT_EQ(m.console.n_vtconsoles, 2);
        ASSERT_EQ(m.console.vtconsoles[0].index, 0);
        ASSERT_STREQ(m.console.vtconsoles[0].name, "(S) dummy device");
        ASSERT_FALSE(m.console.vtconsoles[0].framebuffer);
        ASSERT_TRUE(m.console.vtconsoles[0].bound);
        ASSERT_EQ(m.console.vtconsoles[1].index, 1);
        ASSERT_TRUE(m.console.vtconsoles[1].framebuffer);
        ASSERT_TRUE(m.console.vtconsoles[1].bound);

        ASSERT_EQ(m.console.n_framebuffers, 1);
        ASSERT_STREQ(m.console.framebuffers[0].name, "efi-framebuffer.0");
        ASSERT_STREQ(m.console.framebuffers[0].driver, "efi-framebuffer");
        ASSERT_FALSE(m.console.framebuffers[0].has_parent);

        ASSERT_EQ(m.console.n_ranges, 1);
        ASSERT_STREQ(m.console.ranges[0].name, "BOOTFB");
        ASSERT_EQ(m.console.ranges[0].start, 0xc0000000);
        ASSERT_EQ(m.console.ranges[0].end, 0xc02fffff);
        ASSERT_TRUE(vb_console_is_held(&m.console));
        ASSERT_EQ(fake_kernel_n_ops(m.k), 0);
        machine_close(&m);
}

TEST(owner_desktop) {
        Machine m;
        const char *why = NULL;

        machine_open(&m, "desktop", NULL, NULL);
        ASSERT_TRUE(vb_console_owned_by(&m.console, dev(&m, "0000:01:00.0"), &why));
        ASSERT_TRUE(why);
        ASSERT_FALSE(vb_console_owned_by(&m.console, dev(&m, "0000:01:00.1"), NULL));
        ASSERT_FALSE(vb_console_owned_by(&m.console, dev(&m, "0000:02:00.0"), NULL));
        machine_close(&m);
}

TEST(owner_by_boot_vga_alone) {
        Machine m;
        const char *why = NULL;

        machine_open(&m, "desktop", NULL, NULL);
        drop_iomem_framebuffer(&m);
        ASSERT_EQ(m.console.n_ranges, 0);
        ASSERT_TRUE(vb_console_owned_by(&m.console, dev(&m, "0000:01:00.0"), &why));
        ASSERT_CONTAINS(why, "boot VGA");
        machine_close(&m);

        /* Neither boot VGA nor framebuffer memory: not the owner. */
        machine_open(&m, "desktop", "0000:01:00.0", "0\n");
        drop_iomem_framebuffer(&m);
        ASSERT_FALSE(vb_console_owned_by(&m.console, dev(&m, "0000:01:00.0"), NULL));
        machine_close(&m);
}

TEST(owner_by_framebuffer_in_a_bar) {
        Machine m;
        const char *why = NULL;

        /* Not the boot VGA device, but BOOTFB lies in its BAR 1 (not BAR 0). */
        machine_open(&m, "two-gpus", "0000:0e:00.0", "0\n");
        ASSERT_FALSE(dev(&m, "0000:0e:00.0")->boot_vga);
        ASSERT_TRUE(vb_console_owned_by(&m.console, dev(&m, "0000:0e:00.0"), &why));
        ASSERT_CONTAINS(why, "memory");
        ASSERT_FALSE(vb_console_owned_by(&m.console, dev(&m, "0000:0f:00.0"), NULL));
        ASSERT_FALSE(vb_console_owned_by(&m.console, dev(&m, "0000:0e:00.1"), NULL));
        machine_close(&m);
}

TEST(owner_by_framebuffer_parent) {
        Machine m;
        const char *why = NULL;

        machine_open(&m, "simpledrm", "0000:01:00.0", "0\n");
        ASSERT_EQ(m.console.n_framebuffers, 1);
        ASSERT_STREQ(m.console.framebuffers[0].name, "simple-framebuffer.0");
        ASSERT_STREQ(m.console.framebuffers[0].driver, "simple-framebuffer");
        ASSERT_TRUE(m.console.framebuffers[0].has_parent);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&m.console.framebuffers[0].parent), "0000:01:00.0");
        drop_iomem_framebuffer(&m);
        ASSERT_TRUE(vb_console_owned_by(&m.console, dev(&m, "0000:01:00.0"), &why));
        ASSERT_CONTAINS(why, "belongs");
        ASSERT_FALSE(vb_console_owned_by(&m.console, dev(&m, "0000:01:00.1"), NULL));
        machine_close(&m);
}

TEST(release_desktop) {
        Machine m;
        VbConsoleRelease rel = {};
        _cleanup_free_ char *h = NULL, *bind = NULL;

        machine_open(&m, "desktop", NULL, NULL);
        ASSERT_EQ(vb_console_release(m.ctx, &m.console, &rel), 1);
        ASSERT_EQ(rel.vtconsoles_released, 1);
        ASSERT_EQ(rel.framebuffers_released, 1);
        ASSERT_STREQ(rel.released, "vtcon1, efi-framebuffer.0");
        vb_console_release_done(&rel);
        /* The (S) console is left alone; vtcon first, then the framebuffer. */
        h = fake_kernel_history(m.k);
        ASSERT_STREQ(h,
                     "class/vtconsole/vtcon1/bind=0\n"
                     "bus/platform/drivers/efi-framebuffer/unbind=efi-framebuffer.0\n");
        bind = fake_kernel_read(m.k, "class/vtconsole/vtcon1/bind");
        ASSERT_STREQ(bind, "0");
        ASSERT_NULL(fake_kernel_platform_driver(m.k, "efi-framebuffer.0"));

        /* Read again: nothing held, a second release writes nothing. */
        vb_console_state_done(&m.console);
        ASSERT_OK(vb_console_read(m.ctx, &m.console));
        ASSERT_FALSE(vb_console_is_held(&m.console));
        fake_kernel_forget(m.k);
        ASSERT_EQ(vb_console_release(m.ctx, &m.console, &rel), 0);
        ASSERT_NULL(rel.released);
        vb_console_release_done(&rel);
        ASSERT_EQ(fake_kernel_n_ops(m.k), 0);
        machine_close(&m);
}

TEST(release_framebuffer_gone_meanwhile) {
        Machine m;
        VbConsoleRelease rel = {};
        int rootfd;

        machine_open(&m, "desktop", NULL, NULL);
        /* Someone (a DRM driver, vfio-pci) removed the framebuffer after the state was read. */
        rootfd = vb_context_sysfs_fd(m.ctx);
        ASSERT_OK(fake_kernel_ops.write_attr(m.k, rootfd, "bus/platform/drivers/efi-framebuffer/unbind",
                                             "efi-framebuffer.0"));
        ASSERT_EQ(vb_console_release(m.ctx, &m.console, &rel), 1);
        ASSERT_EQ(rel.vtconsoles_released, 1);
        ASSERT_EQ(rel.framebuffers_released, 0);
        ASSERT_STREQ(rel.released, "vtcon1");
        vb_console_release_done(&rel);
        machine_close(&m);
}

TEST(release_failure_stops) {
        Machine m;
        VbConsoleRelease rel = {};

        machine_open(&m, "desktop", NULL, NULL);
        ASSERT_OK(tree_append(m.dir, "fake-kernel.conf", "fail class/vtconsole/vtcon1/bind EBUSY\n"));
        fake_kernel_free(m.k);
        ASSERT_OK(fake_kernel_new(&m.k, m.dir));
        fake_kernel_install(m.k, m.ctx);
        ASSERT_ERRNO(vb_console_release(m.ctx, &m.console, &rel), EBUSY);
        ASSERT_EQ(rel.vtconsoles_released, 0);
        ASSERT_EQ(rel.framebuffers_released, 0);
        vb_console_release_done(&rel);
        /* The framebuffer was not touched after the failure. */
        ASSERT_EQ(fake_kernel_n_ops(m.k), 1);
        machine_close(&m);
}

TEST(release_simpledrm) {
        Machine m;
        VbConsoleRelease rel = {};
        _cleanup_free_ char *h = NULL;

        machine_open(&m, "simpledrm", NULL, NULL);
        ASSERT_EQ(vb_console_release(m.ctx, &m.console, &rel), 1);
        ASSERT_STREQ(rel.released, "vtcon1, simple-framebuffer.0");
        vb_console_release_done(&rel);
        h = fake_kernel_history(m.k);
        ASSERT_STREQ(h,
                     "class/vtconsole/vtcon1/bind=0\n"
                     "bus/platform/drivers/simple-framebuffer/unbind=simple-framebuffer.0\n");
        machine_close(&m);
}

/* /proc/iomem read without CAP_SYS_ADMIN shows every range as 00000000-00000000, and a line
 * whose start lies past its end is no range either: neither is taken as the framebuffer's
 * memory (issue 16: the all-zero check's mutant survived; the inverted range came from the
 * fuzzer's seeds). */
TEST(iomem_hidden_and_inverted_ranges_are_not_framebuffers) {
        Machine m;

        machine_open(&m, "desktop", NULL, NULL);
        ASSERT_OK(tree_write(m.dir, "proc/iomem",
                             "00000000-00000000 : PCI Bus 0000:00\n"
                             "  00000000-00000000 : BOOTFB\n"
                             "  c02fffff-c0000000 : efifb\n"
                             "  c1000000-c1000fff : simpledrm\n"));
        vb_console_state_done(&m.console);
        ASSERT_OK(vb_console_read(m.ctx, &m.console));
        ASSERT_EQ(m.console.n_ranges, 1);
        ASSERT_STREQ(m.console.ranges[0].name, "simpledrm");
        ASSERT_EQ(m.console.ranges[0].start, 0xc1000000);
        ASSERT_EQ(m.console.ranges[0].end, 0xc1000fff);
        machine_close(&m);
}

/* fbcon between two framebuffers (class/graphics/fbcon, no "frame buffer device" vtconsole): the
 * give-back waits for a DRM driver's framebuffer only when the release bound a driver to the GPU
 * (two seconds at most); without one nothing is coming, and it does not wait. */
TEST(restore_waits_only_for_a_driver_the_release_bound) {
        _cleanup_free_ char *cmd = NULL;
        VbConsoleRestore rest = {};
        Machine m;
        int64_t start;

        machine_open(&m, "desktop", NULL, NULL);
        ASSERT_TRUE(asprintf(&cmd, "rm %s/sys/class/vtconsole/vtcon1 && mkdir -p %s/sys/class/graphics/fbcon", m.dir,
                             m.dir) > 0);
        ASSERT_EQ(system(cmd), 0);

        start = test_now_ms();
        ASSERT_EQ(vb_console_restore(m.ctx, false, &rest), 0);
        ASSERT_INT(test_now_ms() - start, <, 2000); /* the wait alone takes 2000 */
        ASSERT_CONTAINS(rest.missing, "no framebuffer console");
        vb_console_restore_done(&rest);

        start = test_now_ms();
        ASSERT_EQ(vb_console_restore(m.ctx, true, &rest), 0);
        ASSERT_INT(test_now_ms() - start, >=, 1900); /* it waited for the framebuffer that did not come */
        vb_console_restore_done(&rest);
        machine_close(&m);
}

TESTS_MAIN()
