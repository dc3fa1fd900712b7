/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * For the targets of the pure parsers: an input as the reader would have handed it to the
 * parser had it been the file's content. vb_sysfs_read() and vb_procfs_read() (lib/sysfs.c)
 * read the whole file, drop the newlines at its end and return it as a C string, which ends at
 * the file's first NUL byte: so does this. (The file path itself is covered by the unit tests:
 * tests/test-pci.c, tests/test-console.c, tests/test-interlock.c.)
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A new string (free() it) or NULL when out of memory. */
static inline char *fuzz_text_as_read(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);

        if (!s)
                return NULL;
        if (size > 0)
                memcpy(s, data, size);
        s[size] = '\0';
        while (size > 0 && s[size - 1] == '\n')
                s[--size] = '\0';
        return s;
}
