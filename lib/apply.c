/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>

#include "apply.h"
#include "driver.h"
#include "macro.h"

static const char *const device_state_table[_VB_DEVICE_STATE_MAX] = {
        [VB_DEVICE_ON_DRIVER] = "on-driver",     [VB_DEVICE_BOUND] = "bound",
        [VB_DEVICE_FAILED] = "failed",           [VB_DEVICE_STUCK] = "stuck",
        [VB_DEVICE_ROLLED_BACK] = "rolled-back", [VB_DEVICE_RESTORE_FAILED] = "restore-failed",
        [VB_DEVICE_SKIPPED] = "skipped",         [VB_DEVICE_REFUSED] = "refused",
        [VB_DEVICE_MISSING] = "missing",
};

const char *vb_device_state_to_string(VbDeviceState s) {
        return s >= 0 && s < _VB_DEVICE_STATE_MAX ? device_state_table[s] : NULL;
}

void vb_apply_done(VbApply *a) {
        if (!a)
                return;
        for (size_t i = 0; i < a->n; i++) {
                vb_bind_result_done(&a->results[i].bind);
                vb_bind_result_done(&a->results[i].restore);
                free(a->results[i].stuck);
        }
        free(a->results);
        free(a->console_text);
        for (size_t i = 0; i < a->n_sriov; i++) {
                vb_sriov_enable_done(&a->sriov[i]);
                free(a->sriov_stuck ? a->sriov_stuck[i] : NULL);
        }
        free(a->sriov);
        free(a->sriov_stuck);
        *a = (VbApply) {};
}

bool vb_apply_result_on_driver(const VbApplyResult *r) {
        return r->state == VB_DEVICE_ON_DRIVER || r->state == VB_DEVICE_BOUND;
}

static int default_bind(void *userdata, VbContext *ctx, const VbPlanEntry *e, bool unbind_host, VbBindResult *ret,
                        char **ret_stuck) {
        return vb_bind_device(ctx, &e->address, e->driver, unbind_host, ret);
}

/* Put back the members of the transaction [START, END) that this pass moved, because entry
 * CAUSE failed; the members after CAUSE are not tried. */
static void roll_back(VbContext *ctx, const VbPlan *plan, VbApply *a, const size_t *order, size_t start, size_t end,
                      size_t cause) {
        for (size_t k = start; k < end; k++) {
                size_t i = order[k];
                VbApplyResult *res = &a->results[i];
                int r;

                if (i == cause)
                        continue;
                if (res->state == VB_DEVICE_BOUND && res->bind.changed) {
                        r = vb_bind_restore(ctx, &plan->entries[i].address, plan->entries[i].driver,
                                            res->bind.driver_before, &res->restore);
                        res->cause = cause;
                        if (r < 0) {
                                res->state = VB_DEVICE_RESTORE_FAILED;
                                res->error = r;
                        } else {
                                res->state = VB_DEVICE_ROLLED_BACK;
                                a->n_rolled_back++;
                        }
                } else if (plan->entries[i].action == VB_ACTION_BIND && res->state == VB_DEVICE_SKIPPED)
                        res->cause = cause;
        }
}

/* Bind entry I; false if it failed (or hangs). */
static bool bind_one(VbContext *ctx, const VbPlan *plan, const VbApplyOps *ops, VbApply *a, size_t i) {
        const VbPlanEntry *e = &plan->entries[i];
        VbApplyResult *res = &a->results[i];
        int r;

        if (a->module_error < 0) {
                /* Nothing was tried: it is where the plan found it. */
                res->state = VB_DEVICE_FAILED;
                res->error = a->module_error;
                res->bind.failed_step = VB_BIND_STEP_MODULE;
                if (e->driver_before) {
                        res->bind.driver_before = strdup(e->driver_before);
                        res->bind.driver_after = strdup(e->driver_before);
                        if (!res->bind.driver_before || !res->bind.driver_after)
                                return false;
                }
                return false;
        }
        r = ops->bind(ops->userdata, ctx, e, plan->unbind_host, &res->bind, &res->stuck);
        if (r == -ETIMEDOUT && res->stuck) {
                res->state = VB_DEVICE_STUCK;
                res->error = r;
                return false;
        }
        if (r < 0) {
                res->state = VB_DEVICE_FAILED;
                res->error = r;
                return false;
        }
        if (res->bind.module_loaded)
                a->module_loaded = true;
        res->state = VB_DEVICE_BOUND;
        return true;
}

static int cmp_by_group(const void *x, const void *y, void *userdata) {
        const VbPlan *plan = userdata;
        size_t i = *(const size_t *) x, j = *(const size_t *) y;
        int gi = plan->entries[i].iommu_group, gj = plan->entries[j].iommu_group;

        if (gi != gj)
                return gi < gj ? -1 : 1;
        return i < j ? -1 : i > j;
}

