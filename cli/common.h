/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every verb of vfio-bind starts from: its parsed arguments, a context on the machine, the
 * configuration. The dispatcher (cli/vfio-bind.c) fills the arguments and calls a verb; the verbs
 * share these helpers, and nothing of the dispatcher. */

#include <stdbool.h>

#include "config.h"
#include "context.h"
#include "platform.h"
#include "record.h"

typedef struct VbcArgs {
        const char *config_path; /* --config= */
        const char *driver;      /* --driver= (bind) */
        bool json;               /* --json */
        bool force;              /* --force (bind) */
        bool take_group;         /* --take-group (bind, release) */
        bool release_console;    /* --release-console (bind) */
        bool dry_run;            /* --dry-run (bind) */
        const char *root;        /* --root= (the platform below is made from it) */
        const VbPlatform *platform;
        VbRecorder *recorder; /* dump: contexts record what they read */
        int progress_fd;      /* bind, release: each kernel write is reported here (cli/deadline.h), or -1 */
} VbcArgs;

/* A context on the machine (or the --root), recording for a dump and reporting its writes
 * (cli/deadline.h) when asked; says why on stderr when it fails. */
int vbc_open_context(const VbcArgs *a, VbContext **ret);
/* Load the configuration (below the platform's configuration root); print FILE:LINE: errors.
 * Returns 0 or a negative errno. */
int vbc_load_config(const VbcArgs *a, VbContext *ctx, VbConfig **ret);
/* The same, and the errors are also appended to ERRORS (status --json puts them in its document). */
int vbc_load_config_full(const VbcArgs *a, VbContext *ctx, VbConfig **ret, char ***errors, size_t *n_errors);
