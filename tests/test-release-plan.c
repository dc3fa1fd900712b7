/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/release-plan: what a release gives back, leaves alone and refuses, from a look made by
 * hand (the plan is pure: it reads nothing else). */
#include "console.h"
#include "macro.h"
#include "pci.h"
#include "release-plan.h"
#include "tests.h"

/* An IOMMU group 1 of a GPU (boot VGA) and its audio function, behind a bridge at 00:01.0 of
 * group 0, a NIC in group 2, a VF (group 3) and an unbound device (group 4). */
static VbPciDevice machine[] = {
        { .address = { 0, 0, 1, 0 },
          .class = 0x060400,
          .header_type = 1,
          .iommu_group = 0,
          .driver = (char *) "pcieport" },
        { .address = { 0, 1, 0, 0 }, .class = 0x030000, .boot_vga = true, .iommu_group = 1 },
        { .address = { 0, 1, 0, 1 }, .class = 0x040300, .iommu_group = 1 },
        { .address = { 0, 2, 0, 0 }, .class = 0x020000, .iommu_group = 2, .driver = (char *) "e1000e" },
        { .address = { 0, 3, 16, 0 }, .class = 0x020000, .iommu_group = 3 },
        { .address = { 0, 4, 0, 0 }, .class = 0x010802, .iommu_group = 4 },
};

static VbPciList look(const char *gpu, const char *gpu_override, const char *audio, const char *vf_override,
                      const char *unbound_override) {
        machine[1].driver = (char *) gpu;
        machine[1].driver_override = (char *) gpu_override;
        machine[2].driver = (char *) audio;
        machine[3].driver_override = NULL;
        machine[4].driver_override = (char *) vf_override;
        machine[5].driver_override = (char *) unbound_override;
        return (VbPciList) { .devices = machine, .n = ELEMENTSOF(machine) };
}

static VbPciAddress at(unsigned bus, unsigned slot, unsigned function) {
        return (VbPciAddress) { .domain = 0, .bus = bus, .slot = slot, .function = function };
}

TEST(a_device_on_vfio_pci_is_given_back_with_the_console_it_showed) {
        _cleanup_(vb_release_plan_done) VbReleasePlan p = {};
        VbPciList l = look("vfio-pci", "vfio-pci", "vfio-pci", NULL, NULL);
        VbConsoleState console = {};
        VbPciAddress gpu = at(1, 0, 0);

        ASSERT_OK(vb_release_plan_compute(&l, &console, NULL, NULL, 0, &gpu, false, false, &p));
        ASSERT_NULL(p.refusal);
        ASSERT_EQ(p.n, 1u);
        ASSERT_EQ(p.n_give_back, 1u);
        ASSERT_EQ(p.entries[0].action, VB_RELEASE_GIVE_BACK);
        ASSERT_STREQ(p.entries[0].driver, "vfio-pci");
        ASSERT_EQ(p.iommu_group, 1);
        ASSERT_TRUE(p.give_console_back);
        ASSERT_TRUE(vb_pci_address_equal(&p.console_owner, &gpu));
        ASSERT_STREQ(p.console_why, "it is the boot VGA device");
        vb_release_plan_done(&p);

        /* the console unknown (it could not be read): not given back */
        ASSERT_OK(vb_release_plan_compute(&l, NULL, NULL, NULL, 0, &gpu, false, false, &p));
        ASSERT_FALSE(p.give_console_back);
}

