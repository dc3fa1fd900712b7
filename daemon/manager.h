/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "context.h"

typedef struct Manager Manager;

typedef struct ManagerOptions {
        const char *config_path; /* NULL: the default file and drop-ins */
        bool once;               /* first pass, then exit */
        const char *runtime_dir; /* /run/vfio-bind */
        bool in_initrd;          /* mark what is on the driver, for stage 2 to tell */
} ManagerOptions;

/* Takes ownership of CONFIG and CTX. */
int manager_new(Manager **ret, const ManagerOptions *o, VbConfig *config, VbContext *ctx);
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        if (*m)
                manager_free(*m);
}

/* Start the monitor, run the first pass, run the event loop. Returns the exit code. */
int manager_run(Manager *m);
