/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libkmod.h>
#include <stdio.h>

#include "alloc-util.h"
#include "ifaddr.h"
#include "kernel.h"
#include "macro.h"
#include "modalias.h"
#include "strv.h"

/* A module's vfio_pci: alias patterns, as the module index's text lists them. */
typedef struct ModuleAliases {
        char *module;
        char **patterns; /* NULL-terminated */
} ModuleAliases;

struct VbKernel {
        struct kmod_ctx *kmod;  /* created on first use, dropped when idle */
        char *modules_dir;      /* NULL: libkmod's default (/lib/modules/`uname -r`) */
        VbContext *log_ctx;     /* whose log sink libkmod's messages go to, during a call */
        ModuleAliases *aliases; /* every module with vfio_pci: aliases; dropped with the libkmod context */
        size_t n_aliases, aliases_allocated;
        bool aliases_read;
};

int vb_kernel_new(VbKernel **ret) {
        return vb_kernel_new_at(ret, NULL);
}

int vb_kernel_new_at(VbKernel **ret, const char *modules_dir) {
        VbKernel *k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        if (modules_dir) {
                k->modules_dir = strdup(modules_dir);
                if (!k->modules_dir) {
                        free(k);
                        return -ENOMEM;
                }
        }
        *ret = k;
        return 0;
}

static void kernel_drop_aliases(VbKernel *k) {
        for (size_t i = 0; i < k->n_aliases; i++) {
                free(k->aliases[i].module);
                strv_free(k->aliases[i].patterns);
        }
        free(k->aliases);
        k->aliases = NULL;
        k->n_aliases = k->aliases_allocated = 0;
        k->aliases_read = false;
}

