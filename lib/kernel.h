/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The real kernel: sysfs writes and module loading through libkmod, handed to a context as its
 * VbKernelOps (vb_context_set_kernel_ops(ctx, &vb_kernel_ops, kernel)). Tests hand the context
 * a fake kernel instead; a context with no kernel at all writes nothing (-EROFS).
 *
 * This is the only module that owns a libkmod context; nothing here knows of PCI devices or
 * configuration.
 */

#include "context.h"

typedef struct VbKernel VbKernel;

/* Ops whose userdata is a VbKernel; the context that is given them owns the kernel (unref). */
extern const VbKernelOps vb_kernel_ops;

int vb_kernel_new(VbKernel **ret);
/* The same with the modules (and their index) of MODULES_DIR instead of
 * /lib/modules/`uname -r`, and no modprobe.d configuration: a test's index. */
int vb_kernel_new_at(VbKernel **ret, const char *modules_dir);
VbKernel *vb_kernel_free(VbKernel *k);
