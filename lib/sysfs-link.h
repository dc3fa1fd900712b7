/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Links in sysfs that lead from a class device (class/block/sda2, class/net/eth0, dev/block/8:2)
 * to the device it sits on, and the PCI device at the end of such a link. */

#include <stdbool.h>

#include "address.h"

/* The last component of TARGET that is a PCI address: the nearest PCI ancestor of whatever it
 * names ("../../devices/pci0000:00/0000:00:1f.2/ata1/host0/…/block/sda/sda2" → 0000:00:1f.2).
 * False if there is none (a virtual device). */
bool vb_sysfs_link_pci_ancestor(const char *target, VbPciAddress *ret);

/* The PCI bridge whose secondary bus a PCI device's link TARGET leads to: the component before
 * the last when it is a PCI address ("../../../devices/pci0000:00/0000:00:06.0/0000:04:00.0" →
 * 0000:00:06.0). False for a device on a root bus ("…/pci0000:00/0000:00:1f.2"). */
bool vb_sysfs_link_pci_parent(const char *target, VbPciAddress *ret);

/* The PCI device that hosts a root bus of its own on the way to what TARGET names: Intel VMD
 * ("…/pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:17.0/…" → 0000:00:0e.0). Whatever is behind
 * it goes away with it. False if there is none. */
bool vb_sysfs_link_bus_host(const char *target, VbPciAddress *ret);

/* A name that is one path component and safe to put into a sysfs path. */
bool vb_sysfs_link_name_is_safe(const char *s);