int vb_apply(VbContext *ctx, const VbPlan *plan, const VbConsoleState *console, const VbApplyOps *ops, VbApply *ret) {
        static const VbApplyOps default_ops = { .bind = default_bind };
        _cleanup_(vb_apply_done) VbApply a = {};
        _cleanup_free_ size_t *order = NULL;
        size_t n_order = 0;
        bool transactions = plan->group != VB_GROUP_IGNORE && plan->iommu_enabled;
        int r;

        if (!ops || !ops->bind)
                ops = &default_ops;
        a.results = calloc(plan->n ?: 1, sizeof(VbApplyResult));
        order = malloc((plan->n ?: 1) * sizeof(size_t));
        if (!a.results || !order)
                return -ENOMEM;
        a.n = plan->n;

        for (size_t i = 0; i < plan->n; i++) {
                const VbPlanEntry *e = &plan->entries[i];
                VbApplyResult *res = &a.results[i];

                res->cause = SIZE_MAX;
                switch (e->action) {
                case VB_ACTION_LEAVE:
                        res->state = VB_DEVICE_ON_DRIVER;
                        break;
                case VB_ACTION_BIND:
                        res->state = VB_DEVICE_SKIPPED; /* until it is tried */
                        order[n_order++] = i;
                        break;
                case VB_ACTION_MISSING:
                        res->state = VB_DEVICE_MISSING;
                        break;
                default:
                        res->state = VB_DEVICE_REFUSED;
                        break;
                }
        }
        if (n_order == 0 && vb_plan_count_sriov(plan, VB_SRIOV_CREATE) == 0) {
                *ret = a;
                a = (VbApply) {};
                return 0;
        }

        /* The driver first: without it nothing can be bound, and the console must not be given
         * up for nothing. */
        if (plan->load_module) {
                r = vb_driver_load(ctx, plan->driver);
                if (r < 0)
                        a.module_error = r;
                else if (r > 0)
                        a.module_loaded = true;
        }

        /* Virtual functions: created before anything is bound, the console left alone for them
         * (no VF shows a console). Without the driver they are not created. */
        if (plan->n_sriov > 0) {
                a.sriov = calloc(plan->n_sriov, sizeof(VbSriovEnable));
                a.sriov_stuck = calloc(plan->n_sriov, sizeof(char *));
                if (!a.sriov || !a.sriov_stuck)
                        return -ENOMEM;
                a.n_sriov = plan->n_sriov;
        }
        for (size_t i = 0; i < plan->n_sriov; i++) {
                const VbPlanSriov *s = &plan->sriov[i];

                if (s->action != VB_SRIOV_CREATE)
                        continue;
                if (a.module_error < 0) {
                        a.sriov[i].error = a.module_error;
                        continue;
                }
                if (ops->sriov_enable)
                        r = ops->sriov_enable(ops->userdata, ctx, s, plan->timeout_usec, &a.sriov[i],
                                              &a.sriov_stuck[i]);
                else
                        r = vb_sriov_enable(ctx, &s->pf, &s->sriov, s->count, s->driver, plan->timeout_usec,
                                            &a.sriov[i]);
                if (r == -ETIMEDOUT) {
                        a.sriov[i].error = r;
                        a.sriov[i].failed_step = VB_SRIOV_STEP_NUMVFS;
                } else if (r < 0)
                        return r;
                if (a.sriov[i].created > 0)
                        a.sriov_created = true;
        }

        if (plan->release_console && console && a.module_error == 0) {
                _cleanup_(vb_console_release_done) VbConsoleRelease rel = {};

                r = vb_console_release(ctx, console, &rel);
                if (r < 0)
                        a.console_error = r;
                a.console_released = rel.released != NULL;
                a.console_text = TAKE_PTR(rel.released);
        }

        /* A group at a time, in group order; devices without a group, and every device under
         * Group=ignore, alone. */
        if (transactions)
                qsort_r(order, n_order, sizeof(size_t), cmp_by_group, (void *) plan);
        if (a.module_error < 0) {
                for (size_t k = 0; k < n_order; k++)
                        (void) bind_one(ctx, plan, ops, &a, order[k]);
                n_order = 0;
        }
        for (size_t k = 0; k < n_order;) {
                size_t end = k + 1;
                int g = plan->entries[order[k]].iommu_group;

                if (transactions && g >= 0)
                        while (end < n_order && plan->entries[order[end]].iommu_group == g)
                                end++;
                for (size_t m = k; m < end; m++)
                        if (!bind_one(ctx, plan, ops, &a, order[m])) {
                                if (end - k > 1)
                                        roll_back(ctx, plan, &a, order, k, end, order[m]);
                                break;
                        }
                k = end;
        }

        *ret = a;
        a = (VbApply) {};
        return 0;
}
