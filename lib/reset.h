/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * How a PCI function can be reset, as the kernel says: its "reset_method" attribute lists the
 * methods it will try, in order ("flr bus", "pm", "device_specific acpi"); the kernel hides the
 * attribute, and the "reset" attribute with it, when no method works (pci_reset_supported()).
 * Kernels before 5.15 have "reset" only. VFIO resets a device when a guest opens, reboots or lets
 * go of it; a device without a reset keeps the state the guest left (the "AMD reset bug"), so a
 * guest reboot may need a host reboot.
 */

#include "address.h"
#include "context.h"

typedef enum VbResetKind {
        VB_RESET_METHODS, /* the kernel lists them */
        VB_RESET_UNKNOWN, /* it can be reset, the kernel (before 5.15) does not say how */
        VB_RESET_NONE,    /* neither attribute: no reset works */
} VbResetKind;

/* The device's reset methods: VB_RESET_METHODS with *RET_METHODS = "flr bus" (one space between,
 * no newline), else *RET_METHODS = NULL. Returns the kind, or -ENODEV if the device is not there,
 * -ENOMEM. */
int vb_reset_read(VbContext *ctx, const VbPciAddress *a, char **ret_methods);
