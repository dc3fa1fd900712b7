/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "progress.h"

typedef struct Reporter {
        const VbKernelOps *inner;
        void *inner_userdata;
        int fd;
} Reporter;

static Reporter reporter; /* one context per verb, one verb per child */

static void report(const char *kind, const char *what, const char *value) {
        char line[1024];
        int n;

        /* one write per line, below PIPE_BUF: the lines cannot interleave */
        n = snprintf(line, sizeof(line), "%s\t%s\t%s\n", kind, what ?: "", value ?: "");
        if (n > 0 && (size_t) n < sizeof(line))
                (void) !write(reporter.fd, line, (size_t) n);
}

static int reported_write(void *userdata, int rootfd, const char *path, const char *value) {
        Reporter *t = userdata;
        int r;

        report("W", path, value);
        r = t->inner->write_attr(t->inner_userdata, rootfd, path, value);
        report("D", NULL, NULL);
        return r;
}

static int reported_load(void *userdata, VbContext *ctx, const char *driver) {
        Reporter *t = userdata;
        int r;

        report("M", driver, NULL);
        r = t->inner->load_driver(t->inner_userdata, ctx, driver);
        report("D", NULL, NULL);
        return r;
}

static int reported_find_aliases(void *userdata, VbContext *ctx, const char *alias, VbModaliasFn fn,
                                 void *fn_userdata) {
        Reporter *t = userdata;
        return t->inner->find_aliases ? t->inner->find_aliases(t->inner_userdata, ctx, alias, fn, fn_userdata)
                                      : -ENOENT;
}

static int reported_read_addresses(void *userdata, char **ret) {
        Reporter *t = userdata;
        return t->inner->read_addresses ? t->inner->read_addresses(t->inner_userdata, ret) : -ENOENT;
}

/* No unref: the context keeps owning the kernel it was first given. */
static const VbKernelOps reported_ops = {
        .write_attr = reported_write,
        .load_driver = reported_load,
        .find_aliases = reported_find_aliases,
        .read_addresses = reported_read_addresses,
};

int vbc_progress_track_context(int fd, VbContext *ctx) {
        if (fd < 0)
                return 0;
        vb_context_get_kernel_ops(ctx, &reporter.inner, &reporter.inner_userdata);
        reporter.fd = fd;
        vb_context_set_kernel_ops(ctx, &reported_ops, &reporter);
        return 0;
}
