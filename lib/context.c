/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libkmod.h>
#include <stdio.h>
#include <sys/stat.h>

#include "context.h"
#include "kmod.h"
#include "macro.h"

const char VB_SYSFS_ROOT_DEFAULT[] = "/sys";
const char VB_PROCFS_ROOT_DEFAULT[] = "/proc";

struct VbContext {
        int sysfs_fd;
        int procfs_fd;
        char *sysfs_root;
        const VbKernelOps *ops;
        void *ops_userdata;
        VbLogFn log_fn;
        void *log_userdata;
        struct kmod_ctx *kmod;
};

static int real_write_attr(void *userdata, int rootfd, const char *path, const char *value) {
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

static int real_load_driver(void *userdata, VbContext *ctx, const char *driver) {
        return vb_kmod_load_driver(ctx, driver);
}

static const VbKernelOps real_kernel_ops = {
        .write_attr = real_write_attr,
        .load_driver = real_load_driver,
};

static int open_root(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

int vb_context_new(VbContext **ret, const char *sysfs_root, const char *procfs_root) {
        VbContext *c;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->procfs_fd = -EBADF;
        c->ops = &real_kernel_ops;
        c->sysfs_root = strdup(sysfs_root ?: VB_SYSFS_ROOT_DEFAULT);
        if (!c->sysfs_root) {
                vb_context_free(c);
                return -ENOMEM;
        }
        c->sysfs_fd = open_root(c->sysfs_root);
        if (c->sysfs_fd < 0) {
                int r = c->sysfs_fd;
                vb_context_free(c);
                return r;
        }
        /* procfs is optional: without it there is no kernel command line and no iomem. */
        c->procfs_fd = open_root(procfs_root ?: VB_PROCFS_ROOT_DEFAULT);

        *ret = c;
        return 0;
}

int vb_context_new_for_platform(VbContext **ret, const VbPlatform *p) {
        VbContext *c;
        int r;

        r = vb_context_new(&c, p ? p->sysfs_root : NULL, p ? p->procfs_root : NULL);
        if (r < 0)
                return r;
        if (p && p->ops)
                vb_context_set_kernel_ops(c, p->ops, p->ops_userdata);
        *ret = c;
        return 0;
}

VbContext *vb_context_free(VbContext *c) {
        if (!c)
                return NULL;
        if (c->kmod)
                kmod_unref(c->kmod);
        closep(&c->sysfs_fd);
        closep(&c->procfs_fd);
        free(c->sysfs_root);
        free(c);
        return NULL;
}

void vb_context_set_kernel_ops(VbContext *c, const VbKernelOps *ops, void *userdata) {
        c->ops = ops ?: &real_kernel_ops;
        c->ops_userdata = ops ? userdata : NULL;
}

void vb_context_get_kernel_ops(const VbContext *c, const VbKernelOps **ret_ops, void **ret_userdata) {
        *ret_ops = c->ops;
        *ret_userdata = c->ops_userdata;
}

void vb_context_set_log_fn(VbContext *c, VbLogFn fn, void *userdata) {
        c->log_fn = fn;
        c->log_userdata = userdata;
}

int vb_context_sysfs_fd(const VbContext *c) {
        return c->sysfs_fd;
}

int vb_context_procfs_fd(const VbContext *c) {
        return c->procfs_fd;
}

const char *vb_context_sysfs_root(const VbContext *c) {
        return c->sysfs_root;
}

int vb_context_write_attr(VbContext *c, const char *path, const char *value) {
        int r;

        r = c->ops->write_attr(c->ops_userdata, c->sysfs_fd, path, value);
        vb_debug(c, "write %s <- \"%s\": %s", path, value, r < 0 ? strerror(-r) : "ok");
        return r;
}

int vb_context_load_driver(VbContext *c, const char *driver) {
        if (!c->ops->load_driver)
                return -EOPNOTSUPP;
        return c->ops->load_driver(c->ops_userdata, c, driver);
}

void vb_context_log(VbContext *c, int priority, const char *file, int line, const char *fn,
                    const char *format, ...) {
        va_list ap;

        if (!c || !c->log_fn)
                return;
        va_start(ap, format);
        c->log_fn(c->log_userdata, priority, file, line, fn, format, ap);
        va_end(ap);
}

static void kmod_log_to_context(void *data, int priority, const char *file, int line,
                                const char *fn, const char *format, va_list args) {
        VbContext *c = data;

        if (c->log_fn)
                c->log_fn(c->log_userdata, priority < 7 ? 7 : priority, file, line, fn, format, args);
}

void vb_context_drop_caches(VbContext *c) {
        if (c->kmod)
                c->kmod = kmod_unref(c->kmod);
}

int vb_context_get_kmod(VbContext *c, struct kmod_ctx **ret) {
        if (!c->kmod) {
                c->kmod = kmod_new(NULL, NULL);
                if (!c->kmod)
                        return -ENOMEM;
                kmod_set_log_fn(c->kmod, kmod_log_to_context, c);
                kmod_set_log_priority(c->kmod, 7);
        }
        *ret = c->kmod;
        return 0;
}
