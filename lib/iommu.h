/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "context.h"
#include "pci.h"

/* Are there IOMMU groups at all? (none means the IOMMU is off or absent) */
bool vb_iommu_enabled(VbContext *ctx);

/* Members of group N, as addresses, sorted. */
int vb_iommu_group_members(VbContext *ctx, int group, VbPciAddress **ret, size_t *ret_n);

/* Does device D keep its IOMMU group from a guest as it stands: an endpoint on a driver other
 * than a VFIO driver or pci-stub? */
bool vb_iommu_member_blocks(const VbPciDevice *d);
/* Could GROUP be handed to a guest as it stands: no member of it blocks? false without a group. */
bool vb_iommu_group_viable(const VbPciList *devices, int group);

/* Whose processor this is: what turning the IOMMU on takes differs (Intel: the firmware's VT-d
 * and intel_iommu=on; AMD: only the firmware's AMD-Vi, there is no amd_iommu=on). */
typedef enum VbCpuVendor {
        VB_CPU_VENDOR_UNKNOWN,
        VB_CPU_VENDOR_INTEL,
        VB_CPU_VENDOR_AMD, /* AMD and Hygon: AMD-Vi */
        _VB_CPU_VENDOR_MAX,
} VbCpuVendor;

/* Whose IOMMU this machine has: the firmware's ACPI table if there is one (DMAR: Intel VT-d,
 * IVRS: AMD-Vi, under the sysfs root's firmware/acpi/tables), else the processor's vendor from
 * the procfs root's cpuinfo ("vendor_id : GenuineIntel"); VB_CPU_VENDOR_UNKNOWN when neither
 * says. */
VbCpuVendor vb_iommu_read_cpu_vendor(VbContext *ctx);
/* The vendor from cpuinfo TEXT. */
VbCpuVendor vb_iommu_cpu_vendor_from_cpuinfo(const char *text);
/* The advice when there are no IOMMU groups, for a processor of VENDOR. */
const char *vb_iommu_hint(VbCpuVendor vendor);
