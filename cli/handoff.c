/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "handoff.h"
#include "interlock.h"
#include "macro.h"
#include "runtime.h"
#include "strv.h"
#include "time-util.h"

/* Is A refused only because programs hold it, each in a unit of StopUnits=? */
static bool stoppable(const VbConfig *c, const VbSnapshot *s, const VbPciAddress *a) {
        const VbHold *h = vb_holds_find(&s->holds, a, VB_HOLD_PROGRAM);

        if (!h || h->no_unit || h->n_units == 0)
                return false;
        if (vb_holds_has(&s->holds, a, vb_plan_hold_mask(c, false) & ~VB_HOLD_MASK(VB_HOLD_PROGRAM)))
                return false;
        for (size_t i = 0; i < h->n_units; i++)
                if (!strv_contains(c->stop_units, h->units[i]))
                        return false;
        return true;
}

char *vbc_handoff_why_not(const VbConfig *c, const VbSnapshot *s, const VbPciAddress *a) {
        const VbHold *h = vb_holds_find(&s->holds, a, VB_HOLD_PROGRAM);
        _cleanup_free_ char *missing = NULL;
        size_t n = 0;
        char *t;

        if (!h)
                return NULL;
        for (size_t i = 0; i < h->n_units; i++) {
                if (strv_contains(c->stop_units, h->units[i]))
                        continue;
                if (vb_join_append(&missing, ", ", "%s", h->units[i]) < 0)
                        return NULL;
                n++;
        }
        if (missing && asprintf(&t, "%s %s not in [Handoff] StopUnits=, so %s not stopped", missing,
                                n == 1 ? "is" : "are", n == 1 ? "it is" : "they are") >= 0)
                return t;
        if (h->no_unit)
                return strdup("a process that holds it runs in no systemd unit, which StopUnits= cannot name");
        return NULL;
}

/* ---- the service manager ---- */

/* Wait until UNIT's ActiveState is one of WANT (space-separated), at most 30 s. 0, or -ETIMEDOUT
 * with *RET_STATE the last state. */
static int wait_state(sd_bus *bus, const char *unit, const char *want, char **ret_state) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
        if (r < 0)
                return r;
        for (int i = 0; i < 300; i++) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                char *state = NULL;
                const char *p;
                size_t n;

                r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit",
                                               "ActiveState", &error, &state);
                sd_bus_error_free(&error);
                if (r < 0)
                        return r;
                n = strlen(state);
                p = strstr(want, state);
                if (p && (p == want || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
                        free(state);
                        return 0;
                }
                free(*ret_state);
                *ret_state = state;
                usleep(100 * 1000);
        }
        return -ETIMEDOUT;
}

/* The service manager's own socket, as systemctl uses it as root (it works without a D-Bus
 * broker, early in the boot or in a minimal system), else the system bus. */
static int bus_open(sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        if (geteuid() == 0 && access("/run/systemd/private", F_OK) == 0) {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
                if (r >= 0)
                        r = sd_bus_start(bus);
                if (r >= 0) {
                        *ret = bus;
                        return 0;
                }
                sd_bus_unref(bus);
        }
        return sd_bus_open_system(ret);
}

static int systemd_job(const char *method, const char *unit, const char *want) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *state = NULL;
        sd_bus_message *reply = NULL;
        sd_bus *bus = NULL;
        int r;

        r = bus_open(&bus);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Failed to connect to the service manager: %s\n", strerror(-r));
                return r;
        }
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", method, &error, &reply, "ss", unit, "replace");
        if (r < 0)
                fprintf(stderr, "vfio-bind: %s %s failed: %s\n", method, unit, error.message ?: strerror(-r));
        else {
                r = wait_state(bus, unit, want, &state);
                if (r < 0)
                        fprintf(stderr, "vfio-bind: %s of %s: not %s after 30s (%s)\n", method, unit, want,
                                state ?: strerror(-r));
        }
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_flush_close_unref(bus);
        return r;
}

static int unit_stop(const VbcArgs *a, const char *unit) {
        const VbPlatform *p = a->platform;

        if (p && p->services)
                return p->services->stop_unit(p->services_userdata, unit);
        return systemd_job("StopUnit", unit, "inactive failed");
}

static int unit_start(const VbcArgs *a, const char *unit) {
        const VbPlatform *p = a->platform;

        if (p && p->services)
                return p->services->start_unit(p->services_userdata, unit);
        return systemd_job("StartUnit", unit, "active");
}

/* ---- the handoff ---- */

/* Are the devices of the plan that were stoppable still held by a program? */
static bool still_held(VbContext *ctx, VbSnapshot *s, const bool *stop, char **ret_text) {
        _cleanup_(vb_holds_done) VbHolds h = {};

        if (vb_interlock_read_processes(ctx, &s->devices, &h) < 0)
                return false;
        for (size_t i = 0; i < s->plan.n; i++) {
                if (!stop[i])
                        continue;
                (void) vb_holds_describe(&h, &s->plan.entries[i].address, VB_HOLD_MASK(VB_HOLD_PROGRAM), ret_text);
                if (*ret_text)
                        return true;
        }
        return false;
}

