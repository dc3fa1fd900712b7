/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service: a udev monitor started before the first sysfs scan, and one settle path (at
 * start, on a relevant uevent, on SIGHUP, when a hung write returns) that looks at the machine,
 * plans, applies the plan (lib/apply) and reports what happened: a journal entry per change of a
 * device's state, and STATUS=. READY=1 once every selected device is settled or Timeout= has run
 * out.
 */
#include <libudev.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "alloc-util.h"
#include "apply.h"
#include "bind-job.h"
#include "iommu.h"
#include "load.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "pci.h"
#include "plan.h"
#include "reach.h"
#include "runtime.h"
#include "selector-index.h"
#include "snapshot.h"
#include "sriov.h"
#include "strv.h"
#include "sysfs.h"
#include "time-util.h"
#include "uevent.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* What the daemon remembers of one device between passes. */
typedef struct DeviceState {
        VbPciAddress address;
        VbDeviceState state; /* after the last pass */
        bool seen;           /* state holds a pass's result */
        char *logged;        /* the last text logged, so that a pass logs only changes */
        char *sriov_logged;  /* a PF of VirtualFunctions=: the last text logged about its VFs */
        char *sriov_failure; /* a PF: creating its VFs failed (said in STATUS= until it is added anew) */
        char *failure;       /* the last bind failure; not tried again until it is added anew */
        char *forced;        /* bound by Force= although the host used it: what it used it for */
        char *rolled_back;   /* put back because a member of its group failed: said in STATUS= as
                              * long as the group stays refused for it */
        BindJob *stuck;      /* a bind whose sysfs write has not returned */
        sd_event_source *stuck_source;
        uint64_t stuck_since;
} DeviceState;

struct Manager {
        sd_event *event;
        sd_event_source *monitor_source;
        sd_event_source *timeout_source;
        struct udev *udev;
        struct udev_monitor *monitor;
        unsigned n_overflows; /* times the uevent socket overflowed (ENOBUFS): each brings a pass */

        VbContext *ctx;
        BindJobTracker *tracker;
        VbConfig *config;
        VbSelectorIndex *selectors; /* of config, for telling which uevents concern us */
        ManagerOptions options;

        DeviceState *devices; /* ordered by address */
        size_t n_devices, devices_allocated;
        int *groups; /* IOMMU groups of the devices of the last plan */
        size_t n_groups, groups_allocated;
        VbPciAddress *initrd_bound; /* stage 2: what the initrd's run left on the driver */
        size_t n_initrd_bound;

        uint64_t start_usec;
        bool ready;
        bool timed_out;
        bool console_released;
        char *console_released_text;
        char *status;
        char *reload_error;
        bool failed;     /* a present selected device did not end on its driver */
        int holds_error; /* the last interlock read error that was logged */
};

static void device_state_done(DeviceState *d) {
        free(d->logged);
        free(d->sriov_logged);
        free(d->sriov_failure);
        free(d->rolled_back);
        free(d->failure);
        free(d->forced);
        d->stuck_source = sd_event_source_disable_unref(d->stuck_source);
        d->stuck = bind_job_unref(d->stuck);
}

static void device_states_clear(Manager *m) {
        for (size_t i = 0; i < m->n_devices; i++)
                device_state_done(&m->devices[i]);
        free(m->devices);
        m->devices = NULL;
        m->n_devices = m->devices_allocated = 0;
}

static DeviceState *device_state_find(Manager *m, const VbPciAddress *a, size_t *ret_index) {
        size_t i = VB_PCI_ADDRESS_LOWER_BOUND(m->devices, m->n_devices, address, a);

        if (i < m->n_devices && vb_pci_address_equal(&m->devices[i].address, a))
                return &m->devices[i];
        if (ret_index)
                *ret_index = i;
        return NULL;
}

/* The state of the device at A, created if new. The states are kept ordered by address, so a
 * pass over many devices stays O(n log n). The pointer is valid until the next call. */
static DeviceState *device_state(Manager *m, const VbPciAddress *a) {
        DeviceState *d;
        size_t lo = 0;

        d = device_state_find(m, a, &lo);
        if (d)
                return d;
        if (!VB_GREEDY_REALLOC(m->devices, m->devices_allocated, m->n_devices + 1))
                return NULL;
        memmove(&m->devices[lo + 1], &m->devices[lo], (m->n_devices - lo) * sizeof(DeviceState));
        m->n_devices++;
        m->devices[lo] = (DeviceState) { .address = *a };
        return &m->devices[lo];
}

static void device_state_forget_failure(DeviceState *s) {
        free(s->failure);
        s->failure = NULL;
        free(s->sriov_failure);
        s->sriov_failure = NULL;
        free(s->rolled_back);
        s->rolled_back = NULL;
}

/* Log TEXT for the device, and remember it as what was logged last for it. */
static void log_device(DeviceState *s, int priority, const VbdLogFields *f, const char *text) {
        vbd_log_full(priority, f, "%s: %s", VB_PCI_ADDRESS_STR(f->device), text);
        free(s->logged);
        s->logged = strdup(text);
}

