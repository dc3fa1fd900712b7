/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the configuration parser (vb_config_parse_text) and the kernel command line
 * (vb_config_apply_cmdline) on any bytes. Beyond "no crash, no leak, no undefined behaviour" it
 * checks the promise every caller relies on: each diagnostic is "FILE:LINE: message" with a
 * line number that exists, and a configuration that parsed without errors holds only valid
 * values.
 *
 * The input is a file; if it contains a NUL byte, what follows the first NUL is also applied as
 * a kernel command line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "config.h"
#include "fuzz-selectors.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.conf"

static void check_diagnostics(const VbDiagnostics *diag, size_t n_lines) {
        for (size_t i = 0; i < diag->n; i++) {
                const char *m = diag->messages[i], *rest;
                unsigned long line;
                char *end;

                if (strneq(m, NAME ":", strlen(NAME ":")))
                        rest = m + strlen(NAME ":");
                else if (strneq(m, VB_CMDLINE_SOURCE ":1: ", strlen(VB_CMDLINE_SOURCE ":1: ")))
                        continue;
                else
                        abort(); /* not FILE:LINE: */
                line = strtoul(rest, &end, 10);
                if (end == rest || !strneq(end, ": ", 2) || line < 1 || line > n_lines)
                        abort();
        }
}

static void check_config(const VbConfig *c) {
        if (!vb_driver_name_is_valid(c->driver))
                abort();
        if (c->timeout_usec > VB_TIMEOUT_MAX_USEC)
                abort();
        if (c->n_selectors > VB_CONFIG_SELECTORS_MAX || c->n_force > VB_CONFIG_SELECTORS_MAX)
                abort();
        fuzz_check_unique_selectors(c->selectors, c->n_selectors); /* duplicates are errors */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        const char *text = (const char *) data;
        const uint8_t *nul;
        size_t n_lines = 1;
        int r;

        if (size > VB_CONFIG_FILE_SIZE_MAX)
                return 0;
        if (vb_config_new(&c) < 0)
                abort();
        for (size_t i = 0; i < size; i++)
                if (data[i] == '\n')
                        n_lines++;

        r = vb_config_parse_text(c, NAME, text, size, &diag);
        if (r == -ENOMEM)
                return 0;
        if ((r < 0) != (diag.n > 0) || (r < 0 && r != -EINVAL))
                abort();
        check_diagnostics(&diag, n_lines);
        if (r == 0)
                check_config(c);

        nul = memchr(data, '\0', size);
        if (nul) {
                _cleanup_free_ char *cmdline = strndup((const char *) nul + 1, size - (size_t) (nul + 1 - data));
                size_t before = diag.n;

                if (!cmdline)
                        return 0;
                r = vb_config_apply_cmdline(c, cmdline, &diag);
                if (r == -ENOMEM)
                        return 0;
                if ((r < 0) != (diag.n > before))
                        abort();
                check_diagnostics(&diag, n_lines);
        }
        return 0;
}
