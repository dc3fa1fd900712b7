/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SR-IOV: VirtualFunctions= in the configuration, what the plan makes of it on the fake kernel's
 * 82576 (case sriov: PFs 03:00.0 and 03:00.1 on igb, 7 VFs each, offset 128, stride 2), and the
 * creation itself: autoprobe off, sriov_numvfs, each VF's override, autoprobe back, then the VFs
 * bound like any selected device, with no host VF driver at any moment. */
#include <sys/stat.h>

#include "apply.h"
#include "config.h"
#include "machine.h"
#include "runtime.h"
#include "snapshot.h"
#include "sriov.h"
#include "sysfs.h"

#define PF "0000:03:00.0"
#define PF2 "0000:03:00.1"
#define VF0 "0000:03:10.0"
#define VF1 "0000:03:10.2"
#define PLAIN "0000:01:00.0" /* e1000e, no SR-IOV */
#define NVME "0000:02:00.0"  /* hot-plugged; VFs 02:00.1… */

/* ---- the configuration ---- */

static VbDiagnostics diag;

static int parse(VbConfig **ret, const char *text) {
        vb_diagnostics_clear(&diag);
        ASSERT_OK(vb_config_new(ret));
        return vb_config_parse_text(*ret, "test.conf", text, strlen(text), &diag);
}

static void assert_one_error(const char *text, const char *expected) {
        _cleanup_(vb_config_freep) VbConfig *c = NULL;

        ASSERT_ERRNO(parse(&c, text), EINVAL);
        if (diag.n != 1) {
                for (size_t i = 0; i < diag.n; i++)
                        fprintf(stderr, "    diag[%zu] = %s\n", i, diag.messages[i]);
                TEST_FAIL("expected one diagnostic, got %zu", diag.n);
        }
        ASSERT_STREQ(diag.messages[0], expected);
        vb_diagnostics_clear(&diag);
}

TEST(config_virtual_functions) {
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        VbPciAddress a = machine_addr(PF);

        ASSERT_OK(parse(&c, "[Bind]\nVirtualFunctions=03:00.0 4\nVirtualFunctions=0000:03:00.1  7 # both ports\n"));
        ASSERT_EQ(c->n_vfs, 2);
        ASSERT_TRUE(vb_pci_address_equal(&c->vfs[0].pf, &a));
        ASSERT_EQ(c->vfs[0].count, 4);
        ASSERT_STREQ(c->vfs[0].file, "test.conf");
        ASSERT_EQ(c->vfs[0].line, 2);
        ASSERT_EQ(c->vfs[1].count, 7);
        ASSERT_TRUE(vb_config_find_vfs(c, &a) == &c->vfs[0]);
        ASSERT_EQ(c->n_selectors, 0);
}