/* Log TEXT for the device unless it is what was logged last for it: a state that passes find
 * again is said once. */
static void log_device_once(DeviceState *s, int priority, const VbdLogFields *f, const char *text) {
        if (!streq_ptr(s->logged, text))
                log_device(s, priority, f, text);
}

static int manager_settle(Manager *m);

static void keepalive(void *userdata) {
        /* Waiting for a bind must not look like a hang to the service manager. */
        (void) sd_notify(false, "WATCHDOG=1");
}

static int on_stuck_returned(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;

        for (size_t i = 0; i < m->n_devices; i++) {
                DeviceState *s = &m->devices[i];
                uint64_t t;

                if (s->stuck_source != source)
                        continue;
                t = vb_now_usec() - s->stuck_since;
                vbd_log_full(LOG_WARNING, &(VbdLogFields) { .device = &s->address, .action = "unstuck" },
                             "%s: the write that hung returned after %" PRIu64 "s; looking at the device again",
                             VB_PCI_ADDRESS_STR(&s->address), t / USEC_PER_SEC);
                s->stuck_source = sd_event_source_disable_unref(s->stuck_source);
                s->stuck = bind_job_unref(s->stuck);
                device_state_forget_failure(s);
                free(s->logged);
                s->logged = NULL;
                break;
        }
        (void) manager_settle(m);
        return 0;
}

/* When a job started now must have ended: before READY=1 by Timeout= after the start (at least a
 * second from now); afterwards Timeout= (at least five seconds) of its own. */
static uint64_t job_deadline(const Manager *m, uint64_t now) {
        return m->ready ? now + MAX(m->config->timeout_usec, 5 * USEC_PER_SEC)
                        : MAX(m->start_usec + m->config->timeout_usec, now + USEC_PER_SEC);
}

/* A job ran past its deadline (K is bind_job_run*()'s result) for the device at A: keep the stuck
 * job on the device's memory, watched until its write returns, and say which write hangs.
 * Returns K when the job did not time out. */
static int job_stuck(Manager *m, int k, const VbPciAddress *a, uint64_t started, BindJob *stuck, char **ret_stuck) {
        DeviceState *s;

        if (k != -ETIMEDOUT)
                return k;
        s = device_state(m, a);
        if (!s) {
                bind_job_unref(stuck);
                return -ENOMEM;
        }
        s->stuck = stuck;
        s->stuck_since = started;
        if (sd_event_add_io(m->event, &s->stuck_source, bind_job_fd(stuck), EPOLLIN, on_stuck_returned, m) < 0)
                s->stuck_source = NULL;
        *ret_stuck = bind_job_describe(stuck) ?: strdup("a write");
        return -ETIMEDOUT;
}

/* VbApplyOps.bind: the bind runs in a thread of its own and may take until a deadline; a write
 * that hangs in the kernel leaves a stuck job behind, watched until it returns. */
static int bind_with_deadline(void *userdata, VbContext *ctx, const VbPlanEntry *e, const char *driver,
                              bool unbind_host, VbBindResult *ret, char **ret_stuck) {
        Manager *m = userdata;
        uint64_t now = vb_now_usec();
        BindJob *stuck = NULL;
        int r = 0, k;

        k = bind_job_run(ctx, &e->address, driver, unbind_host, job_deadline(m, now), keepalive, m, &r, ret, &stuck);
        k = job_stuck(m, k, &e->address, now, stuck, ret_stuck);
        return k < 0 ? k : r; /* k < 0: stuck, or no thread could be started */
}

/* VbApplyOps.sriov_enable: a PF's driver may hang in its sriov_configure as a GPU driver in its
 * unbind; creating VFs runs under the same deadline as a bind. When it hangs, the autoprobe mark
 * stays: manager_restore_autoprobe() once it returns. */
static int sriov_with_deadline(void *userdata, VbContext *ctx, const VbPlanSriov *ps, const char *driver,
                               uint64_t timeout_usec, VbSriovEnable *ret, char **ret_stuck) {
        Manager *m = userdata;
        uint64_t now = vb_now_usec();
        BindJob *stuck = NULL;
        int r = 0, k;

        k = bind_job_run_sriov(ctx, &ps->pf, &ps->sriov, ps->count, driver, timeout_usec, job_deadline(m, now),
                               keepalive, m, &r, ret, &stuck);
        k = job_stuck(m, k, &ps->pf, now, stuck, ret_stuck);
        return k < 0 ? k : r;
}

/* A PF whose autoprobe an earlier run switched off and did not switch back on (it was killed
 * in between, or the write failed): on again, once its VFs were bound by this pass, unless its
 * creation still hangs. */
