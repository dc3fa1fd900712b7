/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "platform.h"
#include "record.h"

/* The whole program; PLATFORM NULL means the real machine. Returns the exit code. */
int vbc_main(int argc, char **argv, const VbPlatform *platform);

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

/* Verbs: return the exit code. */
int vbc_groups(const VbcArgs *a);
int vbc_status(const VbcArgs *a);
int vbc_check(const VbcArgs *a);
int vbc_bind(const VbcArgs *a, const char *address);
int vbc_release(const VbcArgs *a, const char *address);
int vbc_dump(const VbcArgs *a, const char *file);

/* Shared helpers. */
int vbc_open_context(const VbcArgs *a, VbContext **ret);
/* Load the configuration (below the platform's configuration root); print FILE:LINE: errors.
 * Returns 0 or a negative errno. */
int vbc_load_config(const VbcArgs *a, VbContext *ctx, VbConfig **ret);
/* The same, and the errors are also appended to ERRORS (status --json puts them in its document). */
int vbc_load_config_full(const VbcArgs *a, VbContext *ctx, VbConfig **ret, char ***errors, size_t *n_errors);
/* status --json when there is nothing to show: a document with "ok": false and the errors, so a
 * JSON reader always gets one. */
void vbc_status_json_failure(char *const *errors, size_t n);
