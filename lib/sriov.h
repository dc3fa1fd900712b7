/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * SR-IOV: where a physical function's virtual functions appear (its attributes are read by lib/pci),
 * and creating them the way the kernel documents it (Documentation/ABI/testing/sysfs-bus-pci,
 * sriov_drivers_autoprobe): autoprobe off, create the VFs, give each VF its driver_override,
 * autoprobe back as it was. A VF whose PF has autoprobe off can be probed only by the driver its
 * override names (pci_device_can_probe()), so no host VF driver ever binds one, and once each VF
 * carries the override, autoprobe no longer matters to it.
 *
 * Mechanism only: which PF gets how many VFs is the plan's (lib/plan.h).
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "context.h"
#include "pci.h"

/* The address of virtual function INDEX (0-based): the PF's routing ID (bus << 8 | devfn) plus
 * offset plus INDEX × stride, in the PF's domain. -ERANGE when it lies beyond bus ff. */
int vb_sriov_vf_address(const VbPciAddress *pf, const VbSriov *s, unsigned index, VbPciAddress *ret);

typedef enum VbSriovStep {
        VB_SRIOV_STEP_NONE,
        VB_SRIOV_STEP_AUTOPROBE_OFF, /* writing 0 to sriov_drivers_autoprobe */
        VB_SRIOV_STEP_NUMVFS,        /* writing the count to sriov_numvfs */
        VB_SRIOV_STEP_WAIT,          /* waiting for the virtfnN links */
        VB_SRIOV_STEP_OVERRIDE,      /* writing a VF's driver_override */
        VB_SRIOV_STEP_AUTOPROBE_ON,  /* writing 1 back to sriov_drivers_autoprobe */
        _VB_SRIOV_STEP_MAX,
        _VB_SRIOV_STEP_INVALID = -EINVAL,
} VbSriovStep;

const char *vb_sriov_step_to_string(VbSriovStep s); /* "writing 4 to sriov_numvfs"-style words */

typedef struct VbSriovEnable {
        unsigned created;      /* VFs that appeared */
        VbPciAddress *vfs;     /* their addresses, CREATED of them */
        bool autoprobe_was_on; /* it was switched off for the creation (and back on, unless restore_error) */
        VbSriovStep failed_step;
        int error;         /* of FAILED_STEP; 0: all went well */
        int restore_error; /* switching autoprobe back on failed */
} VbSriovEnable;

void vb_sriov_enable_done(VbSriovEnable *e);

/* Create COUNT VFs on PF (S as read just before: NUMVFS must be 0) and set each one's
 * driver_override to DRIVER, waiting at most TIMEOUT_USEC for the VFs to appear. Returns 0 when
 * everything was tried (RET says what happened; RET->error < 0 when a step failed), or -ENOMEM. A
 * failed step after the VFs were created leaves them (and their overrides so far) in place: they
 * have no driver, and the next pass binds them. */
int vb_sriov_enable(VbContext *ctx, const VbPciAddress *pf, const VbSriov *s, unsigned count, const char *driver,
                    uint64_t timeout_usec, VbSriovEnable *ret);

/* Switch the PF's sriov_drivers_autoprobe (back) on. 0 or a negative errno (-ENOENT: the PF has no
 * such attribute, or is gone). */
int vb_sriov_autoprobe_on(VbContext *ctx, const VbPciAddress *pf);
