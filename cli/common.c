/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "common.h"
#include "load.h"
#include "macro.h"
#include "progress.h"
#include "strv.h"

int vbc_open_context(const VbcArgs *a, VbContext **ret) {
        int r = vb_platform_open_context(a->platform, ret);
        if (r < 0) {
                if (a->root)
                        fprintf(stderr, "vfio-bind: Failed to open the sysfs tree of %s: %s\n", a->root, strerror(-r));
                else
                        fprintf(stderr, "vfio-bind: Failed to open sysfs: %s\n", strerror(-r));
                return r;
        }
        vb_context_set_recorder(*ret, a->recorder);
        (void) vbc_progress_track_context(a->progress_fd, *ret);
        return r;
}

int vbc_load_config_full(const VbcArgs *a, VbContext *ctx, VbConfig **ret, char ***errors, size_t *n_errors) {
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
        int r;

        r = vb_config_load_all_at(ctx, vb_platform_config_root(a->platform), a->config_path, ret, &diag);
        if (r < 0) {
                for (size_t i = 0; i < diag.n; i++)
                        fprintf(stderr, "%s\n", diag.messages[i]);
                if (diag.n == 0)
                        fprintf(stderr, "vfio-bind: Failed to load the configuration: %s\n", strerror(-r));
                if (errors) {
                        for (size_t i = 0; i < diag.n; i++)
                                if (strv_extend_printf(errors, n_errors, "%s", diag.messages[i]) < 0)
                                        break;
                        if (diag.n == 0)
                                (void) strv_extend_printf(errors, n_errors, "Failed to load the configuration: %s",
                                                          strerror(-r));
                }
        }
        return r;
}

int vbc_load_config(const VbcArgs *a, VbContext *ctx, VbConfig **ret) {
        return vbc_load_config_full(a, ctx, ret, NULL, NULL);
}
