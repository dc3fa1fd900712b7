/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/apply against the fake kernel: module, console, binds in order, and a group as a
 * transaction (what a pass moved is put back when a member fails). */
#include "apply.h"
#include "config.h"
#include "machine.h"
#include "snapshot.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"

typedef struct Pass {
        Machine m;
        VbConfig *config;
        VbSnapshot snap;
        VbApply applied;
} Pass;

static void pass_plan(Pass *p, const char *case_name, const char *extra_rules, const char *conf) {
        VbDiagnostics diag = {};

        *p = (Pass) {};
        machine_open(&p->m, case_name, extra_rules);
        ASSERT_OK(vb_config_new(&p->config));
        ASSERT_OK(vb_config_parse_text(p->config, "test.conf", conf, strlen(conf), &diag));
        vb_diagnostics_clear(&diag);
        ASSERT_OK(vb_snapshot_take(p->m.ctx, p->config, NULL, &p->snap));
        ASSERT_EQ(fake_kernel_n_ops(p->m.k), 0);
}

static void pass_apply(Pass *p) {
        ASSERT_OK(vb_apply(p->m.ctx, &p->snap.plan, p->snap.have_console ? &p->snap.console : NULL, NULL, &p->applied));
}

static void pass_done(Pass *p) {
        vb_apply_done(&p->applied);
        vb_snapshot_done(&p->snap);
        vb_config_free(p->config);
        machine_close(&p->m);
}

static const VbApplyResult *result(const Pass *p, const char *s) {
        VbPciAddress a = machine_addr(s);
        const VbPlanEntry *e = vb_plan_find(&p->snap.plan, &a);

        if (!e)
                TEST_FAIL("no plan entry for %s", s);
        return &p->applied.results[e - p->snap.plan.entries];
}

#define ASSERT_STATE(p, addr, expected) \
        ASSERT_STREQ(vb_device_state_to_string(result((p), (addr))->state), vb_device_state_to_string(expected))

TEST(group_is_bound_whole) {
        Pass p;

        pass_plan(&p, "desktop", NULL, "[Bind]\nDevice=01:00\n");
        pass_apply(&p);
        ASSERT_STATE(&p, GPU, VB_DEVICE_BOUND);
        ASSERT_STATE(&p, AUDIO, VB_DEVICE_BOUND);
        ASSERT_TRUE(p.applied.module_loaded);
        ASSERT_TRUE(p.applied.console_released);
        ASSERT_STREQ(p.applied.console_text, "vtcon1, efi-framebuffer.0");
        /* The module, then the console, then the binds. */
        ASSERT_HISTORY(&p.m,
                       "load vfio-pci -> 1\n"
                       "class/vtconsole/vtcon1/bind=0\n"
                       "bus/platform/drivers/efi-framebuffer/unbind=efi-framebuffer.0\n"
                       "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"
                       "bus/pci/drivers/bochs-drm/unbind=0000:01:00.0\n"
                       "bus/pci/drivers_probe=0000:01:00.0\n"
                       "bus/pci/devices/0000:01:00.1/driver_override=vfio-pci\n"
                       "bus/pci/drivers/snd_hda_intel/unbind=0000:01:00.1\n"
                       "bus/pci/drivers_probe=0000:01:00.1\n");
        pass_done(&p);
}

TEST(failed_member_rolls_back_its_group) {
        Pass p;

        /* vfio-pci's probe fails for the audio function: the GPU, moved by this pass, goes back to
         * bochs-drm, with no override left. */
        pass_plan(&p, "desktop", "refuse vfio-pci 0000:01:00.1\n", "[Bind]\nDevice=01:00\n");
        pass_apply(&p);
        ASSERT_STATE(&p, AUDIO, VB_DEVICE_FAILED);
        ASSERT_EQ(result(&p, AUDIO)->error, -EIO);
        ASSERT_STATE(&p, GPU, VB_DEVICE_ROLLED_BACK);
        ASSERT_EQ(p.applied.n_rolled_back, 1);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&p.snap.plan.entries[result(&p, GPU)->cause].address), AUDIO);
        ASSERT_STREQ(result(&p, GPU)->restore.driver_after, "bochs-drm");
        ASSERT_FALSE(result(&p, GPU)->restore.override_left);
        ASSERT_DRIVER(&p.m, GPU, "bochs-drm");
        ASSERT_OVERRIDE(&p.m, GPU, NULL);
        ASSERT_DRIVER(&p.m, AUDIO, "snd_hda_intel");
        ASSERT_OVERRIDE(&p.m, AUDIO, NULL);
        {
                _cleanup_free_ char *h = fake_kernel_history(p.m.k);
                ASSERT_CONTAINS(h,
                                "bus/pci/drivers_probe=0000:01:00.1\n"
                                "bus/pci/devices/0000:01:00.1/driver_override=\n"
                                "bus/pci/drivers_probe=0000:01:00.1\n"
                                "bus/pci/devices/0000:01:00.0/driver_override=\n"
                                "bus/pci/drivers/vfio-pci/unbind=0000:01:00.0\n"
                                "bus/pci/drivers_probe=0000:01:00.0\n");
        }
        pass_done(&p);
}

