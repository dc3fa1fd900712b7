/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <fcntl.h>
#include <stdio.h>

#include "macro.h"
#include "pci.h"
#include "sysfs-link.h"
#include "sysfs.h"

#define PCI_HEADER_TYPE_OFFSET 0x0e
#define IORESOURCE_MEM 0x00000200

void vb_pci_device_done(VbPciDevice *d) {
        if (!d)
                return;
        free(d->driver);
        free(d->driver_override);
        free(d->resources);
        *d = (VbPciDevice) {};
}

int vb_pci_device_path(const VbPciAddress *a, const char *attr, char *buf, size_t size) {
        static const char prefix[] = VB_PCI_DEVICES_PATH "/";
        char addr[VB_PCI_ADDRESS_MAX];
        size_t n = sizeof(prefix) - 1, l, m = attr ? strlen(attr) : 0;

        vb_pci_address_format(a, addr);
        l = strlen(addr);
        if (n + l + 1 + m + 1 > size)
                return -ENAMETOOLONG;
        memcpy(buf, prefix, n);
        memcpy(buf + n, addr, l);
        n += l;
        if (attr) {
                buf[n++] = '/';
                memcpy(buf + n, attr, m);
                n += m;
        }
        buf[n] = '\0';
        return 0;
}

#define DEVICE_PATH(a, attr) VB_PCI_DEVICE_PATH(a, attr)

