/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the sysfs attribute and link readers of lib/sysfs.c and lib/pci.c. The
 * input is split at its first NUL byte: the first part is an attribute's content, read by
 * vb_sysfs_read() and vb_sysfs_read_u32(); the rest (if any, and short enough to be a link) is
 * the target of a device's driver and physfn links, read by vb_sysfs_readlink_basename() and
 * vb_pci_physfn(). Oracles: a text read has no trailing newline and is a prefix of the file; a
 * number accepted is the one the text holds and fits 32 bits; a link's basename is a non-empty
 * last component of its target; a physfn read is a canonical PCI address.
 */
#include <limits.h>
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
        _cleanup_free_ char *text = NULL, *link = NULL;
        const uint8_t *nul;
        size_t len;
        uint32_t v;
        int r;

        if (size > 8192)
                return 0;
        nul = memchr(data, '\0', size);
        len = nul ? (size_t) (nul - data) : size;
        fuzz_tree_write("sys/fuzz-attribute", data, len);

        r = vb_sysfs_read(ctx, "fuzz-attribute", &text);
        if (r == -ENOMEM)
                return 0;
        if (r < 0)
                abort();
        {
                size_t n = strlen(text);
                if ((n > 0 && text[n - 1] == '\n') || n > len || memcmp(text, data, n) != 0)
                        abort();
        }
        r = vb_sysfs_read_u32(ctx, "fuzz-attribute", &v);
        if (r >= 0 && (strtoull(text, NULL, 0) != v || text[0] == '-'))
                abort();
        if (r < 0 && r != -EINVAL && r != -ENOMEM)
                abort();

        if (nul && size - len - 1 > 0 && size - len - 1 < PATH_MAX) {
                _cleanup_free_ char *target = strndup((const char *) nul + 1, size - len - 1);
                VbPciAddress a, pf;

                if (!target || strlen(target) == 0)
                        return 0;
                fuzz_tree_symlink("sys/bus/pci/devices/" DEV "/driver", target);
                fuzz_tree_symlink("sys/bus/pci/devices/" DEV "/physfn", target);
                r = vb_sysfs_readlink_basename(ctx, "bus/pci/devices/" DEV "/driver", &link);
                if (r >= 0) {
                        size_t n = strlen(target), m = strlen(link);
                        while (n > 1 && target[n - 1] == '/')
                                n--;
                        if (m == 0 || strchr(link, '/') || m > n || memcmp(target + n - m, link, m) != 0)
                                abort();
                } else if (r != -EINVAL && r != -ENOMEM)
                        abort();
                if (vb_pci_address_parse(DEV, &a) < 0)
                        abort();
                r = vb_pci_physfn(ctx, &a, &pf);
                if (r >= 0) {
                        VbPciAddress again;
                        if (vb_pci_address_parse(VB_PCI_ADDRESS_STR(&pf), &again) < 0 ||
                            !vb_pci_address_equal(&pf, &again))
                                abort();
                }
                /* Put the tree back as it was. */
                fuzz_tree_symlink("sys/bus/pci/devices/" DEV "/driver", "../../../../bus/pci/drivers/bochs-drm");
        }
        return 0;
}
