/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * VbContext: the roots the library reads the machine from, the kernel it writes to, and where
 * its debug log goes, as kmod_new() takes a root and a log function.
 *
 * The sysfs root (normally "/sys") and the procfs root (normally "/proc") are opened once as
 * directory fds; every access below goes through openat() relative to them, so tests point the
 * context at a fake tree. Writes that the kernel reacts to go through VbKernelOps: the real
 * kernel (lib/kernel.h), a test's fake kernel, or none (a context that only reads: every write
 * and module load fails with -EROFS).
 *
 * There is no global state: a context is created, passed down, and freed.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "record.h"

#include "modalias.h"

typedef struct VbContext VbContext;

typedef struct VbKernelOps {
        /* Write VALUE (no trailing newline added) to the sysfs attribute at PATH, relative to the
         * sysfs root fd ROOTFD. Returns 0 or a negative errno, like the kernel's store method. */
        int (*write_attr)(void *userdata, int rootfd, const char *path, const char *value);
        /* Load the kernel module called or aliased NAME (a driver name: "vfio-pci"). Returns 1
         * if a module was inserted now, 0 if it was loaded or built in already, negative errno on
         * failure (-ENOENT: no such module). Whether the driver then exists is the caller's to
         * check. */
        int (*load_driver)(void *userdata, VbContext *ctx, const char *name);
        /* Optional: every module whose alias pattern matches ALIAS ("vfio_pci:v…"), through the
         * module index: FN(FN_USERDATA, MODULE, PATTERN) for each match. Returns 0, -ENOENT if
         * there is no module index, or FN's negative return. */
        int (*find_aliases)(void *userdata, VbContext *ctx, const char *alias, VbModaliasFn fn, void *fn_userdata);
        /* Optional: the machine's interface addresses as lib/ifaddr text (getifaddrs(): every
         * address, whatever routing table). Returns 0 or a negative errno. Without it the network
         * interlock reads /proc/net/if_inet6 and /proc/net/route below the procfs root. */
        int (*read_addresses)(void *userdata, char **ret);
        /* Optional: let go of what can be had again on demand (an idle daemon calls it). */
        void (*drop_caches)(void *userdata);
        /* Optional: the context owns USERDATA and calls this when it is freed. */
        void (*unref)(void *userdata);
} VbKernelOps;

typedef void (*VbLogFn)(void *userdata, int priority, const char *file, int line, const char *fn, const char *format,
                        va_list args);

/* Default roots. "/sys" and "/proc" are spelled only here (context.c). */
extern const char VB_SYSFS_ROOT_DEFAULT[];
extern const char VB_PROCFS_ROOT_DEFAULT[];

/* A context that reads SYSFS_ROOT and PROCFS_ROOT (NULL: the defaults) and writes nothing until
 * it is given a kernel. */
int vb_context_new(VbContext **ret, const char *sysfs_root, const char *procfs_root);
VbContext *vb_context_free(VbContext *ctx);
static inline void vb_context_freep(VbContext **c) {
        if (*c)
                vb_context_free(*c);
}

/* The kernel to write to. OPS must outlive the context; if OPS has unref, the context owns
 * USERDATA from now on (the first owner is kept when the ops are wrapped later). NULL: write
 * nothing. */
void vb_context_set_kernel_ops(VbContext *ctx, const VbKernelOps *ops, void *userdata);
/* The kernel ops in use (to wrap them). */
void vb_context_get_kernel_ops(const VbContext *ctx, const VbKernelOps **ret_ops, void **ret_userdata);
/* Debug logging sink of the library. */
void vb_context_set_log_fn(VbContext *ctx, VbLogFn fn, void *userdata);

/* Note every access below the roots in REC (borrowed; NULL: stop recording). lib/dump keeps what
 * was recorded. */
void vb_context_set_recorder(VbContext *ctx, VbRecorder *rec);
/* Called by every reader below the roots (lib/sysfs and the few direct openat() calls): note
 * one access, if a recorder is set. */
void vb_context_record(VbContext *ctx, VbRecordRoot root, VbRecordKind kind, const char *path, const void *data,
                       size_t size);
/* Whether a recorder is set (to skip work only a recorder needs). */
bool vb_context_recording(const VbContext *ctx);

int vb_context_sysfs_fd(const VbContext *ctx);
int vb_context_procfs_fd(const VbContext *ctx);

/* Through the kernel ops. */
int vb_context_write_attr(VbContext *ctx, const char *path, const char *value);
int vb_context_load_module(VbContext *ctx, const char *name);
void vb_context_drop_caches(VbContext *ctx);

/* The module index's aliases as modules.alias text ("alias PATTERN MODULE" lines): when set
 * (a machine replayed from a dump), they are looked up instead of the kernel ops' index. TEXT is
 * copied; NULL unsets. 0 or -ENOMEM. */
int vb_context_set_module_aliases(VbContext *ctx, const char *text);
/* Every module whose alias matches ALIAS: from the text above, else through the kernel ops.
 * -ENOENT: no module index (a context without a kernel, or the ops have none). */
int vb_context_find_aliases(VbContext *ctx, const char *alias, VbModaliasFn fn, void *userdata);

/* The interface addresses as lib/ifaddr text: when set (a machine replayed from a dump that has
 * them), used instead of the kernel ops'. TEXT is copied; NULL unsets. 0 or -ENOMEM. */
int vb_context_set_addresses(VbContext *ctx, const char *text);
/* The interface addresses: the text above, else through the kernel ops; recorded for a dump.
 * -ENOENT: neither (read the procfs files instead). */
int vb_context_read_addresses(VbContext *ctx, char **ret);

void vb_context_log(VbContext *ctx, int priority, const char *file, int line, const char *fn, const char *format, ...)
        __attribute__((format(printf, 6, 7)));
void vb_context_logv(VbContext *ctx, int priority, const char *file, int line, const char *fn, const char *format,
                     va_list ap) __attribute__((format(printf, 6, 0)));

#define vb_debug(ctx, ...) vb_context_log((ctx), 7 /* LOG_DEBUG */, __FILE__, __LINE__, __func__, __VA_ARGS__)
