/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-util.h"
#include "io-util.h"
#include "macro.h"
#include "runtime.h"
#include "strv.h"

static const char *const mark_table[_VB_RUNTIME_MARK_MAX] = {
        [VB_MARK_RELEASED] = "released",
        [VB_MARK_BOUND_IN_INITRD] = "bound-in-initrd",
        [VB_MARK_AUTOPROBE_OFF] = "autoprobe-off",
        [VB_MARK_LIBVIRT] = "libvirt",
};

int vb_runtime_list(const char *dir, VbRuntimeMark mark, VbPciAddress **ret, size_t *ret_n) {
        _cleanup_free_ VbPciAddress *list = NULL;
        _cleanup_free_ char *path = NULL;
        size_t n = 0, allocated = 0;
        DIR *d;

        assert(mark >= 0 && mark < _VB_RUNTIME_MARK_MAX);
        if (asprintf(&path, "%s/%s", dir, mark_table[mark]) < 0)
                return -ENOMEM;
        d = opendir(path);
        if (!d) {
                if (errno != ENOENT)
                        return negative_errno();
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        for (struct dirent *de; (de = readdir(d));) {
                VbPciAddress a;

                if (vb_pci_address_parse(de->d_name, &a) < 0)
                        continue;
                if (!VB_GREEDY_REALLOC(list, allocated, n + 1)) {
                        closedir(d);
                        return -ENOMEM;
                }
                list[n++] = a;
        }
        closedir(d);
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

int vb_runtime_set(const char *dir, VbRuntimeMark mark, const VbPciAddress *a, bool set) {
        _cleanup_free_ char *sub = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;

        assert(mark >= 0 && mark < _VB_RUNTIME_MARK_MAX);
        if (asprintf(&sub, "%s/%s", dir, mark_table[mark]) < 0 ||
            asprintf(&path, "%s/%s", sub, VB_PCI_ADDRESS_STR(a)) < 0)
                return -ENOMEM;
        if (!set) {
                if (unlink(path) < 0 && errno != ENOENT)
                        return negative_errno();
                return 0;
        }
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        if (mkdir(sub, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        return 0;
}

static char *stopped_path(const char *dir, const VbPciAddress *a) {
        char *p;

        return asprintf(&p, "%s/stopped/%s", dir, VB_PCI_ADDRESS_STR(a)) < 0 ? NULL : p;
}

int vb_runtime_stopped_add(const char *dir, const VbPciAddress *a, const char *unit) {
        _cleanup_free_ char *sub = NULL, *path = stopped_path(dir, a), *line = NULL;
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        if (!path || asprintf(&sub, "%s/stopped", dir) < 0 || asprintf(&line, "%s\n", unit) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        if (mkdir(sub, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        n = write(fd, line, strlen(line));
        if (n < 0)
                return negative_errno();
        if ((size_t) n != strlen(line))
                return -EIO;
        /* on disk before the unit is stopped: a crash in between still leaves the record */
        return fsync(fd) < 0 ? negative_errno() : 0;
}

int vb_runtime_stopped_read(const char *dir, const VbPciAddress *a, char ***ret) {
        _cleanup_free_ char *path = stopped_path(dir, a), *text = NULL;
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t n = 0;
        int r;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno != ENOENT)
                return negative_errno();
        if (fd >= 0) {
                r = vb_read_full_fd(fd, SIZE_MAX, 0, &text, NULL);
                if (r < 0)
                        return r;
        }
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (char *p = text, *state = NULL, *w; text && (w = strtok_r(p, "\n", &state)); p = NULL)
                if (strv_extend_printf(&l, &n, "%s", w) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

int vb_runtime_stopped_clear(const char *dir, const VbPciAddress *a) {
        _cleanup_free_ char *path = stopped_path(dir, a);

        if (!path)
                return -ENOMEM;
        return unlink(path) < 0 && errno != ENOENT ? negative_errno() : 0;
}
