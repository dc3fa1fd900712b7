/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Mechanism: move one PCI function to a driver, or give it back to the host. Knows nothing of
 * configuration. Order (libvirt's): load module, write driver_override, unbind the current
 * driver, write drivers_probe, verify the driver link. Never writes new_id, never touches a
 * bridge.
 */

#include <errno.h>
#include <stdbool.h>

#include "address.h"
#include "context.h"

typedef enum VbBindStep {
        VB_BIND_STEP_READ,     /* reading the device */
        VB_BIND_STEP_MODULE,   /* loading the driver's module */
        VB_BIND_STEP_OVERRIDE, /* writing driver_override */
        VB_BIND_STEP_UNBIND,   /* unbinding the current driver */
        VB_BIND_STEP_PROBE,    /* writing drivers_probe */
        VB_BIND_STEP_VERIFY,   /* the driver link does not name the wanted driver */
        _VB_BIND_STEP_MAX,
        _VB_BIND_STEP_INVALID = -EINVAL,
} VbBindStep;

const char *vb_bind_step_to_string(VbBindStep s);

typedef struct VbBindResult {
        char *driver_before;    /* NULL: none */
        char *driver_after;     /* NULL: none */
        bool module_loaded;     /* the module was inserted by this call */
        bool changed;           /* something was written */
        VbBindStep failed_step; /* meaningful when the call failed */
        bool rolled_back;       /* on failure: the override was cleared again (and the device re-probed) */
        bool override_left;     /* on failure: driver_override still names DRIVER and no driver is
                               * bound, which keeps host drivers off the device */
} VbBindResult;

void vb_bind_result_done(VbBindResult *r);

/* What went wrong in a bind, a restore or a release that failed with ERROR (negative errno), in
 * words: the one wording of the journal, STATUS= and the CLI ("a host driver holds it", "the
 * driver did not take it (the kernel log says why: …)"). A static string. */
const char *vb_bind_result_explain(const VbBindResult *r, int error);

/* Returns 1 if the device was moved to DRIVER, 0 if it was on DRIVER already, negative errno on
 * failure (-EPERM: a bridge; -EBUSY: a host driver holds it and UNBIND_HOST is false; -ENODEV:
 * the device is gone; -ENOENT: no module provides DRIVER; -EIO: the probe did not bind it). On
 * failure after this call unbound a host driver, the override is cleared again and the device
 * re-probed so the host gets it back (rolled_back). If no driver held it before, the override
 * is left in place so that no host driver takes it later (override_left). */
int vb_bind_device(VbContext *ctx, const VbPciAddress *a, const char *driver, bool unbind_host, VbBindResult *ret);

/* Clear the override, unbind the current driver, re-probe so a host driver can take it.
 * Returns 1 if something changed, 0 if it had no override and no driver bound. */
int vb_release_device(VbContext *ctx, const VbPciAddress *a, VbBindResult *ret);

/* Undo a bind this caller made (a group member whose sibling failed): DRIVER_BEFORE is the
 * driver the device had before it was moved to DRIVER. With a host driver before: the override is
 * cleared and the device unbound and re-probed, and the host driver must hold it again. With no
 * driver before: the device is unbound and left driverless with the override still set
 * (override_left), so that no host driver takes it. Returns 1 if something was written, 0 if it
 * was where it belongs already, negative errno on failure (-EIO: it ended on another driver;
 * RET->driver_after says which). */
int vb_bind_restore(VbContext *ctx, const VbPciAddress *a, const char *driver, const char *driver_before,
                    VbBindResult *ret);