static int read_header_type(VbContext *ctx, const VbPciAddress *a, uint8_t *ret) {
        _cleanup_close_ int fd = -EBADF;
        uint8_t b[64];
        ssize_t n;

        fd = openat(vb_context_sysfs_fd(ctx), DEVICE_PATH(a, "config"), O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        /* The 64 bytes of the header, what anyone may read: a dump keeps those, and the whole
         * space only of the devices that explain a group (vb_pci_config_read()). */
        n = pread(fd, b, sizeof(b), 0);
        if (n < 0)
                return negative_errno();
        vb_context_record(ctx, VB_RECORD_SYSFS, VB_RECORD_READ, DEVICE_PATH(a, "config"), b, (size_t) n);
        if (n <= PCI_HEADER_TYPE_OFFSET)
                return -ENODATA;
        *ret = b[PCI_HEADER_TYPE_OFFSET] & 0x7f;
        return 0;
}

int vb_pci_resources_parse(const char *text, VbPciResource **ret, size_t *ret_n) {
        _cleanup_free_ char *s = NULL;
        _cleanup_free_ VbPciResource *bars = NULL;
        size_t n = 0, m = 0;
        char *p, *saveptr = NULL;

        assert(text);
        s = strdup(text);
        bars = calloc(VB_PCI_MAX_RESOURCES, sizeof(VbPciResource));
        if (!s || !bars)
                return -ENOMEM;
        for (p = strtok_r(s, "\n", &saveptr); p && n < VB_PCI_MAX_RESOURCES; p = strtok_r(NULL, "\n", &saveptr)) {
                /* "0x%016llx 0x%016llx 0x%016llx": start, end, flags */
                uint64_t v[3];
                char *q = p;
                size_t k;

                for (k = 0; k < 3; k++) {
                        char *end;
                        errno = 0;
                        v[k] = strtoull(q, &end, 16);
                        if (errno || end == q || (*end != ' ' && *end != '\0'))
                                break;
                        q = end;
                }
                if (k < 3)
                        continue;
                n++; /* a line that parses, a memory BAR or not: the first VB_PCI_MAX_RESOURCES count */
                if ((v[2] & IORESOURCE_MEM) && v[1] > v[0])
                        bars[m++] = (VbPciResource) { .start = v[0], .end = v[1], .flags = v[2] };
        }
        *ret = TAKE_PTR(bars);
        *ret_n = m;
        return 0;
}

int vb_pci_config_read(VbContext *ctx, const VbPciAddress *a, VbPciConfig *ret) {
        _cleanup_close_ int fd = -EBADF;
        uint8_t buf[4096];
        size_t n = 0;

        fd = openat(vb_context_sysfs_fd(ctx), DEVICE_PATH(a, "config"), O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? -ENODEV : negative_errno();
        while (n < sizeof(buf)) {
                ssize_t k = pread(fd, buf + n, sizeof(buf) - n, (off_t) n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        vb_context_record(ctx, VB_RECORD_SYSFS, VB_RECORD_READ, DEVICE_PATH(a, "config"), buf, n);
        return vb_pci_config_parse(buf, n, ret);
}

static int read_memory_bars(VbContext *ctx, VbPciDevice *d) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = vb_sysfs_read(ctx, DEVICE_PATH(&d->address, "resource"), &s);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        return vb_pci_resources_parse(s, &d->resources, &d->n_resources);
}

static int hex_digits(const char *s, size_t min, size_t max, uint32_t *ret) {
        uint32_t v = 0;
        size_t n = 0;

        for (; s[n]; n++) {
                int d = vb_hex_digit(s[n]);
                if (d < 0 || n >= max)
                        return -EINVAL;
                v = v << 4 | (uint32_t) d;
        }
        if (n < min)
                return -EINVAL;
        *ret = v;
        return 0;
}

int vb_pci_id_parse(const char *s, uint16_t *ret_vendor, uint16_t *ret_device) {
        char vendor[5];
        uint32_t v, d;

        if (!s || strlen(s) != 9 || s[4] != ':')
                return -EINVAL;
        memcpy(vendor, s, 4);
        vendor[4] = '\0';
        if (hex_digits(vendor, 4, 4, &v) < 0 || hex_digits(s + 5, 4, 4, &d) < 0)
                return -EINVAL;
        *ret_vendor = (uint16_t) v;
        *ret_device = (uint16_t) d;
        return 0;
}

int vb_pci_class_parse(const char *s, uint32_t *ret) {
        return s ? hex_digits(s, 1, 6, ret) : -EINVAL;
}

int vb_pci_uevent_parse(const char *text, uint16_t *ret_vendor, uint16_t *ret_device, uint32_t *ret_class,
                        char **ret_driver) {
        _cleanup_free_ char *s = NULL, *driver = NULL;
        bool have_id = false, have_class = false;
        uint16_t vendor = 0, device = 0;
        uint32_t class = 0;
        char *p, *saveptr = NULL;

        assert(text);
        s = strdup(text);
        if (!s)
                return -ENOMEM;
        for (p = strtok_r(s, "\n", &saveptr); p; p = strtok_r(NULL, "\n", &saveptr)) {
                const char *v;

                if ((v = startswith(p, "PCI_ID="))) {
                        if (vb_pci_id_parse(v, &vendor, &device) < 0)
                                return -ENODATA;
                        have_id = true;
                } else if ((v = startswith(p, "PCI_CLASS="))) {
                        if (vb_pci_class_parse(v, &class) < 0)
                                return -ENODATA;
                        have_class = true;
                } else if ((v = startswith(p, "DRIVER=")) && *v) {
                        free(driver);
                        driver = strdup(v);
                        if (!driver)
                                return -ENOMEM;
                }
        }
        if (!have_id || !have_class)
                return -ENODATA;
        *ret_vendor = vendor;
        *ret_device = device;
        *ret_class = class;
        *ret_driver = TAKE_PTR(driver);
        return 0;
}

/* The identity and driver of a device from its uevent file: one read instead of the vendor,
 * device and class attributes and the driver link. -ENODATA if the file lacks an identity field,
 * so the caller can fall back to the attributes. */
static int read_uevent(VbContext *ctx, const VbPciAddress *a, VbPciDevice *d) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = vb_sysfs_read(ctx, DEVICE_PATH(a, "uevent"), &s);
        if (r < 0)
                return r;
        return vb_pci_uevent_parse(s, &d->vendor, &d->device, &d->class, &d->driver);
}

/* The same from the attributes, for trees whose uevent files say less. */
static int read_attributes(VbContext *ctx, const VbPciAddress *a, VbPciDevice *d) {
        uint32_t v;
        int r;

        r = vb_sysfs_read_u32(ctx, DEVICE_PATH(a, "vendor"), &v);
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        d->vendor = (uint16_t) v;
        r = vb_sysfs_read_u32(ctx, DEVICE_PATH(a, "device"), &v);
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        d->device = (uint16_t) v;
        r = vb_sysfs_read_u32(ctx, DEVICE_PATH(a, "class"), &v);
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        d->class = v & 0xffffff;

        r = vb_sysfs_readlink_basename(ctx, DEVICE_PATH(a, "driver"), &d->driver);
        if (r < 0 && r != -ENOENT)
                return r;
        return 0;
}

/* Identity, header type and driver: what telling a bridge and the current driver needs. */
static int read_identity(VbContext *ctx, const VbPciAddress *a, VbPciDevice *d) {
        int r;

        /* Every sysfs read costs a path walk and a few syscalls, which is most of a pass on a
         * slow machine: read as few files as tell the whole story. */
        r = read_uevent(ctx, a, d);
        if (r == -ENOENT && !vb_sysfs_exists(ctx, DEVICE_PATH(a, NULL)))
                return -ENODEV;
        if (r == -ENOENT || r == -ENODATA) {
                vb_debug(ctx, "%s: no identity in uevent, reading the attributes", VB_PCI_ADDRESS_STR(a));
                free(d->driver);
                d->driver = NULL;
                r = read_attributes(ctx, a, d);
        }
        if (r < 0)
                return r;

        /* Base class 0x06 is a bridge whatever its header says; others need the header type. */
        if ((d->class >> 16) == 0x06) {
                d->header_type = (d->class >> 8) == 0x0604 ? 1 : (d->class >> 8) == 0x0607 ? 2 : 0;
                return 0;
        }
        r = read_header_type(ctx, a, &d->header_type);
        if (r < 0) {
                vb_debug(ctx, "%s: cannot read the header type, deriving it from the class: %s", VB_PCI_ADDRESS_STR(a),
                         strerror(-r));
                d->header_type = 0;
        }
        return 0;
}

int vb_pci_device_read_identity(VbContext *ctx, const VbPciAddress *a, VbPciDevice *ret) {
        _cleanup_(vb_pci_device_done) VbPciDevice d = { .address = *a, .iommu_group = -1 };
        int r;

        r = read_identity(ctx, a, &d);
        if (r < 0)
                return r;
        *ret = d;
        d = (VbPciDevice) {};
        return 0;
}

int vb_pci_device_read(VbContext *ctx, const VbPciAddress *a, VbPciDevice *ret) {
        _cleanup_(vb_pci_device_done) VbPciDevice d = { .address = *a, .iommu_group = -1 };
        _cleanup_free_ char *override = NULL;
        uint32_t v;
        int r;

        r = read_identity(ctx, a, &d);
        if (r < 0)
                return r;

        /* boot_vga exists only on display devices. */
        if (vb_pci_device_is_display(&d) && vb_sysfs_read_u32(ctx, DEVICE_PATH(a, "boot_vga"), &v) >= 0)
                d.boot_vga = v != 0;

        r = vb_pci_iommu_group(ctx, a, &d.iommu_group);
        if (r < 0 && r != -ENOENT && r != -EBADMSG)
                return r;

        r = vb_sysfs_read(ctx, DEVICE_PATH(a, "driver_override"), &override);
        if (r >= 0 && !streq(override, "(null)") && override[0] != '\0')
                d.driver_override = TAKE_PTR(override);
        else if (r < 0 && r != -ENOENT)
                return r;

        if (!vb_pci_device_is_bridge(&d)) {
                r = vb_pci_sriov_read(ctx, a, &d.sriov);
                if (r >= 0)
                        d.has_sriov = true;
                else if (r != -EOPNOTSUPP && r != -ENOENT)
                        vb_debug(ctx, "%s: cannot read its SR-IOV attributes, ignoring them: %s", VB_PCI_ADDRESS_STR(a),
                                 strerror(-r));
                r = vb_pci_physfn(ctx, a, &d.physfn);
                if (r >= 0)
                        d.is_virtfn = true;
                else if (r != -ENOENT)
                        return r;
        }

        if (vb_pci_device_is_display(&d)) {
                r = read_memory_bars(ctx, &d);
                if (r < 0)
                        return r;
        }

        *ret = d;
        d = (VbPciDevice) {};
        return 0;
}

static const char *const sriov_attr_table[_VB_SRIOV_ATTR_MAX] = {
        [VB_SRIOV_ATTR_TOTALVFS] = "sriov_totalvfs",   [VB_SRIOV_ATTR_NUMVFS] = "sriov_numvfs",
        [VB_SRIOV_ATTR_OFFSET] = "sriov_offset",       [VB_SRIOV_ATTR_STRIDE] = "sriov_stride",
        [VB_SRIOV_ATTR_VF_DEVICE] = "sriov_vf_device", [VB_SRIOV_ATTR_DRIVERS_AUTOPROBE] = "sriov_drivers_autoprobe",
};

const char *vb_pci_sriov_attr_to_string(VbSriovAttr a) {
        return a >= 0 && a < _VB_SRIOV_ATTR_MAX ? sriov_attr_table[a] : NULL;
}

/* One attribute's value into S: -EINVAL for a count that is not a 32-bit number, -EBADMSG for a
 * VF device ID that is not a 16-bit hex number. */
static int sriov_parse_attr(VbSriovAttr a, const char *text, VbSriov *s) {
        uint32_t v;
        int r;

        if (a == VB_SRIOV_ATTR_VF_DEVICE) {
                /* sriov_vf_device is hex without "0x" ("10ca"). */
                unsigned long d;
                char *end;

                errno = 0;
                d = strtoul(text, &end, 16);
                if (errno != 0 || end == text || *end != '\0' || d > 0xffff)
                        return -EBADMSG;
                s->vf_device = (uint16_t) d;
                return 0;
        }
        r = vb_sysfs_parse_u32(text, &v);
        if (r < 0)
                return r;
        if (a == VB_SRIOV_ATTR_TOTALVFS)
                s->total = v;
        else if (a == VB_SRIOV_ATTR_NUMVFS)
                s->numvfs = v;
        else if (a == VB_SRIOV_ATTR_OFFSET)
                s->offset = v;
        else if (a == VB_SRIOV_ATTR_STRIDE)
                s->stride = v;
        else
                s->autoprobe = v != 0;
        return 0;
}

int vb_pci_sriov_parse(const char *const text[static _VB_SRIOV_ATTR_MAX], VbSriov *ret) {
        VbSriov s = {};
        int r;

        for (VbSriovAttr a = 0; a < _VB_SRIOV_ATTR_MAX; a++) {
                assert(text[a]);
                r = sriov_parse_attr(a, text[a], &s);
                if (r < 0)
                        return r;
        }
        *ret = s;
        return 0;
}

int vb_pci_sriov_read(VbContext *ctx, const VbPciAddress *pf, VbSriov *ret) {
        VbSriov s = {};
        int r;

        /* One attribute after the other, in vb_pci_sriov_parse()'s order: the first bad value
         * stops before the next file is read. */
        for (VbSriovAttr a = 0; a < _VB_SRIOV_ATTR_MAX; a++) {
                _cleanup_free_ char *t = NULL;
                const char *path = VB_PCI_DEVICE_PATH(pf, sriov_attr_table[a]);

                r = path ? vb_sysfs_read(ctx, path, &t) : -ENAMETOOLONG;
                if (r == -ENOENT && a == VB_SRIOV_ATTR_TOTALVFS)
                        return vb_sysfs_exists(ctx, VB_PCI_DEVICE_PATH(pf, NULL)) ? -EOPNOTSUPP : -ENODEV;
                if (r < 0)
                        return r;
                r = sriov_parse_attr(a, t, &s);
                if (r < 0)
                        return r;
        }
        *ret = s;
        return 0;
}

int vb_pci_physfn_parse(const char *target, VbPciAddress *ret) {
        _cleanup_free_ char *name = NULL;
        int r;

        r = vb_sysfs_link_basename(target, &name);
        if (r < 0)
                return r;
        return vb_pci_address_parse(name, ret) < 0 ? -EBADMSG : 0;
}

int vb_pci_physfn(VbContext *ctx, const VbPciAddress *a, VbPciAddress *ret) {
        _cleanup_free_ char *target = NULL;
        const char *path = VB_PCI_DEVICE_PATH(a, "physfn");
        int r;

        if (!path)
                return -ENAMETOOLONG;
        r = vb_sysfs_readlink(ctx, path, &target);
        if (r < 0)
                return r;
        return vb_pci_physfn_parse(target, ret);
}

int vb_pci_iommu_group(VbContext *ctx, const VbPciAddress *a, int *ret) {
        _cleanup_free_ char *group = NULL;
        const char *path = VB_PCI_DEVICE_PATH(a, "iommu_group");
        char *end;
        long g;
        int r;

        if (!path)
                return -ENAMETOOLONG;
        r = vb_sysfs_readlink_basename(ctx, path, &group);
        if (r < 0)
                return r;
        errno = 0;
        g = strtol(group, &end, 10);
        if (errno != 0 || end == group || *end != '\0' || g < 0 || g > INT32_MAX)
                return -EBADMSG;
        *ret = (int) g;
        return 0;
}

bool vb_pci_device_is_bridge(const VbPciDevice *d) {
        /* Header type 1 (PCI-PCI) and 2 (CardBus) are bridges; so is every device of base class
         * 0x06 (host, ISA/LPC, PCI and other bridges): none of them is ever handed to a guest. */
        return d->header_type == 1 || d->header_type == 2 || (d->class >> 16) == 0x06;
}

bool vb_pci_device_is_display(const VbPciDevice *d) {
        return (d->class >> 16) == 0x03;
}

void vb_pci_list_done(VbPciList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                vb_pci_device_done(&l->devices[i]);
        free(l->devices);
        *l = (VbPciList) {};
}

static int cmp_device(const void *a, const void *b) {
        const VbPciDevice *x = a, *y = b;
        return vb_pci_address_compare(&x->address, &y->address);
}

int vb_pci_enumerate(VbContext *ctx, VbPciList *ret) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_(vb_pci_list_done) VbPciList l = {};
        size_t n = 0;
        int r;

        r = vb_sysfs_list(ctx, VB_PCI_DEVICES_PATH, &names);
        if (r == -ENOENT) {
                *ret = (VbPciList) {};
                return 0;
        }
        if (r < 0)
                return r;
        n = strv_length(names);
        l.devices = calloc(n ?: 1, sizeof(VbPciDevice));
        if (!l.devices)
                return -ENOMEM;

        for (char **i = names; *i; i++) {
                VbPciAddress a;

                if (vb_pci_address_parse(*i, &a) < 0) {
                        vb_debug(ctx, "ignoring unexpected entry %s in " VB_PCI_DEVICES_PATH, *i);
                        continue;
                }
                r = vb_pci_device_read(ctx, &a, &l.devices[l.n]);
                if (r == -ENODEV) /* gone while we looked */
                        continue;
                if (r < 0)
                        return r;
                l.n++;
        }
        qsort(l.devices, l.n, sizeof(VbPciDevice), cmp_device);

        *ret = l;
        l = (VbPciList) {};
        return 0;
}

const VbPciDevice *vb_pci_list_find(const VbPciList *l, const VbPciAddress *a) {
        return VB_PCI_ADDRESS_BSEARCH(l->devices, l->n, address, a);
}

bool vb_pci_device_behind_vmd(VbContext *ctx, const VbPciAddress *a, VbPciAddress *ret_host) {
        _cleanup_free_ char *link = NULL;
        const char *path = VB_PCI_DEVICE_PATH(a, NULL);

        if (!path || vb_sysfs_readlink(ctx, path, &link) < 0)
                return false;
        return vb_sysfs_link_bus_host(link, ret_host);
}