TEST(the_group_is_given_back_and_what_is_not_passed_through_left_alone) {
        _cleanup_(vb_release_plan_done) VbReleasePlan p = {};
        VbPciList l = look("vfio-pci", "vfio-pci", "snd_hda_intel", NULL, NULL);
        VbConsoleState console = {};
        VbPciAddress audio = at(1, 0, 1);

        /* named: the audio function on its host driver; its group's GPU is passed through */
        ASSERT_OK(vb_release_plan_compute(&l, &console, NULL, NULL, 0, &audio, true, false, &p));
        ASSERT_NULL(p.refusal);
        ASSERT_EQ(p.n, 2u);
        ASSERT_TRUE(vb_pci_address_equal(&p.entries[0].address, &audio));
        ASSERT_EQ(p.entries[0].action, VB_RELEASE_LEAVE);
        ASSERT_EQ(p.entries[1].action, VB_RELEASE_GIVE_BACK);
        ASSERT_EQ(p.n_give_back, 1u);
        ASSERT_TRUE(p.give_console_back);
        ASSERT_STREQ(vb_release_action_to_string(p.entries[0].action), "leave");
        ASSERT_STREQ(vb_release_action_to_string(p.entries[1].action), "give-back");
        vb_release_plan_done(&p);

        /* without --take-group the audio function alone: refused */
        ASSERT_OK(vb_release_plan_compute(&l, &console, NULL, NULL, 0, &audio, false, false, &p));
        ASSERT_STREQ(p.refusal, "0000:01:00.1 is not passed through (on snd_hda_intel); nothing to release");
        ASSERT_FALSE(p.give_console_back);
}

TEST(an_override_alone_is_passed_through) {
        _cleanup_(vb_release_plan_done) VbReleasePlan p = {};
        VbPciList l = look(NULL, NULL, NULL, "vfio-pci", "pci-stub");
        VbPciAddress vf = at(3, 16, 0), unbound = at(4, 0, 0), gpu = at(1, 0, 0);

        /* a VF created with autoprobe off: the override, no driver (vfio-pci not loaded) */
        ASSERT_OK(vb_release_plan_compute(&l, NULL, NULL, NULL, 0, &vf, false, false, &p));
        ASSERT_NULL(p.refusal);
        ASSERT_EQ(p.entries[0].action, VB_RELEASE_GIVE_BACK);
        ASSERT_STREQ(p.entries[0].driver_override, "vfio-pci");
        vb_release_plan_done(&p);

        /* another driver's override is not VFIO's to give back */
        ASSERT_OK(vb_release_plan_compute(&l, NULL, NULL, NULL, 0, &unbound, false, false, &p));
        ASSERT_STREQ(p.refusal,
                     "0000:04:00.0 is not passed through (on no driver, driver_override pci-stub); nothing to release");
        vb_release_plan_done(&p);

        /* no driver, no override, and so is the rest of the group */
        ASSERT_OK(vb_release_plan_compute(&l, NULL, NULL, NULL, 0, &gpu, true, false, &p));
        ASSERT_STREQ(p.refusal,
                     "0000:01:00.0 is not passed through (on no driver), nor is the rest of its IOMMU group; "
                     "nothing to release");
        ASSERT_EQ(p.n_give_back, 0u);
}

TEST(a_group_given_back_before_is_released_already) {
        _cleanup_(vb_release_plan_done) VbReleasePlan p = {};
        VbPciList l = look("bochs-drm", NULL, "snd_hda_intel", NULL, NULL);
        VbPciAddress gpu = at(1, 0, 0), audio = at(1, 0, 1), nic = at(2, 0, 0);
        VbPciAddress marks[] = { gpu, audio };

        /* vfio-bind gave the slot back (both marked): naming either function again, alone or with
         * its group, is done already and gives nothing back */
        ASSERT_OK(vb_release_plan_compute(&l, NULL, NULL, marks, 2, &audio, true, false, &p));
        ASSERT_NULL(p.refusal);
        ASSERT_TRUE(p.already_released);
        ASSERT_EQ(p.n_give_back, 0u);
        ASSERT_EQ(p.n, 2u);
        ASSERT_EQ(p.entries[0].action, VB_RELEASE_LEAVE);
        ASSERT_EQ(p.entries[1].action, VB_RELEASE_LEAVE);
        ASSERT_FALSE(p.give_console_back);
        vb_release_plan_done(&p);

        /* one mark of the group is enough with --take-group; without it, the named one counts */
        ASSERT_OK(vb_release_plan_compute(&l, NULL, NULL, marks, 1, &audio, true, false, &p));
        ASSERT_TRUE(p.already_released);
        vb_release_plan_done(&p);
        ASSERT_OK(vb_release_plan_compute(&l, NULL, NULL, marks, 1, &audio, false, false, &p));
        ASSERT_FALSE(p.already_released);
        ASSERT_STREQ(p.refusal, "0000:01:00.1 is not passed through (on snd_hda_intel); nothing to release");
        vb_release_plan_done(&p);

        /* a device vfio-bind never passed (no mark) is still refused */
        ASSERT_OK(vb_release_plan_compute(&l, NULL, NULL, marks, 2, &nic, false, false, &p));
        ASSERT_FALSE(p.already_released);
        ASSERT_STREQ(p.refusal, "0000:02:00.0 is not passed through (on e1000e); nothing to release");
}

