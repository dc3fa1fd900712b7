/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>

#include "context.h"
#include "macro.h"

const char VB_SYSFS_ROOT_DEFAULT[] = "/sys";
const char VB_PROCFS_ROOT_DEFAULT[] = "/proc";

struct VbContext {
        int sysfs_fd;
        int procfs_fd;
        const VbKernelOps *ops;
        void *ops_userdata;
        const VbKernelOps *owner_ops; /* whose userdata the context frees */
        void *owner_userdata;
        VbLogFn log_fn;
        void *log_userdata;
        char *module_aliases; /* modules.alias text that replaces the ops' index, or NULL */
        char *addresses;      /* lib/ifaddr text that replaces the ops' addresses, or NULL */
        VbRecorder *recorder;
};

static int read_only_write(void *userdata, int rootfd, const char *path, const char *value) {
        return -EROFS;
}

static int read_only_load(void *userdata, VbContext *ctx, const char *name) {
        return -EROFS;
}

static const VbKernelOps read_only_ops = {
        .write_attr = read_only_write,
        .load_driver = read_only_load,
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
        c->ops = &read_only_ops;
        c->sysfs_fd = open_root(sysfs_root ?: VB_SYSFS_ROOT_DEFAULT);
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

VbContext *vb_context_free(VbContext *c) {
        if (!c)
                return NULL;
        if (c->owner_ops)
                c->owner_ops->unref(c->owner_userdata);
        closep(&c->sysfs_fd);
        closep(&c->procfs_fd);
        free(c->module_aliases);
        free(c->addresses);
        free(c);
        return NULL;
}

void vb_context_set_kernel_ops(VbContext *c, const VbKernelOps *ops, void *userdata) {
        if (ops && ops->unref && !c->owner_ops) {
                c->owner_ops = ops;
                c->owner_userdata = userdata;
        }
        c->ops = ops ?: &read_only_ops;
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

void vb_context_set_recorder(VbContext *c, VbRecorder *rec) {
        c->recorder = rec;
}

void vb_context_record(VbContext *c, VbRecordRoot root, VbRecordKind kind, const char *path, const void *data,
                       size_t size) {
        if (c && c->recorder)
                vb_recorder_add(c->recorder, root, kind, path, data, size);
}

bool vb_context_recording(const VbContext *c) {
        return c && c->recorder;
}

int vb_context_sysfs_fd(const VbContext *c) {
        return c->sysfs_fd;
}

int vb_context_procfs_fd(const VbContext *c) {
        return c->procfs_fd;
}

int vb_context_write_attr(VbContext *c, const char *path, const char *value) {
        int r;

        r = c->ops->write_attr(c->ops_userdata, c->sysfs_fd, path, value);
        vb_debug(c, "write %s <- \"%s\": %s", path, value, r < 0 ? strerror(-r) : "ok");
        return r;
}

int vb_context_load_module(VbContext *c, const char *name) {
        if (!c->ops->load_driver)
                return -EOPNOTSUPP;
        return c->ops->load_driver(c->ops_userdata, c, name);
}

void vb_context_drop_caches(VbContext *c) {
        if (c->ops->drop_caches)
                c->ops->drop_caches(c->ops_userdata);
}

int vb_context_set_module_aliases(VbContext *c, const char *text) {
        char *t = NULL;

        if (text) {
                t = strdup(text);
                if (!t)
                        return -ENOMEM;
        }
        free(c->module_aliases);
        c->module_aliases = t;
        return 0;
}

int vb_context_set_addresses(VbContext *c, const char *text) {
        char *t = NULL;

        if (text) {
                t = strdup(text);
                if (!t)
                        return -ENOMEM;
        }
        free(c->addresses);
        c->addresses = t;
        return 0;
}

int vb_context_read_addresses(VbContext *c, char **ret) {
        _cleanup_free_ char *text = NULL;
        int r;

        if (c->addresses) {
                text = strdup(c->addresses);
                if (!text)
                        return -ENOMEM;
        } else if (!c->ops->read_addresses)
                return -ENOENT;
        else {
                r = c->ops->read_addresses(c->ops_userdata, &text);
                if (r < 0)
                        return r;
        }
        if (c->recorder)
                vb_recorder_set_addresses(c->recorder, text);
        *ret = TAKE_PTR(text);
        return 0;
}

typedef struct RecordingFind {
        VbRecorder *recorder;
        VbModaliasFn fn;
        void *userdata;
} RecordingFind;

static int recording_find(void *userdata, const char *module, const char *pattern) {
        RecordingFind *f = userdata;
        vb_recorder_add_alias(f->recorder, pattern, module);
        return f->fn(f->userdata, module, pattern);
}

int vb_context_find_aliases(VbContext *c, const char *alias, VbModaliasFn fn, void *userdata) {
        RecordingFind f = { c->recorder, fn, userdata };
        int r;

        if (c->recorder) {
                fn = recording_find;
                userdata = &f;
        }
        if (c->module_aliases)
                r = vb_modalias_text_find(c->module_aliases, alias, fn, userdata);
        else if (!c->ops->find_aliases)
                r = -ENOENT;
        else
                r = c->ops->find_aliases(c->ops_userdata, c, alias, fn, userdata);
        if (r >= 0 && c->recorder)
                vb_recorder_note_index(c->recorder);
        return r;
}

void vb_context_logv(VbContext *c, int priority, const char *file, int line, const char *fn, const char *format,
                     va_list ap) {
        if (c && c->log_fn)
                c->log_fn(c->log_userdata, priority, file, line, fn, format, ap);
}

void vb_context_log(VbContext *c, int priority, const char *file, int line, const char *fn, const char *format, ...) {
        va_list ap;

        if (!c || !c->log_fn)
                return;
        va_start(ap, format);
        c->log_fn(c->log_userdata, priority, file, line, fn, format, ap);
        va_end(ap);
}
