/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Applying a plan: the one way both the daemon and `vfio-bind bind` change the machine.
 *
 *   load the drivers' modules (if the plan says so; nothing else happens without them). Under
 *     Driver=auto a chosen module's PCI driver is found once it is loaded (lib/driver.h); a
 *     module that cannot be had gives way to the plan's fallback (a variant to vfio-pci, which
 *     keeps the host's driver off the device all the same)
 *   → create the virtual functions of VirtualFunctions= (lib/sriov.h); they did not exist when
 *     the plan was made, so the caller plans again to bind them (vb_apply says sriov_created)
 *   → release the console (if the plan says so)
 *   → bind each BIND entry, verified by vb_bind_device()
 *   → under Group=check and Group=take, an IOMMU group is a transaction: when one member fails,
 *     the members this pass moved are put back as they were (vb_bind_restore()), and the rest
 *     of the group is not tried
 *   → switch sriov_drivers_autoprobe back on where an earlier run left it off (the plan's
 *     restore_autoprobe), clearing the marks
 *
 * Mechanism only: every decision was made by the plan. The result says, entry by entry, what
 * happened; the callers turn it into journal entries, STATUS= and command output.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bind.h"
#include "console.h"
#include "context.h"
#include "plan.h"
#include "release-plan.h"
#include "sriov.h"

typedef enum VbDeviceState {
        VB_DEVICE_ON_DRIVER,      /* it was on the driver already (LEAVE) */
        VB_DEVICE_BOUND,          /* bound by this pass */
        VB_DEVICE_FAILED,         /* its bind failed (bind says where and where it is now) */
        VB_DEVICE_STUCK,          /* a write of its bind has not returned by the deadline */
        VB_DEVICE_ROLLED_BACK,    /* bound by this pass, put back because a member of its group failed */
        VB_DEVICE_RESTORE_FAILED, /* as ROLLED_BACK, but putting it back failed (restore says how) */
        VB_DEVICE_SKIPPED,        /* not tried: a member of its group failed first */
        VB_DEVICE_REFUSED,        /* the plan refused it (its reason says why) */
        VB_DEVICE_MISSING,        /* selected, not present */
        _VB_DEVICE_STATE_MAX,
        _VB_DEVICE_STATE_INVALID = -EINVAL,
} VbDeviceState;

const char *vb_device_state_to_string(VbDeviceState s);

typedef struct VbApplyResult {
        VbDeviceState state;
        int error;            /* FAILED, STUCK: the bind's negative errno; RESTORE_FAILED: the restore's */
        VbBindResult bind;    /* BOUND, FAILED, ROLLED_BACK, RESTORE_FAILED: what the bind did */
        VbBindResult restore; /* ROLLED_BACK, RESTORE_FAILED: what putting it back did */
        size_t cause;         /* ROLLED_BACK, RESTORE_FAILED, SKIPPED: the entry that failed */
        char *stuck;          /* STUCK: the write it hangs in */
        char *driver;         /* the driver it was to be bound to: the plan's, or under Driver=auto the
                               * name the chosen module registered, or vfio-pci when that module could
                               * not be had (driver_note says why) */
        char *driver_note;    /* NULL, or why DRIVER is not the one Driver=auto chose */
} VbApplyResult;

typedef struct VbApply {
        VbApplyResult *results; /* one per plan entry, in the plan's order */
        size_t n;
        bool module_loaded; /* a module was inserted */
        int module_error;   /* the driver could not be had: nothing was bound, the console kept */
        bool console_released;
        int console_error;    /* releasing the console failed (after console_text) */
        char *console_text;   /* what was released: "vtcon1, efi-framebuffer.0" */
        size_t n_rolled_back; /* devices put back */
        VbSriovEnable *sriov; /* one per plan->sriov entry: what creating its VFs did (CREATE only) */
        char **sriov_stuck;   /* one per plan->sriov entry: the write a creation hangs in, or NULL */
        char **sriov_driver;  /* one per plan->sriov entry: the driver its VFs were given (CREATE) */
        size_t n_sriov;
        bool sriov_created;   /* VFs appeared: plan again, to bind them */
        int sriov_mark_error; /* leaving an autoprobe mark under ops->runtime_dir failed (the last error) */
        int *autoprobe;       /* one per plan->restore_autoprobe: 0 switched back on, or a negative
                               * errno (-ENOENT, -ENODEV: the PF is gone; its mark is cleared then) */
        size_t n_autoprobe;
} VbApply;

void vb_apply_done(VbApply *a);

/* How one device is bound. The default (ops NULL) calls vb_bind_device(). A daemon runs it
 * under a deadline: it returns -ETIMEDOUT and sets *RET_STUCK to the write that hangs. */
typedef struct VbApplyOps {
        int (*bind)(void *userdata, VbContext *ctx, const VbPlanEntry *e, const char *driver, bool unbind_host,
                    VbBindResult *ret, char **ret_stuck);
        /* How VFs are created. The default (NULL) calls vb_sriov_enable(); a daemon runs it under a
         * deadline as the bind, returning -ETIMEDOUT with *RET_STUCK set. */
        int (*sriov_enable)(void *userdata, VbContext *ctx, const VbPlanSriov *s, const char *driver,
                            uint64_t timeout_usec, VbSriovEnable *ret, char **ret_stuck);
        void *userdata;
        /* Where a PF whose sriov_drivers_autoprobe is switched off for creating its VFs is marked
         * (VB_MARK_AUTOPROBE_OFF) until it is on again, so that a run killed in between is not
         * mistaken for an autoprobe the administrator switched off: the daemon's next pass switches
         * it back on. NULL: no marks. */
        const char *runtime_dir;
} VbApplyOps;

/* Apply PLAN, made from a snapshot whose console state is CONSOLE (NULL: unknown). Returns 0
 * when everything could be tried (RET says what happened to each entry), or -ENOMEM. */
int vb_apply(VbContext *ctx, const VbPlan *plan, const VbConsoleState *console, const VbApplyOps *ops, VbApply *ret);

/* Is entry E's device on its driver: after a pass whose result for it is R, or as the plan found
 * it (R NULL)? The one judgement of the journal, STATUS=, status and bind. */
bool vb_apply_on_driver(const VbPlanEntry *e, const VbApplyResult *r);

/* What applying a release plan did to one entry (a LEAVE entry: nothing). */
typedef struct VbReleaseResult {
        bool tried;           /* a GIVE_BACK entry: its release was written */
        int error;            /* 0, or the release's negative errno (release says where it stopped) */
        int mark_error;       /* 0, or why its release mark could not be left */
        VbBindResult release; /* what vb_release_device() did */
} VbReleaseResult;

typedef struct VbReleaseApply {
        VbReleaseResult *results; /* one per plan entry, in the plan's order */
        size_t n;
        size_t n_failed;
        bool console_tried; /* the plan gives the console back and every release succeeded */
        int console_result; /* vb_console_restore()'s: 1 back, 0 not all of it, negative errno */
        VbConsoleRestore console;
} VbReleaseApply;

void vb_release_apply_done(VbReleaseApply *a);

/* Apply a release plan: each GIVE_BACK entry is marked as released by hand under RUNTIME_DIR
 * (NULL: no marks) first, so that a running vfio-bindd does not take it back on its bind
 * uevent, then given back by vb_release_device(); then, if the plan says so and every release
 * succeeded, the console is given back. A refused plan writes nothing: -EPERM. Returns 0 when
 * everything could be tried (RET says what happened), or -ENOMEM. */
int vb_apply_release(VbContext *ctx, const VbReleasePlan *plan, const char *runtime_dir, VbReleaseApply *ret);