TEST(first_member_fails_the_rest_is_not_tried) {
        Pass p;

        pass_plan(&p, "desktop", "refuse vfio-pci 0000:01:00.0\n", "[Bind]\nDevice=01:00\n");
        pass_apply(&p);
        ASSERT_STATE(&p, GPU, VB_DEVICE_FAILED);
        ASSERT_STATE(&p, AUDIO, VB_DEVICE_SKIPPED);
        ASSERT_EQ(p.applied.n_rolled_back, 0);
        ASSERT_DRIVER(&p.m, AUDIO, "snd_hda_intel");
        ASSERT_OVERRIDE(&p.m, AUDIO, NULL);
        {
                _cleanup_free_ char *h = fake_kernel_history(p.m.k);
                ASSERT_TRUE(!strstr(h, "0000:01:00.1"));
        }
        pass_done(&p);
}

TEST(group_ignore_is_no_transaction) {
        Pass p;

        pass_plan(&p, "desktop", "refuse vfio-pci 0000:01:00.1\n", "[Bind]\nDevice=01:00\nGroup=ignore\n");
        pass_apply(&p);
        ASSERT_STATE(&p, GPU, VB_DEVICE_BOUND);
        ASSERT_STATE(&p, AUDIO, VB_DEVICE_FAILED);
        ASSERT_DRIVER(&p.m, GPU, "vfio-pci");
        pass_done(&p);
}

static void unbind_everything(Machine *m) {
        int fd = vb_context_sysfs_fd(m->ctx);

        ASSERT_OK(fake_kernel_ops.write_attr(m->k, fd, "bus/pci/drivers/bochs-drm/unbind", GPU));
        ASSERT_OK(fake_kernel_ops.write_attr(m->k, fd, "bus/pci/drivers/snd_hda_intel/unbind", AUDIO));
        fake_kernel_forget(m->k);
}

TEST(driverless_member_stays_off_the_host_when_rolled_back) {
        Pass p;

        /* No driver held the GPU: put back, it stays driverless with the override, so that no host
         * driver takes it. */
        pass_plan(&p, "desktop", "refuse vfio-pci 0000:01:00.1\n", "[Bind]\nDevice=01:00\n");
        unbind_everything(&p.m);
        vb_snapshot_done(&p.snap);
        ASSERT_OK(vb_snapshot_take(p.m.ctx, p.config, NULL, &p.snap));
        pass_apply(&p);
        ASSERT_STATE(&p, GPU, VB_DEVICE_ROLLED_BACK);
        ASSERT_TRUE(result(&p, GPU)->restore.override_left);
        ASSERT_DRIVER(&p.m, GPU, NULL);
        ASSERT_OVERRIDE(&p.m, GPU, "vfio-pci");
        ASSERT_DRIVER(&p.m, AUDIO, NULL);
        ASSERT_OVERRIDE(&p.m, AUDIO, "vfio-pci");
        pass_done(&p);
}

TEST(unbind_host_no_holds_at_bind_time) {
        Pass p;
        int fd;

        /* The plan saw the audio function driverless; snd_hda_intel took it before the bind. */
        pass_plan(&p, "desktop", NULL, "[Bind]\nDevice=01:00.1\nUnbindHost=no\n");
        unbind_everything(&p.m);
        vb_snapshot_done(&p.snap);
        ASSERT_OK(vb_snapshot_take(p.m.ctx, p.config, NULL, &p.snap));
        ASSERT_STREQ(vb_action_to_string(p.snap.plan.entries[0].action), "bind");
        fd = vb_context_sysfs_fd(p.m.ctx);
        ASSERT_OK(fake_kernel_ops.write_attr(p.m.k, fd, "bus/pci/drivers_probe", AUDIO));
        fake_kernel_forget(p.m.k);
        pass_apply(&p);
        ASSERT_STATE(&p, AUDIO, VB_DEVICE_FAILED);
        ASSERT_EQ(result(&p, AUDIO)->error, -EBUSY);
        ASSERT_EQ(result(&p, AUDIO)->bind.failed_step, VB_BIND_STEP_UNBIND);
        ASSERT_DRIVER(&p.m, AUDIO, "snd_hda_intel");
        ASSERT_OVERRIDE(&p.m, AUDIO, NULL);
        {
                _cleanup_free_ char *h = fake_kernel_history(p.m.k);
                ASSERT_TRUE(!strstr(h, "unbind"));
        }
        pass_done(&p);
}

TEST(no_module_no_console_release) {
        Pass p;

        pass_plan(&p, "desktop", NULL, "[Bind]\nDevice=01:00\nDriver=vfio-pci-nonexistent\n");
        ASSERT_TRUE(p.snap.plan.load_module);
        ASSERT_TRUE(p.snap.plan.release_console);
        pass_apply(&p);
        ASSERT_EQ(p.applied.module_error, -ENOENT);
        ASSERT_FALSE(p.applied.console_released);
        ASSERT_STATE(&p, GPU, VB_DEVICE_FAILED);
        ASSERT_STATE(&p, AUDIO, VB_DEVICE_FAILED);
        ASSERT_STREQ(result(&p, GPU)->bind.driver_after, "bochs-drm");
        ASSERT_HISTORY(&p.m, "load vfio-pci-nonexistent -> -ENOENT\n");
        pass_done(&p);
}

TESTS_MAIN()
