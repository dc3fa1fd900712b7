/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <alloca.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "context.h"
#include "pci-config.h"

#define VB_PCI_DEVICES_PATH "bus/pci/devices"
#define VB_PCI_DRIVERS_PATH "bus/pci/drivers"
#define VB_PCI_DRIVERS_PROBE_PATH "bus/pci/drivers_probe"

/* "bus/pci/devices/ADDR/ATTR" (ATTR NULL: the device's directory) into BUF: 0 or -ENAMETOOLONG. */
int vb_pci_device_path(const VbPciAddress *a, const char *attr, char *buf, size_t size);
#define VB_PCI_DEVICE_PATH_MAX 128
/* The same as a temporary string (NULL if it does not fit), for one expression. */
#define VB_PCI_DEVICE_PATH(a, attr)                                                          \
        ({                                                                                   \
                char *_b = alloca(VB_PCI_DEVICE_PATH_MAX);                                   \
                vb_pci_device_path((a), (attr), _b, VB_PCI_DEVICE_PATH_MAX) < 0 ? NULL : _b; \
        })

/* An SR-IOV physical function's sriov_* attributes. */
typedef struct VbSriov {
        unsigned total;  /* sriov_totalvfs */
        unsigned numvfs; /* sriov_numvfs: enabled now */
        unsigned offset; /* sriov_offset: routing ID of VF 0 minus the PF's */
        unsigned stride; /* sriov_stride */
        uint16_t vf_device;
        bool autoprobe; /* sriov_drivers_autoprobe */
} VbSriov;

/* A snapshot of one PCI function as sysfs shows it. */
typedef struct VbPciDevice {
        VbPciAddress address;
        uint16_t vendor;
        uint16_t device;
        uint32_t class;      /* 24-bit: 0x030000 VGA */
        uint8_t header_type; /* low 7 bits of the config header type: 0 endpoint, 1 bridge, 2 cardbus */
        bool boot_vga;
        int iommu_group;       /* -1: none */
        char *driver;          /* NULL: no driver bound */
        char *driver_override; /* NULL: none */
        /* Display-class devices only: their memory BARs, to tell whether they own the boot
         * framebuffer. */
        struct VbPciResource *resources;
        size_t n_resources;
        bool has_sriov; /* an SR-IOV physical function: sriov holds its sriov_* attributes */
        VbSriov sriov;
        bool is_virtfn; /* an SR-IOV virtual function of physfn */
        VbPciAddress physfn;
} VbPciDevice;

void vb_pci_device_done(VbPciDevice *d);

/* Read one device by address. -ENODEV if it is not present. */
int vb_pci_device_read(VbContext *ctx, const VbPciAddress *address, VbPciDevice *ret);

/* A PCI_ID= value as the kernel writes it ("%04X:%04X": "8086:10D3"), and nothing else: exactly
 * four hex digits, a colon, four hex digits (either case). The one parser of it, for the uevent
 * file and the daemon's uevent filter alike. 0 or -EINVAL; RET_* written only on success. */
int vb_pci_id_parse(const char *s, uint16_t *ret_vendor, uint16_t *ret_device);
/* A PCI_CLASS= value as the kernel writes it ("%X": "20000", "C0330"): one to six hex digits and
 * nothing else. 0 or -EINVAL. */
int vb_pci_class_parse(const char *s, uint32_t *ret);

/* The identity and driver in the text of a device's uevent file (as vb_sysfs_read() returns
 * it: up to the file's first NUL byte): PCI_ID=VVVV:DDDD and PCI_CLASS=CCCCCC (hex), which the
 * kernel writes for every PCI device, and DRIVER=name while a driver is bound (NULL in
 * RET_DRIVER if there is none). No I/O. Returns 0, -ENODATA if PCI_ID= or PCI_CLASS= is missing
 * or malformed (the reader then falls back to the vendor, device and class attributes and the
 * driver link), or -ENOMEM; the RET_* are written only on success. */
int vb_pci_uevent_parse(const char *text, uint16_t *ret_vendor, uint16_t *ret_device, uint32_t *ret_class,
                        char **ret_driver);

/* Only what telling a bridge and the current driver needs: vendor, device, class, header type,
 * driver (boot_vga, iommu_group, driver_override and resources stay unset). -ENODEV if the
 * device is not present. */
int vb_pci_device_read_identity(VbContext *ctx, const VbPciAddress *address, VbPciDevice *ret);

