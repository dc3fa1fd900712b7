/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The daemon's rooms, and what they share: the loop and its events (manager.c), the device
 * memory kept between passes (memory.c), the report of a pass to the journal and STATUS=
 * (report.c), and the binds and VF creations run under a deadline (jobs.c). Private to daemon/.
 */

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
#include <libudev.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* A device's last failure, kept until it is added anew (or a reload), as what happened and its
 * errno; its words are made from these each time they are said (report.c). */
typedef struct DeviceFailure {
        VbDeviceState state;   /* FAILED, STUCK, RESTORE_FAILED, ROLLED_BACK; VB_DEVICE_ON_DRIVER: none */
        int error;             /* the bind's (RESTORE_FAILED: the restore's) negative errno */
        VbBindStep step;       /* where it stopped */
        bool override_cleared; /* FAILED: driver_override cleared again */
        bool override_left;    /* FAILED, ROLLED_BACK: driver_override left at the driver */
        VbPciAddress cause;    /* ROLLED_BACK, RESTORE_FAILED: the member whose bind failed */
        bool have_cause;
        unsigned contested; /* FAILED: not a bind that failed, but a host driver that got it back
                                * this many times within VBD_TAKE_BACK_WINDOW after vfio-bindd had
                                * bound it: vfio-bindd stopped taking it back */
        char contender[64]; /* contested: that host driver */
} DeviceFailure;

/* Something that gives a bound device back to its host driver (libvirt's reattach of a
 * managed='yes' hostdev, driverctl, a udev rule) is answered by binding it again; this many times
 * within the window, and vfio-bindd stops, so that two programs never take a device from each
 * other in a loop. */
#define VBD_TAKE_BACK_MAX 3u
#define VBD_TAKE_BACK_WINDOW (60 * USEC_PER_SEC)

/* A PF's VF creation that failed or hangs, kept as the device's failure is. */
typedef struct SriovFailure {
        bool failed;
        VbSriovStep step;
        int error; /* -ETIMEDOUT: it hangs (the device's stuck job says in what) */
        unsigned created;
        bool autoprobe_was_on;
        int restore_error;
} SriovFailure;

/* What the daemon remembers of one device between passes. */
typedef struct DeviceState {
        VbPciAddress address;
        VbDeviceState state;        /* after the last pass */
        bool seen;                  /* state holds a pass's result */
        char *logged;               /* the last text logged, so that a pass logs only changes */
        char *sriov_logged;         /* a PF of VirtualFunctions=: the last text logged about its VFs */
        SriovFailure sriov_failure; /* a PF: creating its VFs failed (said in STATUS= until it is added anew) */
        DeviceFailure failure;      /* the last bind failure (not tried again until it is added anew), or
                                     * ROLLED_BACK: put back because a member of its group failed (said in
                                     * STATUS= as long as the group stays refused for it) */
        char *forced;               /* bound by Force= although the host used it: what it used it for */
        unsigned taken_back;        /* binds after a host driver got it back from vfio-bindd, within
                                     * VBD_TAKE_BACK_WINDOW of the first (taken_back_since) */
        uint64_t taken_back_since;
        bool added_anew; /* an add uevent since the last pass: a host driver's probe of a
                                     * new device, nothing taken back */
        BindJob *stuck;  /* a bind whose sysfs write has not returned */
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

/* ---- the device memory (memory.c) ---- */
bool vbd_memory_bound_in_initrd(const Manager *m, const VbPciAddress *a);
DeviceState *vbd_memory_get(Manager *m, const VbPciAddress *a);
DeviceState *vbd_memory_find(Manager *m, const VbPciAddress *a, size_t *ret_index);
void vbd_memory_forget_failure(DeviceState *s);
/* Is a failure of the device remembered (its bind, its VF creation, a write that hangs)? */
bool vbd_memory_has_failed(const DeviceState *s);
void vbd_memory_clear(Manager *m);
int vbd_memory_failed(Manager *m, VbPciAddress **ret, size_t *ret_n, VbPciAddress **ret_stuck, size_t *ret_n_stuck);
void vbd_memory_log(DeviceState *s, int priority, const VbdLogFields *f, const char *text);
void vbd_memory_log_once(DeviceState *s, int priority, const VbdLogFields *f, const char *text);
int vbd_memory_remember_groups(Manager *m, const VbPlan *plan);

/* ---- binds and VF creations under a deadline (jobs.c) ---- */
int vbd_job_bind(void *userdata, VbContext *ctx, const VbPlanEntry *e, const char *driver, bool unbind_host,
                 VbBindResult *ret, char **ret_stuck);
int vbd_job_sriov(void *userdata, VbContext *ctx, const VbPlanSriov *ps, const char *driver, uint64_t timeout_usec,
                  VbSriovEnable *ret, char **ret_stuck);

/* ---- the report of a pass (report.c) ---- */
int vbd_report_pass(Manager *m, const VbPlan *p, const VbApply *applied, Report *rep);
void vbd_report_done(Report *r);
int vbd_report_status(Manager *m, const VbPlan *plan, const Report *rep);

/* ---- the loop (manager.c) ---- */
int manager_settle(Manager *m);
