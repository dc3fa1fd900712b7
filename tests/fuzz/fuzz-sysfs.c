/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the pure parts of the sysfs attribute and link readers of lib/sysfs.c and
 * lib/pci.c. The input is split at its first NUL byte: the first part is an attribute's content,
 * taken as vb_sysfs_read() returns it (trailing newlines dropped, fuzz-text.h) and parsed by
 * vb_sysfs_parse_u32() (what vb_sysfs_read_u32() does after the read); the rest (if any, and
 * short enough to be a link) is the target of a device's driver and physfn links, taken apart by
 * vb_sysfs_link_basename() (vb_sysfs_readlink_basename() after the readlink) and
 * vb_pci_physfn_parse() (vb_pci_physfn()). Oracles: a number accepted is the one the text holds
 * and fits 32 bits; a link's basename is a non-empty last component of its target; a physfn
 * read is a canonical PCI address. The reads themselves (trailing newline, a NUL in a file,
 * trailing slashes of a link): tests/test-pci.c, sysfs_readers_*.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-text.h"
#include "macro.h"
#include "pci.h"
#include "sysfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL, *link = NULL, *target = NULL;
        const uint8_t *nul;
        size_t len;
        uint32_t v = 7;
        int r;

        if (size > 8192)
                return 0;
        nul = memchr(data, '\0', size);
        len = nul ? (size_t) (nul - data) : size;
        text = fuzz_text_as_read(data, len);
        if (!text)
                return 0;

        r = vb_sysfs_parse_u32(text, &v);
        if (r >= 0 && (strtoull(text, NULL, 0) != v || text[0] == '-' || !text[0]))
                abort();
        if (r < 0 && (r != -EINVAL || v != 7))
                abort();

        if (nul && size - len - 1 > 0 && size - len - 1 < PATH_MAX) {
                VbPciAddress pf, again;

                /* A link's target has no NUL: it ends at the next one. */
                target = strndup((const char *) nul + 1, size - len - 1);
                if (!target || strlen(target) == 0)
                        return 0;
                r = vb_sysfs_link_basename(target, &link);
                if (r >= 0) {
                        size_t n = strlen(target), m = strlen(link);
                        while (n > 1 && target[n - 1] == '/')
                                n--;
                        if (m == 0 || strchr(link, '/') || m > n || memcmp(target + n - m, link, m) != 0 ||
                            (m < n && target[n - m - 1] != '/'))
                                abort();
                } else if (r != -EINVAL && r != -ENOMEM)
                        abort();
                r = vb_pci_physfn_parse(target, &pf);
                if (r >= 0) {
                        if (vb_pci_address_parse(VB_PCI_ADDRESS_STR(&pf), &again) < 0 ||
                            !vb_pci_address_equal(&pf, &again))
                                abort();
                } else if (r != -EINVAL && r != -EBADMSG && r != -ENOMEM)
                        abort();
        }
        return 0;
}
