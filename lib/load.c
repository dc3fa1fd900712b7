/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "load.h"
#include "macro.h"
#include "sysfs.h"
#include "vb-config.h"

int vb_config_load_all(VbContext *ctx, const char *path, VbConfig **ret, VbDiagnostics *diag) {
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        int r, k = 0;

        r = vb_config_new(&c);
        if (r < 0)
                return r;

        if (path)
                r = vb_config_load(c, path, true, NULL, diag);
        else
                r = vb_config_load(c, VB_CONFIG_FILE, false, VB_CONFIG_DROPIN_DIR, diag);
        if (r < 0 && r != -EINVAL)
                return r;
        if (r < 0)
                k = r;

        if (ctx) {
                _cleanup_free_ char *cmdline = NULL;

                r = vb_procfs_read(ctx, "cmdline", &cmdline);
                if (r >= 0) {
                        r = vb_config_apply_cmdline(c, cmdline, diag);
                        if (r < 0 && r != -EINVAL)
                                return r;
                        if (r < 0)
                                k = r;
                }
        }
        if (k < 0 || diag->n > 0)
                return -EINVAL;

        *ret = TAKE_PTR(c);
        return 0;
}
