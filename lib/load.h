/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where the configuration comes from: files and drop-in directories, and the way both programs
 * load it (an explicit file alone, or the default file and its drop-in directory; then the kernel
 * command line read through the context). */

#include <stdbool.h>

#include "config.h"
#include "context.h"

/* Read PATH. MUST_EXIST: a missing file is an error (an explicit --config); otherwise a missing
 * file is fine (the default path). A file that is a symlink to /dev/null counts as empty (masked).
 * Problems with the file as a whole are reported at line 0. A file that was read is appended to
 * C->files. Returns 0, -EINVAL when anything was added to DIAG, or -ENOMEM. */
int vb_config_parse_file(VbConfig *c, const char *path, bool must_exist, VbDiagnostics *diag);

/* The main file, then DROPIN_DIR/ *.conf in name order (strcmp order; hidden files are skipped;
 * a missing directory is fine). Either may be NULL to skip it. All errors of all files are
 * collected. Returns 0, -EINVAL when anything was added to DIAG, or -ENOMEM. */
int vb_config_load(VbConfig *c, const char *path, bool must_exist, const char *dropin_dir, VbDiagnostics *diag);

/* PATH NULL: the default file (may be missing) and the drop-in directory. PATH set: that file
 * alone, which must exist. CTX NULL: no kernel command line (--validate touches no /proc or /sys).
 * Returns 0, or -EINVAL with DIAG filled. */
int vb_config_load_all(VbContext *ctx, const char *path, VbConfig **ret, VbDiagnostics *diag);
/* The same with the default files below ROOT (NULL: "/"): ROOT/etc/vfio-bind.conf is read, and
 * named /etc/vfio-bind.conf in messages and in files, as on the machine a dump came from. An
 * explicit PATH is read as it is. */
int vb_config_load_all_at(VbContext *ctx, const char *root, const char *path, VbConfig **ret, VbDiagnostics *diag);