int vbc_handoff_stop(const VbcArgs *a, VbContext *ctx, const VbConfig *c, VbSnapshot *s) {
        const char *runtime_dir = vb_platform_runtime_dir(a->platform);
        _cleanup_free_ bool *stop = NULL;
        uint64_t wait_ms;
        size_t n = 0;
        int r;

        if (c->n_stop_units == 0 || s->plan.n == 0)
                return 0;
        stop = calloc(s->plan.n, sizeof(bool));
        if (!stop)
                return -ENOMEM;
        for (size_t i = 0; i < s->plan.n; i++) {
                const VbPlanEntry *e = &s->plan.entries[i];
                stop[i] = e->action == VB_ACTION_REFUSE && e->reason == VB_REASON_IN_USE &&
                          stoppable(c, s, &e->address);
        }

        /* In the order of StopUnits=, each unit that holds one of them, once. */
        for (size_t u = 0; u < c->n_stop_units; u++) {
                const char *unit = c->stop_units[u];
                bool holds = false;

                for (size_t i = 0; i < s->plan.n; i++) {
                        const VbHold *h;

                        if (!stop[i])
                                continue;
                        h = vb_holds_find(&s->holds, &s->plan.entries[i].address, VB_HOLD_PROGRAM);
                        if (!strv_contains(h->units, unit))
                                continue;
                        holds = true;
                        /* written before the unit is stopped: a release after a crash starts it */
                        r = vb_runtime_stopped_add(runtime_dir, &s->plan.entries[i].address, unit);
                        if (r < 0) {
                                fprintf(stderr, "vfio-bind: Failed to record in %s/stopped that %s is stopped: %s\n",
                                        runtime_dir, unit, strerror(-r));
                                return r;
                        }
                }
                if (!holds)
                        continue;
                r = unit_stop(a, unit);
                if (r < 0) {
                        fprintf(stderr, "vfio-bind: Failed to stop %s: %s\n", unit, strerror(-r));
                        return r;
                }
                for (size_t i = 0; i < s->plan.n; i++)
                        if (stop[i] &&
                            strv_contains(vb_holds_find(&s->holds, &s->plan.entries[i].address, VB_HOLD_PROGRAM)->units,
                                          unit))
                                printf("%s: stopped %s, which held it ([Handoff] StopUnits=)\n",
                                       VB_PCI_ADDRESS_STR(&s->plan.entries[i].address), unit);
                n++;
        }

        /* Until their processes have let the devices go: at most Timeout=, at least 5 s. */
        wait_ms = (c->timeout_usec > 5 * USEC_PER_SEC ? c->timeout_usec : 5 * USEC_PER_SEC) / 1000;
        for (uint64_t waited = 0;; waited += 100) {
                _cleanup_free_ char *held = NULL;

                if (!still_held(ctx, s, stop, &held))
                        break;
                if (waited >= wait_ms) {
                        fprintf(stderr, "vfio-bind: still held after stopping what StopUnits= names: %s\n", held);
                        break;
                }
                usleep(100 * 1000);
        }
        return (int) n;
}

int vbc_handoff_start(const VbcArgs *a, const VbPciAddress *addresses, size_t n) {
        const char *runtime_dir = vb_platform_runtime_dir(a->platform);
        _cleanup_strv_free_ char **units = NULL;
        size_t n_units = 0;
        int r, failed = 0;

        for (size_t i = 0; i < n; i++) {
                _cleanup_strv_free_ char **l = NULL;

                r = vb_runtime_stopped_read(runtime_dir, &addresses[i], &l);
                if (r < 0) {
                        fprintf(stderr, "vfio-bind: Failed to read what was stopped for %s: %s\n",
                                VB_PCI_ADDRESS_STR(&addresses[i]), strerror(-r));
                        return r;
                }
                for (char **u = l; *u; u++)
                        if (!strv_contains(units, *u) && strv_extend_printf(&units, &n_units, "%s", *u) < 0)
                                return -ENOMEM;
        }
        /* The reverse order of the stops. */
        for (size_t k = n_units; k > 0; k--) {
                r = unit_start(a, units[k - 1]);
                if (r < 0) {
                        fprintf(stderr, "vfio-bind: Failed to start %s again: %s (the record stays in %s/stopped)\n",
                                units[k - 1], strerror(-r), runtime_dir);
                        failed = r;
                        continue;
                }
                printf("started %s again ([Handoff] StopUnits=)\n", units[k - 1]);
        }
        if (failed < 0)
                return failed;
        for (size_t i = 0; i < n; i++)
                (void) vb_runtime_stopped_clear(runtime_dir, &addresses[i]);
        return 0;
}
