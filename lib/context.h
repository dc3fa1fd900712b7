/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * VbContext: everything the library needs from the machine, with explicit roots.
 *
 * The sysfs root (normally "/sys") and the procfs root (normally "/proc") are opened once as
 * directory fds; every access below goes through openat() relative to them, so tests point the
 * context at a fake tree. Writes that the kernel reacts to go through VbKernelOps, which a
 * test replaces with a fake kernel that plays the kernel's part.
 *
 * There is no global state: a context is created, passed down, and freed.
 */

#include <stdarg.h>
#include <stdbool.h>

typedef struct VbContext VbContext;

typedef struct VbKernelOps {
        /* Write VALUE (no trailing newline added) to the sysfs attribute at PATH, relative to the
         * sysfs root fd ROOTFD. Returns 0 or a negative errno, like the kernel's store method. */
        int (*write_attr)(void *userdata, int rootfd, const char *path, const char *value);
        /* Load the kernel module that provides DRIVER. Returns 1 if loaded now, 0 if it was
         * loaded or built in already, negative errno on failure (-ENOENT: no such module). */
        int (*load_driver)(void *userdata, VbContext *ctx, const char *driver);
} VbKernelOps;

typedef void (*VbLogFn)(void *userdata, int priority, const char *file, int line, const char *fn,
                        const char *format, va_list args);

/* Default roots. "/sys" and "/proc" are spelled only here (context.c). */
extern const char VB_SYSFS_ROOT_DEFAULT[];
extern const char VB_PROCFS_ROOT_DEFAULT[];

/* Where the programs find the machine: the real one (all NULL) or a test's fake. */
typedef struct VbPlatform {
        const char *sysfs_root;  /* NULL: "/sys" */
        const char *procfs_root; /* NULL: "/proc" */
        const VbKernelOps *ops;  /* NULL: the real kernel */
        void *ops_userdata;
        const char *runtime_dir; /* NULL: "/run/vfio-bind" */
} VbPlatform;

/* sysfs_root/procfs_root may be NULL for the defaults. */
int vb_context_new(VbContext **ret, const char *sysfs_root, const char *procfs_root);
int vb_context_new_for_platform(VbContext **ret, const VbPlatform *p);
VbContext *vb_context_free(VbContext *ctx);
static inline void vb_context_freep(VbContext **c) {
        if (*c)
                vb_context_free(*c);
}

/* Replace the kernel (tests). OPS must outlive the context. NULL restores the real kernel. */
void vb_context_set_kernel_ops(VbContext *ctx, const VbKernelOps *ops, void *userdata);
/* The kernel ops in use (to wrap them). */
void vb_context_get_kernel_ops(const VbContext *ctx, const VbKernelOps **ret_ops, void **ret_userdata);
/* Debug logging sink of the library (routes libkmod's log too). */
void vb_context_set_log_fn(VbContext *ctx, VbLogFn fn, void *userdata);

int vb_context_sysfs_fd(const VbContext *ctx);
int vb_context_procfs_fd(const VbContext *ctx);
const char *vb_context_sysfs_root(const VbContext *ctx);

/* Internal plumbing used by the other lib modules. */
struct kmod_ctx;
/* libkmod's context, created on first use (its log routed to ours). */
int vb_context_get_kmod(VbContext *ctx, struct kmod_ctx **ret);
/* Let go of what can be loaded again on demand (libkmod's context and its index mappings): a
 * daemon calls this when it goes idle. */
void vb_context_drop_caches(VbContext *ctx);
int vb_context_write_attr(VbContext *ctx, const char *path, const char *value);
int vb_context_load_driver(VbContext *ctx, const char *driver);
void vb_context_log(VbContext *ctx, int priority, const char *file, int line, const char *fn,
                    const char *format, ...) __attribute__((format(printf, 6, 7)));

#define vb_debug(ctx, ...) vb_context_log((ctx), 7 /* LOG_DEBUG */, __FILE__, __LINE__, __func__, __VA_ARGS__)
