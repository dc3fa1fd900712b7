/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service: a udev monitor started before the first sysfs scan, and one settle path (at
 * start, on a relevant uevent, on SIGHUP, when a hung write returns) that looks at the machine,
 * plans, applies the plan (lib/apply) and reports what happened: a journal entry per change of a
 * device's state, and STATUS=. READY=1 once every selected device is settled or Timeout= has run
 * out.
 */
#include "manager-private.h"

/* Look and plan. */
static int manager_look(Manager *m, VbSnapshot *snap) {
        int r;

        r = vb_snapshot_read(m->ctx, m->options.runtime_dir, snap);
        if (r >= 0)
                r = vb_snapshot_read_reach(m->ctx, m->config, snap);
        if (r >= 0)
                r = vbd_memory_failed(m, &snap->failed, &snap->n_failed, &snap->stuck, &snap->n_stuck);
        if (r >= 0)
                r = vb_snapshot_plan(m->config, snap);
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
                /* What the plan warns of, said once: when the device is bound. */
                if (e->action == VB_ACTION_BIND && e->warnings) {
                        _cleanup_strv_free_ char **w = NULL;

                        if (vb_plan_entry_warnings(e, &w) < 0)
                                return -ENOMEM;
                        for (char **k = w; *k; k++)
                                vbd_log_full(LOG_WARNING,
                                             &(VbdLogFields) { .device = &e->address, .action = "warning" }, "%s", *k);
                }
        }
        return 0;
}

/* One pass: look, plan, apply, report. When the apply created virtual functions, which the plan
 * could not know of, once more to bind them. Returns 1 when every selected device is settled
 * (the plan is complete), 0 when some are still awaited, or a negative errno. */
static int manager_pass(Manager *m) {
        _cleanup_(vb_snapshot_done) VbSnapshot snap = {};
        _cleanup_(vb_apply_done) VbApply applied = {};
        _cleanup_(vbd_report_done) Report rep = {};
        const VbPlan *p = &snap.plan;
        int r;

        for (unsigned round = 0;; round++) {
                r = manager_look(m, &snap);
                if (r < 0)
                        return r;
                r = vb_apply(m->ctx, p, snap.have_console ? &snap.console : NULL,
                             &(VbApplyOps) { .bind = vbd_job_bind,
                                             .sriov_enable = vbd_job_sriov,
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
                r = vbd_report_pass(m, p, &applied, &rep);
                if (r < 0)
                        return r;
                if (!applied.sriov_created || round > 0)
                        break;
                vbd_report_done(&rep);
                rep = (Report) {};
                vb_apply_done(&applied);
                vb_snapshot_done(&snap);
                snap = (VbSnapshot) {};
        }

        /* In the initrd: say what is on the driver, for stage 2's service to tell. */
        if (m->options.in_initrd)
                for (size_t i = 0; i < p->n; i++) {
                        if (!vb_apply_on_driver(&p->entries[i], &applied.results[i]))
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
        r = vbd_report_status(m, p, &rep);
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
int manager_settle(Manager *m) {
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

        if (vbd_memory_find(m, a, NULL))
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
                                        DeviceState *st = vbd_memory_find(m, &a, NULL);
                                        if (st && !st->stuck)
                                                vbd_memory_forget_failure(st);
                                        if (st) {
                                                free(st->logged);
                                                st->logged = NULL;
                                                st->added_anew = true;
                                                st->taken_back = 0;
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
                                        vbd_memory_forget_failure(&m->devices[i]);
                                        free(m->devices[i].logged);
                                        m->devices[i].logged = NULL;
                                        m->devices[i].taken_back = 0;
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
        vbd_memory_clear(m);
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
