/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "macro.h"
#include "runtime.h"

static const char *const mark_table[_VB_RUNTIME_MARK_MAX] = {
        [VB_MARK_RELEASED] = "released",
        [VB_MARK_BOUND_IN_INITRD] = "bound-in-initrd",
        [VB_MARK_AUTOPROBE_OFF] = "autoprobe-off",
};

int vb_runtime_list(const char *dir, VbRuntimeMark mark, VbPciAddress **ret, size_t *ret_n) {
        _cleanup_free_ VbPciAddress *list = NULL;
        _cleanup_free_ char *path = NULL;
        size_t n = 0;
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
                VbPciAddress *p;

                if (vb_pci_address_parse(de->d_name, &a) < 0)
                        continue;
                p = realloc(list, (n + 1) * sizeof(VbPciAddress));
                if (!p) {
                        closedir(d);
                        return -ENOMEM;
                }
                list = p;
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
