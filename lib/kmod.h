/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "context.h"

/* Load the module that provides the PCI driver DRIVER with libkmod ("vfio-pci" the driver is
 * "vfio_pci" the module). Built in or already loaded counts as loaded. Returns 1 if a module was
 * inserted now, 0 if it was there already, -ENOENT if no module provides it, other negative errno
 * on failure. This is the real kernel's load_driver; tests replace it through VbKernelOps. */
int vb_kmod_load_driver(VbContext *ctx, const char *driver);
