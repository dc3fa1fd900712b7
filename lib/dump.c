/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "dump.h"
#include "io-util.h"
#include "macro.h"

#define LINKS_MAX 40               /* as the kernel's path walk (ELOOP) */
#define FILE_MAX (1024 * 1024 - 1) /* bytes of a file read again (config space is at most 4 KiB) */
#define TREE_ENTRIES_MAX 4096

static const char *const root_table[_VB_RECORD_ROOT_MAX] = {
        [VB_RECORD_SYSFS] = "sys",
        [VB_RECORD_PROCFS] = "proc",
};

const char *vb_dump_root_name(VbRecordRoot root) {
        return root >= 0 && root < _VB_RECORD_ROOT_MAX ? root_table[root] : NULL;
}

static int root_fd(VbContext *ctx, VbRecordRoot root) {
        return root == VB_RECORD_SYSFS ? vb_context_sysfs_fd(ctx) : vb_context_procfs_fd(ctx);
}

static int add_member(VbArchive *ar, VbRecordRoot root, const char *path, const VbArchiveMember *m, int priority) {
        _cleanup_free_ char *name = NULL;
        VbArchiveMember x = *m;

        if (asprintf(&name, "%s%s%s", vb_dump_root_name(root), *path ? "/" : "", path) < 0)
                return -ENOMEM;
        x.name = name;
        return vb_archive_add(ar, &x, priority);
}

/*
 * Walk PATH below the root as the kernel would, and return where it leads (*RET, no link in it).
 * Every link met on the way is added to AR as a link member. FOLLOW_LAST: follow a link in the
 * last component too. Returns 0, or a negative errno if PATH does not lead anywhere now (-ELOOP,
 * -EXDEV for a link that leaves the root, -ENOENT …); links met before that are added anyway.
 */
