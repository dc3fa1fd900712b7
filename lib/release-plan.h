/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The plan of a release (`vfio-bind release ADDRESS [--take-group]`): which devices are given
 * back to the host, which are left alone, whether the console is given back after, and why a
 * release is refused. Pure: it reads nothing but the look it is given, so `--dry-run` prints the
 * plan the release applies (vb_apply_release(), lib/apply.h).
 *
 * Only a device that is passed through is given back: on a VFIO driver, or carrying a VFIO
 * driver_override (vfio-pci not loaded, or the device between two writes). Any other device is
 * on its host driver or on none by the host's choice, and releasing it would unbind that driver
 * and probe again: the root disk's controller or the NIC that is up, gone for a moment or for
 * good. A release that names such a device is refused and writes nothing, unless vfio-bind gave it
 * back before (a release mark, lib/runtime.h): then it is released already, and the release
 * succeeds writing nothing, so that a second release of a group (a libvirt hook called once per
 * function of it) is harmless.
 *
 * A device given back that a process holds (VB_HOLD_PROGRAM: a running VM has /dev/vfio/G or the
 * device's cdev open) is refused too, naming the process, unless forced: the kernel's unbind of
 * vfio-pci waits until the VM lets the device go, which it may never do.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "address.h"
#include "console.h"
#include "holds.h"
#include "pci.h"

typedef enum VbReleaseAction {
        VB_RELEASE_GIVE_BACK, /* passed through: its override cleared, its VFIO driver unbound, probed again */
        VB_RELEASE_LEAVE,     /* a member of the group (--take-group) that is not passed through */
        _VB_RELEASE_ACTION_MAX,
        _VB_RELEASE_ACTION_INVALID = -EINVAL,
} VbReleaseAction;

const char *vb_release_action_to_string(VbReleaseAction a);

typedef struct VbReleaseEntry {
        VbPciAddress address;
        VbReleaseAction action;
        const char *driver;          /* the look's: the driver bound now, NULL: none */
        const char *driver_override; /* the look's, NULL: none */
        char *held;                  /* GIVE_BACK: the processes that hold it, NULL: none */
} VbReleaseEntry;

typedef struct VbReleasePlan {
        VbReleaseEntry *entries; /* the named device first, then the rest of its group (--take-group) */
        size_t n;
        size_t n_give_back;
        char *refusal;          /* NULL, or why nothing is released: "0000:00:1f.2 is not passed through
                                 * (on ahci); nothing to release" */
        bool already_released;  /* nothing is passed through, and vfio-bind gave it back before: done */
        bool forced;            /* a device given back is held, and FORCE releases it all the same */
        int iommu_group;        /* the named device's, -1: none */
        bool give_console_back; /* a device given back showed the console: give it back after */
        VbPciAddress console_owner;
        const char *console_why; /* static: why console_owner counts as the console's GPU */
} VbReleasePlan;

void vb_release_plan_done(VbReleasePlan *p);

/* Is D passed through: on a VFIO driver, or with a VFIO driver_override? */
bool vb_release_is_passed_through(const VbPciDevice *d);

/* Plan the release of ADDRESS (and with TAKE_GROUP of its whole IOMMU group, bridges aside) from
 * DEVICES, CONSOLE (NULL: unknown, the console is not given back), HOLDS (NULL: unknown) and the
 * N_RELEASED release marks at RELEASED; FORCE releases devices that processes hold. The plan points into DEVICES, which must outlive it.
 * Returns 0 (RET->refusal set if nothing may be released), -ENODEV if ADDRESS is not in DEVICES,
 * or -ENOMEM. */
int vb_release_plan_compute(const VbPciList *devices, const VbConsoleState *console, const VbHolds *holds,
                            const VbPciAddress *released, size_t n_released, const VbPciAddress *address,
                            bool take_group, bool force, VbReleasePlan *ret);
