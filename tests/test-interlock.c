/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/interlock against the fake trees in-use and in-use-group (tests/sysfs/make-safety-trees.sh):
 * which devices the host uses (mounted file systems and swap walked to their controllers, network
 * interfaces that are up with addresses, the console), and the plan's refusal of them unless
 * Force= names them. Each test rewrites the tree's proc files for its own situation.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bind.h"
#include "config.h"
#include "console.h"
#include "fake-kernel.h"
#include "ifaddr.h"
#include "interlock.h"
#include "iommu.h"
#include "macro.h"
#include "pci.h"
#include "plan.h"
#include "snapshot.h"
#include "tests.h"
#include "tree.h"
#include "vfio-bind.h"

typedef struct Run {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbHolds holds;
        char *described[16]; /* what hold() returned, freed by run_close() */
        size_t n_described;
} Run;

static void run_open(Run *run, const char *case_name) {
        *run = (Run) {};
        ASSERT_OK(tree_new(case_name, &run->dir));
        ASSERT_OK(fake_kernel_new(&run->k, run->dir));
        ASSERT_OK(fake_kernel_new_context(run->k, &run->ctx));
}

static void run_close(Run *run) {
        /* Reading what the host uses never writes. */
        ASSERT_EQ(fake_kernel_n_ops(run->k), 0);
        ASSERT_EQ(fake_kernel_n_violations(run->k), 0);
        vb_holds_done(&run->holds);
        for (size_t i = 0; i < run->n_described; i++)
                free(run->described[i]);
        vb_context_free(run->ctx);
        fake_kernel_free(run->k);
        tree_free(run->dir);
        *run = (Run) {};
}

static VbPciAddress addr(const char *s) {
        VbPciAddress a;
        ASSERT_OK(vb_pci_address_parse(s, &a));
        return a;
}

/* The text of the hold of KIND on ADDRESS, or NULL. */
static const char *hold(Run *run, const char *address, VbHoldKind kind) {
        VbPciAddress a = addr(address);
        char *text = NULL;

        ASSERT_OK(vb_holds_describe(&run->holds, &a, VB_HOLD_MASK(kind), &text));
        if (!text)
                return NULL;
        if (run->n_described >= ELEMENTSOF(run->described)) {
                free(text);
                TEST_FAIL("hold() called too often in one run");
        }
        run->described[run->n_described++] = text;
        return text;
}

static const char route_none[] = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

TEST(block_devices_walk_to_their_controller) {
        static const struct {
                const char *name;
                const char *expect; /* NULL: none */
        } cases[] = {
                { "sda", "0000:00:1f.2" },
                { "sda2", "0000:00:1f.2" },
                { "dm-0", "0000:00:1f.2" },      /* through slaves/sda4 */
                { "nvme0n1p1", "0000:3d:00.0" }, /* nvme/nvme0/nvme0n1/nvme0n1p1 */
                { "sdz", NULL },                 /* no such block device */
                { "..", NULL },                  /* never leaves class/block */
                { "../../bus", NULL },
        };
        Run run;

        run_open(&run, "in-use");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ VbPciAddress *a = NULL;
                size_t n = 99;

                ASSERT_OK(vb_interlock_block_devices(run.ctx, cases[i].name, &a, &n));
                if (!cases[i].expect) {
                        if (n != 0)
                                TEST_FAIL("%s: expected no PCI device, got %zu", cases[i].name, n);
                        continue;
                }
                if (n != 1)
                        TEST_FAIL("%s: expected one PCI device, got %zu", cases[i].name, n);
                ASSERT_STREQ(VB_PCI_ADDRESS_STR(&a[0]), cases[i].expect);
        }
        run_close(&run);
}

TEST(mounts_and_swap_hold_the_disk_controller) {
        Run run;

        run_open(&run, "in-use");
        ASSERT_OK(vb_interlock_read_storage(run.ctx, &run.holds));
        /* /, /boot and /home (dm-0 on sda4) are all on the AHCI controller. */
        ASSERT_CONTAINS(hold(&run, "0000:00:1f.2", VB_HOLD_MOUNT), "/dev/sda2 is mounted on /");
        ASSERT_CONTAINS(hold(&run, "0000:00:1f.2", VB_HOLD_MOUNT), "/dev/sda1 is mounted on /boot");
        ASSERT_CONTAINS(hold(&run, "0000:00:1f.2", VB_HOLD_MOUNT), "/dev/mapper/vg-home is mounted on /home");
        ASSERT_STREQ(hold(&run, "0000:00:1f.2", VB_HOLD_SWAP), "swap on /dev/sda3 is active");
        /* btrfs: an anonymous st_dev, found through the source; the mount point is unescaped. */
        ASSERT_STREQ(hold(&run, "0000:3d:00.0", VB_HOLD_MOUNT), "/dev/nvme0n1p1 is mounted on /mnt/my data");
        /* Nothing else: tmpfs, proc, sysfs and devtmpfs are on no device. */
        ASSERT_EQ(run.holds.n, 3);
        ASSERT_NULL(hold(&run, "0000:02:00.0", VB_HOLD_MOUNT));
        run_close(&run);
}

TEST(swap_alone_holds_the_controller) {
        Run run;

        run_open(&run, "in-use");
        ASSERT_OK(tree_write(run.dir, "proc/self/mountinfo",
                             "21 1 0:30 / / rw - tmpfs rootfs rw\n"
                             "24 21 0:22 / /proc rw - proc proc rw\n"));
        ASSERT_OK(vb_interlock_read_storage(run.ctx, &run.holds));
        ASSERT_NULL(hold(&run, "0000:00:1f.2", VB_HOLD_MOUNT));
        ASSERT_STREQ(hold(&run, "0000:00:1f.2", VB_HOLD_SWAP), "swap on /dev/sda3 is active");
        ASSERT_EQ(run.holds.n, 1);
        run_close(&run);
}

