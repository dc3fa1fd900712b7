/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "alloc-util.h"
#include "io-util.h"
#include "macro.h"
#include "sysfs.h"

/* sysfs attributes are at most a page; /proc files we read (cmdline, iomem) are bounded too. */
#define READ_MAX (1024 * 1024)

/* A read that failed for another reason than absence: the file is there, and a dump keeps it. */
static int failed_read(VbContext *ctx, VbRecordRoot root, const char *path, int r) {
        if (r != -ENOENT && r != -ENOTDIR)
                vb_context_record(ctx, root, VB_RECORD_EXISTS, path, NULL, 0);
        return r;
}

/* Read PATH below the sysfs or procfs root whole, without its trailing newlines. ONE_READ: a read
 * that does not fill the buffer returned everything (VB_READ_SHORT_IS_END: sysfs attributes);
 * /proc files are read to the end. */
static int read_at(VbContext *ctx, VbRecordRoot root, const char *path, bool one_read, char **ret) {
        int dirfd = root == VB_RECORD_SYSFS ? vb_context_sysfs_fd(ctx) : vb_context_procfs_fd(ctx);
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        if (dirfd < 0)
                return -ENOENT;
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return failed_read(ctx, root, path, negative_errno());
        r = vb_read_full_fd(fd, READ_MAX, one_read ? VB_READ_SHORT_IS_END : 0, &buf, &size);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return failed_read(ctx, root, path, r);
        vb_context_record(ctx, root, VB_RECORD_READ, path, buf, size);
        while (size > 0 && buf[size - 1] == '\n')
                buf[--size] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

int vb_sysfs_read(VbContext *ctx, const char *path, char **ret) {
        return read_at(ctx, VB_RECORD_SYSFS, path, true, ret);
}

int vb_procfs_read(VbContext *ctx, const char *path, char **ret) {
        return read_at(ctx, VB_RECORD_PROCFS, path, false, ret);
}

int vb_sysfs_parse_u32(const char *text, uint32_t *ret) {
        unsigned long v;
        char *end;

        assert(text);
        errno = 0;
        v = strtoul(text, &end, 0);
        if (errno != 0 || end == text || *end != '\0' || v > UINT32_MAX || text[0] == '-')
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

int vb_sysfs_read_u32(VbContext *ctx, const char *path, uint32_t *ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = vb_sysfs_read(ctx, path, &s);
        if (r < 0)
                return r;
        return vb_sysfs_parse_u32(s, ret);
}

int vb_sysfs_readlink(VbContext *ctx, const char *path, char **ret) {
        char buf[PATH_MAX];
        ssize_t n;
        char *s;

        n = readlinkat(vb_context_sysfs_fd(ctx), path, buf, sizeof(buf) - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        vb_context_record(ctx, VB_RECORD_SYSFS, VB_RECORD_LINK, path, NULL, 0);
        s = strdup(buf);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int vb_sysfs_link_basename(const char *target, char **ret) {
        const char *base, *end;
        char *s;

        assert(target);
        end = target + strlen(target);
        while (end - target > 1 && end[-1] == '/')
                end--;
        base = memrchr(target, '/', (size_t) (end - target));
        base = base ? base + 1 : target;
        if (base == end)
                return -EINVAL;
        s = strndup(base, (size_t) (end - base));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int vb_sysfs_readlink_basename(VbContext *ctx, const char *path, char **ret) {
        _cleanup_free_ char *target = NULL;
        int r;

        r = vb_sysfs_readlink(ctx, path, &target);
        if (r < 0)
                return r;
        return vb_sysfs_link_basename(target, ret);
}

bool vb_sysfs_exists(VbContext *ctx, const char *path) {
        if (faccessat(vb_context_sysfs_fd(ctx), path, F_OK, 0) < 0)
                return false;
        vb_context_record(ctx, VB_RECORD_SYSFS, VB_RECORD_EXISTS, path, NULL, 0);
        return true;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int vb_sysfs_list(VbContext *ctx, const char *path, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0, allocated = 0;
        DIR *d;
        int fd;

        fd = openat(vb_context_sysfs_fd(ctx), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                int r = negative_errno();
                close(fd);
                return r;
        }

        for (;;) {
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0) {
                                int r = negative_errno();
                                closedir(d);
                                return r;
                        }
                        break;
                }
                if (de->d_name[0] == '.')
                        continue;
                if (!VB_GREEDY_REALLOC(l, allocated, n + 2)) {
                        closedir(d);
                        return -ENOMEM;
                }
                l[n] = strdup(de->d_name);
                if (!l[n]) {
                        closedir(d);
                        return -ENOMEM;
                }
                l[++n] = NULL;
        }
        closedir(d);

        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        qsort(l, n, sizeof(char *), cmp_str);
        vb_context_record(ctx, VB_RECORD_SYSFS, VB_RECORD_LIST, path, NULL, 0);
        for (size_t i = 0; i < n && vb_context_recording(ctx); i++) {
                _cleanup_free_ char *entry = NULL;
                if (asprintf(&entry, "%s/%s", path, l[i]) < 0)
                        return -ENOMEM;
                vb_context_record(ctx, VB_RECORD_SYSFS, VB_RECORD_ENTRY, entry, NULL, 0);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int vb_sysfs_write(VbContext *ctx, const char *path, const char *value) {
        return vb_context_write_attr(ctx, path, value);
}
