/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/bind against the fake kernel: the exact write sequences, refusals, verification and
 * rollback. */
#include "address.h"
#include "bind.h"
#include "machine.h"
#include "tree.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"

#define addr machine_addr

TEST(bind_takes_the_device_from_the_host_driver) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr(GPU);

        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(vb_bind_device(m.ctx, &a, "vfio-pci", true, &r), 1);
        ASSERT_STREQ(r.driver_before, "bochs-drm");
        ASSERT_STREQ(r.driver_after, "vfio-pci");
        ASSERT_TRUE(r.module_loaded);
        ASSERT_TRUE(r.changed);
        vb_bind_result_done(&r);
        /* libvirt's order: module, override, unbind, probe. */
        ASSERT_HISTORY(&m,
                       "load vfio-pci -> 1\n"
                       "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"
                       "bus/pci/drivers/bochs-drm/unbind=0000:01:00.0\n"
                       "bus/pci/drivers_probe=0000:01:00.0\n");
        ASSERT_DRIVER(&m, GPU, "vfio-pci");

        /* Already there: nothing is written. */
        fake_kernel_forget(m.k);
        ASSERT_EQ(vb_bind_device(m.ctx, &a, "vfio-pci", true, &r), 0);
        ASSERT_STREQ(r.driver_after, "vfio-pci");
        ASSERT_FALSE(r.changed);
        vb_bind_result_done(&r);
        ASSERT_EQ(fake_kernel_n_ops(m.k), 0);
        machine_close(&m);
}

TEST(bind_unbound_device_with_builtin_driver) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr(AUDIO);

        machine_open(&m, "unbound", NULL);
        ASSERT_EQ(vb_bind_device(m.ctx, &a, "vfio-pci", false, &r), 1);
        ASSERT_NULL(r.driver_before);
        ASSERT_FALSE(r.module_loaded);
        vb_bind_result_done(&r);
        /* No driver to unbind; built in means an explicit probe is needed. */
        ASSERT_HISTORY(&m,
                       "bus/pci/devices/0000:01:00.1/driver_override=vfio-pci\n"
                       "bus/pci/drivers_probe=0000:01:00.1\n");
        ASSERT_DRIVER(&m, AUDIO, "vfio-pci");
        machine_close(&m);
}

TEST(unbind_host_no_refuses_without_writes) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr(GPU);

        machine_open(&m, "desktop", NULL);
        ASSERT_ERRNO(vb_bind_device(m.ctx, &a, "vfio-pci", false, &r), EBUSY);
        ASSERT_STREQ(r.driver_before, "bochs-drm");
        ASSERT_FALSE(r.changed);
        vb_bind_result_done(&r);
        ASSERT_EQ(fake_kernel_n_ops(m.k), 0);
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        machine_close(&m);
}

TEST(bridge_is_never_touched) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr("0000:00:01.0"), h = addr("0000:00:00.0");

        machine_open(&m, "desktop", NULL);
        ASSERT_ERRNO(vb_bind_device(m.ctx, &a, "vfio-pci", true, &r), EPERM);
        vb_bind_result_done(&r);
        ASSERT_ERRNO(vb_bind_device(m.ctx, &h, "vfio-pci", true, &r), EPERM);
        vb_bind_result_done(&r);
        ASSERT_EQ(fake_kernel_n_ops(m.k), 0);
        machine_close(&m);
}

TEST(absent_device) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr("0000:03:00.0");

        machine_open(&m, "desktop", NULL);
        ASSERT_ERRNO(vb_bind_device(m.ctx, &a, "vfio-pci", true, &r), ENODEV);
        ASSERT_EQ(r.failed_step, VB_BIND_STEP_READ);
        vb_bind_result_done(&r);
        ASSERT_EQ(fake_kernel_n_ops(m.k), 0);
        machine_close(&m);
}

TEST(module_name_is_not_a_driver_name) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr(GPU);

        machine_open(&m, "desktop", NULL);
        ASSERT_ERRNO(vb_bind_device(m.ctx, &a, "vfio_pci", true, &r), ENOENT);
        ASSERT_EQ(r.failed_step, VB_BIND_STEP_MODULE);
        ASSERT_FALSE(r.changed);
        vb_bind_result_done(&r);
        /* modprobe loads the module by either name, but no driver is called vfio_pci. */
        ASSERT_HISTORY(&m, "load vfio_pci -> 1\n");
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        machine_close(&m);
}

