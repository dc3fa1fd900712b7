/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "archive.h"
#include "macro.h"
#include "replay.h"

/* Remove everything below the directory FD (links are removed, never followed). */
static int remove_below(int fd) {
        DIR *d;
        int dup_fd, r = 0;

        dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return negative_errno();
        d = fdopendir(dup_fd);
        if (!d) {
                r = negative_errno();
                close(dup_fd);
                return r;
        }
        for (struct dirent *de; (de = readdir(d));) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(fd, de->d_name,
                                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0) {
                                (void) fchmod(sub, 0700);
                                (void) remove_below(sub);
                        }
                        if (unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0 && r == 0)
                                r = negative_errno();
                } else if (unlinkat(fd, de->d_name, 0) < 0 && r == 0)
                        r = negative_errno();
        }
        closedir(d);
        return r;
}

static int remove_tree(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        (void) remove_below(fd);
        return rmdir(path) < 0 ? negative_errno() : 0;
}

int vb_replay_open(const char *path, VbReplay *ret, char **ret_error) {
        _cleanup_(vb_replay_done) VbReplay r = {};
        struct stat st;
        int k;

        *ret_error = NULL;
        r.path = strdup(path);
        if (!r.path)
                return -ENOMEM;
        if (stat(path, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                r.top = strdup(path);
        else if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int fd = -EBADF;
                const char *tmp = getenv("TMPDIR");

                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return negative_errno();
                if (asprintf(&r.tmpdir, "%s/vfio-bind-root.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0) {
                        r.tmpdir = NULL;
                        return -ENOMEM;
                }
                if (!mkdtemp(r.tmpdir)) {
                        k = negative_errno();
                        free(r.tmpdir);
                        r.tmpdir = NULL;
                        return k;
                }
                k = vb_archive_extract(fd, r.tmpdir, ret_error);
                if (k < 0)
                        return k;
                r.top = strdup(r.tmpdir);
        } else {
                if (asprintf(ret_error,
                             "is neither a directory nor a regular file: a dump is a tar archive written by "
                             "vfio-bind dump, or a directory holding one unpacked") < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        if (!r.top)
                return -ENOMEM;
        if (asprintf(&r.sysfs, "%s/sys", r.top) < 0 || asprintf(&r.procfs, "%s/proc", r.top) < 0 ||
            asprintf(&r.runtime, "%s/run/vfio-bind", r.top) < 0 ||
            asprintf(&r.module_aliases, "%s/modules.alias", r.top) < 0 ||
            asprintf(&r.hwdb_names, "%s/hwdb.names", r.top) < 0)
                return -ENOMEM;
        if (stat(r.sysfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
                if (asprintf(ret_error, "has no sys/ directory: not a vfio-bind dump") < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        *ret = r;
        r = (VbReplay) {};
        return 0;
}

void vb_replay_done(VbReplay *r) {
        if (r->tmpdir)
                (void) remove_tree(r->tmpdir);
        free(r->path);
        free(r->tmpdir);
        free(r->top);
        free(r->sysfs);
        free(r->procfs);
        free(r->runtime);
        free(r->module_aliases);
        free(r->hwdb_names);
        *r = (VbReplay) {};
}

VbPlatform vb_replay_platform(const VbReplay *r) {
        return (VbPlatform) {
                .sysfs_root = r->sysfs,
                .procfs_root = r->procfs,
                .runtime_dir = r->runtime,
                .config_root = r->top,
                .read_only = true,
                .module_aliases = r->module_aliases,
                .hwdb_names = r->hwdb_names,
        };
}
