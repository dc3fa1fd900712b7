/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's tracker (daemon/bind-job.c) stands between the context and the kernel: every op
 * the kernel has must reach it through the tracker. Twice an op was left out (find_aliases, then
 * read_addresses), and the daemon alone then judged without it while the CLI did not. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind-job.h"
#include "context.h"
#include "macro.h"
#include "tests.h"

typedef struct Inner {
        unsigned writes, loads, finds, addresses, drops;
} Inner;

static int inner_write(void *userdata, int rootfd, const char *path, const char *value) {
        ((Inner *) userdata)->writes++;
        return 0;
}

static int inner_load(void *userdata, VbContext *ctx, const char *name) {
        ((Inner *) userdata)->loads++;
        return 0;
}

static int inner_find(void *userdata, VbContext *ctx, const char *alias, VbModaliasFn fn, void *fn_userdata) {
        ((Inner *) userdata)->finds++;
        return fn(fn_userdata, "vfio_pci", "vfio_pci:v*");
}

static int inner_addresses(void *userdata, char **ret) {
        ((Inner *) userdata)->addresses++;
        *ret = strdup("eth0 192.0.2.10/24\n");
        return *ret ? 0 : -ENOMEM;
}

static void inner_drop(void *userdata) {
        ((Inner *) userdata)->drops++;
}

static const VbKernelOps inner_ops = {
        .write_attr = inner_write,
        .load_driver = inner_load,
        .find_aliases = inner_find,
        .read_addresses = inner_addresses,
        .drop_caches = inner_drop,
};

static int count_match(void *userdata, const char *module, const char *pattern) {
        (*(unsigned *) userdata)++;
        return 0;
}

TEST(every_kernel_op_reaches_the_kernel_through_the_tracker) {
        char dir[] = "/tmp/vb-bind-job-XXXXXX";
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_free_ char *text = NULL;
        BindJobTracker *t = NULL;
        Inner inner = {};
        unsigned matches = 0;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        ASSERT_OK(vb_context_new(&ctx, dir, dir));
        vb_context_set_kernel_ops(ctx, &inner_ops, &inner);
        ASSERT_OK(bind_job_track_context(ctx, &t));

        ASSERT_OK(vb_context_write_attr(ctx, "bus/pci/drivers_probe", "0000:01:00.0"));
        ASSERT_OK(vb_context_load_module(ctx, "vfio-pci"));
        ASSERT_OK(vb_context_find_aliases(ctx, "vfio_pci:v00001234d00001111", count_match, &matches));
        ASSERT_OK(vb_context_read_addresses(ctx, &text));
        vb_context_drop_caches(ctx);

        ASSERT_EQ(inner.writes, 1);
        ASSERT_EQ(inner.loads, 1);
        ASSERT_EQ(inner.finds, 1);
        ASSERT_EQ(matches, 1);
        ASSERT_EQ(inner.addresses, 1);
        ASSERT_STREQ(text, "eth0 192.0.2.10/24\n");
        ASSERT_EQ(inner.drops, 1);

        ctx = vb_context_free(ctx);
        bind_job_tracker_free(t);
        ASSERT_OK(rmdir(dir));
}
TESTS_MAIN()
