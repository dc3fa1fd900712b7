/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The kernel command line's part of the configuration: vfio-bind=off, vfio-bind.device=SEL[,SEL…]. */

#include "config.h"

/* The name used in diagnostics for settings that came from the kernel command line. */
#define VB_CMDLINE_SOURCE "kernel command line"

/* Apply a kernel command line (the text of /proc/cmdline): "vfio-bind=off" (or 0, no, false)
 * sets disabled, "vfio-bind.device=SEL[,SEL…]" adds selectors. Double quotes group words as the
 * kernel does. Other words are ignored; an unknown "vfio-bind.KEY" is an error. Problems are
 * reported as "kernel command line:1: …". Returns 0, -EINVAL or -ENOMEM. */
int vb_config_apply_cmdline(VbConfig *c, const char *cmdline, VbDiagnostics *diag);
