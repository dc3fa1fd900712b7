/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf, strerrorname_np, nftw */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io-util.h"
#include "macro.h"
#include "tests.h"
#include "tree.h"

/* Trees made by tree_new() and not freed yet. */
static char **live_trees;
static size_t n_live_trees;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

int tree_remove(const char *path) {
        if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return 0;
}

static void trees_cleanup(void) {
        bool keep = getenv("VB_TEST_KEEP_TREES");

        for (size_t i = 0; i < n_live_trees; i++) {
                if (!live_trees[i])
                        continue;
                if (keep)
                        fprintf(stderr, "kept tree %s\n", live_trees[i]);
                else
                        (void) tree_remove(live_trees[i]);
                free(live_trees[i]);
        }
        free(live_trees);
        live_trees = NULL;
        n_live_trees = 0;
}

/* Copy the directory SRC_FD into DST_FD, recursively; links are copied as links. */
static int copy_dir(int src_fd, int dst_fd) {
        DIR *d;
        int r = 0;

        d = fdopendir(src_fd);
        if (!d) {
                r = negative_errno();
                close(src_fd);
                return r;
        }
        for (struct dirent *de; r >= 0 && (de = readdir(d));) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = negative_errno();
                        break;
                }
                if (S_ISDIR(st.st_mode)) {
                        int s, t;

                        if (mkdirat(dst_fd, de->d_name, 0755) < 0 && errno != EEXIST) {
                                r = negative_errno();
                                break;
                        }
                        s = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        t = openat(dst_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (s < 0 || t < 0) {
                                r = negative_errno();
                                if (s >= 0)
                                        close(s);
                                if (t >= 0)
                                        close(t);
                                break;
                        }
                        r = copy_dir(s, t);
                        close(t);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);

                        if (n < 0) {
                                r = negative_errno();
                                break;
                        }
                        target[n] = '\0';
                        if (symlinkat(target, dst_fd, de->d_name) < 0)
                                r = negative_errno();
                } else if (S_ISREG(st.st_mode)) {
                        _cleanup_close_ int s = -EBADF, t = -EBADF;
                        char buf[65536];
                        ssize_t n;

                        s = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
                        t = openat(dst_fd, de->d_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                        if (s < 0 || t < 0) {
                                r = negative_errno();
                                break;
                        }
                        while ((n = read(s, buf, sizeof(buf))) > 0)
                                if (write(t, buf, (size_t) n) != n) {
                                        r = -EIO;
                                        break;
                                }
                        if (n < 0)
                                r = negative_errno();
                }
        }
        closedir(d);
        return r;
}

int tree_copy(const char *case_name, const char *dest) {
        _cleanup_free_ char *src = NULL;
        int s, t, r;

        if (!case_name[0] || strchr(case_name, '/') || case_name[0] == '.')
                return -EINVAL;
        if (asprintf(&src, "%s/sysfs/%s", test_data_dir(), case_name) < 0)
                return -ENOMEM;
        s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s < 0)
                return negative_errno();
        t = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t < 0) {
                r = negative_errno();
                close(s);
                return r;
        }
        r = copy_dir(s, t);
        close(t);
        return r;
}

int tree_new(const char *case_name, char **ret_dir) {
        _cleanup_free_ char *dir = NULL;
        const char *tmp = getenv("TMPDIR");
        char **l;
        int r;

        if (!case_name[0] || strchr(case_name, '/') || case_name[0] == '.')
                return -EINVAL;
        if (asprintf(&dir, "%s/vb-tree-%s-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", case_name) < 0)
                return -ENOMEM;
        if (!mkdtemp(dir))
                return negative_errno();
        r = tree_copy(case_name, dir);
        if (r < 0) {
                (void) tree_remove(dir);
                return r;
        }

        if (!live_trees)
                atexit(trees_cleanup);
        l = realloc(live_trees, (n_live_trees + 1) * sizeof(char *));
        if (!l) {
                (void) tree_remove(dir);
                return -ENOMEM;
        }
        live_trees = l;
        live_trees[n_live_trees] = strdup(dir);
        if (!live_trees[n_live_trees]) {
                (void) tree_remove(dir);
                return -ENOMEM;
        }
        n_live_trees++;
        *ret_dir = TAKE_PTR(dir);
        return 0;
}

char *tree_free(char *dir) {
        if (!dir)
                return NULL;
        for (size_t i = 0; i < n_live_trees; i++)
                if (live_trees[i] && streq(live_trees[i], dir)) {
                        free(live_trees[i]);
                        live_trees[i] = NULL;
                }
        if (getenv("VB_TEST_KEEP_TREES"))
                fprintf(stderr, "kept tree %s\n", dir);
        else
                (void) tree_remove(dir);
        free(dir);
        return NULL;
}

static int put(const char *dir, const char *path, const char *content, int flags) {
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(content);

        if (asprintf(&p, "%s/%s", dir, path) < 0)
                return -ENOMEM;
        fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | flags, 0644);
        if (fd < 0)
                return negative_errno();
        if (write(fd, content, len) != (ssize_t) len)
                return -EIO;
        return 0;
}

int tree_write(const char *dir, const char *path, const char *content) {
        return put(dir, path, content, O_TRUNC);
}

int tree_append(const char *dir, const char *path, const char *content) {
        return put(dir, path, content, O_APPEND);
}

char *tree_read(const char *dir, const char *path) {
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int fd = -EBADF;
        char *buf = NULL;
        size_t size = 0;

        if (asprintf(&p, "%s/%s", dir, path) < 0)
                return NULL;
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        if (vb_read_full_fd(fd, SIZE_MAX, 0, &buf, &size) < 0)
                return NULL;
        while (size > 0 && buf[size - 1] == '\n')
                buf[--size] = '\0';
        return buf;
}

bool tree_exists(const char *dir, const char *path) {
        _cleanup_free_ char *p = NULL;
        struct stat st;

        if (asprintf(&p, "%s/%s", dir, path) < 0)
                return false;
        return lstat(p, &st) == 0;
}

int tree_mkdirs(const char *dir, const char *path) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s", dir, path) < 0)
                return -ENOMEM;
        for (char *slash = strchr(p + strlen(dir) + 1, '/');; slash = strchr(slash + 1, '/')) {
                if (slash)
                        *slash = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                if (!slash)
                        return 0;
                *slash = '/';
        }
}

int tree_write_new(const char *dir, const char *path, const char *content) {
        _cleanup_free_ char *parent = strdup(path);
        char *slash;
        int r;

        if (!parent)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        if (slash) {
                *slash = '\0';
                r = tree_mkdirs(dir, parent);
                if (r < 0)
                        return r;
        }
        return tree_write(dir, path, content);
}

int tree_symlink(const char *dir, const char *target, const char *path) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s", dir, path) < 0)
                return -ENOMEM;
        return symlink(target, p) < 0 ? negative_errno() : 0;
}

int tree_unlink(const char *dir, const char *path) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s", dir, path) < 0)
                return -ENOMEM;
        return unlink(p) < 0 ? negative_errno() : 0;
}
