/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-bindd with only the kernel replaced: the real daemon (vbd_main) on a fake tree, with the
 * fake kernel playing the kernel's part. The tree is the directory in $VB_FAKE_TREE (a copy of
 * tests/sysfs/<case>/, see tests/tree.h): sys/ and proc/ are the roots, fake-kernel.conf says
 * what the drivers do, run/ is the runtime directory, and every write lands in
 * fake-kernel.log, where tests/test-daemon.c reads it.
 *
 * Exit code: the daemon's, or 3 if the daemon broke a rule of the fake kernel (new_id, a path
 * outside sys/, …), or 2 if the tree cannot be used.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf */
#endif
#include <stdio.h>
#include <sys/stat.h>

#include "context.h"
#include "fake-kernel.h"
#include "macro.h"
#include "vfio-bindd.h"

int main(int argc, char **argv) {
        _cleanup_(fake_kernel_freep) FakeKernel *k = NULL;
        _cleanup_free_ char *runtime_dir = NULL, *initrd_release = NULL;
        const char *dir = getenv("VB_FAKE_TREE");
        int r;

        if (!dir || !dir[0]) {
                fprintf(stderr, "vfio-bindd-test: $VB_FAKE_TREE is not set\n");
                return 2;
        }
        r = fake_kernel_new(&k, dir);
        if (r < 0) {
                fprintf(stderr, "vfio-bindd-test: %s is not a usable fake tree: %s\n", dir, strerror(-r));
                return 2;
        }
        if (asprintf(&runtime_dir, "%s/run", dir) < 0 || asprintf(&initrd_release, "%s/initrd-release", dir) < 0)
                return 2;
        if (mkdir(runtime_dir, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "vfio-bindd-test: cannot create %s: %m\n", runtime_dir);
                return 2;
        }

        r = vbd_main(argc, argv,
                     &(VbPlatform) {
                             .sysfs_root = fake_kernel_sysfs_root(k),
                             .procfs_root = fake_kernel_procfs_root(k),
                             .ops = &fake_kernel_ops,
                             .ops_userdata = k,
                             .runtime_dir = runtime_dir,
                             .initrd_release = initrd_release, /* a test creates it to play an initrd */
                     });

        if (fake_kernel_n_violations(k) > 0) {
                for (size_t i = 0; i < fake_kernel_n_violations(k); i++)
                        fprintf(stderr, "vfio-bindd-test: the daemon broke a rule: %s\n", fake_kernel_violation(k, i));
                return 3;
        }
        return r;
}
