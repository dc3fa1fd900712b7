/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "driver.h"
#include "iommu.h"
#include "macro.h"
#include "sysfs.h"

#define IOMMU_GROUPS_PATH "kernel/iommu_groups"

bool vb_iommu_enabled(VbContext *ctx) {
        _cleanup_strv_free_ char **groups = NULL;

        if (vb_sysfs_list(ctx, IOMMU_GROUPS_PATH, &groups) < 0)
                return false;
        return groups[0] != NULL;
}

VbCpuVendor vb_iommu_cpu_vendor_from_cpuinfo(const char *text) {
        static const struct {
                const char *id;
                VbCpuVendor vendor;
        } table[] = {
                { "GenuineIntel", VB_CPU_VENDOR_INTEL },
                { "AuthenticAMD", VB_CPU_VENDOR_AMD },
                { "HygonGenuine", VB_CPU_VENDOR_AMD },
        };

        /* The first processor's "vendor_id\t: GenuineIntel"; every processor has the same. */
        for (const char *p = text; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                if (strneq(p, "vendor_id", 9)) {
                        const char *v = p + 9;
                        v += strspn(v, " \t");
                        if (*v != ':')
                                break;
                        v++;
                        v += strspn(v, " \t");
                        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                                size_t l = strlen(table[i].id);
                                if ((size_t) (eol - v) >= l && strneq(v, table[i].id, l) &&
                                    (v + l == eol || strchr(" \t", v[l])))
                                        return table[i].vendor;
                        }
                        break;
                }
                p = *eol ? eol + 1 : NULL;
        }
        return VB_CPU_VENDOR_UNKNOWN;
}

VbCpuVendor vb_iommu_read_cpu_vendor(VbContext *ctx) {
        _cleanup_free_ char *text = NULL;
        int r;

        /* The IOMMU the firmware describes decides: its ACPI table is there when the firmware has
         * it on, whatever the kernel then did with it (intel_iommu=off, iommu=off, no driver). A
         * machine's processor and IOMMU come from one vendor, but not a VM's: QEMU's TCG
         * processor says AuthenticAMD beside an emulated VT-d (intel-iommu). The table names are
         * world-readable, their contents are not. */
        if (vb_sysfs_exists(ctx, "firmware/acpi/tables/DMAR"))
                return VB_CPU_VENDOR_INTEL;
        if (vb_sysfs_exists(ctx, "firmware/acpi/tables/IVRS"))
                return VB_CPU_VENDOR_AMD;
        r = vb_procfs_read(ctx, "cpuinfo", &text);
        if (r < 0) {
                vb_debug(ctx, "cannot read cpuinfo, the processor's vendor is unknown: %s", strerror(-r));
                return VB_CPU_VENDOR_UNKNOWN;
        }
        return vb_iommu_cpu_vendor_from_cpuinfo(text);
}

const char *vb_iommu_hint(VbCpuVendor vendor) {
        static const char *const table[_VB_CPU_VENDOR_MAX] = {
                [VB_CPU_VENDOR_INTEL] =
                        "enable VT-d in the firmware setup and add intel_iommu=on to the kernel "
                        "command line (iommu=pt may be added too)",
                [VB_CPU_VENDOR_AMD] =
                        "enable the IOMMU (AMD-Vi, or IOMMU/SVM) in the firmware setup; AMD needs no "
                        "kernel parameter (amd_iommu=on is not one; iommu=pt may be added)",
                [VB_CPU_VENDOR_UNKNOWN] =
                        "enable the IOMMU in the firmware setup (VT-d on Intel, AMD-Vi on AMD); "
                        "on Intel also add intel_iommu=on to the kernel command line, AMD needs no "
                        "parameter (iommu=pt may be added too)",
        };

        if ((unsigned) vendor >= _VB_CPU_VENDOR_MAX)
                vendor = VB_CPU_VENDOR_UNKNOWN;
        return table[vendor];
}

static int cmp_address(const void *a, const void *b) {
        return vb_pci_address_compare(a, b);
}

int vb_iommu_group_members(VbContext *ctx, int group, VbPciAddress **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ VbPciAddress *members = NULL;
        char path[64];
        size_t n = 0, count = 0;
        int r;

        if (group < 0)
                return -EINVAL;
        snprintf(path, sizeof(path), IOMMU_GROUPS_PATH "/%d/devices", group);
        r = vb_sysfs_list(ctx, path, &names);
        if (r < 0)
                return r;
        count = strv_length(names);
        members = calloc(count ?: 1, sizeof(VbPciAddress));
        if (!members)
                return -ENOMEM;
        for (char **i = names; *i; i++)
                if (vb_pci_address_parse(*i, &members[n]) >= 0) /* non-PCI members are not ours */
                        n++;
        qsort(members, n, sizeof(VbPciAddress), cmp_address);
        *ret = TAKE_PTR(members);
        *ret_n = n;
        return 0;
}

bool vb_iommu_member_blocks(const VbPciDevice *d) {
        /* Bridges on pcieport do not count; an endpoint must be driverless or on a VFIO driver
         * (or pci-stub) for the group to be used by a guest. */
        return !vb_pci_device_is_bridge(d) && !vb_driver_is_vfio_safe(d->driver);
}

bool vb_iommu_group_viable(const VbPciList *devices, int group) {
        if (group < 0)
                return false;
        for (size_t i = 0; i < devices->n; i++)
                if (devices->devices[i].iommu_group == group && vb_iommu_member_blocks(&devices->devices[i]))
                        return false;
        return true;
}