static void manager_restore_autoprobe(Manager *m) {
        _cleanup_free_ VbPciAddress *pfs = NULL;
        size_t n = 0;

        if (!m->options.runtime_dir || vb_runtime_list(m->options.runtime_dir, VB_MARK_AUTOPROBE_OFF, &pfs, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                const DeviceState *s = device_state_find(m, &pfs[i], NULL);
                const char *path = VB_PCI_DEVICE_PATH(&pfs[i], "sriov_drivers_autoprobe");
                int r;

                if (s && s->stuck)
                        continue;
                r = path ? vb_sysfs_write(m->ctx, path, "1") : -ENAMETOOLONG;
                if (r < 0 && r != -ENOENT && r != -ENODEV) {
                        vbd_log_full(LOG_WARNING, &(VbdLogFields) { .device = &pfs[i], .error = r },
                                     "%s: Failed to switch sriov_drivers_autoprobe back on, ignoring: %s",
                                     VB_PCI_ADDRESS_STR(&pfs[i]), strerror(-r));
                        continue;
                }
                if (r >= 0)
                        vbd_log_full(LOG_NOTICE, &(VbdLogFields) { .device = &pfs[i], .action = "autoprobe" },
                                     "%s: sriov_drivers_autoprobe switched back on (an earlier run left it off)",
                                     VB_PCI_ADDRESS_STR(&pfs[i]));
                (void) vb_runtime_set(m->options.runtime_dir, VB_MARK_AUTOPROBE_OFF, &pfs[i], false);
        }
}

static bool bound_in_initrd(const Manager *m, const VbPciAddress *a) {
        for (size_t i = 0; i < m->n_initrd_bound; i++)
                if (vb_pci_address_equal(&m->initrd_bound[i], a))
                        return true;
        return false;
}

static int remember_group(Manager *m, int g) {
        if (g < 0)
                return 0;
        for (size_t i = 0; i < m->n_groups; i++)
                if (m->groups[i] == g)
                        return 0;
        if (!VB_GREEDY_REALLOC(m->groups, m->groups_allocated, m->n_groups + 1))
                return -ENOMEM;
        m->groups[m->n_groups++] = g;
        return 0;
}

/* What one pass says: the devices on the driver, and what is wrong, device by device. */
typedef struct Report {
        char **ok;
        size_t n_ok;
        char **initrd; /* of OK: bound in the initrd */
        char **problems;
        size_t n_problems;
        char **sriov;   /* "0000:03:00.0 4/4": the VFs of each PF on the driver */
        char **drivers; /* the drivers the OK devices are on, each once */
        bool failed;
} Report;

static void report_done(Report *r) {
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
static int update_status(Manager *m, const VbPlan *plan, const Report *rep) {
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

        _cleanup_free_ char *modules = strv_join(p->modules, ", ");

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

static int report_failure(DeviceState *s, const VbPlanEntry *e, const VbApplyResult *res, const VbPlan *p, char **ret) {
        const VbBindResult *b = &res->bind;
        const char *cause = res->cause < p->n ? VB_PCI_ADDRESS_STR(&p->entries[res->cause].address) : "a member";
        int r = -1;

        switch (res->state) {
        case VB_DEVICE_FAILED:
                r = asprintf(ret, "binding to %s failed: %s (%s); now on %s%s%s",
                             res->driver ?: vb_plan_entry_driver(e), vb_bind_result_explain(b, res->error),
                             strerror(-res->error), b->driver_after ?: "no driver",
                             b->rolled_back ? ", driver_override cleared again" : "",
                             b->override_left ? ", driver_override left at the driver so that no host driver takes it"
                                              : "");
                break;
        case VB_DEVICE_STUCK: {
                char t[32];

                vb_format_duration((vb_now_usec() - s->stuck_since + USEC_PER_SEC / 2) / USEC_PER_SEC * USEC_PER_SEC, t,
                                   sizeof(t));
                r = asprintf(ret,
                             "stuck: %s has not returned after %s (the driver hangs in the kernel; the device is "
                             "left alone until it returns)",
                             res->stuck, t);
                break;
        }
        case VB_DEVICE_ROLLED_BACK:
                r = asprintf(ret,
                             "rolled back to %s: %s of its IOMMU group failed to bind, so the group is not "
                             "left half on %s (Group=%s)%s",
                             res->restore.driver_after ?: "no driver", cause, res->driver ?: vb_plan_entry_driver(e),
                             vb_group_policy_to_string(p->group),
                             res->restore.override_left
                                     ? "; driver_override left at the driver so that no host driver takes it"
                                     : "");
                break;
        case VB_DEVICE_RESTORE_FAILED:
                r = asprintf(ret,
                             "bound to %s, then %s of its IOMMU group failed, and putting it back on %s failed: "
                             "%s (%s); now on %s",
                             res->driver ?: vb_plan_entry_driver(e), cause, res->bind.driver_before ?: "no driver",
                             vb_bind_result_explain(&res->restore, res->error), strerror(-res->error),
                             res->restore.driver_after ?: "no driver");
                break;
        case VB_DEVICE_SKIPPED:
                r = asprintf(ret, "not tried: %s of its IOMMU group failed first (Group=%s)", cause,
                             vb_group_policy_to_string(p->group));
                break;
        default:
                return -EINVAL;
        }
        return r < 0 ? -ENOMEM : 0;
}

/* One entry's result: its journal entry (when it changed) and its part of STATUS=. */
static int report_entry(Manager *m, const VbPlan *p, size_t i, const VbApplyResult *res, Report *rep) {
        const VbPlanEntry *e = &p->entries[i];
        const char *addr = VB_PCI_ADDRESS_STR(&e->address);
        _cleanup_free_ char *text = NULL;
        DeviceState *s;
        VbdLogFields f = { .device = &e->address, .driver_before = e->driver_before, .driver_after = e->driver_before };
        char timeout[32];
        bool on_driver = vb_apply_result_on_driver(res);
        VbDeviceState before;
        bool seen;
        int r = 0;

        s = device_state(m, &e->address);
        if (!s)
                return -ENOMEM;
        before = s->state;
        seen = s->seen;
        s->state = res->state;
        s->seen = true;
        vb_format_duration(m->config->timeout_usec, timeout, sizeof(timeout));

        switch (res->state) {
        case VB_DEVICE_ON_DRIVER:
                free(s->rolled_back);
                s->rolled_back = NULL;
                r = vb_plan_entry_explain(e, &text);
                if (r < 0)
                        return r;
                if (bound_in_initrd(m, &e->address)) {
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
                log_device_once(s, e->detail ? LOG_WARNING : LOG_INFO, &f, text);
                if (e->detail)
                        r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s %s", addr, e->detail);
                break;
        case VB_DEVICE_BOUND:
                device_state_forget_failure(s);
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
                        log_device(s, LOG_NOTICE, &f, text);
                else
                        log_device_once(s, LOG_NOTICE, &f, text);
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

                r = report_failure(s, e, res, p, &text);
                if (r < 0)
                        return r;
                f.action = actions[res->state];
                f.driver_before = res->bind.driver_before ?: e->driver_before;
                f.driver_after = after->driver_after;
                f.error = res->state == VB_DEVICE_SKIPPED || res->state == VB_DEVICE_ROLLED_BACK ? 0 : -res->error;
                log_device_once(s,
                                res->state == VB_DEVICE_ROLLED_BACK || res->state == VB_DEVICE_SKIPPED ? LOG_WARNING
                                                                                                       : LOG_ERR,
                                &f, text);
                rep->failed = true;
                r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s %s", addr, text);
                /* The device that failed is not tried again until it is added anew; the members
                 * put back are refused by the plan as long as it stays so, and the status keeps
                 * saying that they were put back. */
                if (r >= 0 && (res->state == VB_DEVICE_FAILED || res->state == VB_DEVICE_STUCK ||
                               res->state == VB_DEVICE_RESTORE_FAILED)) {
                        free(s->failure);
                        s->failure = TAKE_PTR(text);
                } else if (r >= 0 && res->state == VB_DEVICE_ROLLED_BACK) {
                        free(s->rolled_back);
                        s->rolled_back = TAKE_PTR(text);
                }
                break;
        }
        case VB_DEVICE_REFUSED:
                if (e->reason == VB_REASON_FAILED) {
                        /* Said when it failed; the status keeps saying it. */
                        rep->failed = true;
                        r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s %s", addr,
                                               s->failure ?: "failed before");
                        break;
                }
                r = vb_plan_entry_explain(e, &text);
                if (r < 0)
                        return r;
                f.action = e->reason == VB_REASON_DISABLED   ? "disabled"
                           : e->reason == VB_REASON_RELEASED ? "held"
                                                             : "refuse";
                log_device_once(s,
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
                else if (s->rolled_back && (e->reason == VB_REASON_GROUP || e->reason == VB_REASON_GROUP_MEMBER))
                        r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s %s", addr, s->rolled_back);
                else
                        r = strv_extend_printf(&rep->problems, &rep->n_problems, "%s %s", addr, text);
                break;
        case VB_DEVICE_MISSING:
                f.action = m->timed_out ? "missing" : "wait";
                if (asprintf(&text, m->timed_out ? "not present after %s" : "not present yet, waiting up to %s",
                             timeout) < 0)
                        return -ENOMEM;
                log_device_once(s, m->timed_out ? LOG_WARNING : LOG_INFO, &f, text);
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

/* The VFs of one VirtualFunctions= line, as the pass left them: its journal entry (when it
 * changed) and its part of STATUS=: "VFs of 0000:03:00.0: 4/4 on vfio-pci". A = NULL: the pass
 * that created them (the next plan binds them) is not reported on its own. */
static int report_sriov(Manager *m, const VbPlan *p, const VbPlanSriov *ps, const VbApply *a,
                        const VbSriovEnable *created, const char *stuck, Report *rep) {
        const char *pf = VB_PCI_ADDRESS_STR(&ps->pf);
        _cleanup_free_ char *text = NULL;
        DeviceState *s = device_state(m, &ps->pf);
        VbdLogFields f = { .device = &ps->pf, .driver_before = ps->pf_driver, .driver_after = ps->pf_driver };
        int priority = LOG_INFO, r;
        size_t on = 0;

        if (!s)
                return -ENOMEM;
        if (created && created->error == -ETIMEDOUT && stuck) {
                char timeout[32];

                vb_format_duration(m->config->timeout_usec, timeout, sizeof(timeout));
                if (asprintf(&text, "stuck: creating %u virtual function%s, %s has not returned after %s", ps->count,
                             ps->count == 1 ? "" : "s", stuck, timeout) < 0)
                        return -ENOMEM;
                f.action = "stuck";
                f.error = ETIMEDOUT;
                vbd_log_full(LOG_ERR, &f, "%s: %s", pf, text);
                free(s->sriov_logged);
                s->sriov_logged = strdup(text);
                free(s->sriov_failure);
                s->sriov_failure = TAKE_PTR(text);
                rep->failed = true;
                return strv_extend_printf(&rep->problems, &rep->n_problems, "%s: %s", pf, s->sriov_failure);
        }
        if (created && created->error < 0) {
                if (asprintf(&text,
                             "creating %u virtual function%s failed while %s: %s (%u created; "
                             "sriov_drivers_autoprobe %s)",
                             ps->count, ps->count == 1 ? "" : "s", vb_sriov_step_to_string(created->failed_step),
                             strerror(-created->error), created->created,
                             !created->autoprobe_was_on ? "was off already"
                             : created->restore_error   ? "could not be switched back on"
                                                        : "back on") < 0)
                        return -ENOMEM;
                f.action = "sriov-failed";
                f.error = -created->error;
                vbd_log_full(LOG_ERR, &f, "%s: %s", pf, text);
                free(s->sriov_logged);
                s->sriov_logged = strdup(text);
                free(s->sriov_failure);
                s->sriov_failure = TAKE_PTR(text);
                rep->failed = true;
                return strv_extend_printf(&rep->problems, &rep->n_problems, "%s: %s", pf, s->sriov_failure);
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
                        if (e && a && k < a->n && vb_apply_result_on_driver(&a->results[k]))
                                on++;
                }
                r = asprintf(&text, "%zu/%u virtual functions on %s", on, ps->count, ps->driver ?: ps->module);
                priority = on == ps->count ? LOG_INFO : LOG_WARNING;
                f.action = "sriov";
                break;
        case VB_SRIOV_REFUSE:
                rep->failed = true;
                if (s->sriov_failure)
                        return strv_extend_printf(&rep->problems, &rep->n_problems, "%s: %s", pf, s->sriov_failure);
                r = vb_plan_sriov_explain(ps, &text);
                priority = LOG_WARNING;
                f.action = "sriov-refuse";
                rep->failed = true;
                break;
        case VB_SRIOV_WAIT:
        case VB_SRIOV_MISSING:
                if (s->sriov_failure) {
                        rep->failed = true;
                        return strv_extend_printf(&rep->problems, &rep->n_problems, "%s: %s", pf, s->sriov_failure);
                }
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

/* The devices whose bind failed before (remembered until they are added anew or a reload). */
static int failed_devices(Manager *m, VbPciAddress **ret, size_t *ret_n) {
        _cleanup_free_ VbPciAddress *l = NULL;
        size_t n = 0;

        l = malloc((m->n_devices ?: 1) * sizeof(VbPciAddress));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_devices; i++)
                if (m->devices[i].failure || m->devices[i].stuck || m->devices[i].sriov_failure)
                        l[n++] = m->devices[i].address;
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

/* Look and plan. */
static int manager_look(Manager *m, VbSnapshot *snap) {
        int r;

        r = vb_snapshot_read(m->ctx, m->options.runtime_dir, snap);
        if (r >= 0)
                r = failed_devices(m, &snap->failed, &snap->n_failed);
        if (r >= 0)
                r = vb_snapshot_plan(m->ctx, m->config, snap);
        if (r < 0)
                return vbd_log_full(LOG_ERR, &(VbdLogFields) { .error = r }, "Failed to look at the PCI devices: %s",
                                    strerror(-r));
        if (!snap->have_console)
                vbd_log_full(LOG_WARNING, &(VbdLogFields) { .error = snap->console_error },
                             "Failed to read the console state, leaving the console alone: %s",
                             strerror(-snap->console_error));
        if (snap->holds_error && snap->holds_error != m->holds_error)
                vbd_log_full(
                        LOG_WARNING, &(VbdLogFields) { .error = snap->holds_error },
                        "Failed to read what the host uses (mounts, swap, network), the interlocks know only part of it: %s",
                        strerror(-snap->holds_error));
        m->holds_error = snap->holds_error;

        for (size_t i = 0; i < snap->plan.n; i++) {
                const VbPlanEntry *e = &snap->plan.entries[i];
                if (e->action == VB_ACTION_BIND && e->forced)
                        vbd_log_full(LOG_WARNING,
                                     &(VbdLogFields) { .device = &e->address,
                                                       .action = "force",
                                                       .driver_before = e->driver_before,
                                                       .driver_after = e->driver_before },
                                     "%s: FORCED by Force=: binding to %s although the host uses it: %s",
                                     VB_PCI_ADDRESS_STR(&e->address), e->driver, e->in_use);
        }
        return 0;
}

/* Report what one apply did. */
static int manager_report(Manager *m, const VbPlan *p, const VbApply *applied, Report *rep) {
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

        free(m->groups);
        m->groups = NULL;
        m->n_groups = m->groups_allocated = 0;
        for (size_t i = 0; i < p->n; i++) {
                r = remember_group(m, p->entries[i].iommu_group);
                if (r >= 0)
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

/* One pass: look, plan, apply, report. When the apply created virtual functions, which the plan
 * could not know of, once more to bind them. Returns 1 when every selected device is settled
 * (the plan is complete), 0 when some are still awaited, or a negative errno. */
static int manager_pass(Manager *m) {
        _cleanup_(vb_snapshot_done) VbSnapshot snap = {};
        _cleanup_(vb_apply_done) VbApply applied = {};
        _cleanup_(report_done) Report rep = {};
        const VbPlan *p = &snap.plan;
        int r;

        for (unsigned round = 0;; round++) {
                r = manager_look(m, &snap);
                if (r < 0)
                        return r;
                r = vb_apply(m->ctx, p, snap.have_console ? &snap.console : NULL,
                             &(VbApplyOps) { .bind = bind_with_deadline,
                                             .sriov_enable = sriov_with_deadline,
                                             .userdata = m,
                                             .runtime_dir = m->options.runtime_dir },
                             &applied);
                if (r < 0)
                        return r;
                /* Killed while autoprobe is off, the daemon started again would find it off and
                 * leave it so for good: the mark says that it is ours to switch back on. */
                if (applied.sriov_mark_error < 0)
                        vbd_log_full(
                                LOG_WARNING, &(VbdLogFields) { .error = applied.sriov_mark_error },
                                "Failed to mark a PF's sriov_drivers_autoprobe as switched off under %s, ignoring: %s",
                                m->options.runtime_dir, strerror(-applied.sriov_mark_error));
                r = manager_report(m, p, &applied, &rep);
                if (r < 0)
                        return r;
                if (!applied.sriov_created || round > 0)
                        break;
                report_done(&rep);
                rep = (Report) {};
                vb_apply_done(&applied);
                vb_snapshot_done(&snap);
                snap = (VbSnapshot) {};
        }

        manager_restore_autoprobe(m);

        /* In the initrd: say what is on the driver, for stage 2's service to tell. */
        if (m->options.in_initrd)
                for (size_t i = 0; i < p->n; i++) {
                        if (!vb_apply_result_on_driver(&applied.results[i]))
                                continue;
                        r = vb_runtime_set(m->options.runtime_dir, VB_MARK_BOUND_IN_INITRD, &p->entries[i].address,
                                           true);
                        if (r < 0)
                                vbd_log_full(LOG_WARNING,
                                             &(VbdLogFields) { .device = &p->entries[i].address, .error = r },
                                             "Failed to leave a mark for stage 2 under %s, ignoring: %s",
                                             m->options.runtime_dir, strerror(-r));
                }

        m->failed = rep.failed;
        r = update_status(m, p, &rep);
        if (r < 0)
                return r;
        return vb_plan_complete(p) || m->config->disabled;
}

static void manager_set_ready(Manager *m) {
        uint64_t t = vb_now_usec() - m->start_usec;

        if (m->ready)
                return;
        m->ready = true;
        m->timeout_source = sd_event_source_disable_unref(m->timeout_source);
        (void) sd_notifyf(false, "READY=1\nSTATUS=%s", strempty(m->status));
        vbd_log_full(m->failed ? LOG_WARNING : LOG_INFO, NULL, "first pass done in %" PRIu64 ".%03" PRIu64 "s: %s",
                     t / USEC_PER_SEC, (t % USEC_PER_SEC) / USEC_PER_MSEC, strempty(m->status));
        if (m->options.once)
                (void) sd_event_exit(m->event, m->failed ? 1 : 0);
}

/* The one settle path: at start, on uevents, on SIGHUP, when a hung write returns. */
static int manager_settle(Manager *m) {
        int r;

        r = manager_pass(m);
        /* Idle until the next uevent: libkmod's indexes are mapped again when needed. */
        vb_context_drop_caches(m->ctx);
        if (r < 0) {
                if (!m->ready) {
                        /* Never hold the boot: report the failure and carry on. */
                        (void) sd_notifyf(false, "STATUS=failed: %s\nERRNO=%d", strerror(-r), -r);
                        m->failed = true;
                        manager_set_ready(m);
                }
                return r;
        }
        if (r > 0 || m->timed_out)
                manager_set_ready(m);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        m->timed_out = true;
        (void) manager_settle(m);
        return 0;
}

/* Does a uevent for A concern us: a device we look after, one the configuration selects, or a
 * member of a group we look after? PCI_ID is the uevent's own (NULL if it has none). In a storm
 * this runs for every PCI uevent, so it reads as little as it can: the IDs come from the uevent
 * (sysfs only when it has none), the group from one readlink. */
static bool device_is_relevant(Manager *m, const VbPciAddress *a, bool removed, const char *pci_id) {
        VbReachDevice d;
        uint16_t vendor, device;
        int group;

        if (device_state_find(m, a, NULL))
                return true;
        if (removed)
                return false;
        if (vb_pci_id_parse(pci_id, &vendor, &device) < 0) {
                _cleanup_(vb_pci_device_done) VbPciDevice id = {};

                if (vb_pci_device_read_identity(m->ctx, a, &id) < 0)
                        return false;
                vendor = id.vendor;
                device = id.device;
        }
        d = (VbReachDevice) { .address = *a, .vendor = vendor, .device = device, .iommu_group = -1 };
        /* What the IDs alone decide (selected, a PF of VirtualFunctions=) costs no read; then only
         * what can matter is read: a VF's PF when some PF makes VFs, the group when a group is
         * looked after. */
        if (vb_reach(m->config, m->selectors, &d, NULL, 0) != VB_REACH_NONE)
                return true;
        if (m->config->n_vfs > 0 && vb_pci_physfn(m->ctx, a, &d.physfn) >= 0)
                d.is_virtfn = true;
        if (m->config->group != VB_GROUP_IGNORE && m->n_groups > 0 && vb_pci_iommu_group(m->ctx, a, &group) >= 0)
                d.iommu_group = group;
        return vb_reach(m->config, m->selectors, &d, m->groups, m->n_groups) != VB_REACH_NONE;
}

static int on_uevent(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        bool pass = false;

        for (;;) {
                struct udev_device *d;
                VbdUeventAction action;
                VbPciAddress a;

                errno = 0;
                d = udev_monitor_receive_device(m->monitor);
                if (!d && errno == ENOBUFS) {
                        /* The socket overflowed: the kernel dropped uevents, an add among them
                         * perhaps. A pass looks at every device, so none is lost with them. */
                        m->n_overflows++;
                        vbd_log(LOG_NOTICE,
                                "the kernel dropped uevents (the socket's buffer overflowed, %u time%s so far): "
                                "looking at every device again",
                                m->n_overflows, m->n_overflows == 1 ? "" : "s");
                        pass = true;
                        continue;
                }
                if (!d)
                        break;
                if (vbd_uevent_parse(udev_device_get_action(d), udev_device_get_sysname(d), &action, &a) > 0) {
                        bool removed = action == VBD_UEVENT_REMOVE;

                        if (device_is_relevant(m, &a, removed, udev_device_get_property_value(d, "PCI_ID"))) {
                                vbd_log(LOG_DEBUG, "uevent %s for %s", vbd_uevent_action_to_string(action),
                                        VB_PCI_ADDRESS_STR(&a));
                                if (action == VBD_UEVENT_ADD) {
                                        /* A device that is added anew gets a fresh try, and what
                                         * happens to it is news even in the words of last time. */
                                        DeviceState *st = device_state_find(m, &a, NULL);
                                        if (st && !st->stuck)
                                                device_state_forget_failure(st);
                                        if (st) {
                                                free(st->logged);
                                                st->logged = NULL;
                                        }
                                }
                                pass = true;
                        }
                }
                udev_device_unref(d);
        }
        if (pass)
                (void) manager_settle(m);
        return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        vbd_log(LOG_INFO, "received %s, exiting and leaving every device where it is",
                si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        (void) sd_notify(false, "STOPPING=1");
        return sd_event_exit(m->event, 0);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
        VbConfig *c = NULL;
        int r;

        (void) sd_notify(false, "RELOADING=1");
        r = vb_config_load_all(m->ctx, m->options.config_path, &c, &diag);
        free(m->reload_error);
        m->reload_error = NULL;
        if (r < 0) {
                for (size_t i = 0; i < diag.n; i++)
                        vbd_log(LOG_ERR, "%s", diag.messages[i]);
                vbd_log_full(LOG_ERR, &(VbdLogFields) { .error = r },
                             "reloading the configuration failed, keeping the old one");
                if (asprintf(&m->reload_error, "reload failed: %s", diag.n > 0 ? diag.messages[0] : strerror(-r)) < 0)
                        m->reload_error = NULL;
        } else {
                VbSelectorIndex *x;

                r = vb_selector_index_new(&x, c->selectors, c->n_selectors);
                if (r < 0) {
                        vb_config_free(c);
                        vbd_log(LOG_ERR, "Out of memory, keeping the old configuration");
                } else {
                        vb_config_free(m->config);
                        vb_selector_index_free(m->selectors);
                        m->config = c;
                        m->selectors = x;
                        /* Forget failures, so that everything is tried again; a device whose write
                         * still hangs in the kernel stays left alone. */
                        for (size_t i = 0; i < m->n_devices; i++)
                                if (!m->devices[i].stuck) {
                                        device_state_forget_failure(&m->devices[i]);
                                        free(m->devices[i].logged);
                                        m->devices[i].logged = NULL;
                                }
                        vbd_log(LOG_INFO, "reloaded the configuration");
                }
        }
        (void) manager_settle(m);
        (void) sd_notify(false, "READY=1");
        return 0;
}

int manager_new(Manager **ret, const ManagerOptions *o, VbConfig *config, VbContext *ctx) {
        Manager *m;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->options = *o;
        m->config = config;
        m->ctx = ctx;
        m->start_usec = vb_now_usec();
        r = vb_selector_index_new(&m->selectors, config->selectors, config->n_selectors);
        if (r < 0) {
                free(m);
                return r;
        }
        /* In stage 2, what the initrd's run bound. */
        if (!o->in_initrd && o->runtime_dir &&
            vb_runtime_list(o->runtime_dir, VB_MARK_BOUND_IN_INITRD, &m->initrd_bound, &m->n_initrd_bound) < 0)
                m->n_initrd_bound = 0;
        r = bind_job_track_context(ctx, &m->tracker);
        if (r < 0) {
                vb_selector_index_free(m->selectors);
                free(m);
                return r;
        }
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->monitor_source);
        sd_event_source_disable_unref(m->timeout_source);
        if (m->monitor)
                udev_monitor_unref(m->monitor);
        if (m->udev)
                udev_unref(m->udev);
        sd_event_unref(m->event);
        device_states_clear(m);
        free(m->groups);
        free(m->initrd_bound);
        free(m->status);
        free(m->console_released_text);
        free(m->reload_error);
        vb_selector_index_free(m->selectors);
        vb_config_free(m->config);
        vb_context_free(m->ctx);
        bind_job_tracker_free(m->tracker);
        free(m);
        return NULL;
}

static int manager_start_monitor(Manager *m) {
        int r;

        m->udev = udev_new();
        if (!m->udev)
                return -ENOMEM;
        /* Kernel uevents arrive before udev runs its rules (and loads host driver modules). */
        m->monitor = udev_monitor_new_from_netlink(m->udev, "kernel");
        if (!m->monitor)
                return negative_errno();
        r = udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "pci", NULL);
        if (r < 0)
                return r;
        r = udev_monitor_enable_receiving(m->monitor);
        if (r < 0)
                return r;
        return sd_event_add_io(m->event, &m->monitor_source, udev_monitor_get_fd(m->monitor), EPOLLIN, on_uevent, m);
}

int manager_run(Manager *m) {
        sigset_t mask;
        int r;

        r = sd_event_new(&m->event);
        if (r < 0)
                return vbd_log_full(LOG_ERR, &(VbdLogFields) { .error = r }, "Failed to create the event loop: %s",
                                    strerror(-r));

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) sd_event_add_signal(m->event, NULL, SIGTERM, on_sigterm, m);
        (void) sd_event_add_signal(m->event, NULL, SIGINT, on_sigterm, m);
        if (!m->options.once)
                (void) sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m);
        (void) sd_event_set_watchdog(m->event, true);

        /* The monitor first, then the scan: nothing slips between the two. */
        r = manager_start_monitor(m);
        if (r < 0)
                vbd_log_full(LOG_WARNING, &(VbdLogFields) { .error = r },
                             "Failed to listen to uevents, devices that appear later will not be bound: %s",
                             strerror(-r));

        vbd_log(LOG_INFO, "binding %zu selector%s and the VFs of %zu PF%s to %s (Group=%s, UnbindHost=%s, Release=%s)",
                m->config->n_selectors, m->config->n_selectors == 1 ? "" : "s", m->config->n_vfs,
                m->config->n_vfs == 1 ? "" : "s", m->config->driver, vb_group_policy_to_string(m->config->group),
                m->config->unbind_host ? "yes" : "no", vb_release_policy_to_string(m->config->release));

        /* With Timeout=0 nothing is waited for: a missing device is missing at once. */
        m->timed_out = m->config->timeout_usec == 0;
        r = manager_settle(m);
        if (r < 0)
                return 1;
        if (!m->ready) {
                r = sd_event_add_time(m->event, &m->timeout_source, CLOCK_MONOTONIC,
                                      m->start_usec + m->config->timeout_usec, 10 * USEC_PER_MSEC, on_timeout, m);
                if (r < 0) {
                        m->timed_out = true;
                        (void) manager_settle(m);
                }
        }

        if (m->options.once && m->ready) {
                vbd_log_sync(3 * USEC_PER_SEC);
                return m->failed ? 1 : 0;
        }

        r = sd_event_loop(m->event);
        if (m->options.once)
                vbd_log_sync(3 * USEC_PER_SEC);
        if (r < 0)
                return vbd_log_full(LOG_ERR, &(VbdLogFields) { .error = r }, "Event loop failed: %s", strerror(-r)), 1;
        return r;
}
