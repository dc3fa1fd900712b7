/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: an SR-IOV PF's sriov_* attributes by the pure parser vb_pci_sriov_parse()
 * whose per-attribute steps vb_pci_sriov_read() takes after each read. The input is split at NUL
 * bytes into the values of sriov_totalvfs, sriov_numvfs, sriov_offset, sriov_stride,
 * sriov_vf_device and sriov_drivers_autoprobe, in this order, each as the reader returns a file
 * (trailing newlines dropped, fuzz-text.h); attributes the input does not reach keep the values
 * of the sriov tree's first 82576 port (read once through the library). Oracle: a value read is
 * the number its file holds (decimal or 0x hex for the counts, hex for the VF device ID); a
 * refusal is -EINVAL or -EBADMSG.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-text.h"
#include "fuzz-tree.h"
#include "macro.h"
#include "pci.h"
#include "sysfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PF "0000:03:00.0"

/* The number the parser must have found in TEXT when it accepted it. */
static unsigned long long number(const char *text, int base) {
        return strtoull(text, NULL, base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char *original[_VB_SRIOV_ATTR_MAX];
        char *values[_VB_SRIOV_ATTR_MAX] = {};
        const char *text[_VB_SRIOV_ATTR_MAX];
        const uint8_t *p = data, *end = data + size;
        VbSriov s = {};
        int r;

        if (size > 4096)
                return 0;
        if (!original[0]) {
                VbContext *ctx = fuzz_tree_context("sriov");

                for (VbSriovAttr a = 0; a < _VB_SRIOV_ATTR_MAX; a++) {
                        char path[128];
                        snprintf(path, sizeof(path), "bus/pci/devices/" PF "/%s", vb_pci_sriov_attr_to_string(a));
                        if (vb_sysfs_read(ctx, path, &original[a]) < 0)
                                abort();
                }
        }
        for (size_t k = 0; k < _VB_SRIOV_ATTR_MAX; k++) {
                if (p <= end && (k == 0 || p < end)) {
                        const uint8_t *nul = memchr(p, '\0', (size_t) (end - p));
                        size_t len = nul ? (size_t) (nul - p) : (size_t) (end - p);

                        values[k] = fuzz_text_as_read(p, len);
                        if (!values[k])
                                abort();
                        p += len + 1;
                }
                text[k] = values[k] ?: original[k];
        }

        r = vb_pci_sriov_parse(text, &s);
        if (r >= 0) {
                /* Every value accepted is the number its file holds. */
                if (number(text[VB_SRIOV_ATTR_TOTALVFS], 0) != s.total ||
                    number(text[VB_SRIOV_ATTR_NUMVFS], 0) != s.numvfs ||
                    number(text[VB_SRIOV_ATTR_OFFSET], 0) != s.offset ||
                    number(text[VB_SRIOV_ATTR_STRIDE], 0) != s.stride ||
                    number(text[VB_SRIOV_ATTR_VF_DEVICE], 16) != s.vf_device ||
                    (number(text[VB_SRIOV_ATTR_DRIVERS_AUTOPROBE], 0) != 0) != s.autoprobe)
                        abort();
        } else if (r != -EINVAL && r != -EBADMSG && r != -ENOMEM)
                abort();
        for (size_t k = 0; k < _VB_SRIOV_ATTR_MAX; k++)
                free(values[k]);
        return 0;
}
