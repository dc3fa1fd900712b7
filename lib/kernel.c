/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libkmod.h>

#include "kernel.h"
#include "macro.h"

struct VbKernel {
        struct kmod_ctx *kmod; /* created on first use, dropped when idle */
        VbContext *log_ctx;    /* whose log sink libkmod's messages go to, during a call */
};

int vb_kernel_new(VbKernel **ret) {
        VbKernel *k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        *ret = k;
        return 0;
}

VbKernel *vb_kernel_free(VbKernel *k) {
        if (!k)
                return NULL;
        if (k->kmod)
                kmod_unref(k->kmod);
        free(k);
        return NULL;
}

static int kernel_write_attr(void *userdata, int rootfd, const char *path, const char *value) {
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(value);
        ssize_t n;

        fd = openat(rootfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        /* sysfs store methods take the whole buffer in one write; an empty write is not passed to
         * the kernel at all, so "clear" is written as a lone newline. */
        if (len == 0) {
                value = "\n";
                len = 1;
        }
        n = write(fd, value, len);
        if (n < 0)
                return negative_errno();
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

static void kmod_log(void *data, int priority, const char *file, int line, const char *fn, const char *format,
                     va_list args) {
        VbKernel *k = data;

        /* libkmod's messages are the library's: debug level at most. */
        if (k->log_ctx)
                vb_context_logv(k->log_ctx, priority < 7 ? 7 : priority, file, line, fn, format, args);
}

static void kmod_module_unref_listp(struct kmod_list **l) {
        if (*l)
                kmod_module_unref_list(*l);
}

static int kernel_load_module(VbKernel *k, VbContext *ctx, const char *name) {
        _cleanup_(kmod_module_unref_listp) struct kmod_list *list = NULL;
        bool inserted = false;
        int r;

        if (!k->kmod) {
                k->kmod = kmod_new(NULL, NULL);
                if (!k->kmod)
                        return -ENOMEM;
                kmod_set_log_fn(k->kmod, kmod_log, k);
                kmod_set_log_priority(k->kmod, 7);
        }

        /* The lookup normalises "vfio-pci" to the module name "vfio_pci" and resolves aliases,
         * so a driver name that differs from its module's name still works. */
        r = kmod_module_new_from_lookup(k->kmod, name, &list);
        if (r < 0)
                return r;
        if (!list) {
                vb_debug(ctx, "no kernel module is called or aliased %s", name);
                return -ENOENT;
        }

        for (struct kmod_list *i = list; i; i = kmod_list_next(list, i)) {
                struct kmod_module *m = kmod_module_get_module(i);
                int state = kmod_module_get_initstate(m);

                if (state == KMOD_MODULE_BUILTIN || state == KMOD_MODULE_LIVE) {
                        vb_debug(ctx, "module %s is %s", kmod_module_get_name(m),
                                 state == KMOD_MODULE_BUILTIN ? "built in" : "loaded");
                        kmod_module_unref(m);
                        continue;
                }
                r = kmod_module_probe_insert_module(m, 0, NULL, NULL, NULL, NULL);
                vb_debug(ctx, "loading module %s: %s", kmod_module_get_name(m), r < 0 ? strerror(-r) : "ok");
                kmod_module_unref(m);
                if (r < 0)
                        return r;
                inserted = true;
        }
        return inserted;
}

static int kernel_load_driver(void *userdata, VbContext *ctx, const char *driver) {
        VbKernel *k = userdata;
        int r;

        k->log_ctx = ctx;
        r = kernel_load_module(k, ctx, driver);
        k->log_ctx = NULL;
        return r;
}

static void kernel_drop_caches(void *userdata) {
        VbKernel *k = userdata;

        /* libkmod's context maps the module indexes; it is made again on the next load. */
        if (k->kmod)
                k->kmod = kmod_unref(k->kmod);
}

static void kernel_unref(void *userdata) {
        vb_kernel_free(userdata);
}

const VbKernelOps vb_kernel_ops = {
        .write_attr = kernel_write_attr,
        .load_driver = kernel_load_driver,
        .drop_caches = kernel_drop_caches,
        .unref = kernel_unref,
};
