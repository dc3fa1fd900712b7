/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "iommu.h"
#include "macro.h"
#include "runtime.h"
#include "snapshot.h"

void vb_snapshot_done(VbSnapshot *s) {
        if (!s)
                return;
        vb_pci_list_done(&s->devices);
        vb_console_state_done(&s->console);
        vb_holds_done(&s->holds);
        vb_plan_done(&s->plan);
        *s = (VbSnapshot) {};
}

int vb_snapshot_take(VbContext *ctx, const VbConfig *c, const char *runtime_dir, VbSnapshot *ret) {
        _cleanup_(vb_snapshot_done) VbSnapshot s = {};
        int r;

        r = vb_pci_enumerate(ctx, &s.devices);
        if (r < 0)
                return r;
        s.iommu_enabled = vb_iommu_enabled(ctx);

        r = vb_console_read(ctx, &s.console);
        s.have_console = r >= 0;
        if (r < 0) {
                s.console_error = r;
                vb_debug(ctx, "cannot read the console state: %s", strerror(-r));
        }

        r = vb_interlock_read(ctx, s.have_console ? &s.console : NULL, &s.devices, &s.holds);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                s.holds_error = r;

        r = vb_plan_compute_full(c, &s.devices, s.iommu_enabled, s.have_console ? &s.console : NULL, &s.holds,
                                 &s.plan);
        if (r < 0)
                return r;

        if (runtime_dir) {
                _cleanup_free_ VbPciAddress *released = NULL;
                size_t n = 0;

                r = vb_runtime_list_released(runtime_dir, &released, &n);
                if (r < 0)
                        vb_debug(ctx, "cannot read %s/released, ignoring: %s", runtime_dir, strerror(-r));
                for (size_t i = 0; i < n; i++)
                        vb_plan_hold(&s.plan, &released[i]);
        }

        *ret = s;
        s = (VbSnapshot) {};
        return 0;
}
