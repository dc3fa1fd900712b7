/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/iommu against the fake trees. */
#include <sys/stat.h>

#include "address.h"
#include "driver.h"
#include "fake-kernel.h"
#include "iommu.h"
#include "macro.h"
#include "tests.h"
#include "tree.h"

static VbContext *open_ctx(const char *case_name, char **ret_dir) {
        VbContext *ctx;
        _cleanup_free_ char *sys = NULL;

        ASSERT_OK(tree_new(case_name, ret_dir));
        ASSERT_TRUE(asprintf(&sys, "%s/sys", *ret_dir) > 0);
        ASSERT_OK(vb_context_new(&ctx, sys, NULL));
        return ctx;
}

TEST(enabled) {
        char *dir;
        VbContext *ctx;

        ctx = open_ctx("desktop", &dir);
        ASSERT_TRUE(vb_iommu_enabled(ctx));
        vb_context_free(ctx);
        tree_free(dir);

        ctx = open_ctx("no-iommu", &dir);
        ASSERT_FALSE(vb_iommu_enabled(ctx));
        vb_context_free(ctx);
        tree_free(dir);
}

TEST(cpu_vendor_and_advice) {
        ASSERT_EQ(vb_iommu_cpu_vendor_from_cpuinfo("processor\t: 0\nvendor_id\t: GenuineIntel\n"), VB_CPU_VENDOR_INTEL);
        ASSERT_EQ(vb_iommu_cpu_vendor_from_cpuinfo("vendor_id : AuthenticAMD\n"), VB_CPU_VENDOR_AMD);
        ASSERT_EQ(vb_iommu_cpu_vendor_from_cpuinfo("vendor_id\t: HygonGenuine"), VB_CPU_VENDOR_AMD);
        ASSERT_EQ(vb_iommu_cpu_vendor_from_cpuinfo("vendor_id\t: GenuineIntelX\n"), VB_CPU_VENDOR_UNKNOWN);
        ASSERT_EQ(vb_iommu_cpu_vendor_from_cpuinfo("vendor_id\t: CentaurHauls\n"), VB_CPU_VENDOR_UNKNOWN);
        ASSERT_EQ(vb_iommu_cpu_vendor_from_cpuinfo("processor\t: 0\n"), VB_CPU_VENDOR_UNKNOWN);
        ASSERT_EQ(vb_iommu_cpu_vendor_from_cpuinfo(""), VB_CPU_VENDOR_UNKNOWN);
        /* amd_iommu=on is not a kernel option: never advised. */
        for (int v = 0; v < _VB_CPU_VENDOR_MAX; v++) {
                ASSERT_TRUE(strstr(vb_iommu_hint(v), "iommu=pt"));
                ASSERT_FALSE(strstr(vb_iommu_hint(v), "add amd_iommu=on"));
                ASSERT_FALSE(strstr(vb_iommu_hint(v), "or amd_iommu=on"));
        }
        ASSERT_TRUE(strstr(vb_iommu_hint(VB_CPU_VENDOR_INTEL), "add intel_iommu=on"));
        ASSERT_FALSE(strstr(vb_iommu_hint(VB_CPU_VENDOR_AMD), "intel_iommu"));
}

TEST(empty_groups_dir_means_off) {
        char *dir;
        VbContext *ctx;
        _cleanup_free_ char *p = NULL;

        ctx = open_ctx("no-iommu", &dir);
        ASSERT_TRUE(asprintf(&p, "%s/sys/kernel", dir) > 0);
        ASSERT_OK(mkdir(p, 0755) < 0 ? -errno : 0);
        free(p);
        ASSERT_TRUE(asprintf(&p, "%s/sys/kernel/iommu_groups", dir) > 0);
        ASSERT_OK(mkdir(p, 0755) < 0 ? -errno : 0);
        ASSERT_FALSE(vb_iommu_enabled(ctx));
        vb_context_free(ctx);
        tree_free(dir);
}

TEST(group_members) {
        char *dir;
        VbContext *ctx;
        VbPciAddress *m = NULL;
        size_t n = 0;

        ctx = open_ctx("desktop", &dir);
        ASSERT_OK(vb_iommu_group_members(ctx, 1, &m, &n));
        ASSERT_EQ(n, 2);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&m[0]), "0000:01:00.0");
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&m[1]), "0000:01:00.1");
        free(m);
        ASSERT_OK(vb_iommu_group_members(ctx, 4, &m, &n));
        ASSERT_EQ(n, 1);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&m[0]), "0000:02:00.0");
        free(m);
        ASSERT_ERRNO(vb_iommu_group_members(ctx, 99, &m, &n), ENOENT);
        ASSERT_ERRNO(vb_iommu_group_members(ctx, -1, &m, &n), EINVAL);
        vb_context_free(ctx);
        tree_free(dir);

        ctx = open_ctx("shared-group", &dir);
        ASSERT_OK(vb_iommu_group_members(ctx, 8, &m, &n));
        ASSERT_EQ(n, 3);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&m[2]), "0000:04:00.2");
        free(m);
        vb_context_free(ctx);
        tree_free(dir);
}

TEST(vfio_safe_drivers) {
        ASSERT_TRUE(vb_driver_is_vfio_safe(NULL));
        ASSERT_TRUE(vb_driver_is_vfio_safe("vfio-pci"));
        ASSERT_TRUE(vb_driver_is_vfio_safe("pci-stub"));
        ASSERT_FALSE(vb_driver_is_vfio_safe("snd_hda_intel"));
        ASSERT_FALSE(vb_driver_is_vfio_safe("xhci_hcd"));
        ASSERT_FALSE(vb_driver_is_vfio_safe("nouveau"));
}

TEST(group_members_behind_vmd) {
        static const char *const expected[] = {
                "0000:00:0e.0", "10000:e0:17.0", "10000:e0:1c.0", "10000:e0:1d.0", "10000:e1:00.0",
        };
        char *dir;
        VbContext *ctx;
        VbPciAddress *m = NULL;
        size_t n = 0;

        /* The VMD endpoint and everything behind it, sorted by number (domain 0000 first). */
        ctx = open_ctx("vmd", &dir);
        ASSERT_TRUE(vb_iommu_enabled(ctx));
        ASSERT_OK(vb_iommu_group_members(ctx, 7, &m, &n));
        ASSERT_EQ(n, ELEMENTSOF(expected));
        for (size_t i = 0; i < n; i++)
                ASSERT_STREQ(VB_PCI_ADDRESS_STR(&m[i]), expected[i]);
        free(m);
        ASSERT_OK(vb_iommu_group_members(ctx, 9, &m, &n));
        ASSERT_EQ(n, 1);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&m[0]), "0000:00:1f.6");
        free(m);
        vb_context_free(ctx);
        tree_free(dir);
}

TESTS_MAIN()
