/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service: a udev monitor started before the first sysfs scan, a pass that turns the
 * configuration and a snapshot of the machine into a plan and applies it, READY=1 once every
 * selected device is settled or Timeout= has run out, and the same pass again for every
 * relevant uevent afterwards.
 */
#include <libudev.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "bind-job.h"
#include "bind.h"
#include "console.h"
#include "iommu.h"
#include "load.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "pci.h"
#include "plan.h"
#include "runtime.h"
#include "snapshot.h"

#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* What the daemon remembers of one device between passes. */
typedef struct DeviceState {
        VbPciAddress address;
        char *logged;  /* the last state that was logged, so that a pass logs only changes */
        char *failure; /* the last bind failure; no automatic retry until the device is re-added */
        char *forced;  /* bound by Force= although the host used it: what it used it for */
        BindJob *stuck; /* a bind whose sysfs write has not returned */
        sd_event_source *stuck_source;
        uint64_t stuck_since;
} DeviceState;

struct Manager {
        sd_event *event;
        sd_event_source *monitor_source;
        sd_event_source *timeout_source;
        struct udev *udev;
        struct udev_monitor *monitor;

        VbContext *ctx;
        BindJobTracker *tracker;
        VbConfig *config;
        ManagerOptions options;

        DeviceState *devices;
        size_t n_devices;
        int *groups; /* IOMMU groups of the selected devices in the last pass */
        size_t n_groups;

        uint64_t start_usec;
        bool ready;
        bool timed_out;
        bool console_released;
        char *console_released_text;
        char *status;
        char *reload_error;
        bool failed; /* a present selected device did not end on its driver */
        int holds_error; /* the last interlock read error that was logged */
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void format_duration(uint64_t usec, char *buf, size_t size) {
        if (usec % USEC_PER_SEC == 0)
                snprintf(buf, size, "%" PRIu64 "s", usec / USEC_PER_SEC);
        else
                snprintf(buf, size, "%" PRIu64 "ms", usec / USEC_PER_MSEC);
}

static void device_state_done(DeviceState *d) {
        free(d->logged);
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
        m->n_devices = 0;
}

/* The state of the device at A, created if new. The states are kept ordered by address, so a
 * pass over many devices stays O(n log n). The pointer is valid until the next call. */
static DeviceState *device_state(Manager *m, const VbPciAddress *a) {
        size_t lo = 0, hi = m->n_devices;
        DeviceState *d;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = vb_pci_address_compare(&m->devices[mid].address, a);
                if (c == 0)
                        return &m->devices[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        d = realloc(m->devices, (m->n_devices + 1) * sizeof(DeviceState));
        if (!d)
                return NULL;
        m->devices = d;
        memmove(&m->devices[lo + 1], &m->devices[lo], (m->n_devices - lo) * sizeof(DeviceState));
        m->n_devices++;
        m->devices[lo] = (DeviceState) { .address = *a };
        return &m->devices[lo];
}

/* Log TEXT for the device unless it is what was logged last for it. */
static void log_device_once(Manager *m, DeviceState *s, int priority, const VbdLogFields *f, const char *text) {
        if (s && streq_ptr(s->logged, text))
                return;
        vbd_log_full(priority, f, "%s: %s", VB_PCI_ADDRESS_STR(f->device), text);
        if (s) {
                free(s->logged);
                s->logged = strdup(text);
        }
}

static const char *bind_failure_words(int error, const VbBindResult *res) {
        switch (res->failed_step) {
        case VB_BIND_STEP_READ:
                return error == -ENODEV ? "the device disappeared" : "reading the device failed";
        case VB_BIND_STEP_MODULE:
                return error == -ENOENT ? "no kernel module provides the driver" : "loading the driver's module failed";
        case VB_BIND_STEP_OVERRIDE:
                return "writing driver_override failed";
        case VB_BIND_STEP_UNBIND:
                return error == -EBUSY ? "a host driver holds it" : "unbinding the host driver failed";
        case VB_BIND_STEP_PROBE:
                return "writing drivers_probe failed";
        case VB_BIND_STEP_VERIFY:
                return "the driver did not take it (the kernel log says why: BAR can't reserve, no IOMMU group, …)";
        default:
                return "failed";
        }
}

static int manager_pass_and_settle(Manager *m);

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
                t = now_usec() - s->stuck_since;
                vbd_log_full(LOG_WARNING, &(VbdLogFields) { .device = &s->address, .action = "unstuck" },
                             "%s: the write that hung returned after %" PRIu64 "s; looking at the device again",
                             VB_PCI_ADDRESS_STR(&s->address), t / USEC_PER_SEC);
                s->stuck_source = sd_event_source_disable_unref(s->stuck_source);
                s->stuck = bind_job_unref(s->stuck);
                free(s->failure);
                s->failure = NULL;
                free(s->logged);
                s->logged = NULL;
                break;
        }
        (void) manager_pass_and_settle(m);
        return 0;
}

