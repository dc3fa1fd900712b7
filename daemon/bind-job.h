/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A bind that cannot hold the boot: vb_bind_device() (or vb_sriov_enable(), which writes a PF's
 * sriov_numvfs) runs in a thread of its own while the
 * caller waits at most until a deadline. A sysfs write that blocks in the kernel (a GPU driver
 * whose unbind hangs) then leaves a stuck job behind, which says which write it is stuck in and
 * signals an eventfd if it ever returns.
 */

#include <stdbool.h>
#include <stdint.h>

#include "address.h"
#include "bind.h"
#include "context.h"
#include "sriov.h"

typedef struct BindJob BindJob;
typedef struct BindJobTracker BindJobTracker;

/* Route CTX's writes through a tracker that records the write each job is in (call once per
 * context, before any job). The tracker must outlive the context's last use. */
int bind_job_track_context(VbContext *ctx, BindJobTracker **ret);
BindJobTracker *bind_job_tracker_free(BindJobTracker *t);

typedef void (*BindJobKeepalive)(void *userdata);

/* Run the bind. Returns 0 when it finished (RET_R and RET_RESULT hold what vb_bind_device()
 * returned), or -ETIMEDOUT when it was still running at DEADLINE_USEC (CLOCK_MONOTONIC): then
 * RET_STUCK holds the job, which the caller must release with bind_job_unref(). KEEPALIVE is
 * called about once a second while waiting (watchdog pings). */
int bind_job_run(VbContext *ctx, const VbPciAddress *a, const char *driver, bool unbind_host, uint64_t deadline_usec,
                 BindJobKeepalive keepalive, void *userdata, int *ret_r, VbBindResult *ret_result, BindJob **ret_stuck);

/* The same for creating the VFs of PF (vb_sriov_enable()): RET_R and RET_RESULT hold what it
 * returned. */
int bind_job_run_sriov(VbContext *ctx, const VbPciAddress *pf, const VbSriov *s, unsigned count, const char *driver,
                       uint64_t timeout_usec, uint64_t deadline_usec, BindJobKeepalive keepalive, void *userdata,
                       int *ret_r, VbSriovEnable *ret_result, BindJob **ret_stuck);

/* The write a stuck job is blocked in ("bus/pci/drivers/nvidia/unbind <- 0000:01:00.0"). */
char *bind_job_describe(BindJob *j);
/* Readable when the stuck job has returned. */
int bind_job_fd(BindJob *j);
bool bind_job_done(BindJob *j);
const VbPciAddress *bind_job_address(BindJob *j);
BindJob *bind_job_unref(BindJob *j);
