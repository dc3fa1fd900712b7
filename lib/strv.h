/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* NULL-terminated string lists (strv_free() and strv_length() are in macro.h). */

#include <stdbool.h>
#include <stddef.h>

/* Append a formatted string to *L, which holds *N strings (N may be NULL: counted). 0 or -ENOMEM. */
int strv_extend_printf(char ***l, size_t *n, const char *format, ...) __attribute__((format(printf, 3, 4)));
/* The strings of L joined with SEP ("" for an empty or NULL list); NULL on out of memory. */
char *strv_join(char *const *l, const char *sep);
/* A list joined as it is built: append a formatted item to *S after SEP, or make it *S when *S is
 * NULL (nothing yet; *S stays NULL until an item comes). 0 or -ENOMEM (*S unchanged). */
int vb_join_append(char **s, const char *sep, const char *format, ...) __attribute__((format(printf, 3, 4)));
/* Does L (NULL: empty) hold S? */
bool strv_contains(char *const *l, const char *s);
