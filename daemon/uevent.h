/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A kernel uevent as libudev hands it on (udev_device_get_action(), udev_device_get_sysname():
 * the ACTION= property and the last component of DEVPATH= of the netlink message): which of
 * them concern the daemon at all. Pure: no sysfs, no state; whether the device is one the
 * daemon looks after is decided afterwards (daemon/manager.c).
 */

#include <errno.h>
#include <stdint.h>

#include "address.h"

typedef enum VbdUeventAction {
        VBD_UEVENT_ADD,
        VBD_UEVENT_BIND,
        VBD_UEVENT_REMOVE,
        _VBD_UEVENT_ACTION_MAX,
        _VBD_UEVENT_ACTION_INVALID = -EINVAL,
} VbdUeventAction;

const char *vbd_uevent_action_to_string(VbdUeventAction a);
VbdUeventAction vbd_uevent_action_from_string(const char *s);

/* ACTION and SYSNAME (either may be NULL) of a uevent of the "pci" subsystem: 1 and the action
 * and the PCI function's address if it is an add, bind or remove of a PCI function, 0 if the
 * daemon ignores it (another action, a sysname that is no PCI address). */
int vbd_uevent_parse(const char *action, const char *sysname, VbdUeventAction *ret_action, VbPciAddress *ret_address);
