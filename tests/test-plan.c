/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/plan: configurations against snapshots of the fake trees. The plan is pure: computing it
 * writes nothing. */
#include <sys/stat.h>

#include "address.h"
#include "cmdline.h"
#include "config.h"
#include "console.h"
#include "fake-kernel.h"
#include "interlock.h"
#include "iommu.h"
#include "macro.h"
#include "pci.h"
#include "plan.h"
#include "tests.h"
#include "tree.h"

typedef struct Run {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
        VbConfig *config;
        VbPciList devices;
        VbConsoleState console;
        VbPlan plan;
} Run;

/* Compute RUN's plan again with these release marks and failures (NULL-terminated address lists,
 * either may be NULL), as the daemon does on its next pass. */
static void replan(Run *run, const char *const *released, const char *const *failed) {
        VbPciAddress r[8], f[8];
        size_t n_r = 0, n_f = 0;

        for (; released && *released; released++)
                ASSERT_OK(vb_pci_address_parse(*released, &r[n_r++]));
        for (; failed && *failed; failed++)
                ASSERT_OK(vb_pci_address_parse(*failed, &f[n_f++]));
        vb_plan_done(&run->plan);
        ASSERT_OK(vb_plan_compute(
                &(VbPlanInput) {
                        .config = run->config,
                        .devices = &run->devices,
                        .iommu_enabled = vb_iommu_enabled(run->ctx),
                        .console = &run->console,
                        .released = r,
                        .n_released = n_r,
                        .failed = f,
                        .n_failed = n_f,
                },
                &run->plan));
}

/* Snapshot CASE_NAME (after BEFORE, if set, changed the tree through the fake kernel), parse
 * CONF and compute the plan. */
static void run_plan_full(Run *run, const char *case_name, const char *conf, const char *cmdline,
                          void (*before)(Run *run)) {
        VbDiagnostics diag = {};

        *run = (Run) {};
        ASSERT_OK(tree_new(case_name, &run->dir));
        ASSERT_OK(fake_kernel_new(&run->k, run->dir));
        ASSERT_OK(fake_kernel_new_context(run->k, &run->ctx));
        if (before) {
                before(run);
                fake_kernel_forget(run->k);
        }
        ASSERT_OK(vb_config_new(&run->config));
        if (vb_config_parse_text(run->config, "test.conf", conf, strlen(conf), &diag) < 0) {
                for (size_t i = 0; i < diag.n; i++)
                        fprintf(stderr, "%s\n", diag.messages[i]);
                vb_diagnostics_clear(&diag);
                TEST_FAIL("bad test configuration");
        }
        if (cmdline)
                ASSERT_OK(vb_config_apply_cmdline(run->config, cmdline, &diag));
        vb_diagnostics_clear(&diag);
        ASSERT_OK(vb_pci_enumerate(run->ctx, &run->devices));
        ASSERT_OK(vb_console_read(run->ctx, &run->console));
        replan(run, NULL, NULL);
        ASSERT_EQ(fake_kernel_n_ops(run->k), 0);
}

static void run_plan(Run *run, const char *case_name, const char *conf) {
        run_plan_full(run, case_name, conf, NULL, NULL);
}

static void run_done(Run *run) {
        ASSERT_EQ(fake_kernel_n_violations(run->k), 0);
        vb_plan_done(&run->plan);
        vb_console_state_done(&run->console);
        vb_pci_list_done(&run->devices);
        vb_config_free(run->config);
        vb_context_free(run->ctx);
        fake_kernel_free(run->k);
        tree_free(run->dir);
}

static const VbPlanEntry *entry(const Run *run, const char *s) {
        VbPciAddress a;

        ASSERT_OK(vb_pci_address_parse(s, &a));
        for (size_t i = 0; i < run->plan.n; i++)
                if (vb_pci_address_equal(&run->plan.entries[i].address, &a))
                        return &run->plan.entries[i];
        TEST_FAIL("no plan entry for %s", s);
}

#define ASSERT_ENTRY(run, addr, action_, reason_)                                                             \
        do {                                                                                                  \
                const VbPlanEntry *_e = entry((run), (addr));                                                 \
                if (_e->action != (action_) || _e->reason != (reason_))                                       \
                        TEST_FAIL("%s: expected %s/%s, got %s/%s (%s)", (addr), vb_action_to_string(action_), \
                                  vb_plan_reason_to_string(reason_), vb_action_to_string(_e->action),         \
                                  vb_plan_reason_to_string(_e->reason), strna(_e->detail));                   \
        } while (0)

