/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-tree.h"
#include "macro.h"
#include "tests.h"
#include "tree.h"

/* tree.c's source of the cases, without the rest of the test runner (tests.c). */
const char *test_data_dir(void) {
        const char *e = getenv("VB_TEST_DATA");
        return e && *e ? e : VB_TEST_DATA_DIR;
}

static char *dir;
static int dir_fd = -EBADF;
static VbContext *ctx;

static void fuzz_tree_cleanup(void) {
        ctx = vb_context_free(ctx);
        closep(&dir_fd);
        dir = tree_free(dir);
}

VbContext *fuzz_tree_context(const char *case_name) {
        _cleanup_free_ char *sys = NULL, *proc = NULL;

        if (ctx)
                return ctx;
        if (tree_new(case_name, &dir) < 0)
                abort();
        atexit(fuzz_tree_cleanup);
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0 || asprintf(&sys, "%s/sys", dir) < 0 || asprintf(&proc, "%s/proc", dir) < 0)
                abort();
        if (vb_context_new(&ctx, sys, proc) < 0)
                abort();
        return ctx;
}

void fuzz_tree_write(const char *path, const void *data, size_t size) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size))
                abort();
}

void fuzz_tree_symlink(const char *path, const char *target) {
        (void) unlinkat(dir_fd, path, 0);
        if (symlinkat(target, dir_fd, path) < 0)
                abort();
}