TEST(probe_that_binds_nothing_is_detected_and_rolled_back) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr(GPU);

        /* vfio-pci's probe fails for the GPU: drivers_probe still reports success. */
        machine_open(&m, "desktop", "refuse vfio-pci 0000:01:00.0\n");
        ASSERT_ERRNO(vb_bind_device(m.ctx, &a, "vfio-pci", true, &r), EIO);
        ASSERT_EQ(r.failed_step, VB_BIND_STEP_VERIFY);
        ASSERT_TRUE(r.rolled_back);
        ASSERT_FALSE(r.override_left);
        ASSERT_STREQ(r.driver_after, "bochs-drm");
        vb_bind_result_done(&r);
        ASSERT_HISTORY(&m,
                       "load vfio-pci -> 1\n"
                       "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"
                       "bus/pci/drivers/bochs-drm/unbind=0000:01:00.0\n"
                       "bus/pci/drivers_probe=0000:01:00.0\n"
                       "bus/pci/devices/0000:01:00.0/driver_override=\n"
                       "bus/pci/drivers_probe=0000:01:00.0\n");
        /* The host has its device back, and no override is left to keep it out. */
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_NULL(fake_kernel_override(m.k, GPU));
        machine_close(&m);
}

TEST(no_group_means_vfio_refuses) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr(AUDIO);
        _cleanup_free_ char *ov = NULL;

        /* Unbound before: the override stays, so no host driver takes it later. */
        machine_open(&m, "unbound", NULL);
        ASSERT_OK(tree_unlink(m.dir, "sys/bus/pci/devices/" AUDIO "/iommu_group"));
        ASSERT_ERRNO(vb_bind_device(m.ctx, &a, "vfio-pci", true, &r), EIO);
        ASSERT_EQ(r.failed_step, VB_BIND_STEP_VERIFY);
        ASSERT_FALSE(r.rolled_back);
        ASSERT_TRUE(r.override_left);
        ASSERT_NULL(r.driver_after);
        vb_bind_result_done(&r);
        ov = fake_kernel_override(m.k, AUDIO);
        ASSERT_STREQ(ov, "vfio-pci");
        ASSERT_DRIVER(&m, AUDIO, NULL);
        machine_close(&m);
}

TEST(failed_override_write_changes_nothing) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr(GPU);

        machine_open(&m, "desktop", "fail bus/pci/devices/0000:01:00.0/driver_override EACCES\n");
        ASSERT_ERRNO(vb_bind_device(m.ctx, &a, "vfio-pci", true, &r), EACCES);
        ASSERT_EQ(r.failed_step, VB_BIND_STEP_OVERRIDE);
        ASSERT_FALSE(r.changed);
        vb_bind_result_done(&r);
        /* No unbind after a failed override: the host keeps the device. */
        ASSERT_HISTORY(&m,
                       "load vfio-pci -> 1\n"
                       "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci -> -EACCES\n");
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        machine_close(&m);
}

TEST(failed_unbind_clears_the_override) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr(GPU);

        machine_open(&m, "desktop", "fail bus/pci/drivers/bochs-drm/unbind EBUSY\n");
        ASSERT_ERRNO(vb_bind_device(m.ctx, &a, "vfio-pci", true, &r), EBUSY);
        ASSERT_EQ(r.failed_step, VB_BIND_STEP_UNBIND);
        ASSERT_TRUE(r.rolled_back);
        ASSERT_STREQ(r.driver_after, "bochs-drm");
        vb_bind_result_done(&r);
        ASSERT_HISTORY(&m,
                       "load vfio-pci -> 1\n"
                       "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"
                       "bus/pci/drivers/bochs-drm/unbind=0000:01:00.0 -> -EBUSY\n"
                       "bus/pci/devices/0000:01:00.0/driver_override=\n");
        ASSERT_NULL(fake_kernel_override(m.k, GPU));
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        machine_close(&m);
}

TEST(device_vanishing_during_bind) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr(GPU);

        machine_open(&m, "desktop", "vanish 0000:01:00.0 bus/pci/drivers/bochs-drm/unbind\n");
        ASSERT_ERRNO(vb_bind_device(m.ctx, &a, "vfio-pci", true, &r), ENODEV);
        vb_bind_result_done(&r);
        ASSERT_FALSE(fake_kernel_device_exists(m.k, GPU));
        machine_close(&m);
}