TEST(config_virtual_functions_errors) {
        assert_one_error("[Bind]\nVirtualFunctions=03:00.0\n",
                         "test.conf:2: VirtualFunctions= takes a physical function's PCI address and a count, as in "
                         "\"VirtualFunctions=0000:03:00.0 4\"");
        assert_one_error("[Bind]\nVirtualFunctions=03:00.0 4 5\n",
                         "test.conf:2: VirtualFunctions= takes a physical function's PCI address and a count, as in "
                         "\"VirtualFunctions=0000:03:00.0 4\"");
        assert_one_error("[Bind]\nVirtualFunctions=03:00.9 4\n",
                         "test.conf:2: invalid PCI address \"03:00.9\" in VirtualFunctions=: function is out of "
                         "range (0-7)");
        assert_one_error("[Bind]\nVirtualFunctions=03:00 4\n",
                         "test.conf:2: invalid PCI address \"03:00\" in VirtualFunctions=: expected the address of "
                         "one physical function, like 0000:03:00.0");
        assert_one_error("[Bind]\nVirtualFunctions=8086:10c9 4\n",
                         "test.conf:2: invalid PCI address \"8086:10c9\" in VirtualFunctions=: expected the address "
                         "of one physical function, like 0000:03:00.0");
        for (const char *const *n = (const char *const[]) { "0", "-1", "65536", "x", "4x", "+4", NULL }; *n; n++) {
                char text[128], expected[256];
                snprintf(text, sizeof(text), "[Bind]\nVirtualFunctions=03:00.0 %s\n", *n);
                snprintf(expected, sizeof(expected),
                         "test.conf:2: invalid count \"%s\" in VirtualFunctions=: expected a number from 1 to 65535 "
                         "(the virtual functions to create)",
                         *n);
                assert_one_error(text, expected);
        }
        assert_one_error("[Bind]\nVirtualFunctions=03:00.0 4\nVirtualFunctions=0000:03:00.0 2\n",
                         "test.conf:3: VirtualFunctions= for 0000:03:00.0 already set at test.conf:2");
        /* The PF selected directly, in either order, by address or slot */
        assert_one_error("[Bind]\nDevice=03:00.0\nVirtualFunctions=03:00.0 4\n",
                         "test.conf:3: VirtualFunctions= for 0000:03:00.0: Device= selects that physical function "
                         "at test.conf:2 (0000:03:00.0); it keeps its host driver, and its VFs are selected through "
                         "VirtualFunctions=");
        assert_one_error("[Bind]\nVirtualFunctions=03:00.0 4\nDevice=01:00.0 03:00\n",
                         "test.conf:3: Device= selector \"03:00\" selects 0000:03:00.0, the physical function whose "
                         "virtual functions VirtualFunctions= creates at test.conf:2: it keeps its host driver (its "
                         "VFs are selected through VirtualFunctions=)");
        assert_one_error("[Console]\nVirtualFunctions=03:00.0 4\n",
                         "test.conf:2: unknown key \"VirtualFunctions\" in section [Console] (VirtualFunctions= "
                         "belongs in [Bind])");
}

/* ---- the plan ---- */

typedef struct Pass {
        Machine m;
        VbConfig *config;
        VbSnapshot snap;
        VbApply applied;
} Pass;

static void pass_plan(Pass *p, const char *extra_rules, const char *conf) {
        VbDiagnostics d = {};

        vb_snapshot_done(&p->snap);
        if (!p->m.k) {
                machine_open(&p->m, "sriov", extra_rules);
                ASSERT_OK(vb_config_new(&p->config));
                if (vb_config_parse_text(p->config, "test.conf", conf, strlen(conf), &d) < 0) {
                        for (size_t i = 0; i < d.n; i++)
                                fprintf(stderr, "%s\n", d.messages[i]);
                        TEST_FAIL("bad test configuration");
                }
                vb_diagnostics_clear(&d);
        }
        fake_kernel_forget(p->m.k);
        ASSERT_OK(vb_snapshot_take(p->m.ctx, p->config, NULL, &p->snap));
        ASSERT_EQ(fake_kernel_n_ops(p->m.k), 0); /* planning writes nothing */
}

/* The configuration of a machine opened by hand. */
static void config_text(Pass *p, const char *text) {
        ASSERT_OK(vb_config_new(&p->config));
        ASSERT_OK(vb_config_parse_text(p->config, "test.conf", text, strlen(text), &diag));
}

static void pass_apply(Pass *p) {
        vb_apply_done(&p->applied);
        ASSERT_OK(vb_apply(p->m.ctx, &p->snap.plan, NULL, NULL, &p->applied));
}

static void pass_done(Pass *p) {
        vb_apply_done(&p->applied);
        vb_snapshot_done(&p->snap);
        vb_config_free(p->config);
        machine_close(&p->m);
}

static const VbPlanSriov *sriov(const Pass *p, const char *pf) {
        VbPciAddress a = machine_addr(pf);
        const VbPlanSriov *s = vb_plan_find_sriov(&p->snap.plan, &a);
        if (!s)
                TEST_FAIL("no VirtualFunctions= plan for %s", pf);
        return s;
}

static char *explain(const Pass *p, const char *pf) {
        char *t = NULL;
        ASSERT_OK(vb_plan_sriov_explain(sriov(p, pf), &t));
        return t;
}

#define ASSERT_SRIOV(p, pf, want) \
        ASSERT_STREQ(vb_sriov_action_to_string(sriov((p), (pf))->action), vb_sriov_action_to_string(want))

