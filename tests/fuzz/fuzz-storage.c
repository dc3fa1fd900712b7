/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: /proc/self/mountinfo and /proc/swaps, read by vb_interlock_read_storage()
 * on the in-use tree (a SATA controller holding the root file system and swap). The input is
 * split at its first NUL byte: mountinfo before it, swaps after it (no NUL: no swaps file).
 * Oracle: every hold found names a PCI address and says why, in at most VB_HOLD_TEXTS_MAX texts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-tree.h"
#include "holds.h"
#include "interlock-storage.h"
#include "macro.h"
#include "pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        VbContext *ctx = fuzz_tree_context("in-use");
        _cleanup_(vb_holds_done) VbHolds h = {};
        const uint8_t *nul;
        size_t len;
        int r;

        if (size > 65536)
                return 0;
        nul = memchr(data, '\0', size);
        len = nul ? (size_t) (nul - data) : size;
        fuzz_tree_write("proc/self/mountinfo", data, len);
        if (nul)
                fuzz_tree_write("proc/swaps", nul + 1, size - len - 1);
        else
                fuzz_tree_write("proc/swaps", "", 0);

        r = vb_interlock_read_storage(ctx, &h);
        if (r == -ENOMEM)
                return 0;
        if (r < 0) {
                fprintf(stderr, "vb_interlock_read_storage: %s\n", strerror(-r));
                abort();
        }
        for (size_t i = 0; i < h.n; i++) {
                const VbHold *hold = &h.holds[i];
                VbPciAddress again;

                if (vb_pci_address_parse(VB_PCI_ADDRESS_STR(&hold->address), &again) < 0 ||
                    !vb_pci_address_equal(&again, &hold->address))
                        abort();
                if (hold->n_texts == 0 || hold->n_texts > VB_HOLD_TEXTS_MAX || !hold->texts[0] || !hold->texts[0][0] ||
                    hold->texts[hold->n_texts])
                        abort();
        }
        return 0;
}
