/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <unistd.h>

#include "alloc-util.h"
#include "io-util.h"
#include "macro.h"

/* What one read asks for at the least: a page, all a sysfs attribute can hold. */
#define READ_CHUNK 4096

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
                k = read(fd, buf + size, want);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                size += (size_t) k;
                if (size > max)
                        return -EFBIG;
                if ((flags & VB_READ_SHORT_IS_END) && (size_t) k < want)
                        break;
        }
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}