TEST(vf_addresses_follow_offset_and_stride) {
        VbPciAddress pf = machine_addr("0000:03:00.1"), vf;
        VbSriov s = { .total = 7, .offset = 128, .stride = 2 };

        ASSERT_OK(vb_sriov_vf_address(&pf, &s, 0, &vf));
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&vf), "0000:03:10.1");
        ASSERT_OK(vb_sriov_vf_address(&pf, &s, 6, &vf));
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&vf), "0000:03:11.5");
        pf = machine_addr("0000:ff:1f.0");
        ASSERT_ERRNO(vb_sriov_vf_address(&pf, &s, 0, &vf), ERANGE);
        pf = machine_addr("0000:04:1f.7");
        s = (VbSriov) { .offset = 1, .stride = 1 };
        ASSERT_OK(vb_sriov_vf_address(&pf, &s, 0, &vf)); /* the next bus */
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&vf), "0000:05:00.0");
}

TEST(plan_creates_the_vfs) {
        Pass p = {};
        _cleanup_free_ char *t = NULL, *text = NULL;

        pass_plan(&p, NULL, "[Bind]\nVirtualFunctions=03:00.0 2\n");
        ASSERT_SRIOV(&p, PF, VB_SRIOV_CREATE);
        ASSERT_EQ(sriov(&p, PF)->n_vfs, 2);
        ASSERT_STREQ(sriov(&p, PF)->pf_driver, "igb");
        t = explain(&p, PF);
        ASSERT_STREQ(t,
                     "create 2 virtual functions for vfio-pci (sriov_totalvfs 7; sriov_drivers_autoprobe off while "
                     "they are created): 0000:03:10.0 0000:03:10.2");
        ASSERT_FALSE(vb_plan_complete(&p.snap.plan)); /* the VFs are still to come */
        ASSERT_TRUE(p.snap.plan.load_module);         /* vfio-pci first */
        ASSERT_EQ(p.snap.plan.n, 0);                  /* the PF is no entry: it keeps igb */
        ASSERT_OK(vb_plan_format(&p.snap.plan, true, &text));
        ASSERT_CONTAINS(text, "sr-iov: 0000:03:00.0 (VirtualFunctions= at test.conf:2): create 2 virtual functions");
        pass_done(&p);
}

