/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* PCI drivers by name: which are VFIO drivers, whether one is registered, and loading one. */

#include <stdbool.h>

#include "context.h"

/* A VFIO driver: vfio-pci, or a vendor variant (mlx5_vfio_pci, pds-vfio-pci, virtio-vfio-pci). */
bool vb_driver_is_vfio(const char *driver);
/* Does a guest's use of an IOMMU group tolerate a member on DRIVER: no driver, a VFIO driver,
 * or pci-stub (the kernel's DMA ownership rules)? */
bool vb_driver_is_vfio_safe(const char *driver);

/* Is DRIVER registered on the PCI bus (its module loaded or built in)? */
bool vb_driver_exists(VbContext *ctx, const char *driver);

/* Load the module that provides DRIVER, unless the driver exists already. Returns 1 if a module
 * was inserted now, 0 if the driver was there already, -ENOENT if no module provides it (or the
 * module loaded but registered no driver of that name), other negative errno on failure. */
int vb_driver_load(VbContext *ctx, const char *driver);

/* The PCI driver that the loaded (or built-in) MODULE registers, as sysfs links it:
 * module/MODULE/drivers/pci:NAME ("virtio_vfio_pci" registers "virtio-vfio-pci"). Where sysfs
 * has no such link, a registered driver named like the module (or with '-' for '_') counts.
 * -ENOENT: the module is not loaded or registers no PCI driver. */
int vb_driver_from_module(VbContext *ctx, const char *module, char **ret);

/* Load MODULE unless it is loaded, then find its PCI driver (vb_driver_from_module()). Returns
 * 1 if the module was inserted now, 0 if it was there; -ENOENT as above, other negative errno if
 * loading failed. */
int vb_driver_load_module(VbContext *ctx, const char *module, char **ret_driver);