TEST(gpu_and_audio_by_slot) {
        Run run;
        const VbPlanEntry *g, *a;

        run_plan(&run, "desktop", "[Bind]\nDevice=01:00\n");
        ASSERT_EQ(run.plan.n, 2);
        ASSERT_TRUE(run.plan.iommu_enabled);
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_ENTRY(&run, "0000:01:00.1", VB_ACTION_BIND, VB_REASON_NONE);
        g = entry(&run, "0000:01:00.0");
        a = entry(&run, "0000:01:00.1");
        ASSERT_TRUE(g->present && g->selected && g->unbind);
        ASSERT_STREQ(g->driver_before, "bochs-drm");
        ASSERT_STREQ(g->driver, "vfio-pci");
        ASSERT_EQ(g->iommu_group, 1);
        ASSERT_EQ(g->vendor, 0x1234);
        ASSERT_TRUE(g->owns_console);
        ASSERT_FALSE(a->owns_console);
        ASSERT_STREQ(a->driver_before, "snd_hda_intel");
        /* Release=auto: the GPU being bound owns the console. */
        ASSERT_TRUE(run.plan.release_console);
        ASSERT_CONTAINS(run.plan.console_reason, "0000:01:00.0");
        ASSERT_TRUE(vb_plan_complete(&run.plan));
        ASSERT_EQ(vb_plan_count(&run.plan, VB_ACTION_BIND), 2);
        run_done(&run);
}

TEST(group_check_refuses_a_split_group) {
        Run run;

        run_plan(&run, "desktop", "[Bind]\nDevice=0000:01:00.0\n");
        ASSERT_EQ(run.plan.n, 1);
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_REFUSE, VB_REASON_GROUP);
        ASSERT_CONTAINS(entry(&run, "0000:01:00.0")->detail, "0000:01:00.1 on snd_hda_intel");
        ASSERT_FALSE(entry(&run, "0000:01:00.0")->unbind);
        /* Nothing is bound, so the console is not released. */
        ASSERT_FALSE(run.plan.release_console);
        run_done(&run);
}

TEST(group_take_adds_the_siblings) {
        Run run;
        const VbPlanEntry *a;

        run_plan(&run, "desktop", "[Bind]\nDevice=0000:01:00.0\nGroup=take\n");
        ASSERT_EQ(run.plan.n, 2);
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_ENTRY(&run, "0000:01:00.1", VB_ACTION_BIND, VB_REASON_NONE);
        a = entry(&run, "0000:01:00.1");
        ASSERT_FALSE(a->selected);
        ASSERT_TRUE(a->unbind);
        run_done(&run);
}

TEST(group_ignore) {
        Run run;

        run_plan(&run, "desktop", "[Bind]\nDevice=0000:01:00.0\nGroup=ignore\n");
        ASSERT_EQ(run.plan.n, 1);
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        run_done(&run);
}

TEST(shared_group_with_usb) {
        Run run;

        /* The USB function at .2 keeps xhci_hcd: the group cannot be used. */
        run_plan(&run, "shared-group", "[Bind]\nDevice=04:00.0 04:00.1\n");
        ASSERT_EQ(run.plan.n, 2);
        ASSERT_ENTRY(&run, "0000:04:00.0", VB_ACTION_REFUSE, VB_REASON_GROUP);
        ASSERT_ENTRY(&run, "0000:04:00.1", VB_ACTION_REFUSE, VB_REASON_GROUP);
        ASSERT_CONTAINS(entry(&run, "0000:04:00.0")->detail, "0000:04:00.2 on xhci_hcd");
        /* Not the console's GPU. */
        ASSERT_FALSE(entry(&run, "0000:04:00.0")->owns_console);
        run_done(&run);

        run_plan(&run, "shared-group", "[Bind]\nDevice=04:00.0 04:00.1\nGroup=take\n");
        ASSERT_EQ(run.plan.n, 3);
        ASSERT_ENTRY(&run, "0000:04:00.2", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_FALSE(entry(&run, "0000:04:00.2")->selected);
        ASSERT_FALSE(run.plan.release_console);
        ASSERT_STREQ(run.plan.console_reason, "no device being bound owns the console");
        run_done(&run);
}

TEST(unbind_host_no) {
        Run run;

        run_plan(&run, "desktop", "[Bind]\nDevice=01:00\nUnbindHost=no\n");
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_REFUSE, VB_REASON_HOST_DRIVER);
        ASSERT_ENTRY(&run, "0000:01:00.1", VB_ACTION_REFUSE, VB_REASON_HOST_DRIVER);
        run_done(&run);

        /* Nothing holds them yet (the race was won): bind without unbinding. */
        run_plan(&run, "unbound", "[Bind]\nDevice=01:00\nUnbindHost=no\n");
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_FALSE(entry(&run, "0000:01:00.0")->unbind);
        ASSERT_NULL(entry(&run, "0000:01:00.0")->driver_before);
        run_done(&run);
}

