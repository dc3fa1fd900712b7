/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <unistd.h>

#include "kernel.h"
#include "macro.h"
#include "platform.h"

int vb_platform_open_context(const VbPlatform *p, VbContext **ret) {
        _cleanup_(vb_context_freep) VbContext *c = NULL;
        int r;

        r = vb_context_new(&c, p ? p->sysfs_root : NULL, p ? p->procfs_root : NULL);
        if (r < 0)
                return r;
        if (p && p->read_only)
                vb_context_set_kernel_ops(c, NULL, NULL);
        else if (p && p->ops)
                vb_context_set_kernel_ops(c, p->ops, p->ops_userdata);
        else {
                VbKernel *k;

                r = vb_kernel_new(&k);
                if (r < 0)
                        return r;
                vb_context_set_kernel_ops(c, &vb_kernel_ops, k); /* the context owns it now */
        }
        *ret = TAKE_PTR(c);
        return 0;
}

const char *vb_platform_runtime_dir(const VbPlatform *p) {
        return p && p->runtime_dir ? p->runtime_dir : VB_RUNTIME_DIR_DEFAULT;
}

const char *vb_platform_config_root(const VbPlatform *p) {
        return p ? p->config_root : NULL;
}

bool vb_platform_in_initrd(const VbPlatform *p) {
        return access(p && p->initrd_release ? p->initrd_release : "/etc/initrd-release", F_OK) == 0;
}
