/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The nodes a VMM opens for a device on a VFIO driver: its group's /dev/vfio/GROUP (the legacy
 * container interface) and, where the kernel has VFIO_DEVICE_CDEV, the device's own
 * /dev/vfio/devices/vfioN for IOMMUFD, which sysfs shows as bus/pci/devices/ADDR/vfio-dev/vfioN.
 */

#include "address.h"
#include "context.h"

#define VB_VFIO_DEV_DIR "/dev/vfio"

/* "/dev/vfio/devices/vfioN" of the device at A. -ENOENT: it has none (no VFIO driver bound, or
 * the kernel is built without VFIO_DEVICE_CDEV). */
int vb_vfio_dev_node(VbContext *ctx, const VbPciAddress *a, char **ret);
