/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a pass did, said once: a journal entry per change of a device's state, and STATUS=. */
#include "driver.h"
#include "manager-private.h"

void vbd_report_done(Report *r) {
        strv_free(r->ok);
        strv_free(r->initrd);
        strv_free(r->problems);
        strv_free(r->sriov);
        strv_free(r->drivers);
}

/* The drivers of STATUS=: "vfio-pci", or "VFIO drivers (virtio-vfio-pci, vfio-pci)". */
static char *report_drivers(const Manager *m, const Report *rep) {
        _cleanup_free_ char *list = NULL;
        char *t;

        if (!rep->drivers)
                return strdup(vb_config_driver_auto(m->config) ? VB_DRIVER_PLAIN : m->config->driver);
        if (!rep->drivers[1])
                return strdup(rep->drivers[0]);
        list = strv_join(rep->drivers, ", ");
        if (!list || asprintf(&t, "VFIO drivers (%s)", list) < 0)
                return NULL;
        return t;
}

/* STATUS=: "2/2 devices on vfio-pci: 0000:01:00.0 0000:01:00.1; console released (…)", then what
 * is wrong, device by device. */
int vbd_report_status(Manager *m, const VbPlan *plan, const Report *rep) {
        _cleanup_free_ char *ok_list = NULL, *problem_list = NULL, *status = NULL, *drivers = NULL;
        size_t total = 0;
        int r;

        for (size_t i = 0; i < plan->n; i++)
                if (!(plan->entries[i].action == VB_ACTION_REFUSE && plan->entries[i].reason == VB_REASON_BRIDGE))
                        total++;
        total += plan->n_unmatched;

        ok_list = strv_join(rep->ok, " ");
        problem_list = strv_join(rep->problems, "; ");
        drivers = report_drivers(m, rep);
        if (!ok_list || !problem_list || !drivers)
                return -ENOMEM;
        if (rep->sriov) {
                _cleanup_free_ char *vfs = strv_join(rep->sriov, ", ");
                char *t;

                if (!vfs || asprintf(&t, "%s; virtual functions on %s: %s", ok_list, drivers, vfs) < 0)
                        return -ENOMEM;
                free(ok_list);
                ok_list = t;
        }
        if (rep->initrd) {
                _cleanup_free_ char *initrd = strv_join(rep->initrd, " ");
                char *t;

                if (!initrd || asprintf(&t, "%s; bound in the initrd: %s", ok_list, initrd) < 0)
                        return -ENOMEM;
                free(ok_list);
                ok_list = t;
        }

        if (m->config->disabled)
                r = asprintf(&status, "disabled by vfio-bind=off on the kernel command line; no device touched");
        else if (m->config->n_selectors == 0 && m->config->n_vfs == 0)
                r = asprintf(&status, "no devices configured");
        else
                r = asprintf(&status, "%zu/%zu devices on %s%s%s%s%s%s%s%s", rep->n_ok, total, drivers,
                             rep->n_ok ? ": " : "", ok_list, m->console_released ? "; console released (" : "",
                             m->console_released ? strempty(m->console_released_text) : "",
                             m->console_released ? ")" : "", *problem_list ? "; " : "", problem_list);
        if (r < 0)
                return -ENOMEM;
        if (m->reload_error) {
                char *s;
                if (asprintf(&s, "%s; %s", status, m->reload_error) < 0)
                        return -ENOMEM;
                free(status);
                status = s;
        }

        if (!streq_ptr(status, m->status)) {
                free(m->status);
                m->status = TAKE_PTR(status);
                (void) sd_notifyf(false, "STATUS=%s", m->status);
        }
        return 0;
}