static void bind_gpu_to_vfio(Run *run) {
        VbContext *ctx = run->ctx;
        int fd = vb_context_sysfs_fd(ctx);

        ASSERT_EQ(fake_kernel_ops.load_driver(run->k, ctx, "vfio-pci"), 1);
        ASSERT_OK(fake_kernel_ops.write_attr(run->k, fd, "bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci"));
        ASSERT_OK(fake_kernel_ops.write_attr(run->k, fd, "bus/pci/drivers/bochs-drm/unbind", "0000:01:00.0"));
        ASSERT_OK(fake_kernel_ops.write_attr(run->k, fd, "bus/pci/devices/0000:01:00.1/driver_override", "vfio-pci"));
        ASSERT_OK(fake_kernel_ops.write_attr(run->k, fd, "bus/pci/drivers/snd_hda_intel/unbind", "0000:01:00.1"));
        ASSERT_OK(fake_kernel_ops.write_attr(run->k, fd, "bus/pci/drivers_probe", "0000:01:00.0"));
        ASSERT_OK(fake_kernel_ops.write_attr(run->k, fd, "bus/pci/drivers_probe", "0000:01:00.1"));
}

TEST(already_on_vfio_is_left) {
        Run run;

        run_plan_full(&run, "desktop", "[Bind]\nDevice=01:00\n", NULL, bind_gpu_to_vfio);
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_LEAVE, VB_REASON_NONE);
        ASSERT_ENTRY(&run, "0000:01:00.1", VB_ACTION_LEAVE, VB_REASON_NONE);
        ASSERT_EQ(vb_plan_count(&run.plan, VB_ACTION_BIND), 0);
        /* The GPU owns the console, whose framebuffer still holds it, but it is on vfio-pci
         * already: Release=auto releases nothing for it (nothing is being bound). */
        ASSERT_TRUE(vb_console_is_held(&run.console));
        ASSERT_TRUE(entry(&run, "0000:01:00.0")->owns_console);
        ASSERT_FALSE(run.plan.release_console);
        ASSERT_STREQ(run.plan.console_reason, "no device being bound owns the console");
        run_done(&run);
}

/* class/graphics/fbcon in the tree: fbcon is in the kernel. */
static void add_fbcon(const char *dir) {
        _cleanup_free_ char *graphics = NULL, *fbcon = NULL;

        ASSERT_TRUE(asprintf(&graphics, "%s/sys/class/graphics", dir) > 0);
        ASSERT_TRUE(asprintf(&fbcon, "%s/fbcon", graphics) > 0);
        ASSERT_OK(mkdir(graphics, 0755) < 0 ? -errno : 0);
        ASSERT_OK(mkdir(fbcon, 0755) < 0 ? -errno : 0);
}

/* A DRM driver taking over from the boot framebuffer: the boot framebuffer's device is gone and
 * fbcon (in the kernel) shows on no framebuffer for a moment, then on the GPU's own fbdev. */
static void fbcon_between_two_framebuffers(Run *run) {
        const char *dir = fake_kernel_dir(run->k);

        add_fbcon(dir);
        ASSERT_OK(tree_unlink(dir, "sys/class/vtconsole/vtcon1"));
        ASSERT_OK(tree_unlink(dir, "sys/bus/platform/devices/efi-framebuffer.0"));
}

/* fbcon registered but unbound by hand (echo 0 > vtcon1/bind): not held. */
static void fbcon_unbound_by_hand(Run *run) {
        const char *dir = fake_kernel_dir(run->k);

        add_fbcon(dir);
        ASSERT_OK(tree_write(dir, "sys/class/vtconsole/vtcon1/bind", "0\n"));
        ASSERT_OK(tree_unlink(dir, "sys/bus/platform/devices/efi-framebuffer.0"));
}

