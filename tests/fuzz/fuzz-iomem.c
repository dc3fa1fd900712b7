/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: /proc/iomem by the pure parser vb_console_iomem_parse() that
 * vb_console_read() calls on the file's text (cut at its first NUL byte, fuzz-text.h): the boot
 * framebuffer's memory ranges (BOOTFB, efifb, simpledrm, …). Oracle: every range kept is named
 * by one of the framebuffer names, with start <= end and not the all-zero range unprivileged
 * readers see, and there are no more of them than lines.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "console.h"
#include "fuzz-text.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
        "BOOTFB", "efifb", "simplefb", "simpledrm", "vesafb", "simple-framebuffer", "efi-framebuffer",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;
        VbMemoryRange *ranges = NULL;
        size_t n = 0, lines = 1;
        int r;

        if (size > 65536)
                return 0;
        text = fuzz_text_as_read(data, size);
        if (!text)
                return 0;
        for (const char *p = text; *p; p++)
                lines += *p == '\n';

        r = vb_console_iomem_parse(text, &ranges, &n);
        if (r == -ENOMEM)
                return 0;
        if (r < 0 || n > lines)
                abort();
        for (size_t i = 0; i < n; i++) {
                const VbMemoryRange *m = &ranges[i];
                bool known = false;

                for (size_t k = 0; m->name && k < ELEMENTSOF(names); k++)
                        known = known || streq(m->name, names[k]);
                if (!known || m->start > m->end || (m->start == 0 && m->end == 0))
                        abort();
        }
        vb_memory_ranges_free(ranges, n);
        return 0;
}