/* The console and the module, as the pass left them. */
static void report_console(Manager *m, const VbPlan *p, const VbApply *a) {
        const VbPciAddress *owner = NULL;

        for (size_t i = 0; i < p->n && !owner; i++)
                if (p->entries[i].owns_console && p->entries[i].action == VB_ACTION_BIND)
                        owner = &p->entries[i].address;

        _cleanup_free_ char *modules = vb_plan_modules_join(p);

        if (a->module_error < 0)
                vbd_log_full(LOG_ERR, &(VbdLogFields) { .device = owner, .error = a->module_error },
                             "loading the module of %s failed (%s): nothing is bound%s",
                             p->driver_auto ? VB_DRIVER_PLAIN : p->driver,
                             a->module_error == -ENOENT ? "no kernel module provides it" : strerror(-a->module_error),
                             p->release_console ? ", and the console is left alone" : "");
        else if (a->module_loaded)
                vbd_log(LOG_INFO, "loaded the kernel module%s for %s", modules && strchr(modules, ',') ? "s" : "",
                        modules ?: p->driver);

        if (a->console_error < 0)
                vbd_log_full(LOG_ERR, &(VbdLogFields) { .device = owner, .error = a->console_error },
                             "releasing the console failed after %s: %s; binding may fail with \"can't reserve\"",
                             a->console_text ?: "nothing", strerror(-a->console_error));
        if (a->console_released) {
                m->console_released = true;
                free(m->console_released_text);
                m->console_released_text = strdup(a->console_text);
                vbd_log_full(LOG_NOTICE, &(VbdLogFields) { .device = owner, .action = "release-console" },
                             "released the console: %s (%s)", a->console_text, strempty(p->console_reason));
        }
}

/* The PFs whose autoprobe an earlier run left off. */
static void report_autoprobe(const VbPlan *p, const VbApply *a) {
        for (size_t i = 0; i < a->n_autoprobe && i < p->n_restore_autoprobe; i++) {
                const VbPciAddress *pf = &p->restore_autoprobe[i];
                int r = a->autoprobe[i];

                if (r < 0 && r != -ENOENT && r != -ENODEV)
                        vbd_log_full(LOG_WARNING, &(VbdLogFields) { .device = pf, .error = r },
                                     "%s: Failed to switch sriov_drivers_autoprobe back on, ignoring: %s",
                                     VB_PCI_ADDRESS_STR(pf), strerror(-r));
                else if (r >= 0)
                        vbd_log_full(LOG_NOTICE, &(VbdLogFields) { .device = pf, .action = "autoprobe" },
                                     "%s: sriov_drivers_autoprobe switched back on (an earlier run left it off)",
                                     VB_PCI_ADDRESS_STR(pf));
        }
}

/* The failure F of the device S in words, for the journal when it happens and for STATUS= after:
 * DRIVER the driver it was to go to, NOW_ON where it is now, PUT_BACK_ON (RESTORE_FAILED) where it
 * was to be put back (NULL: not known any more). */
static int failure_words(const Manager *m, const DeviceState *s, const DeviceFailure *f, const char *driver,
                         const char *now_on, const char *put_back_on, char **ret) {
        const VbBindResult step = { .failed_step = f->step };
        const char *cause = f->have_cause ? VB_PCI_ADDRESS_STR(&f->cause) : "a member";
        const char *group = vb_group_policy_to_string(m->config->group);
        int r = -1;

        switch (f->state) {
        case VB_DEVICE_FAILED:
                if (f->contested) {
                        r = asprintf(ret,
                                     "%s took it back %u times within %s after vfio-bindd had bound it to %s (libvirt "
                                     "reattaching a managed='yes' hostdev, driverctl, a udev rule?): vfio-bindd no "
                                     "longer takes it back, until it is added anew or the configuration is reloaded; "
                                     "now on %s",
                                     f->contender, f->contested, "60s", driver, now_on ?: "no driver");
                        break;
                }
                r = asprintf(ret, "binding to %s failed: %s (%s); now on %s%s%s", driver,
                             vb_bind_result_explain(&step, f->error), strerror(-f->error), now_on ?: "no driver",
                             f->override_cleared ? ", driver_override cleared again" : "",
                             f->override_left ? ", driver_override left at the driver so that no host driver takes it"
                                              : "");
                break;
        case VB_DEVICE_STUCK: {
                _cleanup_free_ char *write = s->stuck ? bind_job_describe(s->stuck) : NULL;
                char t[32];

                vb_format_duration((vb_now_usec() - s->stuck_since + USEC_PER_SEC / 2) / USEC_PER_SEC * USEC_PER_SEC, t,
                                   sizeof(t));
                r = asprintf(ret,
                             "stuck: %s has not returned after %s (the driver hangs in the kernel; the device is "
                             "left alone until it returns)",
                             write ?: "a write", t);
                break;
        }
        case VB_DEVICE_ROLLED_BACK:
                r = asprintf(ret,
                             "rolled back to %s: %s of its IOMMU group failed to bind, so the group is not left half "
                             "on %s (Group=%s)%s",
                             now_on ?: "no driver", cause, driver, group,
                             f->override_left ? "; driver_override left at the driver so that no host driver takes it"
                                              : "");
                break;
        case VB_DEVICE_RESTORE_FAILED:
                r = asprintf(ret,
                             "bound to %s, then %s of its IOMMU group failed, and putting it back%s%s failed: %s (%s); "
                             "now on %s",
                             driver, cause, put_back_on ? " on " : "", strempty(put_back_on),
                             vb_bind_result_explain(&step, f->error), strerror(-f->error), now_on ?: "no driver");
                break;
        case VB_DEVICE_SKIPPED:
                r = asprintf(ret, "not tried: %s of its IOMMU group failed first (Group=%s)", cause, group);
                break;
        default:
                return -EINVAL;
        }
        return r < 0 ? -ENOMEM : 0;
}