TEST(swap_file_holds_the_disk_of_its_file_system) {
        Run run;

        run_open(&run, "in-use");
        ASSERT_OK(tree_write(run.dir, "proc/swaps",
                             "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                             "/mnt/my\\040data/swapfile               file\t\t1048572\t\t0\t\t-2\n"));
        ASSERT_OK(vb_interlock_read_storage(run.ctx, &run.holds));
        ASSERT_STREQ(hold(&run, "0000:3d:00.0", VB_HOLD_SWAP),
                     "swap file /mnt/my data/swapfile on /dev/nvme0n1p1 is active");
        ASSERT_NULL(hold(&run, "0000:00:1f.2", VB_HOLD_SWAP));
        run_close(&run);
}

/* mountinfo escapes a NUL byte as \000 too; it cannot be part of a path, so it stays as
 * written rather than cutting the mount point short (issue 16: that check's mutant survived). */
TEST(mountinfo_escaped_nul_is_kept_as_written) {
        Run run;

        run_open(&run, "in-use");
        ASSERT_OK(tree_write(run.dir, "proc/self/mountinfo",
                             "21 1 8:2 / /srv\\000x\\040y rw - ext4 /dev/sda2 rw\n"
                             "24 21 0:22 / /proc rw - proc proc rw\n"));
        ASSERT_OK(tree_write(run.dir, "proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"));
        ASSERT_OK(vb_interlock_read_storage(run.ctx, &run.holds));
        ASSERT_STREQ(hold(&run, "0000:00:1f.2", VB_HOLD_MOUNT), "/dev/sda2 is mounted on /srv\\000x y");
        run_close(&run);
}

TEST(missing_proc_files_mean_nothing_known) {
        Run run;

        run_open(&run, "in-use");
        ASSERT_OK(tree_unlink(run.dir, "proc/self/mountinfo"));
        ASSERT_OK(tree_unlink(run.dir, "proc/swaps"));
        ASSERT_OK(tree_unlink(run.dir, "proc/net/route"));
        ASSERT_OK(tree_unlink(run.dir, "proc/net/if_inet6"));
        ASSERT_OK(vb_interlock_read(run.ctx, NULL, &(VbPciList) {}, &run.holds));
        ASSERT_EQ(run.holds.n, 0);
        run_close(&run);

        /* The desktop tree has no block, net or mount information at all. */
        run_open(&run, "desktop");
        ASSERT_OK(vb_interlock_read_storage(run.ctx, &run.holds));
        ASSERT_OK(vb_interlock_read_network(run.ctx, &run.holds));
        ASSERT_EQ(run.holds.n, 0);
        run_close(&run);
}

TEST(unreadable_facts_are_reported_not_ignored) {
        _cleanup_(vb_snapshot_done) VbSnapshot snap = {};
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        _cleanup_free_ char *path = NULL;
        static const char conf[] = "[Bind]\nDevice=02:00.0\n";
        Run run;

        /* mountinfo that cannot be read (a directory here): the snapshot says so (the daemon
         * warns, `vfio-bind check` too) and still has the network facts. */
        run_open(&run, "in-use");
        ASSERT_OK(tree_unlink(run.dir, "proc/self/mountinfo"));
        ASSERT_TRUE(asprintf(&path, "%s/proc/self/mountinfo", run.dir) > 0);
        ASSERT_OK(mkdir(path, 0755) < 0 ? -errno : 0);
        ASSERT_OK(vb_config_new(&c));
        ASSERT_OK(vb_config_parse_text(c, "t.conf", conf, strlen(conf), &diag));
        ASSERT_OK(vb_snapshot_take(run.ctx, c, NULL, &snap));
        ASSERT_EQ(snap.holds_error, -EISDIR);
        ASSERT_EQ(snap.plan.n, 1);
        ASSERT_EQ(snap.plan.entries[0].action, VB_ACTION_REFUSE);
        ASSERT_EQ(snap.plan.entries[0].reason, VB_REASON_IN_USE);
        run_close(&run);
}

TEST(garbage_in_proc_files_is_skipped) {
        Run run;

        run_open(&run, "in-use");
        ASSERT_OK(tree_write(run.dir, "proc/self/mountinfo",
                             "garbage\n"
                             "1 2 3\n"
                             "- - - -\n"
                             "21 1 8:2 / / rw shared:1 - ext4\n" /* no source */
                             "21 1 x:y / /x rw - ext4 /dev/../../etc/passwd rw\n"
                             "21 1 8:99 / /y rw - ext4 /dev/sdq1 rw\n" /* unknown device */
                             "\n"));
        ASSERT_OK(tree_write(run.dir, "proc/swaps", "Filename Type\n/dev/ partition\nnothing\n"));
        ASSERT_OK(tree_write(run.dir, "proc/net/route", "Iface\nbad line\n"));
        ASSERT_OK(tree_write(run.dir, "proc/net/if_inet6", "zz\n0001 02\n"));
        ASSERT_OK(vb_interlock_read_storage(run.ctx, &run.holds));
        ASSERT_OK(vb_interlock_read_network(run.ctx, &run.holds));
        ASSERT_EQ(run.holds.n, 0);
        run_close(&run);
}

TEST(interface_up_with_addresses_holds_the_nic) {
        Run run;

        run_open(&run, "in-use");
        ASSERT_OK(vb_interlock_read_network(run.ctx, &run.holds));
        /* The subnet route is preferred to the default route; IPv6 without link-local. */
        ASSERT_STREQ(hold(&run, "0000:02:00.0", VB_HOLD_NETWORK),
                     "network interface eth0 is up with 10.0.2.0/24 and 2001:db8::2/64");
        /* lo and br0 are virtual: br0 has no address here, lo is on no PCI device. */
        ASSERT_EQ(run.holds.n, 1);
        run_close(&run);
}

/* Judged from the addresses (getifaddrs() on a machine, ifaddrs in a dump), whatever table routes
 * them: an address with no main-table route (policy routing, a VRF, noprefixroute) counts, and
 * the message names the address, not a route's prefix. */
TEST(addresses_not_routes_decide) {
        Run run;

        run_open(&run, "in-use");
        /* No main-table route at all, only link-local IPv6 in if_inet6: the old reading saw nothing. */
        ASSERT_OK(tree_write(run.dir, "proc/net/route", route_none));
        ASSERT_OK(tree_write(run.dir, "proc/net/if_inet6", "fe800000000000005054fffffe123456 02 40 20 80     eth0\n"));
        ASSERT_OK(vb_context_set_addresses(run.ctx,
                                           "# comment\n"
                                           "lo 127.0.0.1/8\n"
                                           "eth0 169.254.3.4/16\n"
                                           "eth0 fe80::5054:ff:fe12:3456/64\n"
                                           "eth0 192.0.2.10/24\n"
                                           "eth0 2001:db8::10/64\n"
                                           "bad line without address\n"));
        ASSERT_OK(vb_interlock_read_network(run.ctx, &run.holds));
        ASSERT_STREQ(hold(&run, "0000:02:00.0", VB_HOLD_NETWORK),
                     "network interface eth0 is up with 192.0.2.10/24 and 2001:db8::10/64");
        run_close(&run);

        /* Only link-local and loopback addresses: not in use. */
        run_open(&run, "in-use");
        ASSERT_OK(vb_context_set_addresses(run.ctx, "eth0 169.254.3.4/16\neth0 fe80::1/64\nlo 127.0.0.1/8\n"));
        ASSERT_OK(vb_interlock_read_network(run.ctx, &run.holds));
        ASSERT_EQ(run.holds.n, 0);
        run_close(&run);

        /* The addresses rule over the procfs files (the old main-table route is not looked at). */
        run_open(&run, "in-use");
        ASSERT_OK(vb_context_set_addresses(run.ctx, "eth0 fd00::2/64\n"));
        ASSERT_OK(vb_interlock_read_network(run.ctx, &run.holds));
        ASSERT_STREQ(hold(&run, "0000:02:00.0", VB_HOLD_NETWORK), "network interface eth0 is up with fd00::2/64");
        run_close(&run);
}

TEST(ifaddr_scope) {
        static const char *const global[] = { "192.0.2.10", "10.0.0.1", "2001:db8::1", "fd00::2", "::ffff:192.0.2.1" };
        static const char *const local[] = { "127.0.0.1",
                                             "169.254.1.1",
                                             "0.0.0.0",
                                             "::1",
                                             "::",
                                             "fe80::1",
                                             "febf::1",
                                             "ff02::1",
                                             "::ffff:127.0.0.1",
                                             "",
                                             "not-an-address",
                                             "192.0.2.10/24" };
        _cleanup_free_ char *text = NULL;

        for (size_t i = 0; i < ELEMENTSOF(global); i++)
                if (!vb_ifaddr_is_global(global[i]))
                        TEST_FAIL("%s was not taken as global", global[i]);
        for (size_t i = 0; i < ELEMENTSOF(local); i++)
                if (vb_ifaddr_is_global(local[i]))
                        TEST_FAIL("%s was taken as global", local[i]);
        /* The machine's own list parses (whatever it holds). */
        ASSERT_OK(vb_ifaddr_read_system(&text));
        ASSERT_TRUE(strneq(text, "# interface addresses", 21));
}

TEST(link_local_only_or_down_is_not_in_use) {
        Run run;

        /* Up, but only the automatic link-local address. */
        run_open(&run, "in-use");
        ASSERT_OK(tree_write(run.dir, "proc/net/route", route_none));
        ASSERT_OK(tree_write(run.dir, "proc/net/if_inet6", "fe800000000000005054fffffe123456 02 40 20 80     eth0\n"));
        ASSERT_OK(vb_interlock_read_network(run.ctx, &run.holds));
        ASSERT_EQ(run.holds.n, 0);
        run_close(&run);

        /* Addresses, but the interface is down (IFF_UP clear). */
        run_open(&run, "in-use");
        ASSERT_OK(tree_write(run.dir, "sys/class/net/eth0/flags", "0x1002\n"));
        ASSERT_OK(vb_interlock_read_network(run.ctx, &run.holds));
        ASSERT_EQ(run.holds.n, 0);
        run_close(&run);
}

TEST(bridge_port_is_in_use_through_its_bridge) {
        Run run;

        run_open(&run, "in-use");
        ASSERT_OK(tree_write(run.dir, "proc/net/route",
                             "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                             "br0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"));
        ASSERT_OK(tree_write(run.dir, "proc/net/if_inet6", ""));
        ASSERT_OK(vb_interlock_read_network(run.ctx, &run.holds));
        ASSERT_STREQ(hold(&run, "0000:02:00.0", VB_HOLD_NETWORK), "network interface br0 is up with 192.168.1.0/24");
        ASSERT_EQ(run.holds.n, 1);
        run_close(&run);
}

TEST(console_owner_is_held) {
        _cleanup_(vb_console_state_done) VbConsoleState console = {};
        _cleanup_(vb_pci_list_done) VbPciList devices = {};
        Run run;

        run_open(&run, "desktop");
        ASSERT_OK(vb_pci_enumerate(run.ctx, &devices));
        ASSERT_OK(vb_console_read(run.ctx, &console));
        ASSERT_OK(vb_interlock_add_console(&console, &devices, &run.holds));
        ASSERT_CONTAINS(hold(&run, "0000:01:00.0", VB_HOLD_CONSOLE), "vtcon1, efi-framebuffer.0");
        ASSERT_EQ(run.holds.n, 1);
        run_close(&run);

        /* Released already: nothing is held. */
        run_open(&run, "desktop");
        ASSERT_OK(tree_write(run.dir, "sys/class/vtconsole/vtcon1/bind", "0\n"));
        ASSERT_OK(tree_unlink(run.dir, "sys/bus/platform/devices/efi-framebuffer.0/driver"));
        vb_console_state_done(&console);
        ASSERT_OK(vb_console_read(run.ctx, &console));
        ASSERT_OK(vb_interlock_add_console(&console, &devices, &run.holds));
        ASSERT_EQ(run.holds.n, 0);
        run_close(&run);
}

TEST(holds_merge_and_describe) {
        _cleanup_(vb_holds_done) VbHolds h = {};
        _cleanup_free_ char *first = NULL, *all = NULL, *net = NULL, *none = NULL;
        VbPciAddress a = addr("0000:00:1f.2"), b = addr("0000:02:00.0");

        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_MOUNT, "/dev/sda2 is mounted on /boot"));
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_MOUNT, "/dev/sda2 is mounted on /"));
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_MOUNT, "/dev/sda2 is mounted on /")); /* twice: once */
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_MOUNT, "c"));
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_MOUNT, "d"));
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_MOUNT, "e"));
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_SWAP, "swap"));
        ASSERT_OK(vb_holds_add(&h, &b, VB_HOLD_NETWORK, "eth0"));
        ASSERT_ERRNO(vb_holds_add(&h, &b, _VB_HOLD_KIND_MAX, "x"), EINVAL);
        ASSERT_EQ(h.n, 3);
        ASSERT_EQ(h.holds[0].n_texts, 3);
        ASSERT_TRUE(h.holds[0].more);
        ASSERT_OK(vb_hold_describe(&h.holds[0], &first));
        ASSERT_STREQ(first, "/dev/sda2 is mounted on /boot, /dev/sda2 is mounted on /, c, and more");

        ASSERT_OK(vb_holds_describe(&h, &a, VB_HOLD_MASK_ALL, &all));
        ASSERT_STREQ(all, "/dev/sda2 is mounted on /boot, /dev/sda2 is mounted on /, c, and more; swap");
        ASSERT_OK(vb_holds_describe(&h, &b, VB_HOLD_MASK(VB_HOLD_NETWORK), &net));
        ASSERT_STREQ(net, "eth0");
        ASSERT_OK(vb_holds_describe(&h, &b, VB_HOLD_MASK(VB_HOLD_MOUNT), &none));
        ASSERT_NULL(none);
        ASSERT_TRUE(vb_holds_has(&h, &a, VB_HOLD_MASK(VB_HOLD_SWAP)));
        ASSERT_FALSE(vb_holds_has(&h, &a, VB_HOLD_MASK(VB_HOLD_CONSOLE)));
        ASSERT_STREQ(vb_hold_kind_to_string(VB_HOLD_NETWORK), "network");
        ASSERT_EQ(vb_hold_kind_from_string("console"), VB_HOLD_CONSOLE);
        ASSERT_EQ(vb_hold_kind_from_string("disk"), _VB_HOLD_KIND_INVALID);
}

