/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 *   program  a process that has one of a device's nodes open, or one of its resource files
 *            mapped: its DRM card and render nodes (the function's drm/card*, drm/renderD*), its
 *            sound card's nodes (sound/card*), its VFIO nodes (/dev/vfio/G of its IOMMU group
 *            while it is on a VFIO driver, /dev/vfio/devices/vfioN), the NVIDIA proprietary node
 *            of that GPU (/dev/nvidiaN, by the minor the driver gives it) and the nodes every
 *            NVIDIA GPU shares (/dev/nvidiactl, /dev/nvidia-uvm, /dev/nvidia-modeset), and a
 *            mapping of its sysfs resource* files. Each process is named with its PID, command
 *            and systemd unit (from its cgroup): "/dev/dri/card0 is open in PID 812 (Xorg,
 *            display-manager.service)".
 *
 * Nodes are matched by the path an open file descriptor's link names (/proc/PID/fd/N), which the
 * kernel writes from the node's place in /dev: the place udev and devtmpfs give it, the DEVNAME
 * in the uevent of its class device. A process in uninterruptible sleep (state D) may hold its
 * memory map's lock for as long as it sleeps: its maps are not read (reading them would wait
 * with it), its open files are.
 *
 * For a dump only what matched is recorded: each holder's descriptor links, comm, cgroup and the
 * lines of its maps that name a device's resource files, not every process's table.
 */

#include "context.h"
#include "holds.h"
#include "pci.h"

/* The processes holding DEVICES' nodes and resources, as VB_HOLD_PROGRAM holds. Returns 0 or a
 * negative errno (-ENOENT: no procfs). */
int vb_interlock_read_processes(VbContext *ctx, const VbPciList *devices, VbHolds *h);