TEST(bridges_and_absent_devices) {
        _cleanup_(vb_release_plan_done) VbReleasePlan p = {};
        VbPciList l = look("vfio-pci", NULL, NULL, NULL, NULL);
        VbPciAddress bridge = at(0, 1, 0), nic = at(2, 0, 0), absent = at(9, 0, 0);

        ASSERT_OK(vb_release_plan_compute(&l, NULL, NULL, NULL, 0, &bridge, true, false, &p));
        ASSERT_STREQ(p.refusal, "0000:00:01.0 is a bridge; bridges are never bound or released");
        ASSERT_EQ(p.n, 0u);
        vb_release_plan_done(&p);

        ASSERT_OK(vb_release_plan_compute(&l, NULL, NULL, NULL, 0, &nic, true, false, &p));
        ASSERT_STREQ(p.refusal, "0000:02:00.0 is not passed through (on e1000e); nothing to release");
        vb_release_plan_done(&p);

        ASSERT_ERRNO(vb_release_plan_compute(&l, NULL, NULL, NULL, 0, &absent, false, false, &p), ENODEV);
}

TEST(a_device_a_vm_holds_is_refused_unless_forced) {
        _cleanup_(vb_release_plan_done) VbReleasePlan p = {};
        _cleanup_(vb_holds_done) VbHolds holds = {};
        VbPciList l = look("vfio-pci", "vfio-pci", "vfio-pci", NULL, NULL);
        VbPciAddress gpu = at(1, 0, 0), audio = at(1, 0, 1);

        ASSERT_OK(vb_holds_add(&holds, &audio, VB_HOLD_PROGRAM,
                               "/dev/vfio/1 is open in PID 900 (qemu-system-x86, machine-qemu-1-win.scope)"));
        /* the GPU alone: its audio function's holder does not concern it */
        ASSERT_OK(vb_release_plan_compute(&l, NULL, &holds, NULL, 0, &gpu, false, false, &p));
        ASSERT_NULL(p.refusal);
        ASSERT_NULL(p.entries[0].held);
        vb_release_plan_done(&p);

        /* the group: refused, naming the process; nothing is given back */
        ASSERT_OK(vb_release_plan_compute(&l, NULL, &holds, NULL, 0, &gpu, true, false, &p));
        ASSERT_STREQ(p.refusal,
                     "0000:01:00.1 is held: /dev/vfio/1 is open in PID 900 (qemu-system-x86, machine-qemu-1-win.scope); "
                     "the kernel's unbind waits until that lets it go (a VM: shut it down first; --force releases it "
                     "all the same)");
        ASSERT_FALSE(p.forced);
        vb_release_plan_done(&p);

        /* forced: released, and said so */
        ASSERT_OK(vb_release_plan_compute(&l, NULL, &holds, NULL, 0, &gpu, true, true, &p));
        ASSERT_NULL(p.refusal);
        ASSERT_TRUE(p.forced);
        ASSERT_EQ(p.n_give_back, 2u);
        ASSERT_STREQ(p.entries[1].held, "/dev/vfio/1 is open in PID 900 (qemu-system-x86, machine-qemu-1-win.scope)");
}

TESTS_MAIN()