static int apply_bind(Manager *m, const VbPlanEntry *e, DeviceState *s) {
        _cleanup_(vb_bind_result_done) VbBindResult res = {};
        _cleanup_free_ char *text = NULL;
        uint64_t now = now_usec(), deadline;
        BindJob *stuck = NULL;
        int r = 0, k;

        /* Before READY=1 a bind may take until Timeout= (at least a second); afterwards it may take
         * Timeout= (at least five seconds) of its own. */
        deadline = m->ready ? now + MAX(m->config->timeout_usec, 5 * USEC_PER_SEC)
                            : MAX(m->start_usec + m->config->timeout_usec, now + USEC_PER_SEC);
        k = bind_job_run(m->ctx, &e->address, e->driver, m->config->unbind_host, deadline, keepalive, m,
                         &r, &res, &stuck);
        if (k == -ETIMEDOUT) {
                _cleanup_free_ char *what = bind_job_describe(stuck);
                char t[32];

                format_duration((now_usec() - now + USEC_PER_SEC / 2) / USEC_PER_SEC * USEC_PER_SEC, t, sizeof(t));
                s->stuck = stuck;
                s->stuck_since = now;
                if (sd_event_add_io(m->event, &s->stuck_source, bind_job_fd(stuck), EPOLLIN, on_stuck_returned, m) < 0)
                        s->stuck_source = NULL;
                if (asprintf(&text, "stuck: %s has not returned after %s (the driver hangs in the kernel; "
                             "the device is left alone until it returns)", what ?: "a write", t) < 0)
                        return -ENOMEM;
                log_device_once(m, s, LOG_ERR, &(VbdLogFields) { .device = &e->address, .action = "stuck",
                                .driver_before = e->driver_before, .driver_after = NULL, .error = ETIMEDOUT }, text);
                free(s->failure);
                s->failure = TAKE_PTR(text);
                return 0;
        }
        if (k < 0)
                return k; /* no thread could be started */
        if (r >= 0) {
                free(s->failure);
                s->failure = NULL;
                if (res.module_loaded)
                        vbd_log_full(LOG_INFO, &(VbdLogFields) { .device = &e->address, .action = "load-module",
                                     .driver_before = res.driver_before, .driver_after = res.driver_before },
                                     "%s: loaded the kernel module for %s", VB_PCI_ADDRESS_STR(&e->address), e->driver);
                if (asprintf(&text, r > 0 ? "bound to %s (was %s)" : "already on %s", e->driver, res.driver_before ?: "no driver") < 0)
                        return -ENOMEM;
                log_device_once(m, s, LOG_NOTICE, &(VbdLogFields) { .device = &e->address, .action = r > 0 ? "bind" : "leave",
                                .driver_before = res.driver_before, .driver_after = res.driver_after }, text);
                return 1;
        }

        if (asprintf(&text, "binding to %s failed: %s (%s); now on %s%s%s", e->driver, bind_failure_words(r, &res),
                     strerror(-r), res.driver_after ?: "no driver",
                     res.rolled_back ? ", driver_override cleared again" : "",
                     res.override_left ? ", driver_override left at the driver so that no host driver takes it" : "") < 0)
                return -ENOMEM;
        log_device_once(m, s, LOG_ERR, &(VbdLogFields) { .device = &e->address, .action = "bind-failed",
                        .driver_before = res.driver_before, .driver_after = res.driver_after, .error = r }, text);
        free(s->failure);
        s->failure = TAKE_PTR(text);
        return 0;
}

