/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: an SR-IOV PF's sriov_* attributes, read by vb_pci_sriov_read() on the sriov
 * tree's first 82576 port. The input is split at NUL bytes into the values of sriov_totalvfs,
 * sriov_numvfs, sriov_offset, sriov_stride, sriov_vf_device and sriov_drivers_autoprobe, in this
 * order; attributes the input does not reach keep the tree's values. Oracle: a value read is
 * the number its file holds (decimal or 0x hex for the counts, hex for the VF device ID).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-tree.h"
#include "macro.h"
#include "pci.h"
#include "sysfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PF "0000:03:00.0"

static const char *const attrs[] = {
        "sriov_totalvfs", "sriov_numvfs", "sriov_offset", "sriov_stride", "sriov_vf_device", "sriov_drivers_autoprobe",
};

/* The number the reader must have found in TEXT when it accepted it. */
static unsigned long long number(const char *text, int base) {
        return strtoull(text, NULL, base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char *original[ELEMENTSOF(attrs)];
        VbContext *ctx = fuzz_tree_context("sriov");
        char *values[ELEMENTSOF(attrs)] = {};
        const uint8_t *p = data, *end = data + size;
        VbPciAddress pf;
        VbSriov s = {};
        int r;

        if (size > 4096)
                return 0;
        if (vb_pci_address_parse(PF, &pf) < 0)
                abort();
        if (!original[0])
                for (size_t k = 0; k < ELEMENTSOF(attrs); k++) {
                        char path[128];
                        snprintf(path, sizeof(path), "bus/pci/devices/" PF "/%s", attrs[k]);
                        if (vb_sysfs_read(ctx, path, &original[k]) < 0)
                                abort();
                }
        for (size_t k = 0; k < ELEMENTSOF(attrs); k++) {
                char path[128];

                if (p <= end && (k == 0 || p < end)) {
                        const uint8_t *nul = memchr(p, '\0', (size_t) (end - p));
                        size_t len = nul ? (size_t) (nul - p) : (size_t) (end - p);

                        values[k] = strndup((const char *) p, len);
                        if (!values[k])
                                abort();
                        p += len + 1;
                }
                snprintf(path, sizeof(path), "sys/bus/pci/devices/" PF "/%s", attrs[k]);
                if (values[k])
                        fuzz_tree_write(path, values[k], strlen(values[k]));
                else
                        fuzz_tree_write(path, original[k], strlen(original[k]));
        }

        r = vb_pci_sriov_read(ctx, &pf, &s);
        if (r >= 0) {
                /* Every value accepted is the number its file holds. */
                if (number(values[0] ?: original[0], 0) != s.total || number(values[1] ?: original[1], 0) != s.numvfs ||
                    number(values[2] ?: original[2], 0) != s.offset ||
                    number(values[3] ?: original[3], 0) != s.stride ||
                    number(values[4] ?: original[4], 16) != s.vf_device ||
                    (number(values[5] ?: original[5], 0) != 0) != s.autoprobe)
                        abort();
        } else if (r != -EINVAL && r != -EBADMSG && r != -ENOMEM)
                abort();
        for (size_t k = 0; k < ELEMENTSOF(attrs); k++)
                free(values[k]);
        return 0;
}