/* The console's hold on the GPU (what Release=no refuses it for), as the interlocks read it. */
static char *console_hold(Run *run, const char *addr) {
        _cleanup_(vb_holds_done) VbHolds h = {};
        VbPciAddress a;
        char *what = NULL;

        ASSERT_OK(vb_pci_address_parse(addr, &a));
        ASSERT_OK(vb_interlock_add_console(&run->console, &run->devices, &h));
        ASSERT_OK(vb_holds_describe(&h, &a, VB_HOLD_MASK(VB_HOLD_CONSOLE), &what));
        return what;
}

TEST(release_no_holds_the_gpu_while_fbcon_is_between_framebuffers) {
        Run run;
        _cleanup_free_ char *what = NULL, *none = NULL;

        run_plan_full(&run, "desktop", "[Bind]\nDevice=01:00\n[Console]\nRelease=no\n", NULL,
                      fbcon_between_two_framebuffers);
        ASSERT_TRUE(run.console.fbcon_between);
        ASSERT_TRUE(vb_console_is_held(&run.console));
        what = console_hold(&run, "0000:01:00.0");
        ASSERT_STREQ(what,
                     "the console in use (the framebuffer console, between two framebuffers) is on it: the boot "
                     "framebuffer lies in its memory");
        run_done(&run);

        run_plan_full(&run, "desktop", "[Bind]\nDevice=01:00\n[Console]\nRelease=no\n", NULL, fbcon_unbound_by_hand);
        ASSERT_FALSE(run.console.fbcon_between);
        ASSERT_FALSE(vb_console_is_held(&run.console));
        none = console_hold(&run, "0000:01:00.0");
        ASSERT_NULL(none);
        run_done(&run);
}

TEST(bridge_is_refused) {
        Run run;

        run_plan(&run, "desktop", "[Bind]\nDevice=00:01.0 00:00.0\n");
        ASSERT_ENTRY(&run, "0000:00:01.0", VB_ACTION_REFUSE, VB_REASON_BRIDGE);
        ASSERT_ENTRY(&run, "0000:00:00.0", VB_ACTION_REFUSE, VB_REASON_BRIDGE);
        run_done(&run);
}

TEST(missing_and_unmatched) {
        Run run;
        const VbPlanEntry *e;

        run_plan(&run, "desktop", "[Bind]\nDevice=0000:03:00.0 10de:1b80\n");
        ASSERT_EQ(run.plan.n, 1);
        ASSERT_ENTRY(&run, "0000:03:00.0", VB_ACTION_MISSING, VB_REASON_NONE);
        e = entry(&run, "0000:03:00.0");
        ASSERT_FALSE(e->present);
        ASSERT_EQ(run.plan.n_unmatched, 1);
        ASSERT_EQ(run.plan.unmatched[0].type, VB_SELECTOR_ID);
        ASSERT_EQ(run.plan.unmatched[0].device, 0x1b80);
        ASSERT_FALSE(vb_plan_complete(&run.plan));
        run_done(&run);
}

TEST(no_iommu) {
        Run run;

        run_plan(&run, "no-iommu", "[Bind]\nDevice=01:00\n");
        ASSERT_FALSE(run.plan.iommu_enabled);
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_REFUSE, VB_REASON_NO_IOMMU);
        ASSERT_ENTRY(&run, "0000:01:00.1", VB_ACTION_REFUSE, VB_REASON_NO_IOMMU);
        ASSERT_FALSE(run.plan.release_console);
        run_done(&run);

        /* pci-stub needs no IOMMU. */
        run_plan(&run, "no-iommu", "[Bind]\nDevice=02:00.0\nDriver=pci-stub\n");
        ASSERT_ENTRY(&run, "0000:02:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_STREQ(entry(&run, "0000:02:00.0")->driver, "pci-stub");
        run_done(&run);
}

TEST(disabled_on_the_command_line) {
        Run run;

        run_plan_full(&run, "desktop", "[Bind]\nDevice=01:00 0000:03:00.0\n",
                      "BOOT_IMAGE=/vmlinuz ro quiet vfio-bind=off", NULL);
        ASSERT_TRUE(run.plan.disabled);
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_REFUSE, VB_REASON_DISABLED);
        ASSERT_ENTRY(&run, "0000:01:00.1", VB_ACTION_REFUSE, VB_REASON_DISABLED);
        ASSERT_ENTRY(&run, "0000:03:00.0", VB_ACTION_REFUSE, VB_REASON_DISABLED);
        ASSERT_EQ(vb_plan_count(&run.plan, VB_ACTION_BIND), 0);
        ASSERT_FALSE(run.plan.release_console);
        run_done(&run);
}

