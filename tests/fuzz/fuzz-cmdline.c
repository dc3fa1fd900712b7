/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the kernel command line (vfio-bind=off, vfio-bind.device=SEL[,SEL…]) by
 * vb_config_apply_cmdline() on a default configuration; the input up to its first NUL byte is
 * the line, as /proc/cmdline gives it. Oracles: the return value and the diagnostics agree,
 * each diagnostic is "kernel command line:1: message", and a configuration it left without
 * errors holds at most VB_CONFIG_SELECTORS_MAX selectors, none twice, and a valid driver.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "config.h"
#include "fuzz-selectors.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        _cleanup_free_ char *line = NULL;
        int r;

        if (size > 4096) /* COMMAND_LINE_SIZE is 2048 or 4096 */
                return 0;
        line = strndup((const char *) data, size);
        if (!line || vb_config_new(&c) < 0)
                return 0;

        r = vb_config_apply_cmdline(c, line, &diag);
        if (r == -ENOMEM)
                return 0;
        if ((r < 0) != (diag.n > 0) || (r < 0 && r != -EINVAL))
                abort();
        for (size_t i = 0; i < diag.n; i++)
                if (!strneq(diag.messages[i], VB_CMDLINE_SOURCE ":1: ", strlen(VB_CMDLINE_SOURCE ":1: ")))
                        abort();
        if (!vb_driver_name_is_valid(c->driver) || c->n_selectors > VB_CONFIG_SELECTORS_MAX)
                abort();
        fuzz_check_unique_selectors(c->selectors, c->n_selectors); /* duplicates are errors */
        return 0;
}
