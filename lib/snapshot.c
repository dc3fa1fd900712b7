/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "snapshot.h"
#include "driver.h"
#include "iommu.h"
#include "macro.h"
#include "runtime.h"

void vb_snapshot_done(VbSnapshot *s) {
        if (!s)
                return;
        vb_pci_list_done(&s->devices);
        vb_console_state_done(&s->console);
        vb_holds_done(&s->holds);
        free(s->released);
        free(s->failed);
        vb_plan_done(&s->plan);
        *s = (VbSnapshot) {};
}

int vb_snapshot_read(VbContext *ctx, const char *runtime_dir, VbSnapshot *ret) {
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

        if (runtime_dir) {
                r = vb_runtime_list_released(runtime_dir, &s.released, &s.n_released);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        vb_debug(ctx, "cannot read %s/released, ignoring: %s", runtime_dir, strerror(-r));
        }

        *ret = s;
        s = (VbSnapshot) {};
        return 0;
}

int vb_snapshot_plan(VbContext *ctx, const VbConfig *c, VbSnapshot *s) {
        VbPlan plan = {};
        int r;

        s->driver_loaded = vb_driver_exists(ctx, c->driver);
        r = vb_plan_compute(
                &(VbPlanInput) {
                        .config = c,
                        .devices = &s->devices,
                        .iommu_enabled = s->iommu_enabled,
                        .console = s->have_console ? &s->console : NULL,
                        .holds = &s->holds,
                        .released = s->released,
                        .n_released = s->n_released,
                        .failed = s->failed,
                        .n_failed = s->n_failed,
                        .driver_loaded = s->driver_loaded,
                },
                &plan);
        if (r < 0)
                return r;
        vb_plan_done(&s->plan);
        s->plan = plan;
        return 0;
}

int vb_snapshot_take(VbContext *ctx, const VbConfig *c, const char *runtime_dir, VbSnapshot *ret) {
        _cleanup_(vb_snapshot_done) VbSnapshot s = {};
        int r;

        r = vb_snapshot_read(ctx, runtime_dir, &s);
        if (r < 0)
                return r;
        r = vb_snapshot_plan(ctx, c, &s);
        if (r < 0)
                return r;
        *ret = s;
        s = (VbSnapshot) {};
        return 0;
}

void vb_snapshot_forget_release(VbSnapshot *s, const VbPciAddress *a) {
        for (size_t i = 0; i < s->n_released;)
                if (vb_pci_address_equal(&s->released[i], a))
                        s->released[i] = s->released[--s->n_released];
                else
                        i++;
}
