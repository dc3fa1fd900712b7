/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <unistd.h>

#include "kernel.h"
#include "macro.h"
#include "platform.h"

/* A kernel that writes nothing and loads nothing, but whose module index can be looked in: the
 * ops below it (a test's) or the real kernel's. */
typedef struct LookupOnly {
        const VbKernelOps *ops;
        void *userdata;
        VbKernel *own;
} LookupOnly;

static int lookup_only_write(void *userdata, int rootfd, const char *path, const char *value) {
        return -EROFS;
}

static int lookup_only_load(void *userdata, VbContext *ctx, const char *name) {
        return -EROFS;
}

static int lookup_only_find(void *userdata, VbContext *ctx, const char *alias, VbModaliasFn fn, void *fn_userdata) {
        LookupOnly *l = userdata;
        if (!l->ops->find_aliases)
                return -ENOENT;
        return l->ops->find_aliases(l->userdata, ctx, alias, fn, fn_userdata);
}

static void lookup_only_unref(void *userdata) {
        LookupOnly *l = userdata;
        vb_kernel_free(l->own);
        free(l);
}

static const VbKernelOps lookup_only_ops = {
        .write_attr = lookup_only_write,
        .load_driver = lookup_only_load,
        .find_aliases = lookup_only_find,
        .unref = lookup_only_unref,
};

static int open_lookup_only(const VbPlatform *p, VbContext *c) {
        LookupOnly *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        if (p->ops) {
                l->ops = p->ops;
                l->userdata = p->ops_userdata;
        } else {
                r = vb_kernel_new(&l->own);
                if (r < 0) {
                        free(l);
                        return r;
                }
                l->ops = &vb_kernel_ops;
                l->userdata = l->own;
        }
        vb_context_set_kernel_ops(c, &lookup_only_ops, l); /* the context owns it now */
        return 0;
}

/* A text file of a dump whole; *RET NULL when it is missing. */
static int read_text(const char *path, char **ret) {
        _cleanup_free_ char *text = NULL;
        FILE *f = fopen(path, "re");
        size_t size = 0;
        bool failed;

        *ret = NULL;
        if (!f)
                return errno == ENOENT ? 0 : negative_errno();
        failed = getdelim(&text, &size, '\0', f) < 0 && ferror(f);
        fclose(f);
        if (failed)
                return -EIO;
        *ret = text ? TAKE_PTR(text) : strdup("");
        return *ret ? 0 : -ENOMEM;
}

/* The module index of a dump: its modules.alias, or none at all. */
static int set_module_aliases(VbContext *c, const char *path) {
        _cleanup_free_ char *text = NULL;
        int r = read_text(path, &text);

        if (r < 0 || !text)
                return r;
        return vb_context_set_module_aliases(c, text);
}

int vb_platform_open_context(const VbPlatform *p, VbContext **ret) {
        _cleanup_(vb_context_freep) VbContext *c = NULL;
        int r;

        r = vb_context_new(&c, p ? p->sysfs_root : NULL, p ? p->procfs_root : NULL);
        if (r < 0)
                return r;
        if (p && p->read_only && p->module_aliases) {
                vb_context_set_kernel_ops(c, NULL, NULL);
                r = set_module_aliases(c, p->module_aliases);
                if (r < 0)
                        return r;
        } else if (p && p->read_only) {
                r = open_lookup_only(p, c);
                if (r < 0)
                        return r;
        } else if (p && p->ops)
                vb_context_set_kernel_ops(c, p->ops, p->ops_userdata);
        else {
                VbKernel *k;

                r = vb_kernel_new(&k);
                if (r < 0)
                        return r;
                vb_context_set_kernel_ops(c, &vb_kernel_ops, k); /* the context owns it now */
        }
        if (p && p->addresses) {
                _cleanup_free_ char *text = NULL;

                r = read_text(p->addresses, &text);
                if (r < 0)
                        return r;
                if (text) {
                        r = vb_context_set_addresses(c, text);
                        if (r < 0)
                                return r;
                }
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
