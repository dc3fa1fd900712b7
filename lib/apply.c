/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>

#include "apply.h"
#include "driver-choice.h"
#include "driver.h"
#include "macro.h"
#include "runtime.h"
#include "strv.h"

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
                free(a->results[i].driver);
                free(a->results[i].driver_note);
        }
        free(a->results);
        free(a->console_text);
        for (size_t i = 0; i < a->n_sriov; i++) {
                vb_sriov_enable_done(&a->sriov[i]);
                free(a->sriov_stuck ? a->sriov_stuck[i] : NULL);
                free(a->sriov_driver ? a->sriov_driver[i] : NULL);
        }
        free(a->sriov);
        free(a->sriov_stuck);
        free(a->sriov_driver);
        free(a->autoprobe);
        *a = (VbApply) {};
}

bool vb_apply_on_driver(const VbPlanEntry *e, const VbApplyResult *r) {
        /* As the plan found it: left on the wanted driver (or under Driver=auto on another VFIO
         * driver), or on it although refused (vfio-bind=off, released by hand but bound again). */
        bool found = e->present && (e->action == VB_ACTION_LEAVE || streq_ptr(e->driver_before, e->driver));

        if (!r)
                return found;
        return r->state == VB_DEVICE_ON_DRIVER || r->state == VB_DEVICE_BOUND ||
               (r->state == VB_DEVICE_REFUSED && found);
}

static int default_bind(void *userdata, VbContext *ctx, const VbPlanEntry *e, const char *driver, bool unbind_host,
                        VbBindResult *ret, char **ret_stuck) {
        return vb_bind_device(ctx, &e->address, driver, unbind_host, ret);
}

/* What loading one module of the plan came to. */
typedef struct Loaded {
        const char *module;
        char *driver; /* its PCI driver, NULL: it could not be had */
        int error;
} Loaded;

typedef struct Modules {
        Loaded *loaded;
        size_t n;
} Modules;

static void modules_done(Modules *m) {
        for (size_t i = 0; i < m->n; i++)
                free(m->loaded[i].driver);
        free(m->loaded);
}

static const Loaded *modules_find(const Modules *m, const char *module) {
        for (size_t i = 0; i < m->n; i++)
                if (streq(m->loaded[i].module, module))
                        return &m->loaded[i];
        return NULL;
}

/* Is FALLBACK one of the plan's modules' drivers (tried already, in order)? */
static bool fallback_loaded(const VbPlan *plan, const char *fallback) {
        for (size_t i = 0; i < plan->n_modules; i++)
                if (streq_ptr(plan->modules[i].driver, fallback))
                        return true;
        return false;
}

/* Load MODULE, through DRIVER's name if the plan gives one, into L. */
static int load_one(VbContext *ctx, const char *module, const char *driver, Loaded *l, VbApply *a) {
        int r;

        l->module = module;
        if (driver) {
                r = vb_driver_load(ctx, driver);
                if (r >= 0 && !(l->driver = strdup(driver)))
                        return -ENOMEM;
        } else
                r = vb_driver_load_module(ctx, module, &l->driver);
        if (r == -ENOMEM)
                return r;
        if (r > 0)
                a->module_loaded = true;
        l->error = r < 0 ? r : 0;
        return 0;
}

/* The plan's modules, first to last. A required one that cannot be had is the module error
 * (nothing is bound); one with a fallback gives way to the fallback's driver, loaded then. */
static int load_modules(VbContext *ctx, const VbPlan *plan, Modules *m, VbApply *a) {
        int r;

        m->loaded = calloc(plan->n_modules * 2 + 1, sizeof(Loaded));
        if (!m->loaded)
                return -ENOMEM;
        for (size_t i = 0; i < plan->n_modules; i++) {
                const VbPlanModule *pm = &plan->modules[i];
                Loaded *l = &m->loaded[m->n++];

                r = load_one(ctx, pm->name, pm->driver, l, a);
                if (r < 0)
                        return r;
                if (l->error == 0)
                        continue;
                if (!pm->fallback) {
                        a->module_error = l->error;
                        continue;
                }
                if (modules_find(m, pm->fallback) || fallback_loaded(plan, pm->fallback))
                        continue;
                l = &m->loaded[m->n++];
                r = load_one(ctx, pm->fallback, pm->fallback, l, a);
                if (r < 0)
                        return r;
                if (l->error < 0)
                        a->module_error = l->error;
        }
        return 0;
}

