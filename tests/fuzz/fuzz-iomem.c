/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: /proc/iomem, read by vb_console_read() on the desktop tree (the boot
 * framebuffer's memory ranges: BOOTFB, efifb, simpledrm, …). Oracle: every range kept is a
 * framebuffer's, named, with start <= end and not the all-zero range unprivileged readers see.
 */
#include <stdint.h>
#include <stdlib.h>

#include "console.h"
#include "fuzz-tree.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        VbContext *ctx = fuzz_tree_context("desktop");
        _cleanup_(vb_console_state_done) VbConsoleState s = {};
        int r;

        if (size > 65536)
                return 0;
        fuzz_tree_write("proc/iomem", data, size);
        r = vb_console_read(ctx, &s);
        if (r == -ENOMEM)
                return 0;
        if (r < 0)
                abort();
        for (size_t i = 0; i < s.n_ranges; i++) {
                const VbMemoryRange *m = &s.ranges[i];
                if (!m->name || !m->name[0] || m->start > m->end || (m->start == 0 && m->end == 0))
                        abort();
        }
        return 0;
}
