/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Runtime state shared by the CLI and the daemon until the next boot, under /run/vfio-bind (which
 * survives the switch from the initrd to the real root):
 *
 *   released/<address>         a device given back to the host by hand (`vfio-bind release`),
 *                              which the daemon then leaves alone until `vfio-bind bind` takes
 *                              it again
 *   bound-in-initrd/<address>  a device the daemon bound (or found on its driver) in the initrd,
 *                              so that stage 2 can say where it was bound
 *   autoprobe-off/<address>    an SR-IOV PF whose sriov_drivers_autoprobe the daemon switched off
 *                              to create its VFs and has not switched back on yet: set before the
 *                              write, cleared once it is on again, so that a daemon killed in
 *                              between switches it back on when it starts again
 *   stopped/<address>          the units `vfio-bind bind` stopped because they held the device
 *                              ([Handoff] StopUnits=), one a line in the order they were stopped,
 *                              each written before it is stopped: `vfio-bind release` starts them
 *                              again, also after a crash
 *   libvirt/<address>          a device the libvirt hook took at a domain's start (it was not
 *                              passed through before): set before the bind, cleared when the
 *                              domain's release gives it back; a device without it stays where
 *                              it is when a domain stops
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "address.h"

typedef enum VbRuntimeMark {
        VB_MARK_RELEASED,
        VB_MARK_BOUND_IN_INITRD,
        VB_MARK_AUTOPROBE_OFF,
        VB_MARK_LIBVIRT,
        _VB_RUNTIME_MARK_MAX,
        _VB_RUNTIME_MARK_INVALID = -EINVAL,
} VbRuntimeMark;

/* Addresses with MARK. A missing directory is an empty list. */
int vb_runtime_list(const char *dir, VbRuntimeMark mark, VbPciAddress **ret, size_t *ret_n);
/* Set or clear MARK on A. */
int vb_runtime_set(const char *dir, VbRuntimeMark mark, const VbPciAddress *a, bool set);

/* The stopped units of A: append UNIT (before it is stopped), read them in the order they were
 * stopped (NULL-terminated, empty when there is no record), forget them. */
int vb_runtime_stopped_add(const char *dir, const VbPciAddress *a, const char *unit);
int vb_runtime_stopped_read(const char *dir, const VbPciAddress *a, char ***ret);
int vb_runtime_stopped_clear(const char *dir, const VbPciAddress *a);

/* The release marks. */
static inline int vb_runtime_list_released(const char *dir, VbPciAddress **ret, size_t *ret_n) {
        return vb_runtime_list(dir, VB_MARK_RELEASED, ret, ret_n);
}
static inline int vb_runtime_set_released(const char *dir, const VbPciAddress *a, bool released) {
        return vb_runtime_set(dir, VB_MARK_RELEASED, a, released);
}