TEST(release_auto_decides) {
        Run run;

        /* The guide's machine: the second card is not the console's. */
        run_plan(&run, "two-gpus", "[Bind]\nDevice=0f:00\n");
        ASSERT_ENTRY(&run, "0000:0f:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_ENTRY(&run, "0000:0f:00.1", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_FALSE(run.plan.release_console);
        run_done(&run);

        run_plan(&run, "two-gpus", "[Bind]\nDevice=0e:00\n");
        ASSERT_TRUE(entry(&run, "0000:0e:00.0")->owns_console);
        ASSERT_TRUE(run.plan.release_console);
        ASSERT_CONTAINS(run.plan.console_reason, "0000:0e:00.0");
        run_done(&run);

        run_plan(&run, "two-gpus", "[Bind]\nDevice=0e:00\n[Console]\nRelease=no\n");
        ASSERT_FALSE(run.plan.release_console);
        run_done(&run);

        run_plan(&run, "two-gpus", "[Bind]\nDevice=0f:00\n[Console]\nRelease=yes\n");
        ASSERT_TRUE(run.plan.release_console);
        run_done(&run);
}

TEST(identical_audio_ids_select_both_cards) {
        Run run;

        /* 10de:0fbb is on both cards: an ID selector takes both, and their GPUs stay on nouveau,
         * so Group=check refuses both. */
        run_plan(&run, "two-gpus", "[Bind]\nDevice=10de:0fbb\n");
        ASSERT_EQ(run.plan.n, 2);
        ASSERT_ENTRY(&run, "0000:0e:00.1", VB_ACTION_REFUSE, VB_REASON_GROUP);
        ASSERT_ENTRY(&run, "0000:0f:00.1", VB_ACTION_REFUSE, VB_REASON_GROUP);
        run_done(&run);

        /* By address, only the second card. */
        run_plan(&run, "two-gpus", "[Bind]\nDevice=0000:0f:00.0 0000:0f:00.1\n");
        ASSERT_EQ(run.plan.n, 2);
        ASSERT_ENTRY(&run, "0000:0f:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_ENTRY(&run, "0000:0f:00.1", VB_ACTION_BIND, VB_REASON_NONE);
        run_done(&run);
}

TEST(format_lists_every_entry) {
        Run run;
        _cleanup_free_ char *text = NULL, *why = NULL;

        run_plan(&run, "desktop", "[Bind]\nDevice=0000:01:00.0 0000:03:00.0\n");
        ASSERT_OK(vb_plan_format(&run.plan, true, &text));
        ASSERT_CONTAINS(text, "0000:01:00.0");
        ASSERT_CONTAINS(text, "0000:03:00.0");
        ASSERT_OK(vb_plan_entry_explain(entry(&run, "0000:01:00.0"), &why));
        ASSERT_CONTAINS(why, "0000:01:00.1");
        run_done(&run);
}

TEST(released_boot_gpu_does_not_release_the_console) {
        Run run;

        /* Without the mark, the GPU owns the console and the console goes first. */
        run_plan(&run, "desktop", "[Bind]\nDevice=01:00\n[Console]\nRelease=auto\n");
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_TRUE(run.plan.release_console);

        /* Released by hand: it stays with the host, and so does the console. */
        replan(&run, (const char *const[]) { "0000:01:00.0", NULL }, NULL);
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_REFUSE, VB_REASON_RELEASED);
        ASSERT_ENTRY(&run, "0000:01:00.1", VB_ACTION_REFUSE, VB_REASON_GROUP);
        ASSERT_FALSE(run.plan.release_console);
        ASSERT_STREQ(run.plan.console_reason, "no device being bound owns the console");
        run_done(&run);
}

TEST(released_member_blocks_its_group) {
        Run run;
        _cleanup_free_ char *why = NULL;

        /* Group=check: the audio function given back by hand keeps the group from a guest. */
        run_plan(&run, "desktop", "[Bind]\nDevice=01:00\n");
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        replan(&run, (const char *const[]) { "0000:01:00.1", NULL }, NULL);
        ASSERT_ENTRY(&run, "0000:01:00.1", VB_ACTION_REFUSE, VB_REASON_RELEASED);
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_REFUSE, VB_REASON_GROUP);
        ASSERT_OK(vb_plan_entry_explain(entry(&run, "0000:01:00.0"), &why));
        ASSERT_CONTAINS(why, "0000:01:00.1");
        ASSERT_CONTAINS(why, "released by hand");
        run_done(&run);

        /* Group=take cannot take a group one of whose members was given back either. */
        run_plan(&run, "desktop", "[Bind]\nDevice=01:00.0\nGroup=take\n");
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_ENTRY(&run, "0000:01:00.1", VB_ACTION_BIND, VB_REASON_NONE);
        replan(&run, (const char *const[]) { "0000:01:00.1", NULL }, NULL);
        ASSERT_ENTRY(&run, "0000:01:00.1", VB_ACTION_REFUSE, VB_REASON_RELEASED);
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_REFUSE, VB_REASON_GROUP);
        run_done(&run);

        /* Group=ignore: the other function is bound regardless. */
        run_plan(&run, "desktop", "[Bind]\nDevice=01:00\nGroup=ignore\n");
        replan(&run, (const char *const[]) { "0000:01:00.1", NULL }, NULL);
        ASSERT_ENTRY(&run, "0000:01:00.1", VB_ACTION_REFUSE, VB_REASON_RELEASED);
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        run_done(&run);
}