/* The failure a pass's result RES is, as the memory keeps it. */
static DeviceFailure failure_of(const VbPlan *p, const VbApplyResult *res) {
        const VbBindResult *b = res->state == VB_DEVICE_RESTORE_FAILED || res->state == VB_DEVICE_ROLLED_BACK
                                        ? &res->restore
                                        : &res->bind;
        DeviceFailure f = {
                .state = res->state,
                .error = res->state == VB_DEVICE_ROLLED_BACK || res->state == VB_DEVICE_SKIPPED ? 0 : res->error,
                .step = b->failed_step,
                .override_cleared = res->state == VB_DEVICE_FAILED && b->rolled_back,
                .override_left = b->override_left,
                .have_cause = res->cause < p->n,
        };

        if (f.have_cause)
                f.cause = p->entries[res->cause].address;
        return f;
}

/* The words of the failure the memory keeps for the device S whose entry is E now. */
static int failure_again(const Manager *m, const DeviceState *s, const VbPlanEntry *e, char **ret) {
        return failure_words(m, s, &s->failure, vb_plan_entry_driver(e), e->driver_before, NULL, ret);
}

/* A bind of S from a host driver that got it back after vfio-bindd had bound it (BEFORE, SEEN:
 * the last pass's state, SEEN false for a device added anew since), not a new device's probe: counted, and at VBD_TAKE_BACK_MAX within
 * VBD_TAKE_BACK_WINDOW vfio-bindd stops taking it back (a failure the plan then refuses it for,
 * said now and in STATUS=). Returns 1 if so (said), 0 if this bind is no such stop, or -ENOMEM. */
static int note_taken_back(Manager *m, DeviceState *s, const VbPlanEntry *e, const VbApplyResult *res, bool seen,
                           VbDeviceState before, Report *rep, VbdLogFields *f) {
        const char *host = res->bind.driver_before;
        _cleanup_free_ char *text = NULL;
        uint64_t now = vb_now_usec();
        int r;

        if (!res->bind.changed || !host || vb_driver_is_vfio(host) || !seen ||
            (before != VB_DEVICE_BOUND && before != VB_DEVICE_ON_DRIVER))
                return 0;
        if (s->taken_back == 0 || now - s->taken_back_since > VBD_TAKE_BACK_WINDOW) {
                s->taken_back = 0;
                s->taken_back_since = now;
        }
        s->taken_back++;
        if (s->taken_back < VBD_TAKE_BACK_MAX) {
                if (asprintf(&text,
                             "%s got it back after vfio-bindd had bound it: bound to %s again (%u of %u times "
                             "within 60s before vfio-bindd stops taking it back)",
                             host, res->driver, s->taken_back, VBD_TAKE_BACK_MAX) < 0)
                        return -ENOMEM;
                f->action = "bind";
                f->driver_before = host;
                f->driver_after = res->bind.driver_after;
                vbd_memory_log(s, LOG_WARNING, f, text);
                return 1;
        }
        s->failure = (DeviceFailure) { .state = VB_DEVICE_FAILED, .error = -EBUSY, .contested = s->taken_back };
        (void) snprintf(s->failure.contender, sizeof(s->failure.contender), "%s", host);
        s->taken_back = 0;
        r = failure_words(m, s, &s->failure, res->driver, res->bind.driver_after, NULL, &text);
        if (r < 0)
                return r;
        f->action = "contested";
        f->driver_before = host;
        f->driver_after = res->bind.driver_after;
        f->error = EBUSY;
        vbd_memory_log(s, LOG_WARNING, f, text);
        rep->failed = true;
        r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s %s", VB_PCI_ADDRESS_STR(&e->address), text);
        return r < 0 ? r : 1;
}