TEST(release_gives_the_device_back) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr(GPU);

        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(vb_bind_device(m.ctx, &a, "vfio-pci", true, &r), 1);
        vb_bind_result_done(&r);
        fake_kernel_forget(m.k);

        ASSERT_EQ(vb_release_device(m.ctx, &a, &r), 1);
        ASSERT_STREQ(r.driver_before, "vfio-pci");
        ASSERT_STREQ(r.driver_after, "bochs-drm");
        vb_bind_result_done(&r);
        /* Clear the override first, or the host driver stays out for good. */
        ASSERT_HISTORY(&m,
                       "bus/pci/devices/0000:01:00.0/driver_override=\n"
                       "bus/pci/drivers/vfio-pci/unbind=0000:01:00.0\n"
                       "bus/pci/drivers_probe=0000:01:00.0\n");
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_NULL(fake_kernel_override(m.k, GPU));
        machine_close(&m);
}

TEST(release_of_a_free_device_writes_nothing) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr(AUDIO), b = addr("0000:00:02.0");

        machine_open(&m, "unbound", NULL);
        ASSERT_EQ(vb_release_device(m.ctx, &a, &r), 0);
        ASSERT_FALSE(r.changed);
        vb_bind_result_done(&r);
        ASSERT_ERRNO(vb_release_device(m.ctx, &b, &r), EPERM);
        vb_bind_result_done(&r);
        ASSERT_EQ(fake_kernel_n_ops(m.k), 0);
        machine_close(&m);
}

TEST(bind_whole_gpu_never_writes_new_id) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress g = addr(GPU), s = addr(AUDIO);

        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(vb_bind_device(m.ctx, &g, "vfio-pci", true, &r), 1);
        vb_bind_result_done(&r);
        ASSERT_EQ(vb_bind_device(m.ctx, &s, "vfio-pci", true, &r), 1);
        ASSERT_FALSE(r.module_loaded);
        vb_bind_result_done(&r);
        ASSERT_DRIVER(&m, GPU, "vfio-pci");
        ASSERT_DRIVER(&m, AUDIO, "vfio-pci");
        /* Other devices keep their drivers. */
        ASSERT_DRIVER(&m, "0000:02:00.0", "e1000e");
        for (size_t i = 0; i < fake_kernel_n_ops(m.k); i++) {
                const FakeOp *op = fake_kernel_op(m.k, i);
                if (op->type == FAKE_OP_WRITE)
                        ASSERT_TRUE(!strstr(op->normalized, "new_id"));
        }
        machine_close(&m);
}

TEST(step_names) {
        ASSERT_STREQ(vb_bind_step_to_string(VB_BIND_STEP_OVERRIDE), "override");
        ASSERT_STREQ(vb_bind_step_to_string(VB_BIND_STEP_VERIFY), "verify");
        ASSERT_NULL(vb_bind_step_to_string(_VB_BIND_STEP_MAX));
}

/* Behind Intel VMD (tests/sysfs/vmd): every path and value carries the 5-digit domain. */
TEST(bind_and_release_in_a_vmd_domain) {
        Machine m;
        VbBindResult r = {};
        VbPciAddress a = addr("10000:e1:00.0");

        machine_open(&m, "vmd", NULL);
        ASSERT_EQ(vb_bind_device(m.ctx, &a, "vfio-pci", true, &r), 1);
        ASSERT_STREQ(r.driver_before, "nvme");
        ASSERT_STREQ(r.driver_after, "vfio-pci");
        vb_bind_result_done(&r);
        ASSERT_HISTORY(&m,
                       "load vfio-pci -> 1\n"
                       "bus/pci/devices/10000:e1:00.0/driver_override=vfio-pci\n"
                       "bus/pci/drivers/nvme/unbind=10000:e1:00.0\n"
                       "bus/pci/drivers_probe=10000:e1:00.0\n");
        ASSERT_DRIVER(&m, "10000:e1:00.0", "vfio-pci");
        ASSERT_DRIVER(&m, "10000:e0:17.0", "ahci");

        fake_kernel_forget(m.k);
        ASSERT_EQ(vb_release_device(m.ctx, &a, &r), 1);
        ASSERT_STREQ(r.driver_after, "nvme");
        vb_bind_result_done(&r);
        ASSERT_DRIVER(&m, "10000:e1:00.0", "nvme");
        machine_close(&m);
}

TESTS_MAIN()
