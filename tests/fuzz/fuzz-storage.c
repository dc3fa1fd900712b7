/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: /proc/self/mountinfo and /proc/swaps by the pure parsers
 * vb_interlock_mountinfo_parse() and vb_interlock_swaps_parse() that vb_interlock_read_storage()
 * calls on the files' texts. The input is split at its first NUL byte: mountinfo before it,
 * swaps after it (no NUL: an empty swaps file), each as the reader returns a file (fuzz-text.h).
 * Oracles: every mount has its four fields, none empty, its st_dev and type without a blank;
 * every swap area has a file and a type; neither outnumbers the lines. Then, for inputs of at
 * most WALK_MAX entries, what they hold on the in-use tree (a SATA controller holding the root
 * file system and swap), through vb_interlock_hold_mounts() and vb_interlock_hold_swaps() (sysfs
 * links only, no file written): every hold found names a PCI address and says why, in at most
 * VB_HOLD_TEXTS_MAX texts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-text.h"
#include "fuzz-tree.h"
#include "holds.h"
#include "interlock-storage.h"
#include "macro.h"
#include "pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each entry walked costs a few sysfs lookups (readlink, a directory list for /dev/mapper/…),
 * several times what parsing it costs: only small inputs are walked (the seeds "small" and
 * "odd" are), so that the target runs at the pure parsers' pace. */
#define WALK_MAX 4

static size_t count_lines(const char *s) {
        size_t n = 1;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static void check_holds(const VbHolds *h) {
        for (size_t i = 0; i < h->n; i++) {
                const VbHold *hold = &h->holds[i];
                VbPciAddress again;

                if (vb_pci_address_parse(VB_PCI_ADDRESS_STR(&hold->address), &again) < 0 ||
                    !vb_pci_address_equal(&again, &hold->address))
                        abort();
                if (hold->n_texts == 0 || hold->n_texts > VB_HOLD_TEXTS_MAX || !hold->texts[0] || !hold->texts[0][0] ||
                    hold->texts[hold->n_texts])
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *mountinfo = NULL, *swaps_text = NULL;
        _cleanup_(vb_holds_done) VbHolds h = {};
        VbMount *mounts = NULL;
        VbSwap *swaps = NULL;
        size_t n_mounts = 0, n_swaps = 0;
        const uint8_t *nul;
        size_t len;
        int r;

        if (size > 65536)
                return 0;
        nul = memchr(data, '\0', size);
        len = nul ? (size_t) (nul - data) : size;
        mountinfo = fuzz_text_as_read(data, len);
        swaps_text = nul ? fuzz_text_as_read(nul + 1, size - len - 1) : strdup("");
        if (!mountinfo || !swaps_text)
                return 0;

        r = vb_interlock_mountinfo_parse(mountinfo, &mounts, &n_mounts);
        if (r == -ENOMEM)
                return 0;
        if (r < 0 || n_mounts > count_lines(mountinfo))
                abort();
        for (size_t i = 0; i < n_mounts; i++) {
                const VbMount *m = &mounts[i];
                if (!m->majmin || !m->mountpoint || !m->fstype || !m->source || !m->majmin[0] || !m->mountpoint[0] ||
                    !m->fstype[0] || !m->source[0] || strpbrk(m->majmin, " \n") || strpbrk(m->fstype, " \n"))
                        abort();
        }
        r = vb_interlock_swaps_parse(swaps_text, &swaps, &n_swaps);
        if (r == -ENOMEM)
                goto finish;
        if (r < 0 || n_swaps > count_lines(swaps_text))
                abort();
        for (size_t i = 0; i < n_swaps; i++)
                if (!swaps[i].file || !swaps[i].type || !swaps[i].file[0] || !swaps[i].type[0] ||
                    strpbrk(swaps[i].type, " \t\n"))
                        abort();

        if (n_mounts + n_swaps <= WALK_MAX) {
                VbContext *ctx = fuzz_tree_context("in-use");

                r = vb_interlock_hold_mounts(ctx, mounts, n_mounts, &h);
                if (r >= 0)
                        r = vb_interlock_hold_swaps(ctx, swaps, n_swaps, mounts, n_mounts, &h);
                if (r < 0 && r != -ENOMEM) {
                        fprintf(stderr, "vb_interlock_hold_*: %s\n", strerror(-r));
                        abort();
                }
                check_holds(&h);
        }
finish:
        vb_mounts_free(mounts, n_mounts);
        vb_swaps_free(swaps, n_swaps);
        return 0;
}
