/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a PCI device's "resource" file (lines of "0x%016llx 0x%016llx 0x%016llx":
 * start, end, flags) by the pure parser vb_pci_resources_parse() that vb_pci_device_read() calls
 * on the file's text (cut at its first NUL byte, fuzz-text.h). Oracle: at most
 * VB_PCI_MAX_RESOURCES memory BARs come out, no more than the text has lines, each with the
 * memory flag and end > start.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz-text.h"
#include "macro.h"
#include "pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RESOURCE_MEM 0x00000200

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ VbPciResource *bars = NULL;
        size_t n = 0, lines = 1;
        int r;

        if (size > 65536)
                return 0;
        text = fuzz_text_as_read(data, size);
        if (!text)
                return 0;
        for (const char *p = text; *p; p++)
                lines += *p == '\n';

        r = vb_pci_resources_parse(text, &bars, &n);
        if (r == -ENOMEM)
                return 0;
        if (r < 0 || !bars)
                abort(); /* a bad resource file is no reason to lose the device */
        if (n > VB_PCI_MAX_RESOURCES || n > lines)
                abort();
        for (size_t i = 0; i < n; i++)
                if (!(bars[i].flags & RESOURCE_MEM) || bars[i].end <= bars[i].start)
                        abort();
        return 0;
}