/* One entry's result: its journal entry (when it changed) and its part of STATUS=. */
static int report_entry(Manager *m, const VbPlan *p, size_t i, const VbApplyResult *res, Report *rep) {
        const VbPlanEntry *e = &p->entries[i];
        const char *addr = VB_PCI_ADDRESS_STR(&e->address);
        _cleanup_free_ char *text = NULL;
        DeviceState *s;
        VbdLogFields f = { .device = &e->address, .driver_before = e->driver_before, .driver_after = e->driver_before };
        char timeout[32];
        bool on_driver = vb_apply_on_driver(e, res);
        VbDeviceState before;
        bool seen, added_anew;
        int r = 0;

        s = vbd_memory_get(m, &e->address);
        if (!s)
                return -ENOMEM;
        before = s->state;
        seen = s->seen;
        s->state = res->state;
        s->seen = true;
        added_anew = s->added_anew;
        s->added_anew = false;
        vb_format_duration(m->config->timeout_usec, timeout, sizeof(timeout));

        switch (res->state) {
        case VB_DEVICE_ON_DRIVER:
                if (s->failure.state == VB_DEVICE_ROLLED_BACK)
                        s->failure = (DeviceFailure) {};
                r = vb_plan_entry_explain(e, &text);
                if (r < 0)
                        return r;
                if (vbd_memory_bound_in_initrd(m, &e->address)) {
                        char *t;
                        if (asprintf(&t, "%s (bound in the initrd)", text) < 0)
                                return -ENOMEM;
                        free(text);
                        text = t;
                        r = strv_extend_printf(&rep->initrd, NULL, "%s", addr);
                        if (r < 0)
                                return r;
                }
                f.action = "leave";
                /* After our own bind, "already on" is no news. */
                if (seen && before == VB_DEVICE_BOUND && !e->detail) {
                        free(s->logged);
                        s->logged = TAKE_PTR(text);
                        break;
                }
                vbd_memory_log_once(s, e->detail ? LOG_WARNING : LOG_INFO, &f, text);
                if (e->detail)
                        r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s %s", addr, e->detail);
                break;
        case VB_DEVICE_BOUND:
                vbd_memory_forget_failure(s);
                r = note_taken_back(m, s, e, res, seen && !added_anew, before, rep, &f);
                if (r != 0)
                        break;
                if (e->forced) {
                        free(s->forced);
                        s->forced = strdup(e->in_use);
                }
                if (asprintf(&text, res->bind.changed ? "bound to %s (was %s)%s%s%s%s" : "already on %s%.0s%s%s%s%s",
                             res->driver, res->bind.driver_before ?: "no driver", e->driver_why ? "; driver: " : "",
                             strempty(e->driver_why), res->driver_note ? "; " : "", strempty(res->driver_note)) < 0)
                        return -ENOMEM;
                f.action = res->bind.changed ? "bind" : "leave";
                f.driver_before = res->bind.driver_before;
                f.driver_after = res->bind.driver_after;
                /* A bind is an event, said each time it happens: a NIC added, bound, removed and
                 * added again before a pass saw it gone is bound twice with the same words. */
                if (res->bind.changed)
                        vbd_memory_log(s, LOG_NOTICE, &f, text);
                else
                        vbd_memory_log_once(s, LOG_NOTICE, &f, text);
                break;
        case VB_DEVICE_FAILED:
        case VB_DEVICE_STUCK:
        case VB_DEVICE_ROLLED_BACK:
        case VB_DEVICE_RESTORE_FAILED:
        case VB_DEVICE_SKIPPED: {
                const VbBindResult *after = res->state == VB_DEVICE_ROLLED_BACK ||
                                                            res->state == VB_DEVICE_RESTORE_FAILED
                                                    ? &res->restore
                                                    : &res->bind;
                static const char *const actions[_VB_DEVICE_STATE_MAX] = {
                        [VB_DEVICE_FAILED] = "bind-failed",   [VB_DEVICE_STUCK] = "stuck",
                        [VB_DEVICE_ROLLED_BACK] = "rollback", [VB_DEVICE_RESTORE_FAILED] = "rollback-failed",
                        [VB_DEVICE_SKIPPED] = "skip",
                };

                const DeviceFailure failure = failure_of(p, res);

                r = failure_words(m, s, &failure, res->driver ?: vb_plan_entry_driver(e), after->driver_after,
                                  res->bind.driver_before, &text);
                if (r < 0)
                        return r;
                f.action = actions[res->state];
                f.driver_before = res->bind.driver_before ?: e->driver_before;
                f.driver_after = after->driver_after;
                f.error = res->state == VB_DEVICE_SKIPPED || res->state == VB_DEVICE_ROLLED_BACK ? 0 : -res->error;
                vbd_memory_log_once(s,
                                    res->state == VB_DEVICE_ROLLED_BACK || res->state == VB_DEVICE_SKIPPED ? LOG_WARNING
                                                                                                           : LOG_ERR,
                                    &f, text);
                rep->failed = true;
                r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s %s", addr, text);
                /* The device that failed is not tried again until it is added anew; the members
                 * put back are refused by the plan as long as it stays so, and the status keeps
                 * saying that they were put back. */
                if (res->state != VB_DEVICE_SKIPPED)
                        s->failure = failure;
                break;
        }
        case VB_DEVICE_REFUSED:
                if (e->reason == VB_REASON_FAILED) {
                        /* Said when it failed; the status keeps saying it. */
                        rep->failed = true;
                        if (s->failure.state == VB_DEVICE_ON_DRIVER || s->failure.state == VB_DEVICE_ROLLED_BACK)
                                r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s failed before", addr);
                        else {
                                r = failure_again(m, s, e, &text);
                                if (r >= 0)
                                        r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s %s", addr, text);
                        }
                        break;
                }
                r = vb_plan_entry_explain(e, &text);
                if (r < 0)
                        return r;
                f.action = e->reason == VB_REASON_DISABLED   ? "disabled"
                           : e->reason == VB_REASON_RELEASED ? "held"
                                                             : "refuse";
                vbd_memory_log_once(s,
                                    e->reason == VB_REASON_DISABLED || e->reason == VB_REASON_RELEASED ? LOG_NOTICE
                                                                                                       : LOG_WARNING,
                                    &f, text);
                if (e->reason == VB_REASON_DISABLED || e->reason == VB_REASON_BRIDGE)
                        break;
                if (e->reason == VB_REASON_RELEASED) {
                        r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s released by hand", addr);
                        break;
                }
                rep->failed = true;
                if (e->reason == VB_REASON_NO_IOMMU)
                        r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s not bound", addr);
                else if (s->failure.state == VB_DEVICE_ROLLED_BACK &&
                         (e->reason == VB_REASON_GROUP || e->reason == VB_REASON_GROUP_MEMBER)) {
                        _cleanup_free_ char *again = NULL;

                        r = failure_again(m, s, e, &again);
                        if (r >= 0)
                                r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s %s", addr, again);
                } else
                        r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s %s", addr, text);
                break;
        case VB_DEVICE_MISSING:
                f.action = m->timed_out ? "missing" : "wait";
                if (asprintf(&text, m->timed_out ? "not present after %s" : "not present yet, waiting up to %s",
                             timeout) < 0)
                        return -ENOMEM;
                vbd_memory_log_once(s, m->timed_out ? LOG_WARNING : LOG_INFO, &f, text);
                if (m->timed_out)
                        r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s missing after %s", addr, timeout);
                else
                        r = strv_extend_printf(&rep->problems, &rep->n_problems, "waiting for %s", addr);
                break;
        default:
                break;
        }
        if (r < 0)
                return r;
        if (on_driver && s->forced) {
                r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s FORCED although the host used it (%s)",
                                       addr, s->forced);
                if (r < 0)
                        return r;
        }
        if (on_driver) {
                const char *driver = res->state == VB_DEVICE_BOUND ? res->driver : e->driver_before;
                if (driver && !strv_contains(rep->drivers, driver)) {
                        r = strv_extend_printf(&rep->drivers, NULL, "%s", driver);
                        if (r < 0)
                                return r;
                }
                return strv_extend_printf(&rep->ok, &rep->n_ok, "%s", addr);
        }
        return 0;
}

