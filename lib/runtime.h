/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Runtime state shared by the CLI and the daemon until the next boot, under /run/vfio-bind:
 * released/<address> marks a device given back to the host by hand (`vfio-bind release`), which
 * the daemon then leaves alone until `vfio-bind bind` takes it again.
 */

#include <stdbool.h>
#include <stddef.h>

#include "address.h"

/* Addresses marked released. A missing directory is an empty list. */
int vb_runtime_list_released(const char *dir, VbPciAddress **ret, size_t *ret_n);
/* Mark or unmark A as released. */
int vb_runtime_set_released(const char *dir, const VbPciAddress *a, bool released);
