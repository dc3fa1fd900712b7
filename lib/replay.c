/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "archive.h"
#include "macro.h"
#include "replay.h"
#include "utf8.h"

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* A listing of the directory FD that leaves FD open. */
static int opendir_dup(int fd, DIR **ret) {
        int dup_fd, r;

        dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return negative_errno();
        *ret = fdopendir(dup_fd);
        if (!*ret) {
                r = negative_errno();
                close(dup_fd);
                return r;
        }
        return 0;
}

/* Remove everything below the directory FD (links are removed, never followed). */
static int remove_below(int fd) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_dup(fd, &d);
        if (r < 0)
                return r;
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
        return r;
}

static int remove_tree(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        (void) remove_below(fd);
        return rmdir(path) < 0 ? negative_errno() : 0;
}

/* A dump given as a directory is held to the rules of an archive (lib/archive): no link to an
 * absolute path or above the top ("sys -> /sys", "etc/vfio-bind.conf -> /etc/shadow"), only
 * directories, regular files and links, at most VB_ARCHIVE_MEMBERS_MAX entries. FD is the
 * directory REL (relative to the top; "" for the top). */
static int check_tree(int fd, const char *rel, size_t *count, char **ret_error) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_dup(fd, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *name = NULL;
                const char *why = NULL;
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (asprintf(&name, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0)
                        return -ENOMEM;
                if (++*count > VB_ARCHIVE_MEMBERS_MAX)
                        why = "is one entry too many (a dump holds at most 200000)";
                else if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return negative_errno();
                else if (S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t n = readlinkat(fd, de->d_name, target, sizeof(target) - 1);

                        if (n < 0)
                                return negative_errno();
                        target[n] = '\0';
                        why = vb_archive_target_check(name, target);
                } else if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(fd, de->d_name,
                                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                return negative_errno();
                        r = check_tree(sub, name, count, ret_error);
                        if (r < 0)
                                return r;
                } else if (!S_ISREG(st.st_mode))
                        why = "is neither a regular file, a directory nor a link";
                if (why) {
                        if (asprintf(ret_error, "%s %s: a dump directory is read as an archive would be",
                                     VB_QUOTE(name), why) < 0)
                                *ret_error = NULL;
                        return -EINVAL;
                }
        }
        return 0;
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
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                size_t count = 0;

                if (fd < 0)
                        return negative_errno();
                k = check_tree(fd, "", &count, ret_error);
                if (k < 0)
                        return k;
                r.top = strdup(path);
        } else if (S_ISREG(st.st_mode)) {
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
            asprintf(&r.hwdb_names, "%s/hwdb.names", r.top) < 0 || asprintf(&r.addresses, "%s/ifaddrs", r.top) < 0)
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
        free(r->addresses);
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
                .addresses = r->addresses,
        };
}
