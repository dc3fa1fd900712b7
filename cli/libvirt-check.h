/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * `vfio-bind check` on libvirt's domain definitions: how each PCI host device of each domain gets
 * to VFIO, against what vfio-bind holds at boot (the plan) and whether its libvirt hook is
 * installed. managed='yes' for a device vfio-bind does not hold has libvirt unbind the host driver
 * at every start, with no look at who uses the device; managed='no' without the hook fails every
 * start ("must be manually detached").
 */

#include <stddef.h>

#include "common.h"
#include "snapshot.h"

/* The warnings for the domains in libvirt's directories below A's configuration root
 * (/etc/libvirt/qemu/NAME.xml, NixOS's /var/lib/libvirt/qemu/NAME.xml), against S's plan: appended
 * to *WARNINGS (N_WARNINGS entries). Returns 0 or -ENOMEM. */
int vbc_libvirt_check(const VbcArgs *a, const VbSnapshot *s, char ***warnings, size_t *n_warnings);