static int resolve(VbContext *ctx, VbRecordRoot root, const char *path, bool follow_last, VbArchive *ar, char **ret) {
        int fd = root_fd(ctx, root);
        _cleanup_free_ char *canon = strdup(""), *todo = strdup(path);
        unsigned links = 0;
        int r;

        if (!canon || !todo)
                return -ENOMEM;
        for (;;) {
                _cleanup_free_ char *candidate = NULL;
                char *p = todo, target[PATH_MAX];
                size_t n;
                bool last;
                struct stat st;
                ssize_t k;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                n = strcspn(p, "/");
                last = !p[n] || !p[n + strspn(p + n, "/")];
                if (n == 1 && p[0] == '.') {
                        memmove(todo, p + n, strlen(p + n) + 1);
                        continue;
                }
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        char *s = strrchr(canon, '/');
                        if (!*canon)
                                return -EXDEV;
                        if (s)
                                *s = '\0';
                        else
                                canon[0] = '\0';
                        memmove(todo, p + n, strlen(p + n) + 1);
                        continue;
                }
                if (asprintf(&candidate, "%s%s%.*s", canon, *canon ? "/" : "", (int) n, p) < 0)
                        return -ENOMEM;
                if (last && !follow_last) {
                        free(canon);
                        canon = TAKE_PTR(candidate);
                        break;
                }
                if (fstatat(fd, candidate, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return negative_errno();
                if (!S_ISLNK(st.st_mode)) {
                        free(canon);
                        canon = TAKE_PTR(candidate);
                        memmove(todo, p + n, strlen(p + n) + 1);
                        continue;
                }
                if (++links > LINKS_MAX)
                        return -ELOOP;
                k = readlinkat(fd, candidate, target, sizeof(target) - 1);
                if (k < 0)
                        return negative_errno();
                target[k] = '\0';
                /* A link the archive could not hold leads outside: stop there. */
                if (vb_archive_target_check(candidate, target))
                        return -EXDEV;
                r = add_member(ar, root, candidate,
                               &(VbArchiveMember) { .type = VB_ARCHIVE_SYMLINK, .mode = 0777, .target = target },
                               VB_DUMP_PRIORITY_READ);
                if (r < 0)
                        return r;
                /* Go on from the link's directory with its target, then the rest. */
                {
                        char *rest;
                        if (asprintf(&rest, "%s/%s", target, p + n) < 0)
                                return -ENOMEM;
                        free(todo);
                        todo = rest;
                }
        }
        *ret = TAKE_PTR(canon);
        return 0;
}

/* The whole file CANON below FD, or below the file system for FD AT_FDCWD; *RET_SIZE bytes. */
static int read_whole(int fd, const char *path, char **ret, size_t *ret_size) {
        _cleanup_close_ int f = -EBADF;

        f = openat(fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (f < 0)
                return negative_errno();
        return vb_read_full_fd(f, FILE_MAX, 0, ret, ret_size);
}

/* What is at CANON now, as a member: a directory, a link, or a file with DATA (NULL: read it
 * now; failing that, empty). */
static int add_found(VbContext *ctx, VbRecordRoot root, const char *canon, const VbRecord *rec, bool read_content,
                     int priority, VbArchive *ar) {
        int fd = root_fd(ctx, root);
        struct stat st;

        if (fstatat(fd, *canon ? canon : ".", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0; /* gone since it was read */
        if (S_ISDIR(st.st_mode))
                return add_member(ar, root, canon,
                                  &(VbArchiveMember) { .type = VB_ARCHIVE_DIRECTORY, .mode = st.st_mode & 07777 },
                                  priority);
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t k = readlinkat(fd, canon, target, sizeof(target) - 1);
                if (k < 0)
                        return 0;
                target[k] = '\0';
                /* An open descriptor's link (/proc/PID/fd/N → /dev/dri/card0) leads out of the
                 * archive: its target is kept as the text of a file (lib/interlock-process reads
                 * either). */
                if (root == VB_RECORD_PROCFS && target[0] == '/')
                        return add_member(ar, root, canon,
                                          &(VbArchiveMember) { .type = VB_ARCHIVE_FILE,
                                                               .mode = 0644,
                                                               .data = target,
                                                               .size = (size_t) k },
                                          priority);
                if (vb_archive_target_check(canon, target))
                        return 0;
                return add_member(ar, root, canon,
                                  &(VbArchiveMember) { .type = VB_ARCHIVE_SYMLINK, .mode = 0777, .target = target },
                                  priority);
        }
        if (S_ISREG(st.st_mode)) {
                _cleanup_free_ char *data = NULL;
                size_t size = 0;

                if (rec && rec->data)
                        return add_member(ar, root, canon,
                                          &(VbArchiveMember) { .type = VB_ARCHIVE_FILE,
                                                               .mode = st.st_mode & 07777,
                                                               .data = rec->data,
                                                               .size = rec->size },
                                          priority);
                if (read_content && read_whole(fd, canon, &data, &size) < 0)
                        size = 0; /* unreadable (a write-only attribute): kept empty */
                return add_member(ar, root, canon,
                                  &(VbArchiveMember) { .type = VB_ARCHIVE_FILE,
                                                       .mode = st.st_mode & 07777,
                                                       .data = data,
                                                       .size = size },
                                  priority);
        }
        return 0; /* no device nodes, FIFOs or sockets */
}

static const VbRecord *sort_records; /* for cmp_read only: qsort has no user pointer */

static int cmp_read(const void *a, const void *b) {
        const VbRecord *x = &sort_records[*(const size_t *) a], *y = &sort_records[*(const size_t *) b];
        int c;

        if (x->root != y->root)
                return x->root < y->root ? -1 : 1;
        c = strcmp(x->path, y->path);
        if (c)
                return c;
        return x->size > y->size ? -1 : x->size < y->size; /* the longest first */
}

/* The reads of a file that another read of it outdoes (the 64-byte header read for the header
 * type, beside the whole config space read to explain a group): only the longest is kept. */
static int shorter_reads(const VbRecord *records, size_t n, bool **ret) {
        _cleanup_free_ size_t *idx = NULL;
        _cleanup_free_ bool *skip = NULL;
        size_t m = 0;

        idx = calloc(n ?: 1, sizeof(size_t));
        skip = calloc(n ?: 1, sizeof(bool));
        if (!idx || !skip)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (records[i].kind == VB_RECORD_READ && records[i].data)
                        idx[m++] = i;
        sort_records = records;
        qsort(idx, m, sizeof(size_t), cmp_read);
        sort_records = NULL;
        for (size_t i = 1; i < m; i++)
                if (records[idx[i]].root == records[idx[i - 1]].root &&
                    streq(records[idx[i]].path, records[idx[i - 1]].path))
                        skip[idx[i]] = true;
        *ret = TAKE_PTR(skip);
        return 0;
}

int vb_dump_add_records(VbContext *ctx, const VbRecorder *rec, VbArchive *ar) {
        const VbRecord *records;
        _cleanup_free_ bool *skip = NULL;
        size_t n;
        int r;

        records = vb_recorder_records(rec, &n);
        r = shorter_reads(records, n, &skip);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const VbRecord *x = &records[i];
                _cleanup_free_ char *canon = NULL;
                bool follow = x->kind != VB_RECORD_LINK && x->kind != VB_RECORD_ENTRY;

                if (skip[i] || root_fd(ctx, x->root) < 0)
                        continue;
                r = resolve(ctx, x->root, x->path, follow, ar, &canon);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue; /* gone now, or outside the root */
                switch (x->kind) {
                case VB_RECORD_READ:
                        r = add_found(ctx, x->root, canon, x, true, VB_DUMP_PRIORITY_READ, ar);
                        break;
                case VB_RECORD_LINK:
                case VB_RECORD_LIST:
                        r = add_found(ctx, x->root, canon, NULL, false, VB_DUMP_PRIORITY_READ, ar);
                        break;
                case VB_RECORD_EXISTS:
                        r = add_found(ctx, x->root, canon, NULL, true, VB_DUMP_PRIORITY_FOUND, ar);
                        break;
                case VB_RECORD_ENTRY:
                        r = add_found(ctx, x->root, canon, NULL, false, VB_DUMP_PRIORITY_LISTED, ar);
                        break;
                default:
                        r = 0;
                }
                if (r < 0)
                        return r;
        }
        return vb_recorder_error(rec);
}

int vb_dump_add_file(VbArchive *ar, const char *name, const char *path) {
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t size;
        int r;

        if (stat(path, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) /* a masked file is a link to /dev/null */
                return -EINVAL;
        r = read_whole(AT_FDCWD, path, &data, &size);
        if (r < 0)
                return r;
        return vb_archive_add(ar,
                              &(VbArchiveMember) { .name = name,
                                                   .type = VB_ARCHIVE_FILE,
                                                   .mode = S_ISREG(st.st_mode) ? st.st_mode & 0777 : 0644,
                                                   .data = data,
                                                   .size = size },
                              VB_DUMP_PRIORITY_EXTRA);
}

static int add_tree_at(VbArchive *ar, int dirfd, const char *name, unsigned depth, size_t *budget) {
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        int r = 0;

        r = vb_archive_add(ar, &(VbArchiveMember) { .name = name, .type = VB_ARCHIVE_DIRECTORY, .mode = 0755 },
                           VB_DUMP_PRIORITY_EXTRA);
        if (r < 0 || depth == 0)
                return r;
        fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        TAKE_FD(fd);
        for (struct dirent *de; r >= 0 && (de = readdir(d));) {
                _cleanup_free_ char *sub = NULL;
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if ((*budget)-- == 0)
                        break;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (asprintf(&sub, "%s/%s", name, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int child = openat(dirfd, de->d_name,
                                                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (child >= 0)
                                r = add_tree_at(ar, child, sub, depth - 1, budget);
                } else if (S_ISREG(st.st_mode)) {
                        _cleanup_free_ char *data = NULL;
                        size_t size = 0;
                        if (read_whole(dirfd, de->d_name, &data, &size) >= 0)
                                r = vb_archive_add(ar,
                                                   &(VbArchiveMember) { .name = sub,
                                                                        .type = VB_ARCHIVE_FILE,
                                                                        .mode = st.st_mode & 0777,
                                                                        .data = data,
                                                                        .size = size },
                                                   VB_DUMP_PRIORITY_EXTRA);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t k = readlinkat(dirfd, de->d_name, target, sizeof(target) - 1);
                        if (k >= 0) {
                                target[k] = '\0';
                                if (!vb_archive_target_check(sub, target))
                                        r = vb_archive_add(ar,
                                                           &(VbArchiveMember) { .name = sub,
                                                                                .type = VB_ARCHIVE_SYMLINK,
                                                                                .mode = 0777,
                                                                                .target = target },
                                                           VB_DUMP_PRIORITY_EXTRA);
                        }
                }
        }
        closedir(d);
        return r;
}

int vb_dump_add_tree(VbArchive *ar, const char *name, const char *path, unsigned depth) {
        _cleanup_close_ int fd = -EBADF;
        size_t budget = TREE_ENTRIES_MAX;

        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        return add_tree_at(ar, fd, name, depth, &budget);
}