/* The failed or hanging VF creation the memory keeps for the PF S in words. */
static int sriov_failure_words(const Manager *m, const DeviceState *s, const VbPlanSriov *ps, char **ret) {
        const SriovFailure *f = &s->sriov_failure;
        int r;

        if (f->error == -ETIMEDOUT && s->stuck) {
                _cleanup_free_ char *write = bind_job_describe(s->stuck);
                char timeout[32];

                vb_format_duration(m->config->timeout_usec, timeout, sizeof(timeout));
                r = asprintf(ret, "stuck: creating %u virtual function%s, %s has not returned after %s", ps->count,
                             ps->count == 1 ? "" : "s", write ?: "a write", timeout);
        } else
                r = asprintf(ret,
                             "creating %u virtual function%s failed while %s: %s (%u created; "
                             "sriov_drivers_autoprobe %s)",
                             ps->count, ps->count == 1 ? "" : "s", vb_sriov_step_to_string(f->step),
                             strerror(-f->error), f->created,
                             !f->autoprobe_was_on ? "was off already"
                             : f->restore_error   ? "could not be switched back on"
                                                  : "back on");
        return r < 0 ? -ENOMEM : 0;
}

/* A PF whose VF creation failed: said in STATUS= until it is added anew. */
static int sriov_failed(const Manager *m, const DeviceState *s, const VbPlanSriov *ps, Report *rep) {
        _cleanup_free_ char *text = NULL;
        int r;

        rep->failed = true;
        r = sriov_failure_words(m, s, ps, &text);
        if (r < 0)
                return r;
        return strv_extend_printf(&rep->problems, &rep->n_problems, "%s: %s", VB_PCI_ADDRESS_STR(&ps->pf), text);
}