/* The sriov_* attributes of a physical function, in the order they are read. */
typedef enum VbSriovAttr {
        VB_SRIOV_ATTR_TOTALVFS,
        VB_SRIOV_ATTR_NUMVFS,
        VB_SRIOV_ATTR_OFFSET,
        VB_SRIOV_ATTR_STRIDE,
        VB_SRIOV_ATTR_VF_DEVICE,
        VB_SRIOV_ATTR_DRIVERS_AUTOPROBE,
        _VB_SRIOV_ATTR_MAX,
        _VB_SRIOV_ATTR_INVALID = -EINVAL,
} VbSriovAttr;

const char *vb_pci_sriov_attr_to_string(VbSriovAttr a); /* the file name: "sriov_totalvfs" */

/* The values of the sriov_* attributes (TEXT[VB_SRIOV_ATTR_…], each as vb_sysfs_read() returns
 * it) into RET, in the enum's order: the counts as vb_sysfs_parse_u32() takes them, the VF device
 * ID as hex without "0x". No I/O. Returns 0, -EINVAL (a count that is not a number) or -EBADMSG
 * (a VF device ID that is not one), for the first bad value; RET is written only on success. */
int vb_pci_sriov_parse(const char *const text[static _VB_SRIOV_ATTR_MAX], VbSriov *ret);

/* SR-IOV: read a physical function's attributes (and vb_pci_sriov_parse() them). -EOPNOTSUPP: the device has no SR-IOV capability (no
 * sriov_totalvfs); -ENODEV: it is not there. */
int vb_pci_sriov_read(VbContext *ctx, const VbPciAddress *pf, VbSriov *ret);

/* The physical function of the VF at A (its physfn link). -ENOENT: A is not a VF. */
int vb_pci_physfn(VbContext *ctx, const VbPciAddress *a, VbPciAddress *ret);
/* The PCI address a physfn link's TARGET ends in ("../0000:03:00.0"). No I/O. -EINVAL if it has
 * no last component (vb_sysfs_link_basename()), -EBADMSG if that is not a PCI address. */
int vb_pci_physfn_parse(const char *target, VbPciAddress *ret);

/* The IOMMU group of the device at A (its iommu_group link), one readlink. -ENOENT: it has none
 * (no IOMMU, or the device is gone); -EBADMSG: the link does not end in a group number. */
int vb_pci_iommu_group(VbContext *ctx, const VbPciAddress *a, int *ret);

/* The device's config space (its sysfs config file, as far as this reader may read it: root the
 * whole, others 64 bytes) parsed (lib/pci-config.h). A dump keeps the bytes read. -ENODEV if the
 * device is not there, -ENODATA if not even the header could be read. */
int vb_pci_config_read(VbContext *ctx, const VbPciAddress *a, VbPciConfig *ret);

/* Bridges (header type 1/2, or base class 0x06: host, ISA, PCI bridges) are never bound. */
bool vb_pci_device_is_bridge(const VbPciDevice *d);
bool vb_pci_device_is_display(const VbPciDevice *d); /* class 0x03xxxx */

/* Is the device behind a PCI device that hosts a root bus of its own (Intel VMD)? Its DMA then goes
 * through that controller: it cannot be handed to a guest on its own. RET_HOST: the controller. */
bool vb_pci_device_behind_vmd(VbContext *ctx, const VbPciAddress *a, VbPciAddress *ret_host);

typedef struct VbPciList {
        VbPciDevice *devices; /* sorted by address */
        size_t n;
} VbPciList;

void vb_pci_list_done(VbPciList *l);
int vb_pci_enumerate(VbContext *ctx, VbPciList *ret);
const VbPciDevice *vb_pci_list_find(const VbPciList *l, const VbPciAddress *a);

/* Resources: BARs as listed in the device's "resource" file (start, end inclusive; flags). */
typedef struct VbPciResource {
        uint64_t start, end, flags;
} VbPciResource;
#define VB_PCI_MAX_RESOURCES 17

/* The memory BARs in the text of a device's "resource" file (lines "0x%016llx 0x%016llx
 * 0x%016llx": start, end, flags; as vb_sysfs_read() returns it): of the first
 * VB_PCI_MAX_RESOURCES lines that parse, those with IORESOURCE_MEM set and end > start, in an
 * array of VB_PCI_MAX_RESOURCES entries the caller frees. No I/O. Returns 0 or -ENOMEM. */
int vb_pci_resources_parse(const char *text, VbPciResource **ret, size_t *ret_n);
