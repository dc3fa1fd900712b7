/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a PCI device's uevent file (PCI_ID=, PCI_CLASS=, DRIVER=), read by
 * vb_pci_device_read_identity() on the desktop tree's GPU. Oracle: when the file lacks PCI_ID=
 * or PCI_CLASS= (up to its first NUL byte, where reading stops), the identity comes from the
 * vendor, device and class attributes and the driver link instead; a driver name read is
 * never empty and holds no newline.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-tree.h"
#include "macro.h"
#include "pci.h"
#include "sysfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEV "0000:01:00.0"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        VbContext *ctx = fuzz_tree_context("desktop");
        _cleanup_(vb_pci_device_done) VbPciDevice d = {};
        _cleanup_free_ char *text = NULL;
        VbPciAddress a;
        uint32_t vendor, device, class;
        int r;

        if (size > 65536)
                return 0;
        if (vb_pci_address_parse(DEV, &a) < 0 ||
            vb_sysfs_read_u32(ctx, "bus/pci/devices/" DEV "/vendor", &vendor) < 0 ||
            vb_sysfs_read_u32(ctx, "bus/pci/devices/" DEV "/device", &device) < 0 ||
            vb_sysfs_read_u32(ctx, "bus/pci/devices/" DEV "/class", &class) < 0)
                abort();
        fuzz_tree_write("sys/bus/pci/devices/" DEV "/uevent", data, size);
        text = strndup((const char *) data, size);
        if (!text)
                return 0;

        r = vb_pci_device_read_identity(ctx, &a, &d);
        if (r == -ENOMEM)
                return 0;
        if (r < 0)
                abort(); /* the attributes are always there to fall back to */
        if (!vb_pci_address_equal(&d.address, &a))
                abort();
        if (d.driver && (!d.driver[0] || strchr(d.driver, '\n')))
                abort();
        if (!strstr(text, "PCI_ID=") || !strstr(text, "PCI_CLASS=")) {
                if (d.vendor != vendor || d.device != device || d.class != (class & 0xffffff))
                        abort();
                if (!streq_ptr(d.driver, "bochs-drm"))
                        abort();
        }
        return 0;
}
