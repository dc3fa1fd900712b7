/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>

#include "alloc-util.h"
#include "diagnostics.h"
#include "macro.h"

void vb_diagnostics_clear(VbDiagnostics *d) {
        if (!d)
                return;
        strv_free(d->messages);
        d->messages = NULL;
        d->n = 0;
        d->n_allocated = 0;
}

/* Room for one more message and the NULL after it; the array doubles, so that a file with many
 * errors costs one allocation per message, not two. */
static int diagnostics_reserve(VbDiagnostics *d) {
        return VB_GREEDY_REALLOC(d->messages, d->n_allocated, d->n + 2) ? 0 : -ENOMEM;
}

int vb_diagnostics_addv(VbDiagnostics *d, const char *file, unsigned line, const char *format, va_list ap) {
        _cleanup_free_ char *full = NULL;
        int prefix, length, r;
        va_list aq;

        assert(d);
        assert(file);

        r = diagnostics_reserve(d);
        if (r < 0)
                return r;

        /* Always FILE:LINE:, so that every message has the same shape; line 0 is the file as a
         * whole. The prefix and the message go into one allocation. */
        prefix = snprintf(NULL, 0, "%s:%u: ", file, line);
        va_copy(aq, ap);
        length = vsnprintf(NULL, 0, format, aq);
        va_end(aq);
        if (prefix < 0 || length < 0)
                return -ENOMEM; /* only a bad format or an absurd length gets here */

        full = malloc((size_t) prefix + (size_t) length + 1);
        if (!full)
                return -ENOMEM;
        snprintf(full, (size_t) prefix + 1, "%s:%u: ", file, line);
        vsnprintf(full + prefix, (size_t) length + 1, format, ap);

        d->messages[d->n++] = TAKE_PTR(full);
        d->messages[d->n] = NULL;
        return 0;
}

int vb_diagnostics_add(VbDiagnostics *d, const char *file, unsigned line, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vb_diagnostics_addv(d, file, line, format, ap);
        va_end(ap);
        return r;
}
