/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Load the configuration the way both programs do: an explicit file alone, or the default file
 * and its drop-in directory; then the kernel command line read through the context. */

#include <stdbool.h>

#include "config.h"
#include "context.h"

/* PATH NULL: the default file (may be missing) and the drop-in directory. PATH set: that file
 * alone, which must exist. CTX NULL: no kernel command line (--validate touches no /proc or /sys).
 * Returns 0, or -EINVAL with DIAG filled. */
int vb_config_load_all(VbContext *ctx, const char *path, VbConfig **ret, VbDiagnostics *diag);
