/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <limits.h>
#include <unistd.h>

#include "alloc-util.h"
#include "io-util.h"
#include "macro.h"

/* What one read asks for at the least: a page, all a sysfs attribute can hold. */
#define READ_CHUNK 4096

/* One read, again when interrupted; -errno on failure. */
static ssize_t read_once(int fd, void *buf, size_t n) {
        for (;;) {
                ssize_t k = read(fd, buf, n);
                if (k >= 0)
                        return k;
                if (errno != EINTR)
                        return negative_errno();
        }
}

ssize_t vb_loop_read(int fd, void *buf, size_t n) {
        size_t got = 0;

        assert(n <= SSIZE_MAX);
        while (got < n) {
                ssize_t k = read_once(fd, (char *) buf + got, n - got);
                if (k < 0)
                        return k;
                if (k == 0)
                        break;
                got += (size_t) k;
        }
        return (ssize_t) got;
}

int vb_read_full_fd(int fd, size_t max, VbReadFlags flags, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;

        assert(fd >= 0);
        assert(ret);

        for (;;) {
                size_t want;
                ssize_t k;

                if (!VB_GREEDY_REALLOC(buf, allocated, size + READ_CHUNK + 1)) /* and the NUL */
                        return -ENOMEM;
                want = allocated - size - 1;
                k = flags & VB_READ_SHORT_IS_END ? read_once(fd, buf + size, want) : vb_loop_read(fd, buf + size, want);
                /* -ENOMEM from read() is the kernel's (an attribute whose show() failed, a device
                 * going away), not ours: the callers take -ENOMEM for their own allocations and stop. */
                if (k == -ENOMEM)
                        return -EIO;
                if (k < 0)
                        return (int) k;
                size += (size_t) k;
                if (size > max)
                        return -EFBIG;
                if ((size_t) k < want) /* the end, or with VB_READ_SHORT_IS_END a short read */
                        break;
        }
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}