static int strv_append_printf(char ***l, size_t *n, const char *format, ...) __attribute__((format(printf, 3, 4)));
static int strv_append_printf(char ***l, size_t *n, const char *format, ...) {
        char **p, *s;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        p = realloc(*l, (*n + 2) * sizeof(char *));
        if (!p) {
                free(s);
                return -ENOMEM;
        }
        p[(*n)++] = s;
        p[*n] = NULL;
        *l = p;
        return 0;
}

static char *strv_join(char **l, const char *sep) {
        size_t len = 1;
        char *s, *p;

        for (char **i = l; i && *i; i++)
                len += strlen(*i) + strlen(sep);
        s = p = malloc(len);
        if (!s)
                return NULL;
        *p = '\0';
        for (char **i = l; i && *i; i++)
                p = stpcpy(stpcpy(p, i == l ? "" : sep), *i);
        return s;
}

/* STATUS=: "2/2 devices on vfio-pci: 0000:01:00.0 0000:01:00.1; console released", then what is
 * wrong, device by device. */
static int update_status(Manager *m, const VbPlan *plan, char **ok, size_t n_ok, char **problems) {
        _cleanup_free_ char *ok_list = NULL, *problem_list = NULL, *status = NULL;
        size_t total = 0;
        int r;

        for (size_t i = 0; i < plan->n; i++)
                if (!(plan->entries[i].action == VB_ACTION_REFUSE && plan->entries[i].reason == VB_REASON_BRIDGE))
                        total++;
        total += plan->n_unmatched;

        ok_list = strv_join(ok, " ");
        problem_list = strv_join(problems, "; ");
        if (!ok_list || !problem_list)
                return -ENOMEM;

        if (m->config->disabled)
                r = asprintf(&status, "disabled by vfio-bind=off on the kernel command line; no device touched");
        else if (m->config->n_selectors == 0)
                r = asprintf(&status, "no devices configured");
        else
                r = asprintf(&status, "%zu/%zu devices on %s%s%s%s%s%s%s%s", n_ok, total, m->config->driver,
                             n_ok ? ": " : "", ok_list,
                             m->console_released ? "; console released (" : "",
                             m->console_released ? strempty(m->console_released_text) : "",
                             m->console_released ? ")" : "",
                             *problem_list ? "; " : "", problem_list);
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

static bool remember_group(Manager *m, int g) {
        int *p;

        if (g < 0)
                return true;
        for (size_t i = 0; i < m->n_groups; i++)
                if (m->groups[i] == g)
                        return true;
        p = realloc(m->groups, (m->n_groups + 1) * sizeof(int));
        if (!p)
                return false;
        m->groups = p;
        m->groups[m->n_groups++] = g;
        return true;
}

static int release_console(Manager *m, const VbPlan *plan, const VbConsoleState *console) {
        _cleanup_(vb_console_release_done) VbConsoleRelease rel = {};
        const VbPciAddress *owner = NULL;
        int r;

        for (size_t i = 0; i < plan->n && !owner; i++)
                if (plan->entries[i].owns_console)
                        owner = &plan->entries[i].address;

        r = vb_console_release(m->ctx, console, &rel);
        if (r < 0)
                return vbd_log_full(LOG_ERR, &(VbdLogFields) { .device = owner, .error = r },
                                    "releasing the console failed after %s: %s; binding may fail with \"can't reserve\"",
                                    rel.released ?: "nothing", strerror(-r));
        if (r > 0) {
                m->console_released = true;
                free(m->console_released_text);
                m->console_released_text = strdup(rel.released);
                vbd_log_full(LOG_NOTICE, &(VbdLogFields) { .device = owner, .action = "release-console" },
                             "released the console: %s (%s)", rel.released, plan->console_reason);
        }
        return 0;
}

/* One pass: snapshot, plan, console, binds, status. */
static int manager_pass(Manager *m) {
        _cleanup_(vb_snapshot_done) VbSnapshot snap = {};
        _cleanup_strv_free_ char **ok = NULL, **problems = NULL;
        const VbPlan *p = &snap.plan;
        size_t n_ok = 0, n_problems = 0;
        bool failed = false;
        char timeout[32];
        int r;

        r = vb_snapshot_take(m->ctx, m->config, m->options.runtime_dir, &snap);
        if (r < 0)
                return vbd_log_full(LOG_ERR, &(VbdLogFields) { .error = r }, "Failed to look at the PCI devices: %s", strerror(-r));
        if (!snap.have_console)
                vbd_log_full(LOG_WARNING, &(VbdLogFields) { .error = snap.console_error },
                             "Failed to read the console state, leaving the console alone: %s", strerror(-snap.console_error));
        if (snap.holds_error && snap.holds_error != m->holds_error)
                vbd_log_full(LOG_WARNING, &(VbdLogFields) { .error = snap.holds_error },
                             "Failed to read what the host uses (mounts, swap, network), the interlocks know only part of it: %s",
                             strerror(-snap.holds_error));
        m->holds_error = snap.holds_error;

        if (!p->iommu_enabled && !m->config->disabled) {
                for (size_t i = 0; i < p->n; i++)
                        if (p->entries[i].reason == VB_REASON_NO_IOMMU) {
                                r = strv_append_printf(&problems, &n_problems,
                                                       "IOMMU off: no IOMMU groups (add intel_iommu=on or amd_iommu=on to the kernel command line)");
                                if (r < 0)
                                        return r;
                                break;
                        }
        }

        /* The console goes first: before the device that owns it is bound. But only when the
         * driver can be had at all: without its module nothing will be bound, and the host would
         * lose its console for nothing. */
        if (p->release_console && snap.have_console) {
                r = vb_context_load_driver(m->ctx, m->config->driver);
                if (r < 0)
                        vbd_log_full(LOG_ERR, &(VbdLogFields) { .error = r },
                                     "loading the module of %s failed (%s): the console is left alone",
                                     m->config->driver, r == -ENOENT ? "no kernel module provides it" : strerror(-r));
                else
                        (void) release_console(m, p, &snap.console);
        }

        free(m->groups);
        m->groups = NULL;
        m->n_groups = 0;

        format_duration(m->config->timeout_usec, timeout, sizeof(timeout));
        for (size_t i = 0; i < p->n; i++) {
                const VbPlanEntry *e = &p->entries[i];
                DeviceState *s = device_state(m, &e->address);
                _cleanup_free_ char *explain = NULL;
                const char *addr = VB_PCI_ADDRESS_STR(&e->address);
                VbdLogFields f = { .device = &e->address, .driver_before = e->driver_before, .driver_after = e->driver_before };
                bool on_driver = false;

                if (!s || !remember_group(m, e->iommu_group))
                        return -ENOMEM;
                r = vb_plan_entry_explain(e, &explain);
                if (r < 0)
                        return r;

                switch (e->action) {
                case VB_ACTION_LEAVE:
                        f.action = "leave";
                        /* After our own bind, "already on" is no news. */
                        if (!e->detail && s->logged && strneq(s->logged, "bound to ", 9)) {
                                free(s->logged);
                                s->logged = strdup(explain);
                        }
                        log_device_once(m, s, e->detail ? LOG_WARNING : LOG_INFO, &f, explain);
                        on_driver = true;
                        if (e->detail)
                                r = strv_append_printf(&problems, &n_problems, "%s %s", addr, e->detail);
                        break;
                case VB_ACTION_BIND:
                        if (s->failure) {
                                /* Failed before: no retry loop; a new add event or a reload clears it. */
                                r = strv_append_printf(&problems, &n_problems, "%s %s", addr, s->failure);
                                failed = true;
                                break;
                        }
                        if (e->forced)
                                vbd_log_full(LOG_WARNING, &(VbdLogFields) { .device = &e->address, .action = "force",
                                             .driver_before = e->driver_before, .driver_after = e->driver_before },
                                             "%s: FORCED by Force=: binding to %s although the host uses it: %s",
                                             addr, e->driver, e->in_use);
                        r = apply_bind(m, e, s);
                        if (r < 0)
                                return r;
                        on_driver = r > 0;
                        if (on_driver && e->forced) {
                                free(s->forced);
                                s->forced = strdup(e->in_use);
                        }
                        if (!on_driver) {
                                failed = true;
                                r = strv_append_printf(&problems, &n_problems, "%s %s", addr, s->failure);
                        }
                        break;
                case VB_ACTION_REFUSE:
                        f.action = e->reason == VB_REASON_DISABLED ? "disabled" :
                                   e->reason == VB_REASON_RELEASED ? "held" : "refuse";
                        log_device_once(m, s, e->reason == VB_REASON_DISABLED || e->reason == VB_REASON_RELEASED ?
                                        LOG_NOTICE : LOG_WARNING, &f, explain);
                        if (e->reason == VB_REASON_DISABLED || e->reason == VB_REASON_BRIDGE)
                                break;
                        if (e->reason == VB_REASON_RELEASED) {
                                r = strv_append_printf(&problems, &n_problems, "%s released by hand", addr);
                                break;
                        }
                        failed = true;
                        if (e->reason == VB_REASON_NO_IOMMU)
                                r = strv_append_printf(&problems, &n_problems, "%s not bound", addr);
                        else
                                r = strv_append_printf(&problems, &n_problems, "%s %s", addr, explain);
                        break;
                case VB_ACTION_MISSING:
                        f.action = m->timed_out ? "missing" : "wait";
                        if (m->timed_out) {
                                _cleanup_free_ char *t = NULL;
                                if (asprintf(&t, "not present after %s", timeout) < 0)
                                        return -ENOMEM;
                                log_device_once(m, s, LOG_WARNING, &f, t);
                                r = strv_append_printf(&problems, &n_problems, "%s missing after %s", addr, timeout);
                        } else {
                                _cleanup_free_ char *t = NULL;
                                if (asprintf(&t, "not present yet, waiting up to %s", timeout) < 0)
                                        return -ENOMEM;
                                log_device_once(m, s, LOG_INFO, &f, t);
                                r = strv_append_printf(&problems, &n_problems, "waiting for %s", addr);
                        }
                        break;
                default:
                        break;
                }
                if (r < 0)
                        return r;
                if (on_driver && s->forced) {
                        r = strv_append_printf(&problems, &n_problems, "%s FORCED although the host used it (%s)",
                                               addr, s->forced);
                        if (r < 0)
                                return r;
                }
                if (on_driver) {
                        r = strv_append_printf(&ok, &n_ok, "%s", addr);
                        if (r < 0)
                                return r;
                }
        }

        for (size_t i = 0; i < p->n_unmatched; i++) {
                char sel[VB_SELECTOR_STRING_MAX];
                vb_selector_format(&p->unmatched[i], sel);
                r = strv_append_printf(&problems, &n_problems, "no device matches %s%s", sel, m->timed_out ? "" : " yet");
                if (r < 0)
                        return r;
        }

        m->failed = failed;
        r = update_status(m, p, ok, n_ok, problems);
        if (r < 0)
                return r;

        return vb_plan_complete(p) || m->config->disabled;
}

static void manager_set_ready(Manager *m) {
        uint64_t t = now_usec() - m->start_usec;

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

static int manager_pass_and_settle(Manager *m) {
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
        (void) manager_pass_and_settle(m);
        return 0;
}

/* Does a uevent for A concern us: a selected device, or a member of a group we look after? */
static bool device_is_relevant(Manager *m, const VbPciAddress *a, bool removed) {
        _cleanup_(vb_pci_device_done) VbPciDevice d = {};

        for (size_t i = 0; i < m->n_devices; i++)
                if (vb_pci_address_equal(&m->devices[i].address, a))
                        return true;
        if (removed || vb_pci_device_read(m->ctx, a, &d) < 0)
                return false;
        if (vb_config_selects(m->config, &d))
                return true;
        if (m->config->group == VB_GROUP_IGNORE)
                return false;
        for (size_t i = 0; i < m->n_groups; i++)
                if (m->groups[i] == d.iommu_group)
                        return true;
        return false;
}

static int on_uevent(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        bool pass = false;

        for (;;) {
                struct udev_device *d = udev_monitor_receive_device(m->monitor);
                const char *action, *name;
                VbPciAddress a;

                if (!d)
                        break;
                action = udev_device_get_action(d);
                name = udev_device_get_sysname(d);
                if (action && name && vb_pci_address_parse(name, &a) >= 0 &&
                    (streq(action, "add") || streq(action, "bind") || streq(action, "remove"))) {
                        bool removed = streq(action, "remove");

                        if (device_is_relevant(m, &a, removed)) {
                                vbd_log(LOG_DEBUG, "uevent %s for %s", action, name);
                                if (streq(action, "add")) {
                                        /* A device that is added anew gets a fresh try. */
                                        DeviceState *st = device_state(m, &a);
                                        if (st && !st->stuck) {
                                                free(st->failure);
                                                st->failure = NULL;
                                        }
                                }
                                pass = true;
                        }
                }
                udev_device_unref(d);
        }
        if (pass)
                (void) manager_pass_and_settle(m);
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
                vbd_log_full(LOG_ERR, &(VbdLogFields) { .error = r }, "reloading the configuration failed, keeping the old one");
                if (asprintf(&m->reload_error, "reload failed: %s", diag.n > 0 ? diag.messages[0] : strerror(-r)) < 0)
                        m->reload_error = NULL;
        } else {
                vb_config_free(m->config);
                m->config = c;
                /* Forget failures, so that everything is tried again; a device whose write still
                 * hangs in the kernel stays left alone. */
                for (size_t i = 0; i < m->n_devices; i++)
                        if (!m->devices[i].stuck) {
                                free(m->devices[i].failure);
                                m->devices[i].failure = NULL;
                                free(m->devices[i].logged);
                                m->devices[i].logged = NULL;
                        }
                vbd_log(LOG_INFO, "reloaded the configuration");
        }
        (void) manager_pass(m);
        vb_context_drop_caches(m->ctx);
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
        m->start_usec = now_usec();
        r = bind_job_track_context(ctx, &m->tracker);
        if (r < 0) {
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
        free(m->status);
        free(m->console_released_text);
        free(m->reload_error);
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
                return vbd_log_full(LOG_ERR, &(VbdLogFields) { .error = r }, "Failed to create the event loop: %s", strerror(-r));

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
                             "Failed to listen to uevents, devices that appear later will not be bound: %s", strerror(-r));

        vbd_log(LOG_INFO, "binding %zu selector%s to %s (Group=%s, UnbindHost=%s, Release=%s)",
                m->config->n_selectors, m->config->n_selectors == 1 ? "" : "s", m->config->driver,
                vb_group_policy_to_string(m->config->group), m->config->unbind_host ? "yes" : "no",
                vb_release_policy_to_string(m->config->release));

        /* With Timeout=0 nothing is waited for: a missing device is missing at once. */
        m->timed_out = m->config->timeout_usec == 0;
        r = manager_pass(m);
        vb_context_drop_caches(m->ctx);
        if (r < 0) {
                (void) sd_notifyf(false, "STATUS=failed: %s\nERRNO=%d", strerror(-r), -r);
                return 1;
        }
        if (r > 0 || m->timed_out)
                manager_set_ready(m);
        else {
                r = sd_event_add_time(m->event, &m->timeout_source, CLOCK_MONOTONIC,
                                      m->start_usec + m->config->timeout_usec, 10 * USEC_PER_MSEC, on_timeout, m);
                if (r < 0) {
                        m->timed_out = true;
                        (void) manager_pass(m);
                        manager_set_ready(m);
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