/* Texts are kept as a list: one that contains ", " (the console's "vtcon1, efi-framebuffer.0",
 * a mount point with a comma in its name) counts once, is found again as itself, and its parts
 * are not texts of their own. */
TEST(hold_texts_with_commas_count_once) {
        _cleanup_(vb_holds_done) VbHolds h = {};
        _cleanup_free_ char *one = NULL, *three = NULL, *capped = NULL;
        VbPciAddress a = addr("0000:01:00.0");

        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_CONSOLE, "the console in use (vtcon1, efi-framebuffer.0) is on it"));
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_CONSOLE, "the console in use (vtcon1, efi-framebuffer.0) is on it"));
        ASSERT_EQ(h.n, 1);
        ASSERT_EQ(h.holds[0].n_texts, 1);
        ASSERT_OK(vb_holds_describe(&h, &a, VB_HOLD_MASK_ALL, &one));
        ASSERT_STREQ(one, "the console in use (vtcon1, efi-framebuffer.0) is on it");

        /* A text equal to a part of another one is a text of its own, not a duplicate. */
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_MOUNT, "/dev/sdb1 is mounted on /mnt/a, b"));
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_MOUNT, "b"));
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_MOUNT, "/dev/sdb2 is mounted on /mnt/c, d, e"));
        ASSERT_EQ(h.holds[1].n_texts, 3);
        ASSERT_FALSE(h.holds[1].more);
        ASSERT_OK(vb_holds_describe(&h, &a, VB_HOLD_MASK(VB_HOLD_MOUNT), &three));
        ASSERT_STREQ(three, "/dev/sdb1 is mounted on /mnt/a, b, b, /dev/sdb2 is mounted on /mnt/c, d, e");

        /* The cap counts texts, not commas: a fourth one is "and more", a known one is nothing. */
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_MOUNT, "b"));
        ASSERT_FALSE(h.holds[1].more);
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_MOUNT, "f"));
        ASSERT_OK(vb_holds_add(&h, &a, VB_HOLD_MOUNT, "g"));
        ASSERT_EQ(h.holds[1].n_texts, 3);
        ASSERT_TRUE(h.holds[1].more);
        ASSERT_OK(vb_holds_describe(&h, &a, VB_HOLD_MASK_ALL, &capped));
        ASSERT_STREQ(capped,
                     "/dev/sdb1 is mounted on /mnt/a, b, b, /dev/sdb2 is mounted on /mnt/c, d, e, and more; "
                     "the console in use (vtcon1, efi-framebuffer.0) is on it");
        ASSERT_TRUE(vb_holds_has(&h, &a, VB_HOLD_MASK(VB_HOLD_MOUNT)));
        ASSERT_FALSE(vb_holds_has(&h, &a, VB_HOLD_MASK(VB_HOLD_SWAP)));
}

