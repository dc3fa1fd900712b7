/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>

#include "diagnostics.h"
#include "macro.h"

void vb_diagnostics_clear(VbDiagnostics *d) {
        if (!d)
                return;
        strv_free(d->messages);
        d->messages = NULL;
        d->n = 0;
}

int vb_diagnostics_add(VbDiagnostics *d, const char *file, unsigned line, const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        char *full, **l;
        va_list ap;
        int r;

        assert(d);
        assert(file);

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0) {
                message = NULL;
                return -ENOMEM;
        }

        /* Always FILE:LINE:, so that every message has the same shape; line 0 is the file as a whole. */
        r = asprintf(&full, "%s:%u: %s", file, line, message);
        if (r < 0)
                return -ENOMEM;

        l = realloc(d->messages, (d->n + 2) * sizeof(char *));
        if (!l) {
                free(full);
                return -ENOMEM;
        }
        l[d->n++] = full;
        l[d->n] = NULL;
        d->messages = l;
        return 0;
}