TEST(plan_refuses_what_cannot_be) {
        static const struct {
                const char *conf, *pf, *words;
        } cases[] = {
                { "[Bind]\nVirtualFunctions=01:00.0 2\n", PLAIN,
                  "refused: 0000:01:00.0 [8086:10d3] is not an SR-IOV physical function (it has no sriov_totalvfs), so "
                  "it cannot have virtual functions" },
                { "[Bind]\nVirtualFunctions=03:00.0 8\n", PF,
                  "refused: VirtualFunctions= asks for 8 virtual functions, and 0000:03:00.0 has at most 7 "
                  "(sriov_totalvfs)" },
                { "[Bind]\nVirtualFunctions=03:00.0 2\nDevice=03:10.2\n", PF,
                  "refused: its virtual function 0000:03:10.2 is selected directly too, by Device= at test.conf:3: "
                  "select it one way" },
                { "[Bind]\nVirtualFunctions=03:00.0 2\nDevice=8086:10ca\n", PF,
                  "refused: its virtual function 0000:03:10.0 is selected directly too, by Device= at test.conf:3: "
                  "select it one way" },
                { "[Bind]\nVirtualFunctions=03:00.0 2\nDevice=8086:10c9\n", PF,
                  "refused: Device= at test.conf:3 selects the physical function itself, which keeps its host "
                  "driver" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Pass p = {};
                _cleanup_free_ char *t = NULL;

                pass_plan(&p, NULL, cases[i].conf);
                ASSERT_SRIOV(&p, cases[i].pf, VB_SRIOV_REFUSE);
                t = explain(&p, cases[i].pf);
                ASSERT_STREQ(t, cases[i].words);
                pass_apply(&p);
                /* nothing written for the PF or a VF (Device=8086:10c9 binds the other port) */
                for (size_t k = 0; k < fake_kernel_n_ops(p.m.k); k++) {
                        const FakeOp *op = fake_kernel_op(p.m.k, k);
                        if (op->normalized && (strstr(op->normalized, "sriov") || strstr(op->normalized, PF) ||
                                               strstr(op->normalized, "0000:03:1")))
                                TEST_FAIL("case %zu wrote %s", i, op->normalized);
                }
                ASSERT_DRIVER(&p.m, PF, "igb");
                pass_done(&p);
        }
}

TEST(plan_refuses_to_change_a_count) {
        Pass p = {};
        _cleanup_free_ char *t = NULL;

        machine_open(&p.m, "sriov", NULL);
        ASSERT_OK(vb_sysfs_write(p.m.ctx, "bus/pci/devices/" PF "/sriov_numvfs", "3"));
        config_text(&p, "[Bind]\nVirtualFunctions=03:00.0 2\n");
        pass_plan(&p, NULL, NULL);
        ASSERT_SRIOV(&p, PF, VB_SRIOV_REFUSE);
        t = explain(&p, PF);
        ASSERT_STREQ(t,
                     "refused: it has 3 virtual functions already, and changing the count destroys them (with any "
                     "guest using one); write 0 to its sriov_numvfs by hand first, or make VirtualFunctions= say 3");
        pass_apply(&p);
        ASSERT_EQ(fake_kernel_n_ops(p.m.k), 0);
        pass_done(&p);
}

TEST(plan_waits_for_the_pf_driver_and_for_the_pf) {
        Pass p = {};
        _cleanup_free_ char *t = NULL;

        machine_open(&p.m, "sriov", NULL);
        ASSERT_OK(vb_sysfs_write(p.m.ctx, "bus/pci/drivers/igb/unbind", PF));
        config_text(&p, "[Bind]\nVirtualFunctions=03:00.0 2\nVirtualFunctions=02:00.0 1\n");
        pass_plan(&p, NULL, NULL);
        ASSERT_SRIOV(&p, PF, VB_SRIOV_WAIT);
        t = explain(&p, PF);
        ASSERT_STREQ(t, "waiting for its host driver: the kernel creates virtual functions through it");
        ASSERT_SRIOV(&p, NVME, VB_SRIOV_MISSING);
        ASSERT_FALSE(vb_plan_complete(&p.snap.plan));
        pass_apply(&p);
        ASSERT_EQ(fake_kernel_n_ops(p.m.k), 0);
        pass_done(&p);
}

/* ---- creating and binding ---- */

static void assert_never_igbvf(const Pass *p) {
        for (size_t i = 0; i < fake_kernel_n_ops(p->m.k); i++) {
                const FakeOp *op = fake_kernel_op(p->m.k, i);
                if (op->normalized && strstr(op->normalized, "drivers/igbvf/"))
                        TEST_FAIL("igbvf was written to: %s", op->normalized);
        }
}

TEST(create_then_bind) {
        Pass p = {};
        _cleanup_free_ char *autoprobe = NULL;

        pass_plan(&p, NULL, "[Bind]\nVirtualFunctions=03:00.0 2\n");
        pass_apply(&p);
        ASSERT_TRUE(p.applied.sriov_created);
        ASSERT_EQ(p.applied.sriov[0].error, 0);
        ASSERT_EQ(p.applied.sriov[0].created, 2);
        ASSERT_TRUE(p.applied.sriov[0].autoprobe_was_on);
        /* The kernel's documented order: autoprobe off, create, override each VF, autoprobe back. */
        ASSERT_HISTORY(&p.m,
                       "load vfio-pci -> 1\n"
                       "bus/pci/devices/" PF
                       "/sriov_drivers_autoprobe=0\n"
                       "bus/pci/devices/" PF
                       "/sriov_numvfs=2\n"
                       "bus/pci/devices/" VF0
                       "/driver_override=vfio-pci\n"
                       "bus/pci/devices/" VF1
                       "/driver_override=vfio-pci\n"
                       "bus/pci/devices/" PF "/sriov_drivers_autoprobe=1\n");
        ASSERT_DRIVER(&p.m, VF0, NULL); /* igbvf did not take them */
        ASSERT_DRIVER(&p.m, VF1, NULL);
        ASSERT_DRIVER(&p.m, PF, "igb");

        /* The next plan sees them, selected through their PF, and binds them. */
        pass_plan(&p, NULL, NULL);
        ASSERT_SRIOV(&p, PF, VB_SRIOV_LEAVE);
        ASSERT_EQ(p.snap.plan.n, 2);
        ASSERT_TRUE(p.snap.plan.entries[0].action == VB_ACTION_BIND);
        ASSERT_TRUE(p.snap.plan.entries[1].action == VB_ACTION_BIND);
        ASSERT_EQ(p.snap.plan.entries[0].iommu_group, 10);
        pass_apply(&p);
        ASSERT_FALSE(p.applied.sriov_created);
        ASSERT_DRIVER(&p.m, VF0, "vfio-pci");
        ASSERT_DRIVER(&p.m, VF1, "vfio-pci");
        ASSERT_DRIVER(&p.m, PF, "igb");
        assert_never_igbvf(&p);
        autoprobe = fake_kernel_read(p.m.k, "bus/pci/devices/" PF "/sriov_drivers_autoprobe");
        ASSERT_STREQ(autoprobe, "1");

        /* And then it is settled: nothing more to do. */
        pass_plan(&p, NULL, NULL);
        ASSERT_TRUE(vb_plan_complete(&p.snap.plan));
        ASSERT_EQ(vb_plan_count(&p.snap.plan, VB_ACTION_LEAVE), 2);
        pass_apply(&p);
        ASSERT_EQ(fake_kernel_n_ops(p.m.k), 0);
        pass_done(&p);
}

TEST(autoprobe_off_already_stays_off) {
        Pass p = {};
        _cleanup_free_ char *autoprobe = NULL;

        machine_open(&p.m, "sriov", NULL);
        ASSERT_OK(vb_sysfs_write(p.m.ctx, "bus/pci/devices/" PF "/sriov_drivers_autoprobe", "0"));
        config_text(&p, "[Bind]\nVirtualFunctions=03:00.0 1\n");
        pass_plan(&p, NULL, NULL);
        pass_apply(&p);
        ASSERT_FALSE(p.applied.sriov[0].autoprobe_was_on);
        ASSERT_HISTORY(&p.m,
                       "load vfio-pci -> 1\n"
                       "bus/pci/devices/" PF
                       "/sriov_numvfs=1\n"
                       "bus/pci/devices/" VF0 "/driver_override=vfio-pci\n");
        autoprobe = fake_kernel_read(p.m.k, "bus/pci/devices/" PF "/sriov_drivers_autoprobe");
        ASSERT_STREQ(autoprobe, "0");
        pass_done(&p);
}

TEST(numvfs_failure_puts_autoprobe_back) {
        Pass p = {};
        _cleanup_free_ char *autoprobe = NULL;

        pass_plan(&p, "fail bus/pci/devices/" PF "/sriov_numvfs EIO\n", "[Bind]\nVirtualFunctions=03:00.0 2\n");
        pass_apply(&p);
        ASSERT_FALSE(p.applied.sriov_created);
        ASSERT_ERRNO(p.applied.sriov[0].error, EIO);
        ASSERT_TRUE(p.applied.sriov[0].failed_step == VB_SRIOV_STEP_NUMVFS);
        ASSERT_EQ(p.applied.sriov[0].restore_error, 0);
        autoprobe = fake_kernel_read(p.m.k, "bus/pci/devices/" PF "/sriov_drivers_autoprobe");
        ASSERT_STREQ(autoprobe, "1");
        ASSERT_FALSE(fake_kernel_device_exists(p.m.k, VF0));
        pass_done(&p);
}

TEST(both_ports_and_a_device) {
        Pass p = {};

        pass_plan(&p, NULL, "[Bind]\nVirtualFunctions=03:00.0 1\nVirtualFunctions=03:00.1 1\nDevice=01:00.0\n");
        ASSERT_SRIOV(&p, PF, VB_SRIOV_CREATE);
        ASSERT_SRIOV(&p, PF2, VB_SRIOV_CREATE);
        pass_apply(&p);
        ASSERT_DRIVER(&p.m, PLAIN, "vfio-pci"); /* bound in the same pass */
        pass_plan(&p, NULL, NULL);
        pass_apply(&p);
        ASSERT_DRIVER(&p.m, VF0, "vfio-pci");
        ASSERT_DRIVER(&p.m, "0000:03:10.1", "vfio-pci");
        ASSERT_DRIVER(&p.m, PF, "igb");
        ASSERT_DRIVER(&p.m, PF2, "igb");
        pass_done(&p);
}

TEST(hot_plugged_pf) {
        Pass p = {};

        pass_plan(&p, NULL, "[Bind]\nVirtualFunctions=02:00.0 2\n");
        ASSERT_SRIOV(&p, NVME, VB_SRIOV_MISSING);
        ASSERT_EQ(fake_kernel_plug(p.m.k, NVME, NULL), 1); /* nvme binds it */
        pass_plan(&p, NULL, NULL);
        ASSERT_SRIOV(&p, NVME, VB_SRIOV_CREATE);
        pass_apply(&p);
        pass_plan(&p, NULL, NULL);
        pass_apply(&p);
        ASSERT_DRIVER(&p.m, "0000:02:00.1", "vfio-pci");
        ASSERT_DRIVER(&p.m, "0000:02:00.2", "vfio-pci");
        ASSERT_DRIVER(&p.m, NVME, "nvme");
        pass_done(&p);
}

TEST(vfs_in_the_pfs_group_are_refused_and_the_pf_never_taken) {
        Pass p = {};
        const VbPlanEntry *e;
        VbPciAddress pf = machine_addr(PF), vf = machine_addr(VF0);

        /* Without ACS the VFs land in their PF's IOMMU group: Group=take must not take the PF
         * (vfio-pci would refuse it anyway, and it keeps its host driver), so the VF is refused. */
        pass_plan(&p, "sriov 0000:03:00.0 pf\n", "[Bind]\nVirtualFunctions=03:00.0 1\nGroup=take\n");
        pass_apply(&p);
        ASSERT_TRUE(p.applied.sriov_created);
        pass_plan(&p, NULL, NULL);
        e = vb_plan_find(&p.snap.plan, &vf);
        ASSERT_TRUE(e);
        ASSERT_EQ(e->iommu_group, 5);
        ASSERT_STREQ(vb_action_to_string(e->action), "refuse");
        ASSERT_STREQ(vb_plan_reason_to_string(e->reason), "group");
        ASSERT_CONTAINS(e->detail, "0000:03:00.0 on igb");
        e = vb_plan_find(&p.snap.plan, &pf);
        ASSERT_TRUE(e);
        ASSERT_STREQ(vb_plan_reason_to_string(e->reason), "sriov");
        pass_apply(&p);
        ASSERT_DRIVER(&p.m, PF, "igb");
        ASSERT_DRIVER(&p.m, VF0, NULL);
        ASSERT_OVERRIDE(&p.m, VF0, "vfio-pci"); /* driverless, but its override says what holds it */
        pass_done(&p);
}

TEARDOWN() {
        vb_diagnostics_clear(&diag);
}

/* VbApplyOps.sriov_enable that looks for the mark while the VFs are being created. */
static int enable_checking_the_mark(void *userdata, VbContext *ctx, const VbPlanSriov *s, const char *driver,
                                    uint64_t timeout_usec, VbSriovEnable *ret, char **ret_stuck) {
        _cleanup_free_ VbPciAddress *marked = NULL;
        size_t n = 0;

        ASSERT_OK(vb_runtime_list(userdata, VB_MARK_AUTOPROBE_OFF, &marked, &n));
        ASSERT_EQ(n, 1);
        ASSERT_TRUE(vb_pci_address_equal(&marked[0], &s->pf));
        return vb_sriov_enable(ctx, &s->pf, &s->sriov, s->count, driver, timeout_usec, ret);
}

TEST(autoprobe_is_marked_while_off) {
        Pass p = {};
        _cleanup_free_ VbPciAddress *marked = NULL;
        _cleanup_free_ char *run = NULL;
        size_t n = 1;

        /* A run killed while autoprobe is off must leave a mark that it was ours to switch back on
         * (the daemon's next pass does); a run that switched it back on leaves none. */
        pass_plan(&p, NULL, "[Bind]\nVirtualFunctions=03:00.0 2\n");
        ASSERT_TRUE(asprintf(&run, "%s/run", p.m.dir) > 0);
        ASSERT_OK(mkdir(run, 0755) < 0 ? -errno : 0);
        vb_apply_done(&p.applied);
        ASSERT_OK(vb_apply(p.m.ctx, &p.snap.plan, NULL,
                           &(VbApplyOps) {
                                   .sriov_enable = enable_checking_the_mark, .userdata = run, .runtime_dir = run },
                           &p.applied));
        ASSERT_EQ(p.applied.sriov[0].created, 2);
        ASSERT_EQ(p.applied.sriov_mark_error, 0);
        ASSERT_OK(vb_runtime_list(run, VB_MARK_AUTOPROBE_OFF, &marked, &n));
        ASSERT_EQ(n, 0);
        pass_done(&p);
}

/* A PF an earlier run left with autoprobe off (its mark) is a plan item: switched back on after the
 * pass's binds and its mark cleared, unless its creation still hangs or this plan creates its VFs
 * (the creation switches it back itself). */
TEST(autoprobe_left_off_is_restored_by_the_plan) {
        Pass p = {};
        _cleanup_free_ VbPciAddress *marked = NULL;
        _cleanup_free_ char *run = NULL, *text = NULL, *autoprobe = NULL;
        VbPciAddress pf = machine_addr(PF);
        size_t n = 1;

        pass_plan(&p, NULL, "[Bind]\nVirtualFunctions=03:00.0 2\n");
        ASSERT_TRUE(asprintf(&run, "%s/run", p.m.dir) > 0);
        ASSERT_OK(mkdir(run, 0755) < 0 ? -errno : 0);
        ASSERT_OK(vb_runtime_set(run, VB_MARK_AUTOPROBE_OFF, &pf, true));
        ASSERT_OK(vb_sysfs_write(p.m.ctx, "bus/pci/devices/" PF "/sriov_drivers_autoprobe", "0"));

        /* the plan creates its VFs: not on the list, the creation does it */
        vb_snapshot_done(&p.snap);
        ASSERT_OK(vb_snapshot_take(p.m.ctx, p.config, run, &p.snap));
        ASSERT_SRIOV(&p, PF, VB_SRIOV_CREATE);
        ASSERT_EQ(p.snap.plan.n_restore_autoprobe, 0);

        /* a plan that does not create them (another PF's line) switches it back on */
        vb_config_free(p.config);
        p.config = NULL;
        config_text(&p, "[Bind]\nDevice=01:00.0\n");
        vb_snapshot_done(&p.snap);
        ASSERT_OK(vb_snapshot_take(p.m.ctx, p.config, run, &p.snap));
        ASSERT_EQ(p.snap.plan.n_restore_autoprobe, 1);
        ASSERT_TRUE(vb_pci_address_equal(&p.snap.plan.restore_autoprobe[0], &pf));
        ASSERT_OK(vb_plan_format(&p.snap.plan, true, &text));
        ASSERT_CONTAINS(text, "sr-iov: 0000:03:00.0: sriov_drivers_autoprobe back on (an earlier run left it off)");

        /* unless the daemon remembers its creation as hanging */
        p.snap.stuck = malloc(sizeof(VbPciAddress));
        ASSERT_TRUE(p.snap.stuck);
        p.snap.stuck[0] = pf;
        p.snap.n_stuck = 1;
        ASSERT_OK(vb_snapshot_plan(p.config, &p.snap));
        ASSERT_EQ(p.snap.plan.n_restore_autoprobe, 0);
        p.snap.n_stuck = 0;
        ASSERT_OK(vb_snapshot_plan(p.config, &p.snap));
        ASSERT_EQ(p.snap.plan.n_restore_autoprobe, 1);

        /* applied: on, and the mark gone */
        vb_apply_done(&p.applied);
        ASSERT_OK(vb_apply(p.m.ctx, &p.snap.plan, NULL, &(VbApplyOps) { .runtime_dir = run }, &p.applied));
        ASSERT_EQ(p.applied.n_autoprobe, 1);
        ASSERT_EQ(p.applied.autoprobe[0], 0);
        autoprobe = fake_kernel_read(p.m.k, "bus/pci/devices/" PF "/sriov_drivers_autoprobe");
        ASSERT_STREQ(autoprobe, "1");
        ASSERT_OK(vb_runtime_list(run, VB_MARK_AUTOPROBE_OFF, &marked, &n));
        ASSERT_EQ(n, 0);
        pass_done(&p);
}

TESTS_MAIN()