/* The VFs of one VirtualFunctions= line, as the pass left them: its journal entry (when it
 * changed) and its part of STATUS=: "VFs of 0000:03:00.0: 4/4 on vfio-pci". A = NULL: the pass
 * that created them (the next plan binds them) is not reported on its own. */
static int report_sriov(Manager *m, const VbPlan *p, const VbPlanSriov *ps, const VbApply *a,
                        const VbSriovEnable *created, const char *stuck, Report *rep) {
        const char *pf = VB_PCI_ADDRESS_STR(&ps->pf);
        _cleanup_free_ char *text = NULL;
        DeviceState *s = vbd_memory_get(m, &ps->pf);
        VbdLogFields f = { .device = &ps->pf, .driver_before = ps->pf_driver, .driver_after = ps->pf_driver };
        int priority = LOG_INFO, r;
        size_t on = 0;

        if (!s)
                return -ENOMEM;
        if (created && created->error < 0) {
                s->sriov_failure = (SriovFailure) {
                        .failed = true,
                        .step = created->failed_step,
                        .error = created->error,
                        .created = created->created,
                        .autoprobe_was_on = created->autoprobe_was_on,
                        .restore_error = created->restore_error,
                };
                r = sriov_failure_words(m, s, ps, &text);
                if (r < 0)
                        return r;
                f.action = created->error == -ETIMEDOUT && stuck ? "stuck" : "sriov-failed";
                f.error = -created->error;
                vbd_log_full(LOG_ERR, &f, "%s: %s", pf, text);
                free(s->sriov_logged);
                s->sriov_logged = TAKE_PTR(text);
                return sriov_failed(m, s, ps, rep);
        }
        if (created && created->created > 0) {
                _cleanup_free_ char *list = NULL;
                for (unsigned i = 0; i < created->created; i++)
                        if (vb_join_append(&list, " ", "%s", VB_PCI_ADDRESS_STR(&created->vfs[i])) < 0)
                                return -ENOMEM;
                vbd_log_full(LOG_NOTICE, &(VbdLogFields) { .device = &ps->pf, .action = "sriov-create" },
                             "%s: created %u virtual function%s for %s, sriov_drivers_autoprobe %s: %s", pf,
                             created->created, created->created == 1 ? "" : "s", ps->driver ?: ps->module,
                             created->autoprobe_was_on ? "off while they were created" : "off already", list);
                return 0;
        }

        switch (ps->action) {
        case VB_SRIOV_LEAVE:
                for (size_t i = 0; i < ps->n_vfs; i++) {
                        const VbPlanEntry *e = vb_plan_find(p, &ps->vfs[i]);
                        size_t k = e ? (size_t) (e - p->entries) : SIZE_MAX;
                        if (e && a && k < a->n && vb_apply_on_driver(e, &a->results[k]))
                                on++;
                }
                r = asprintf(&text, "%zu/%u virtual functions on %s", on, ps->count, ps->driver ?: ps->module);
                priority = on == ps->count ? LOG_INFO : LOG_WARNING;
                f.action = "sriov";
                break;
        case VB_SRIOV_REFUSE:
                rep->failed = true;
                if (s->sriov_failure.failed)
                        return sriov_failed(m, s, ps, rep);
                r = vb_plan_sriov_explain(ps, &text);
                priority = LOG_WARNING;
                f.action = "sriov-refuse";
                rep->failed = true;
                break;
        case VB_SRIOV_WAIT:
        case VB_SRIOV_MISSING:
                if (s->sriov_failure.failed)
                        return sriov_failed(m, s, ps, rep);
                r = vb_plan_sriov_explain(ps, &text);
                f.action = "sriov-wait";
                if (ps->action == VB_SRIOV_MISSING && m->timed_out) {
                        priority = LOG_WARNING;
                        rep->failed = true;
                }
                break;
        default:
                return 0;
        }
        if (r < 0)
                return r;
        if (!streq_ptr(s->sriov_logged, text)) {
                vbd_log_full(priority, &f, "%s: %s", pf, text);
                free(s->sriov_logged);
                s->sriov_logged = strdup(text);
        }
        if (ps->action == VB_SRIOV_LEAVE)
                return strv_extend_printf(&rep->sriov, NULL, "%s %zu/%u", pf, on, ps->count);
        return strv_extend_printf(&rep->problems, &rep->n_problems, "%s: %s", pf, text);
}

