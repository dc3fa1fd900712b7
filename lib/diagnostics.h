/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Problems found in the configuration, one "FILE:LINE: message" each, all of them at once. */

#include <stdarg.h>
#include <stddef.h>

typedef struct VbDiagnostics {
        char **messages; /* NULL-terminated */
        size_t n;
        size_t n_allocated; /* slots in messages, the NULL included */
} VbDiagnostics;

void vb_diagnostics_clear(VbDiagnostics *d);

/* Appends "FILE:LINE: message". LINE 0 means the file as a whole (cannot be read, is a directory,
 * …) and is written the same way, "FILE:0: message", so that every message has one shape.
 * Returns 0 or -ENOMEM. */
int vb_diagnostics_add(VbDiagnostics *d, const char *file, unsigned line, const char *format, ...)
        __attribute__((format(printf, 4, 5)));
int vb_diagnostics_addv(VbDiagnostics *d, const char *file, unsigned line, const char *format, va_list ap)
        __attribute__((format(printf, 4, 0)));
