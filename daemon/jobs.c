/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The binds and VF creations of a pass, each in a thread of its own under a deadline; a write
 * that hangs in the kernel leaves a stuck job on the device's memory, watched until it returns. */
#include "manager-private.h"

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
                vbd_memory_forget_failure(s);
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
        s = vbd_memory_get(m, a);
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
int vbd_job_bind(void *userdata, VbContext *ctx, const VbPlanEntry *e, const char *driver, bool unbind_host,
                 VbBindResult *ret, char **ret_stuck) {
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
 * stays: the next pass's plan switches it back on once it returns (restore_autoprobe). */
int vbd_job_sriov(void *userdata, VbContext *ctx, const VbPlanSriov *ps, const char *driver, uint64_t timeout_usec,
                  VbSriovEnable *ret, char **ret_stuck) {
        Manager *m = userdata;
        uint64_t now = vb_now_usec();
        BindJob *stuck = NULL;
        int r = 0, k;

        k = bind_job_run_sriov(ctx, &ps->pf, &ps->sriov, ps->count, driver, timeout_usec, job_deadline(m, now),
                               keepalive, m, &r, ret, &stuck);
        k = job_stuck(m, k, &ps->pf, now, stuck, ret_stuck);
        return k < 0 ? k : r;
}