VbKernel *vb_kernel_free(VbKernel *k) {
        if (!k)
                return NULL;
        if (k->kmod)
                kmod_unref(k->kmod);
        kernel_drop_aliases(k);
        free(k->modules_dir);
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

static void kmod_module_unrefp(struct kmod_module **m) {
        if (*m)
                kmod_module_unref(*m);
}

static int kernel_open(VbKernel *k) {
        if (k->kmod)
                return 0;
        /* With a directory of its own (a test's index), no modprobe.d configuration is read. */
        k->kmod = kmod_new(k->modules_dir, k->modules_dir ? (const char *const[]) { NULL } : NULL);
        if (!k->kmod)
                return -ENOMEM;
        kmod_set_log_fn(k->kmod, kmod_log, k);
        kmod_set_log_priority(k->kmod, 7);
        return 0;
}

static int kernel_load_module(VbKernel *k, VbContext *ctx, const char *name) {
        _cleanup_(kmod_module_unref_listp) struct kmod_list *list = NULL;
        bool inserted = false;
        int r;

        r = kernel_open(k);
        if (r < 0)
                return r;

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

static void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

/* Add PATTERN to MODULE's patterns. */
static int aliases_add(VbKernel *k, const char *module, size_t module_len, const char *pattern, size_t pattern_len) {
        ModuleAliases *a = NULL;
        size_t n;

        for (size_t i = 0; i < k->n_aliases && !a; i++)
                if (strlen(k->aliases[i].module) == module_len && strneq(k->aliases[i].module, module, module_len))
                        a = &k->aliases[i];
        if (!a) {
                if (!VB_GREEDY_REALLOC(k->aliases, k->aliases_allocated, k->n_aliases + 1))
                        return -ENOMEM;
                a = &k->aliases[k->n_aliases];
                *a = (ModuleAliases) { .module = strndup(module, module_len) };
                if (!a->module)
                        return -ENOMEM;
                k->n_aliases++;
        }
        n = strv_length(a->patterns);
        return strv_extend_printf(&a->patterns, &n, "%.*s", (int) pattern_len, pattern);
}

/* The "alias vfio_pci:PATTERN MODULE" lines of one of the index's text files (DIR/NAME). A file
 * that is not there has none. */
static int aliases_read_file(VbKernel *k, VbContext *ctx, const char *dir, const char *name) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        static const char prefix[] = "alias " VB_MODALIAS_VFIO_PREFIX;
        size_t size = 0;
        ssize_t n;
        int r;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f) {
                vb_debug(ctx, "cannot read %s: %m", path);
                return 0;
        }
        while ((n = getline(&line, &size, f)) >= 0) {
                const char *pattern, *module;
                size_t pattern_len, module_len;

                if (!startswith(line, prefix))
                        continue;
                pattern = line + strlen("alias ");
                pattern_len = strcspn(pattern, " \t\n");
                module = pattern + pattern_len + strspn(pattern + pattern_len, " \t");
                module_len = strcspn(module, " \t\n");
                if (module_len == 0)
                        continue;
                r = aliases_add(k, module, module_len, pattern, pattern_len);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void kmod_module_info_free_listp(struct kmod_list **l) {
        if (*l)
                kmod_module_info_free_list(*l);
}

/* MODULE's vfio_pci: patterns from its modinfo (the .ko file, or modules.builtin.modinfo for a
 * built-in module), kept with the others. */
static int module_aliases_from_modinfo(VbKernel *k, VbContext *ctx, struct kmod_module *m, char *const **ret) {
        _cleanup_(kmod_module_info_free_listp) struct kmod_list *info = NULL;
        const char *name = kmod_module_get_name(m);
        int r;

        *ret = NULL;
        r = kmod_module_get_info(m, &info);
        if (r < 0)
                vb_debug(ctx, "cannot read the modinfo of %s: %s", name, strerror(-r));
        for (struct kmod_list *i = info; i; i = kmod_list_next(info, i)) {
                const char *key = kmod_module_info_get_key(i), *value = kmod_module_info_get_value(i);

                if (!streq(key, "alias") || !value || !startswith(value, VB_MODALIAS_VFIO_PREFIX))
                        continue;
                r = aliases_add(k, name, strlen(name), value, strlen(value));
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < k->n_aliases; i++)
                if (streq(k->aliases[i].module, name))
                        *ret = k->aliases[i].patterns;
        return 0;
}

/* MODULE's vfio_pci: alias patterns. They are read for every module at once, the first time,
 * from the module index's text (modules.alias, and modules.builtin.alias for built-in modules),
 * which depmod writes from each module's modinfo: no module file is opened (libkmod reads a
 * module's modinfo with its signature, which it decodes with libcrypto, a megabyte of memory
 * for a list of strings). */
static int kernel_module_aliases(VbKernel *k, VbContext *ctx, struct kmod_module *m, char *const **ret) {
        static char *const none[] = { NULL };
        const char *name = kmod_module_get_name(m);
        int r;

        if (!k->aliases_read) {
                const char *dir = kmod_get_dirname(k->kmod);

                r = aliases_read_file(k, ctx, dir, "modules.alias");
                if (r >= 0)
                        r = aliases_read_file(k, ctx, dir, "modules.builtin.alias");
                if (r < 0)
                        return r;
                k->aliases_read = true;
        }
        for (size_t i = 0; i < k->n_aliases; i++)
                if (streq(k->aliases[i].module, name)) {
                        *ret = k->aliases[i].patterns;
                        return 0;
                }
        /* Not in the text (an initrd whose depmod left it out, a module only a modprobe.d alias
         * names): its modinfo, as a last resort. */
        r = module_aliases_from_modinfo(k, ctx, m, ret);
        if (r < 0)
                return r;
        if (!*ret)
                *ret = none;
        return 0;
}

static int kernel_find_aliases(void *userdata, VbContext *ctx, const char *alias, VbModaliasFn fn, void *fn_userdata) {
        _cleanup_(kmod_module_unref_listp) struct kmod_list *list = NULL;
        VbKernel *k = userdata;
        int r;

        k->log_ctx = ctx;
        r = kernel_open(k);
        if (r < 0)
                goto finish;
        /* Without its index libkmod finds nothing and says nothing: that is no index. */
        {
                _cleanup_free_ char *bin = NULL;
                if (asprintf(&bin, "%s/modules.alias.bin", kmod_get_dirname(k->kmod)) < 0) {
                        r = -ENOMEM;
                        goto finish;
                }
                if (access(bin, F_OK) < 0) {
                        vb_debug(ctx, "no module index to look in: %s: %m", bin);
                        r = -ENOENT;
                        goto finish;
                }
        }
        /* The index says which modules match (modules.alias.bin, the built-in aliases, modprobe.d
         * aliases); which of a module's patterns matched, to rank them, its modinfo says. */
        r = kmod_module_new_from_lookup(k->kmod, alias, &list);
        if (r < 0) {
                vb_debug(ctx, "looking up %s in the module index failed: %s", alias, strerror(-r));
                r = -ENOENT;
                goto finish;
        }
        for (struct kmod_list *i = list; i && r >= 0; i = kmod_list_next(list, i)) {
                _cleanup_(kmod_module_unrefp) struct kmod_module *m = kmod_module_get_module(i);
                char *const *patterns;
                bool matched = false;

                r = kernel_module_aliases(k, ctx, m, &patterns);
                if (r < 0)
                        break;
                for (char *const *p = patterns; *p && r >= 0; p++)
                        if (vb_modalias_match(*p, alias)) {
                                matched = true;
                                r = fn(fn_userdata, kmod_module_get_name(m), *p);
                        }
                /* An alias of modprobe.d, which no modinfo lists: as unspecific as can be. */
                if (!matched && r >= 0)
                        r = fn(fn_userdata, kmod_module_get_name(m), VB_MODALIAS_VFIO_PREFIX "*");
        }
finish:
        k->log_ctx = NULL;
        return r < 0 ? r : 0;
}

static void kernel_drop_caches(void *userdata) {
        VbKernel *k = userdata;

        /* libkmod's context maps the module indexes; it is made again on the next load. */
        if (k->kmod)
                k->kmod = kmod_unref(k->kmod);
        kernel_drop_aliases(k);
}

static void kernel_unref(void *userdata) {
        vb_kernel_free(userdata);
}

static int kernel_read_addresses(void *userdata, char **ret) {
        return vb_ifaddr_read_system(ret);
}

const VbKernelOps vb_kernel_ops = {
        .write_attr = kernel_write_attr,
        .load_driver = kernel_load_driver,
        .find_aliases = kernel_find_aliases,
        .read_addresses = kernel_read_addresses,
        .drop_caches = kernel_drop_caches,
        .unref = kernel_unref,
};