/* ---- the plan ---- */

typedef struct PlanRun {
        Run run;
        VbConfig *config;
        VbSnapshot snap;
} PlanRun;

/* A snapshot (the daemon's and the CLI's view) of CASE_NAME with CONF; BEFORE may change the
 * tree's files first. */
static void plan_run(PlanRun *p, const char *case_name, const char *conf, void (*before)(Run *run)) {
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};

        *p = (PlanRun) {};
        run_open(&p->run, case_name);
        if (before)
                before(&p->run);
        ASSERT_OK(vb_config_new(&p->config));
        if (vb_config_parse_text(p->config, "test.conf", conf, strlen(conf), &diag) < 0) {
                for (size_t i = 0; i < diag.n; i++)
                        fprintf(stderr, "%s\n", diag.messages[i]);
                TEST_FAIL("bad test configuration");
        }
        ASSERT_OK(vb_snapshot_take(p->run.ctx, p->config, NULL, &p->snap));
        ASSERT_EQ(p->snap.holds_error, 0);
}

static void plan_done(PlanRun *p) {
        vb_snapshot_done(&p->snap);
        vb_config_free(p->config);
        run_close(&p->run);
}

static const VbPlanEntry *entry(const PlanRun *p, const char *s) {
        VbPciAddress a = addr(s);

        for (size_t i = 0; i < p->snap.plan.n; i++)
                if (vb_pci_address_equal(&p->snap.plan.entries[i].address, &a))
                        return &p->snap.plan.entries[i];
        TEST_FAIL("no plan entry for %s", s);
}

static char *explain(const PlanRun *p, const char *s) {
        char *e = NULL;
        ASSERT_OK(vb_plan_entry_explain(entry(p, s), &e));
        return e;
}

#define ASSERT_ENTRY(p, a, action_, reason_)                                                          \
        do {                                                                                          \
                const VbPlanEntry *_e = entry((p), (a));                                              \
                if (_e->action != (action_) || _e->reason != (reason_))                               \
                        TEST_FAIL("%s: expected %s/%s, got %s/%s", (a), vb_action_to_string(action_), \
                                  vb_plan_reason_to_string(reason_), vb_action_to_string(_e->action), \
                                  vb_plan_reason_to_string(_e->reason));                              \
        } while (0)

