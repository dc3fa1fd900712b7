/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a PCI device's "resource" file (lines of "0x%016llx 0x%016llx 0x%016llx":
 * start, end, flags), read by vb_pci_device_read() on the desktop tree's GPU. Oracle: at most
 * VB_PCI_MAX_RESOURCES memory BARs come out, each with the memory flag and end > start.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz-tree.h"
#include "macro.h"
#include "pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEV "0000:01:00.0"
#define RESOURCE_MEM 0x00000200

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        VbContext *ctx = fuzz_tree_context("desktop");
        _cleanup_(vb_pci_device_done) VbPciDevice d = {};
        VbPciAddress a;
        int r;

        if (size > 65536)
                return 0;
        if (vb_pci_address_parse(DEV, &a) < 0)
                abort();
        fuzz_tree_write("sys/bus/pci/devices/" DEV "/resource", data, size);

        r = vb_pci_device_read(ctx, &a, &d);
        if (r == -ENOMEM)
                return 0;
        if (r < 0)
                abort(); /* a bad resource file is no reason to lose the device */
        if (d.n_resources > VB_PCI_MAX_RESOURCES)
                abort();
        for (size_t i = 0; i < d.n_resources; i++)
                if (!(d.resources[i].flags & RESOURCE_MEM) || d.resources[i].end <= d.resources[i].start)
                        abort();
        return 0;
}
