/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading a file descriptor to its end. */

#include <stddef.h>
#include <sys/types.h>

typedef enum VbReadFlags {
        /* A read that returns less than it asked for was the last: a sysfs attribute is formatted
         * whole (at most a page) and handed out in one read, and so is a small regular file. It
         * saves the read that would only return end of file. Not for /proc files: they are
         * seq_files that may stop short at their own page size. */
        VB_READ_SHORT_IS_END = 1 << 0,
} VbReadFlags;

/* Read into BUF until it holds N bytes or the file ends, retrying on EINTR. Returns the number of
 * bytes read (less than N only at the end of the file) or -errno. */
ssize_t vb_loop_read(int fd, void *buf, size_t n);

/* Read FD from where it is to its end, retrying on EINTR. *RET gets the bytes with a NUL after
 * them ("" for none), *RET_SIZE (may be NULL) their number. Returns 0, -EFBIG when there are more
 * than MAX bytes (SIZE_MAX: no limit), -ENOMEM, or the -errno of a failed read. */
int vb_read_full_fd(int fd, size_t max, VbReadFlags flags, char **ret, size_t *ret_size);