TEST(plan_refuses_the_root_disk_controller) {
        _cleanup_free_ char *text = NULL, *forced = NULL;
        PlanRun p;

        plan_run(&p, "in-use", "[Bind]\nDevice=00:1f.2\n", NULL);
        ASSERT_ENTRY(&p, "0000:00:1f.2", VB_ACTION_REFUSE, VB_REASON_IN_USE);
        ASSERT_FALSE(entry(&p, "0000:00:1f.2")->forced);
        text = explain(&p, "0000:00:1f.2");
        ASSERT_CONTAINS(text, "refused: the host uses it: /dev/sda2 is mounted on /");
        ASSERT_CONTAINS(text, "swap on /dev/sda3 is active");
        ASSERT_CONTAINS(text, "Force= overrides");
        ASSERT_STREQ(vb_plan_reason_to_string(VB_REASON_IN_USE), "in-use");
        plan_done(&p);

        /* Force= by ID: bound, with the reason kept for the loud warning. */
        plan_run(&p, "in-use", "[Bind]\nDevice=00:1f.2\nForce=8086:2922\n", NULL);
        ASSERT_ENTRY(&p, "0000:00:1f.2", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_TRUE(entry(&p, "0000:00:1f.2")->forced);
        forced = explain(&p, "0000:00:1f.2");
        ASSERT_CONTAINS(forced,
                        "bind to vfio-pci, unbinding ahci; FORCED although the host uses it: /dev/sda2 is mounted on /");
        plan_done(&p);
}

TEST(force_alone_binds_nothing) {
        PlanRun p;

        plan_run(&p, "in-use", "[Bind]\nDevice=02:00.0\nGroup=ignore\nForce=00:1f.2\n", NULL);
        ASSERT_EQ(p.snap.plan.n, 1);
        ASSERT_ENTRY(&p, "0000:02:00.0", VB_ACTION_REFUSE, VB_REASON_IN_USE);
        plan_done(&p);
}

TEST(plan_refuses_the_nic_in_use) {
        _cleanup_free_ char *text = NULL;
        PlanRun p;

        plan_run(&p, "in-use", "[Bind]\nDevice=02:00.0\n", NULL);
        ASSERT_ENTRY(&p, "0000:02:00.0", VB_ACTION_REFUSE, VB_REASON_IN_USE);
        text = explain(&p, "0000:02:00.0");
        ASSERT_CONTAINS(text, "network interface eth0 is up with 10.0.2.0/24");
        plan_done(&p);

        plan_run(&p, "in-use", "[Bind]\nDevice=02:00.0\nForce=0000:02:00.0\n", NULL);
        ASSERT_ENTRY(&p, "0000:02:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_TRUE(entry(&p, "0000:02:00.0")->forced);
        plan_done(&p);
}

static void no_network(Run *run) {
        ASSERT_OK(tree_write(run->dir, "proc/net/route", route_none));
        ASSERT_OK(tree_write(run->dir, "proc/net/if_inet6", ""));
}

TEST(group_take_refuses_a_group_with_a_disk_in_use) {
        _cleanup_free_ char *nic = NULL, *sata = NULL;
        PlanRun p;

        /* The NIC is free, but its group sibling 02:00.1 holds /srv. */
        plan_run(&p, "in-use-group", "[Bind]\nDevice=02:00.0\nGroup=take\n", no_network);
        ASSERT_ENTRY(&p, "0000:02:00.0", VB_ACTION_REFUSE, VB_REASON_GROUP);
        ASSERT_ENTRY(&p, "0000:02:00.1", VB_ACTION_REFUSE, VB_REASON_IN_USE);
        nic = explain(&p, "0000:02:00.0");
        ASSERT_CONTAINS(nic, "0000:02:00.1 on ahci (the host uses it: /dev/sdb1 is mounted on /srv)");
        sata = explain(&p, "0000:02:00.1");
        ASSERT_CONTAINS(sata, "/dev/sdb1 is mounted on /srv");
        ASSERT_CONTAINS(sata, "Group=take");
        ASSERT_EQ(vb_plan_count(&p.snap.plan, VB_ACTION_BIND), 0);
        plan_done(&p);

        /* Forcing the sibling lets the whole group go. */
        plan_run(&p, "in-use-group", "[Bind]\nDevice=02:00.0\nGroup=take\nForce=02:00.1\n", no_network);
        ASSERT_ENTRY(&p, "0000:02:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_ENTRY(&p, "0000:02:00.1", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_FALSE(entry(&p, "0000:02:00.0")->forced);
        ASSERT_TRUE(entry(&p, "0000:02:00.1")->forced);
        plan_done(&p);

        /* Group=check refuses it anyway (a sibling on a host driver). */
        plan_run(&p, "in-use-group", "[Bind]\nDevice=02:00.0\n", no_network);
        ASSERT_ENTRY(&p, "0000:02:00.0", VB_ACTION_REFUSE, VB_REASON_GROUP);
        plan_done(&p);
}

TEST(console_with_release_no_is_refused) {
        _cleanup_free_ char *text = NULL;
        PlanRun p;

        /* Release=no: binding the GPU would take the console from the host (vfio-pci removes a
         * conflicting framebuffer itself on newer kernels). */
        plan_run(&p, "in-use", "[Bind]\nDevice=01:00\n[Console]\nRelease=no\n", NULL);
        ASSERT_ENTRY(&p, "0000:01:00.0", VB_ACTION_REFUSE, VB_REASON_IN_USE);
        ASSERT_ENTRY(&p, "0000:01:00.1", VB_ACTION_REFUSE, VB_REASON_GROUP);
        text = explain(&p, "0000:01:00.0");
        ASSERT_CONTAINS(text, "the console in use (vtcon1, efi-framebuffer.0) is on it");
        ASSERT_FALSE(p.snap.plan.release_console);
        plan_done(&p);

        /* Before the GPU's driver loads (the daemon won the race): refused all the same, and its
         * group with it, since the host will take the GPU. */
        plan_run(&p, "unbound", "[Bind]\nDevice=01:00\n[Console]\nRelease=no\n", NULL);
        ASSERT_ENTRY(&p, "0000:01:00.0", VB_ACTION_REFUSE, VB_REASON_IN_USE);
        ASSERT_ENTRY(&p, "0000:01:00.1", VB_ACTION_REFUSE, VB_REASON_GROUP);
        ASSERT_CONTAINS(entry(&p, "0000:01:00.1")->detail,
                        "0000:01:00.0 on no driver (the host uses it: the console in use");
        plan_done(&p);

        /* Release=auto: the console is released first; nothing to refuse. */
        plan_run(&p, "in-use", "[Bind]\nDevice=01:00\n", NULL);
        ASSERT_ENTRY(&p, "0000:01:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_ENTRY(&p, "0000:01:00.1", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_NULL(entry(&p, "0000:01:00.0")->in_use);
        ASSERT_TRUE(p.snap.plan.release_console);
        plan_done(&p);

        /* Release=no with Force=: bound without releasing. */
        plan_run(&p, "in-use", "[Bind]\nDevice=01:00\nForce=01:00.0\n[Console]\nRelease=no\n", NULL);
        ASSERT_ENTRY(&p, "0000:01:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_TRUE(entry(&p, "0000:01:00.0")->forced);
        ASSERT_FALSE(p.snap.plan.release_console);
        plan_done(&p);
}

TEST(bridges_are_never_bound_even_forced) {
        PlanRun p;

        plan_run(&p, "in-use", "[Bind]\nDevice=00:01.0 00:00.0\nForce=00:01.0 00:00.0\nGroup=ignore\n", NULL);
        ASSERT_ENTRY(&p, "0000:00:01.0", VB_ACTION_REFUSE, VB_REASON_BRIDGE);
        ASSERT_ENTRY(&p, "0000:00:00.0", VB_ACTION_REFUSE, VB_REASON_BRIDGE);
        ASSERT_FALSE(entry(&p, "0000:00:01.0")->forced);
        plan_done(&p);
}

TEST(already_bound_is_not_in_use) {
        PlanRun p;

        /* On vfio-pci already: the host cannot be using it, nothing to refuse. */
        plan_run(&p, "in-use", "[Bind]\nDriver=ahci\nDevice=00:1f.2\n", NULL);
        ASSERT_ENTRY(&p, "0000:00:1f.2", VB_ACTION_LEAVE, VB_REASON_NONE);
        ASSERT_NULL(entry(&p, "0000:00:1f.2")->in_use);
        plan_done(&p);
}

TEST(group_take_counts_a_member_already_bound) {
        _cleanup_(vb_bind_result_done) VbBindResult res = {};
        PlanRun p;

        /* After the daemon's bind the audio function is on vfio-pci: the next pass (the bind
         * uevent's) must still list it, as LEAVE, so that the status counts the group whole. */
        p = (PlanRun) {};
        run_open(&p.run, "desktop");
        ASSERT_EQ(vb_bind_device(p.run.ctx, &(VbPciAddress) { .bus = 1, .function = 1 }, "vfio-pci", true, &res), 1);
        fake_kernel_forget(p.run.k);
        ASSERT_OK(vb_config_new(&p.config));
        {
                _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
                static const char conf[] = "[Bind]\nDevice=0000:01:00.0\nGroup=take\n";
                ASSERT_OK(vb_config_parse_text(p.config, "t.conf", conf, strlen(conf), &diag));
        }
        ASSERT_OK(vb_snapshot_take(p.run.ctx, p.config, NULL, &p.snap));
        ASSERT_EQ(p.snap.plan.n, 2);
        ASSERT_ENTRY(&p, "0000:01:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_ENTRY(&p, "0000:01:00.1", VB_ACTION_LEAVE, VB_REASON_NONE);
        ASSERT_FALSE(entry(&p, "0000:01:00.1")->selected);
        plan_done(&p);
}

TEST(force_is_parsed_like_device) {
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        static const char text[] =
                "[Bind]\n"
                "Device=01:00.0\n"
                "Force=01:00.0 10de:13c0\n"
                "Force=0000:01:00.0\n" /* 3: duplicate */
                "Force=01:00,0\n"      /* 4: bad */
                "Force=\n"             /* 5: empty */
                "[Console]\n"
                "Force=01:00.0\n"; /* 7: wrong section */

        ASSERT_OK(vb_config_new(&c));
        ASSERT_ERRNO(vb_config_parse_text(c, "f.conf", text, strlen(text), &diag), EINVAL);
        ASSERT_EQ(c->n_force, 2);
        ASSERT_EQ(c->n_selectors, 1);
        ASSERT_EQ(c->force[1].selector.type, VB_SELECTOR_ID);
        ASSERT_EQ(c->force[0].line, 3);
        ASSERT_EQ(diag.n, 4);
        ASSERT_CONTAINS(diag.messages[0], "f.conf:4: duplicate Force= selector");
        ASSERT_CONTAINS(diag.messages[1], "f.conf:5: invalid PCI ID \"01:00,0\"");
        ASSERT_CONTAINS(diag.messages[2], "f.conf:6: empty value for Force=");
        ASSERT_CONTAINS(diag.messages[3],
                        "f.conf:8: unknown key \"Force\" in section [Console] (Force= belongs in [Bind])");
}

/* ---- the CLI ---- */

/* Run `vfio-bind ARGS` on the tree in RUN with CONF; return its exit code, its output in *OUT. */
static int cli(const Run *run, const char *conf, const char *verb, char **out) {
        _cleanup_free_ char *conf_path = NULL, *out_path = NULL, *arg = NULL;
        pid_t pid;
        int st;

        ASSERT_TRUE(asprintf(&conf_path, "%s/vfio-bind.conf", run->dir) > 0);
        ASSERT_TRUE(asprintf(&out_path, "%s/cli.out", run->dir) > 0);
        ASSERT_TRUE(asprintf(&arg, "--config=%s", conf_path) > 0);
        ASSERT_OK(tree_write(run->dir, "vfio-bind.conf", conf));
        fflush(NULL);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                char *argv[] = { (char *) "vfio-bind", arg, (char *) verb, NULL };
                FILE *f = freopen(out_path, "w", stdout);
                if (!f || !freopen(out_path, "a", stderr))
                        vb_coverage_exit(127);
                int r;

                setenv("NO_COLOR", "1", 1);
                r = vbc_main(3, argv,
                             &(VbPlatform) {
                                     .sysfs_root = fake_kernel_sysfs_root(run->k),
                                     .procfs_root = fake_kernel_procfs_root(run->k),
                                     .ops = &fake_kernel_ops,
                                     .ops_userdata = run->k,
                                     .runtime_dir = run->dir,
                             });
                fflush(NULL);
                vb_coverage_exit(r);
        }
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        *out = tree_read(run->dir, "cli.out");
        ASSERT_TRUE(*out);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TEST(check_explains_the_refusal_and_the_force) {
        _cleanup_free_ char *out = NULL, *forced = NULL;
        Run run;

        run_open(&run, "in-use");
        ASSERT_EQ(cli(&run, "[Bind]\nDevice=00:1f.2\n", "check", &out), 1);
        ASSERT_CONTAINS(out, "problem: 0000:00:1f.2: refused: the host uses it: /dev/sda2 is mounted on /");
        ASSERT_EQ(cli(&run, "[Bind]\nDevice=00:1f.2\nForce=00:1f.2\n", "check", &forced), 0);
        ASSERT_CONTAINS(forced,
                        "warning: 0000:00:1f.2: FORCED by Force=: it will be bound although the host uses it: "
                        "/dev/sda2 is mounted on /");
        run_close(&run);
}

TEST(status_json_names_the_hold) {
        _cleanup_free_ char *out = NULL;
        Run run;

        run_open(&run, "in-use");
        ASSERT_OK(tree_write(run.dir, "vfio-bind.conf", "[Bind]\nDevice=02:00.0\n"));
        {
                _cleanup_free_ char *conf_path = NULL, *arg = NULL, *out_path = NULL;
                pid_t pid;
                int st;

                ASSERT_TRUE(asprintf(&conf_path, "%s/vfio-bind.conf", run.dir) > 0);
                ASSERT_TRUE(asprintf(&arg, "--config=%s", conf_path) > 0);
                ASSERT_TRUE(asprintf(&out_path, "%s/cli.out", run.dir) > 0);
                fflush(NULL);
                pid = fork();
                ASSERT_TRUE(pid >= 0);
                if (pid == 0) {
                        char *argv[] = { (char *) "vfio-bind", arg, (char *) "status", (char *) "--json", NULL };
                        int r;

                        if (!freopen(out_path, "w", stdout))
                                vb_coverage_exit(127);
                        r = vbc_main(4, argv,
                                     &(VbPlatform) {
                                             .sysfs_root = fake_kernel_sysfs_root(run.k),
                                             .procfs_root = fake_kernel_procfs_root(run.k),
                                             .ops = &fake_kernel_ops,
                                             .ops_userdata = run.k,
                                             .runtime_dir = run.dir,
                                     });
                        fflush(NULL);
                        vb_coverage_exit(r);
                }
                ASSERT_EQ(waitpid(pid, &st, 0), pid);
                ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1);
        }
        out = tree_read(run.dir, "cli.out");
        ASSERT_CONTAINS(out, "\"reason\": \"in-use\"");
        ASSERT_CONTAINS(out, "\"in_use\": \"network interface eth0 is up with 10.0.2.0/24 and 2001:db8::2/64\"");
        ASSERT_CONTAINS(out, "\"forced\": false");
        run_close(&run);
}

/* tests/sysfs/vmd: disks behind Intel VMD walk to their controller in domain 10000, through the
 * VMD root bus directory "pci10000:e0", which is not a device, and to the VMD controller that
 * hosts that bus: unbinding it would take the disk away too. */
TEST(vmd_disks_walk_to_their_controller) {
        static const struct {
                const char *name;
                const char *expect;
        } cases[] = {
                { "nvme0n1", "10000:e1:00.0" },
                { "sda", "10000:e0:17.0" },
                { "sda2", "10000:e0:17.0" },
        };
        Run run;

        run_open(&run, "vmd");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ VbPciAddress *a = NULL;
                size_t n = 99;

                ASSERT_OK(vb_interlock_block_devices(run.ctx, cases[i].name, &a, &n));
                if (n != 2)
                        TEST_FAIL("%s: expected its controller and the VMD controller, got %zu", cases[i].name, n);
                ASSERT_STREQ(VB_PCI_ADDRESS_STR(&a[0]), "0000:00:0e.0");
                ASSERT_STREQ(VB_PCI_ADDRESS_STR(&a[1]), cases[i].expect);
        }

        ASSERT_OK(vb_interlock_read_storage(run.ctx, &run.holds));
        ASSERT_CONTAINS(hold(&run, "10000:e0:17.0", VB_HOLD_MOUNT), "/dev/sda2 is mounted on /");
        ASSERT_CONTAINS(hold(&run, "10000:e0:17.0", VB_HOLD_MOUNT), "/dev/sda1 is mounted on /boot/efi");
        ASSERT_CONTAINS(hold(&run, "0000:00:0e.0", VB_HOLD_MOUNT), "/dev/sda2 is mounted on /");
        ASSERT_NULL(hold(&run, "10000:e1:00.0", VB_HOLD_MOUNT));
        ASSERT_NULL(hold(&run, "0000:e0:17.0", VB_HOLD_MOUNT));
        run_close(&run);
}

TEST(plan_refuses_the_vmd_controller_that_holds_the_root_disk) {
        _cleanup_free_ char *text = NULL;
        PlanRun p;

        /* Even with Group=ignore: the controller is in use by whatever is behind it. */
        plan_run(&p, "vmd", "[Bind]\nDevice=00:0e.0\nGroup=ignore\n", NULL);
        ASSERT_ENTRY(&p, "0000:00:0e.0", VB_ACTION_REFUSE, VB_REASON_IN_USE);
        text = explain(&p, "0000:00:0e.0");
        ASSERT_CONTAINS(text, "/dev/sda2 is mounted on /");
        plan_done(&p);
}

TEST(plan_refuses_the_root_disk_controller_behind_vmd) {
        _cleanup_free_ char *text = NULL;
        PlanRun p;

        plan_run(&p, "vmd", "[Bind]\nDevice=10000:e0:17.0\nGroup=ignore\n", NULL);
        ASSERT_ENTRY(&p, "10000:e0:17.0", VB_ACTION_REFUSE, VB_REASON_IN_USE);
        text = explain(&p, "10000:e0:17.0");
        ASSERT_CONTAINS(text, "/dev/sda2 is mounted on /");
        plan_done(&p);

        /* The NVMe controller next to it holds no mounted file system. */
        plan_run(&p, "vmd", "[Bind]\nDevice=10000:e1:00.0\nGroup=ignore\n", NULL);
        ASSERT_ENTRY(&p, "10000:e1:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        plan_done(&p);
}

/* The CLI on tests/sysfs/vmd with CONF, as "vfio-bind --config=… VERB [ARG]": its exit status,
 * its standard output in *RET_OUT, its standard error in the tree's cli.err. */
static int vmd_cli(Run *run, const char *conf, const char *verb, const char *arg, char **ret_out) {
        _cleanup_free_ char *conf_path = NULL, *config_arg = NULL, *out_path = NULL, *err_path = NULL;
        pid_t pid;
        int st;

        ASSERT_OK(tree_write(run->dir, "vfio-bind.conf", conf));
        ASSERT_TRUE(asprintf(&err_path, "%s/cli.err", run->dir) > 0);
        ASSERT_TRUE(asprintf(&conf_path, "%s/vfio-bind.conf", run->dir) > 0);
        ASSERT_TRUE(asprintf(&config_arg, "--config=%s", conf_path) > 0);
        ASSERT_TRUE(asprintf(&out_path, "%s/cli.out", run->dir) > 0);
        fflush(NULL);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                char *argv[] = { (char *) "vfio-bind", config_arg, (char *) verb, (char *) arg, NULL };
                int r;

                if (!freopen(out_path, "w", stdout) || !freopen(err_path, "w", stderr))
                        vb_coverage_exit(127);
                r = vbc_main(arg ? 4 : 3, argv,
                             &(VbPlatform) {
                                     .sysfs_root = fake_kernel_sysfs_root(run->k),
                                     .procfs_root = fake_kernel_procfs_root(run->k),
                                     .ops = &fake_kernel_ops,
                                     .ops_userdata = run->k,
                                     .runtime_dir = run->dir,
                             });
                fflush(NULL);
                vb_coverage_exit(r);
        }
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        ASSERT_TRUE(WIFEXITED(st));
        *ret_out = tree_read(run->dir, "cli.out");
        ASSERT_TRUE(*ret_out);
        return WEXITSTATUS(st);
}

static unsigned count_of(const char *haystack, const char *needle) {
        unsigned n = 0;
        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

TEST(cli_prints_vmd_addresses) {
        _cleanup_free_ char *json = NULL, *check = NULL;
        Run run;

        run_open(&run, "vmd");
        ASSERT_EQ(vmd_cli(&run, "[Bind]\nDevice=10000:e1:00.0 10000:e2:00\n", "status", "--json", &json), 1);
        /* just the string, as the kernel names the device */
        ASSERT_CONTAINS(json, "\"address\": \"10000:e1:00.0\"");
        ASSERT_CONTAINS(json, "\"reason\": \"group\"");
        ASSERT_CONTAINS(json, "10000:e2:00");
        ASSERT_EQ(vmd_cli(&run, "[Bind]\nDevice=10000:e1:00.0\nGroup=ignore\n", "check", NULL, &check), 0);
        ASSERT_CONTAINS(check, "10000:e1:00.0 [144d:a80a] class 010802, group 7, nvme: bind to vfio-pci");
        ASSERT_CONTAINS(check,
                        "warning: 10000:e1:00.0 is behind the VMD controller 0000:00:0e.0 (Intel Volume "
                        "Management Device): its DMA goes through that controller, so it cannot be passed "
                        "through on its own");
        /* check and the plan agree: the device is bound, with the plan's warning */
        ASSERT_EQ(count_of(check, "is behind the VMD controller"), 1u);
        free(TAKE_PTR(json));
        ASSERT_EQ(vmd_cli(&run, "[Bind]\nDevice=10000:e1:00.0\nGroup=ignore\n", "status", "--json", &json), 1);
        ASSERT_CONTAINS(json, "\"action\": \"bind\"");
        ASSERT_CONTAINS(json, "\"warnings\": [\"10000:e1:00.0 has no reset method");
        ASSERT_CONTAINS(json, ", \"10000:e1:00.0 is behind the VMD controller 0000:00:0e.0 (Intel Volume Management");
        run_close(&run);
}

TEST(cli_rejects_a_domain_above_ffffffff) {
        _cleanup_free_ char *out = NULL, *err = NULL, *log = NULL;
        Run run;

        run_open(&run, "vmd");
        ASSERT_INT(vmd_cli(&run, "[Bind]\n", "bind", "100000000:e1:00.0", &out), !=, 0);
        err = tree_read(run.dir, "cli.err");
        ASSERT_CONTAINS(err, "\"100000000:e1:00.0\" is not a PCI address");
        ASSERT_CONTAINS(err, "domain is out of range (0-ffffffff)");
        /* nothing written, by the child's fake kernel either */
        log = fake_kernel_read_log(run.dir);
        ASSERT_TRUE(!log || !*log);
        run_close(&run);
}

/* A process PID called COMM in the cgroup CGROUP (state STATE) with descriptors FDS (NULL-
 * terminated "N=/dev/…") and maps MAPS (NULL: none) in RUN's fake /proc. */
static void fake_process(Run *run, const char *pid, const char *comm, const char *cgroup, char state,
                         const char *const *fds, const char *maps) {
        _cleanup_free_ char *path = NULL, *stat = NULL;

        ASSERT_TRUE(asprintf(&path, "proc/%s/comm", pid) > 0);
        ASSERT_OK(tree_write_new(run->dir, path, comm));
        free(path);
        ASSERT_TRUE(asprintf(&path, "proc/%s/cgroup", pid) > 0);
        ASSERT_OK(tree_write_new(run->dir, path, cgroup));
        free(path);
        ASSERT_TRUE(asprintf(&path, "proc/%s/stat", pid) > 0);
        ASSERT_TRUE(asprintf(&stat, "%s (%s) %c 1 1 1 0 -1", pid, comm, state) > 0);
        ASSERT_OK(tree_write_new(run->dir, path, stat));
        if (maps) {
                free(path);
                ASSERT_TRUE(asprintf(&path, "proc/%s/maps", pid) > 0);
                ASSERT_OK(tree_write_new(run->dir, path, maps));
        }
        for (; fds && *fds; fds++) {
                _cleanup_free_ char *link = NULL;
                const char *eq = strchr(*fds, '=');

                ASSERT_TRUE(eq);
                ASSERT_TRUE(asprintf(&link, "proc/%s/fd/%.*s", pid, (int) (eq - *fds), *fds) > 0);
                ASSERT_OK(tree_write_new(run->dir, link, ""));
                ASSERT_OK(tree_unlink(run->dir, link));
                ASSERT_OK(tree_symlink(run->dir, eq + 1, link));
        }
}

/* The GPU's DRM nodes and the audio function's sound card, as the kernel makes them. */
static void fake_nodes(Run *run) {
        ASSERT_OK(tree_write_new(run->dir, "sys/bus/pci/devices/0000:01:00.0/drm/card0/uevent",
                                 "MAJOR=226\nMINOR=0\nDEVNAME=dri/card0\nDEVTYPE=drm_minor\n"));
        ASSERT_OK(tree_write_new(run->dir, "sys/bus/pci/devices/0000:01:00.0/drm/renderD128/uevent",
                                 "MAJOR=226\nMINOR=128\nDEVNAME=dri/renderD128\nDEVTYPE=drm_minor\n"));
        ASSERT_OK(tree_write_new(run->dir, "sys/bus/pci/devices/0000:01:00.1/sound/card0/uevent", ""));
        ASSERT_OK(tree_write_new(run->dir, "sys/bus/pci/devices/0000:01:00.1/sound/card0/controlC0/uevent",
                                 "MAJOR=116\nMINOR=2\nDEVNAME=snd/controlC0\n"));
        ASSERT_OK(tree_write_new(run->dir, "sys/bus/pci/devices/0000:01:00.1/sound/card0/pcmC0D3p/uevent",
                                 "MAJOR=116\nMINOR=3\nDEVNAME=snd/pcmC0D3p\n"));
        /* a name that would climb out of /dev is no node */
        ASSERT_OK(tree_write_new(run->dir, "sys/bus/pci/devices/0000:01:00.1/sound/card0/hwC0D0/uevent",
                                 "MAJOR=116\nMINOR=4\nDEVNAME=../etc/passwd\n"));
}

static void read_processes(Run *run, VbPciList *devices) {
        ASSERT_OK(vb_pci_enumerate(run->ctx, devices));
        ASSERT_OK(vb_interlock_read_processes(run->ctx, devices, &run->holds));
}

TEST(processes_holding_drm_sound_and_resources) {
        _cleanup_(vb_pci_list_done) VbPciList devices = {};
        Run run;

        run_open(&run, "desktop");
        fake_nodes(&run);
        fake_process(&run, "812", "Xorg", "0::/system.slice/display-manager.service\n", 'S',
                     (const char *const[]) { "0=/dev/null", "5=/dev/dri/card0", "6=/dev/dri/card0", NULL }, NULL);
        fake_process(&run, "900", "wireplumber",
                     "0::/user.slice/user-1000.slice/user@1000.service/session.slice/wireplumber.service\n", 'S',
                     (const char *const[]) { "3=/dev/snd/controlC0", "4=/etc/passwd", NULL }, NULL);
        fake_process(&run, "950", "pcimem", "0::/user.slice/user-1000.slice/session-2.scope\n", 'S', NULL,
                     "7f0000000000-7f0000100000 rw-s 00000000 00:15 123 "
                     "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/resource0\n"
                     "7f0000200000-7f0000300000 r--p 00000000 08:02 99 /usr/lib/libc.so.6\n");
        /* in uninterruptible sleep: its maps are not read (that could wait with it), its files are */
        fake_process(&run, "951", "stuck", "12:cpu:/\n0::/\n", 'D',
                     (const char *const[]) { "9=/dev/dri/renderD128", NULL },
                     "7f0000000000-7f0000100000 rw-s 00000000 00:15 123 "
                     "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/resource2\n");
        /* no fd directory (a kernel thread), and a name that is not a PID */
        ASSERT_OK(tree_write_new(run.dir, "proc/2/comm", "kthreadd"));
        ASSERT_OK(tree_write_new(run.dir, "proc/sys/kernel/x", "1"));

        read_processes(&run, &devices);
        ASSERT_STREQ(hold(&run, "0000:01:00.0", VB_HOLD_PROGRAM),
                     "/dev/dri/card0 is open in PID 812 (Xorg, display-manager.service), "
                     "resource0 is mapped in PID 950 (pcimem, session-2.scope), "
                     "/dev/dri/renderD128 is open in PID 951 (stuck)");
        ASSERT_STREQ(hold(&run, "0000:01:00.1", VB_HOLD_PROGRAM),
                     "/dev/snd/controlC0 is open in PID 900 (wireplumber, wireplumber.service)");
        ASSERT_NULL(hold(&run, "0000:02:00.0", VB_HOLD_PROGRAM));
        ASSERT_STREQ(vb_hold_kind_to_string(VB_HOLD_PROGRAM), "program");
        /* the units of the holders, every one (for [Handoff] StopUnits=); "stuck" runs in none */
        {
                VbPciAddress gpu = addr("0000:01:00.0");
                const VbHold *h = vb_holds_find(&run.holds, &gpu, VB_HOLD_PROGRAM);

                ASSERT_TRUE(h);
                ASSERT_EQ(h->n_units, 2u);
                ASSERT_STREQ(h->units[0], "display-manager.service");
                ASSERT_STREQ(h->units[1], "session-2.scope");
                ASSERT_TRUE(h->no_unit);
        }
        run_close(&run);
}

TEST(processes_holding_vfio_and_nvidia_nodes) {
        _cleanup_(vb_pci_list_done) VbPciList devices = {};
        VbPciDevice *gpu, *nic;
        Run run;

        /* The GPU on nvidia (minor 1), the NIC on vfio-pci in IOMMU group 2 with its device cdev. */
        run_open(&run, "desktop");
        ASSERT_OK(tree_write_new(run.dir, "proc/driver/nvidia/gpus/0000:01:00.0/information",
                                 "Model: \t\t NVIDIA GeForce RTX 3080\nIRQ:   \t\t 140\nDevice Minor: \t 1\n"));
        ASSERT_OK(tree_write_new(run.dir, "sys/bus/pci/devices/0000:02:00.0/vfio-dev/vfio0/uevent",
                                 "MAJOR=511\nMINOR=0\nDEVNAME=vfio/devices/vfio0\n"));
        fake_process(&run, "700", "nvidia-persiste", "0::/system.slice/nvidia-persistenced.service\n", 'S',
                     (const char *const[]) { "3=/dev/nvidiactl", "4=/dev/nvidia1", NULL }, NULL);
        fake_process(&run, "701", "qemu-system-x86",
                     "0::/machine.slice/machine-qemu\\x2d1\\x2dwin.scope/libvirt/emulator\n", 'S',
                     (const char *const[]) { "20=/dev/vfio/vfio", "21=/dev/vfio/2", "22=/dev/vfio/devices/vfio0",
                                             NULL },
                     NULL);
        /* another NVIDIA GPU's node */
        fake_process(&run, "702", "cuda-app", "0::/\n", 'S', (const char *const[]) { "3=/dev/nvidia0", NULL }, NULL);

        ASSERT_OK(vb_pci_enumerate(run.ctx, &devices));
        gpu = (VbPciDevice *) vb_pci_list_find(&devices, &(VbPciAddress) { 0, 1, 0, 0 });
        nic = (VbPciDevice *) vb_pci_list_find(&devices, &(VbPciAddress) { 0, 2, 0, 0 });
        ASSERT_TRUE(gpu && nic);
        free(gpu->driver);
        gpu->driver = strdup("nvidia");
        free(nic->driver);
        nic->driver = strdup("vfio-pci");
        ASSERT_TRUE(gpu->driver && nic->driver);
        nic->iommu_group = 2;
        ASSERT_OK(vb_interlock_read_processes(run.ctx, &devices, &run.holds));
        ASSERT_STREQ(hold(&run, "0000:01:00.0", VB_HOLD_PROGRAM),
                     "/dev/nvidiactl (shared by every NVIDIA GPU) is open in PID 700 (nvidia-persiste, "
                     "nvidia-persistenced.service), /dev/nvidia1 is open in PID 700 (nvidia-persiste, "
                     "nvidia-persistenced.service)");
        ASSERT_STREQ(hold(&run, "0000:02:00.0", VB_HOLD_PROGRAM),
                     "/dev/vfio/2 is open in PID 701 (qemu-system-x86, machine-qemu\\x2d1\\x2dwin.scope), "
                     "/dev/vfio/devices/vfio0 is open in PID 701 (qemu-system-x86, machine-qemu\\x2d1\\x2dwin.scope)");
        run_close(&run);
}

TEST(bind_refuses_a_device_a_program_holds) {
        _cleanup_(vb_snapshot_done) VbSnapshot snap = {}, forced = {};
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
        _cleanup_(vb_config_freep) VbConfig *c = NULL, *f = NULL;
        static const char conf[] = "[Bind]\nDevice=01:00\n", force[] = "[Bind]\nDevice=01:00\nForce=01:00.0\n";
        Run run;

        run_open(&run, "desktop");
        fake_nodes(&run);
        fake_process(&run, "812", "Xorg", "0::/system.slice/display-manager.service\n", 'S',
                     (const char *const[]) { "5=/dev/dri/card0", NULL }, NULL);
        ASSERT_OK(vb_config_new(&c));
        ASSERT_OK(vb_config_parse_text(c, "t.conf", conf, strlen(conf), &diag));
        ASSERT_OK(vb_snapshot_take(run.ctx, c, NULL, &snap));
        ASSERT_EQ(snap.plan.n, 2);
        ASSERT_EQ(snap.plan.entries[0].action, VB_ACTION_REFUSE);
        ASSERT_EQ(snap.plan.entries[0].reason, VB_REASON_IN_USE);
        ASSERT_STREQ(snap.plan.entries[0].in_use, "/dev/dri/card0 is open in PID 812 (Xorg, display-manager.service)");
        /* its group's audio function is not bound without it (Group=check) */
        ASSERT_EQ(snap.plan.entries[1].action, VB_ACTION_REFUSE);

        /* Force= takes it all the same */
        ASSERT_OK(vb_config_new(&f));
        ASSERT_OK(vb_config_parse_text(f, "f.conf", force, strlen(force), &diag));
        ASSERT_OK(vb_snapshot_take(run.ctx, f, NULL, &forced));
        ASSERT_EQ(forced.plan.entries[0].action, VB_ACTION_BIND);
        ASSERT_TRUE(forced.plan.entries[0].forced);
        ASSERT_EQ(forced.plan.entries[1].action, VB_ACTION_BIND);
        run_close(&run);
}

TESTS_MAIN()