/* Report what one apply did. */
int vbd_report_pass(Manager *m, const VbPlan *p, const VbApply *applied, Report *rep) {
        int r;

        report_console(m, p, applied);
        if (!p->iommu_enabled && !m->config->disabled)
                for (size_t i = 0; i < p->n; i++)
                        if (p->entries[i].reason == VB_REASON_NO_IOMMU) {
                                r = strv_extend_printf(&rep->problems, &rep->n_problems,
                                                       "IOMMU off: no IOMMU groups (%s)", vb_iommu_hint(p->cpu_vendor));
                                if (r < 0)
                                        return r;
                                break;
                        }

        r = vbd_memory_remember_groups(m, p);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n; i++) {
                r = report_entry(m, p, i, &applied->results[i], rep);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < p->n_sriov; i++) {
                const VbSriovEnable *c = i < applied->n_sriov && p->sriov[i].action == VB_SRIOV_CREATE
                                                 ? &applied->sriov[i]
                                                 : NULL;
                r = report_sriov(m, p, &p->sriov[i], applied, c, c ? applied->sriov_stuck[i] : NULL, rep);
                if (r < 0)
                        return r;
        }
        report_autoprobe(p, applied);
        for (size_t i = 0; i < p->n_unmatched; i++) {
                char sel[VB_SELECTOR_STRING_MAX];
                vb_selector_format(&p->unmatched[i], sel);
                r = strv_extend_printf(&rep->problems, &rep->n_problems, "no device matches %s%s", sel,
                                       m->timed_out ? "" : " yet");
                if (r < 0)
                        return r;
        }
        return 0;
}