TEST(failed_member_is_not_retried_and_blocks_its_group) {
        Run run;

        run_plan(&run, "desktop", "[Bind]\nDevice=01:00\n");
        replan(&run, NULL, (const char *const[]) { "0000:01:00.1", NULL });
        ASSERT_ENTRY(&run, "0000:01:00.1", VB_ACTION_REFUSE, VB_REASON_FAILED);
        ASSERT_ENTRY(&run, "0000:01:00.0", VB_ACTION_REFUSE, VB_REASON_GROUP);
        ASSERT_FALSE(run.plan.release_console);
        run_done(&run);
}

TEST(module_load_is_in_the_plan) {
        Run run;
        _cleanup_free_ char *text = NULL;

        /* vfio-pci is a module not loaded yet on this tree: the plan says it is loaded first, and
         * that the console waits for it. */
        run_plan(&run, "desktop", "[Bind]\nDevice=01:00\n");
        ASSERT_TRUE(run.plan.load_module);
        ASSERT_OK(vb_plan_format(&run.plan, true, &text));
        ASSERT_CONTAINS(text, "module: load the module of vfio-pci first");
        ASSERT_CONTAINS(text, "the console is released only once it is loaded");
        run_done(&run);

        /* Nothing to bind: nothing to load. */
        run_plan(&run, "desktop", "[Bind]\nDevice=0000:00:01.0\n");
        ASSERT_FALSE(run.plan.load_module);
        run_done(&run);
}

/* tests/sysfs/vmd: an NVMe controller behind Intel VMD shares the VMD endpoint's IOMMU group
 * with everything else behind it. */
TEST(vmd_nvme_shares_the_vmd_group) {
        _cleanup_free_ char *text = NULL;
        Run run;

        run_plan(&run, "vmd", "[Bind]\nDevice=10000:e1:00.0\n");
        ASSERT_EQ(run.plan.n, 1);
        ASSERT_ENTRY(&run, "10000:e1:00.0", VB_ACTION_REFUSE, VB_REASON_GROUP);
        ASSERT_CONTAINS(entry(&run, "10000:e1:00.0")->detail, "0000:00:0e.0 on vmd");
        ASSERT_CONTAINS(entry(&run, "10000:e1:00.0")->detail, "10000:e0:17.0 on ahci");
        ASSERT_OK(vb_plan_format(&run.plan, true, &text));
        ASSERT_CONTAINS(text, "10000:e1:00.0 [144d:a80a] class 010802, group 7, nvme: ");
        run_done(&run);

        /* The short form is domain 0000, where there is no such device. */
        run_plan(&run, "vmd", "[Bind]\nDevice=e1:00.0\nGroup=ignore\n");
        ASSERT_EQ(vb_plan_count(&run.plan, VB_ACTION_BIND), 0);
        ASSERT_FALSE(vb_plan_complete(&run.plan));
        run_done(&run);

        run_plan(&run, "vmd", "[Bind]\nDevice=10000:e1:00\nGroup=ignore\n");
        ASSERT_EQ(run.plan.n, 1);
        ASSERT_ENTRY(&run, "10000:e1:00.0", VB_ACTION_BIND, VB_REASON_NONE);
        ASSERT_TRUE(entry(&run, "10000:e1:00.0")->unbind);
        run_done(&run);
}

TESTS_MAIN()