/* The driver to bind to, for a device the plan wants on DRIVER (NULL: not known before its
 * MODULE is loaded) with REGISTERED, or FALLBACK (NULL: none) when MODULE could not be had. */
static int resolve_driver(const Modules *m, const char *driver, const char *module, bool registered,
                          const char *fallback, char **ret, char **ret_note) {
        const Loaded *l;

        if (driver && (registered || !fallback)) {
                *ret = strdup(driver);
                return *ret ? 0 : -ENOMEM;
        }
        l = module ? modules_find(m, module) : NULL;
        if (l && l->driver) {
                *ret = strdup(l->driver);
                return *ret ? 0 : -ENOMEM;
        }
        if (!fallback) {
                *ret = strdup(driver ?: strna(module));
                return *ret ? 0 : -ENOMEM;
        }
        /* The plan's fallback: vfio-pci keeps the host's driver off all the same. */
        *ret = strdup(fallback);
        if (!*ret || asprintf(ret_note, "%s, which Driver=auto chose, could not be had (%s): %s instead", strna(module),
                              l ? strerror(-l->error) : "not loaded", fallback) < 0)
                return -ENOMEM;
        return 0;
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
                        r = vb_bind_restore(ctx, &plan->entries[i].address, res->driver, res->bind.driver_before,
                                            &res->restore);
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
        r = ops->bind(ops->userdata, ctx, e, res->driver, plan->unbind_host, &res->bind, &res->stuck);
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

/* The PFs an earlier run left with autoprobe off: on again, their marks cleared once it is (or
 * the PF is gone). */
static int restore_autoprobe(VbContext *ctx, const VbPlan *plan, const VbApplyOps *ops, VbApply *a) {
        if (plan->n_restore_autoprobe == 0)
                return 0;
        a->autoprobe = calloc(plan->n_restore_autoprobe, sizeof(int));
        if (!a->autoprobe)
                return -ENOMEM;
        a->n_autoprobe = plan->n_restore_autoprobe;
        for (size_t i = 0; i < plan->n_restore_autoprobe; i++) {
                const VbPciAddress *pf = &plan->restore_autoprobe[i];
                int r = vb_sriov_autoprobe_on(ctx, pf);

                a->autoprobe[i] = r < 0 ? r : 0;
                if ((r >= 0 || r == -ENOENT || r == -ENODEV) && ops->runtime_dir)
                        (void) vb_runtime_set(ops->runtime_dir, VB_MARK_AUTOPROBE_OFF, pf, false);
        }
        return 0;
}

int vb_apply(VbContext *ctx, const VbPlan *plan, const VbConsoleState *console, const VbApplyOps *ops, VbApply *ret) {
        VbApplyOps o = ops ? *ops : (VbApplyOps) {};
        _cleanup_(vb_apply_done) VbApply a = {};
        _cleanup_(modules_done) Modules modules = {};
        _cleanup_free_ size_t *order = NULL;
        size_t n_order = 0;
        bool transactions = plan->group != VB_GROUP_IGNORE && plan->iommu_enabled;
        int r;

        if (!o.bind)
                o.bind = default_bind;
        ops = &o;
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
                r = restore_autoprobe(ctx, plan, ops, &a);
                if (r < 0)
                        return r;
                *ret = a;
                a = (VbApply) {};
                return 0;
        }

        /* The driver first: without it nothing can be bound, and the console must not be given
         * up for nothing. */
        if (plan->load_module) {
                r = load_modules(ctx, plan, &modules, &a);
                if (r < 0)
                        return r;
        }
        for (size_t k = 0; k < n_order; k++) {
                const VbPlanEntry *e = &plan->entries[order[k]];
                VbApplyResult *res = &a.results[order[k]];

                r = resolve_driver(&modules, e->driver, e->module, e->registered, e->fallback, &res->driver,
                                   &res->driver_note);
                if (r < 0)
                        return r;
        }

        /* Virtual functions: created before anything is bound, the console left alone for them
         * (no VF shows a console). Without the driver they are not created. */
        if (plan->n_sriov > 0) {
                a.sriov = calloc(plan->n_sriov, sizeof(VbSriovEnable));
                a.sriov_stuck = calloc(plan->n_sriov, sizeof(char *));
                a.sriov_driver = calloc(plan->n_sriov, sizeof(char *));
                if (!a.sriov || !a.sriov_stuck || !a.sriov_driver)
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
                {
                        _cleanup_free_ char *note = NULL;
                        r = resolve_driver(&modules, s->driver, s->module, s->registered, s->fallback,
                                           &a.sriov_driver[i], &note);
                        if (r < 0)
                                return r;
                }
                if (s->sriov.autoprobe && ops->runtime_dir) {
                        int q = vb_runtime_set(ops->runtime_dir, VB_MARK_AUTOPROBE_OFF, &s->pf, true);
                        if (q < 0)
                                a.sriov_mark_error = q;
                }
                if (ops->sriov_enable)
                        r = ops->sriov_enable(ops->userdata, ctx, s, a.sriov_driver[i], plan->timeout_usec, &a.sriov[i],
                                              &a.sriov_stuck[i]);
                else
                        r = vb_sriov_enable(ctx, &s->pf, &s->sriov, s->count, a.sriov_driver[i], plan->timeout_usec,
                                            &a.sriov[i]);
                /* The mark stays while the creation hangs, or when autoprobe could not be switched
                 * back on: the daemon's next pass does it then. */
                if (s->sriov.autoprobe && ops->runtime_dir && r >= 0 && a.sriov[i].restore_error == 0)
                        (void) vb_runtime_set(ops->runtime_dir, VB_MARK_AUTOPROBE_OFF, &s->pf, false);
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
        r = restore_autoprobe(ctx, plan, ops, &a);
        if (r < 0)
                return r;

        *ret = a;
        a = (VbApply) {};
        return 0;
}

void vb_release_apply_done(VbReleaseApply *a) {
        if (!a)
                return;
        for (size_t i = 0; i < a->n; i++)
                vb_bind_result_done(&a->results[i].release);
        free(a->results);
        vb_console_restore_done(&a->console);
        *a = (VbReleaseApply) {};
}

int vb_apply_release(VbContext *ctx, const VbReleasePlan *plan, const char *runtime_dir, VbReleaseApply *ret) {
        _cleanup_(vb_release_apply_done) VbReleaseApply a = {};

        if (plan->refusal)
                return -EPERM;
        a.results = calloc(plan->n ?: 1, sizeof(VbReleaseResult));
        if (!a.results)
                return -ENOMEM;
        a.n = plan->n;
        for (size_t i = 0; i < plan->n; i++) {
                const VbReleaseEntry *e = &plan->entries[i];
                VbReleaseResult *res = &a.results[i];

                if (e->action != VB_RELEASE_GIVE_BACK)
                        continue;
                int r;

                if (runtime_dir) {
                        r = vb_runtime_set_released(runtime_dir, &e->address, true);
                        res->mark_error = r < 0 ? r : 0;
                }
                res->tried = true;
                r = vb_release_device(ctx, &e->address, &res->release);
                res->error = r < 0 ? r : 0;
                if (r < 0)
                        a.n_failed++;
        }
        if (plan->give_console_back && a.n_failed == 0) {
                /* Only a host driver the release bound to the console's GPU can bring a
                 * framebuffer of its own: wait for it then, not for what cannot come. */
                bool driver_back = false;

                for (size_t i = 0; i < plan->n; i++)
                        if (plan->entries[i].action == VB_RELEASE_GIVE_BACK &&
                            vb_pci_address_equal(&plan->entries[i].address, &plan->console_owner) &&
                            a.results[i].release.driver_after)
                                driver_back = true;
                a.console_tried = true;
                a.console_result = vb_console_restore(ctx, driver_back, &a.console);
        }
        *ret = a;
        a = (VbReleaseApply) {};
        return 0;
}
