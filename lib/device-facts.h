/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What a VMM, check and the plan's warnings need to know of a device beside its enumeration
 * (lib/pci.h): how it resets, its VFIO device node, whether it sits behind an Intel VMD
 * controller. The look (lib/snapshot.h) reads them once, for the devices the plan can reach (or
 * all of them, for groups and dump); the plan and the outputs only read these.
 */

#include <stdbool.h>

#include "address.h"
#include "context.h"
#include "pci.h"

typedef struct VbDeviceFacts {
        bool read;           /* the facts below were read */
        int reset;           /* VbResetKind (lib/reset.h), or a negative errno */
        char *reset_methods; /* VB_RESET_METHODS: "flr bus", else NULL */
        char *vfio_node;     /* "/dev/vfio/devices/vfioN", NULL: none */
        bool behind_vmd;     /* in a VMD domain (10000 and up): its DMA goes through the controller */
        VbPciAddress vmd;    /* BEHIND_VMD: the VMD controller (the domain's host) */
        bool have_vmd;       /* VMD holds the controller's address (its link could be read) */
} VbDeviceFacts;

void vb_device_facts_done(VbDeviceFacts *f);

/* Read the facts of the device D (as enumerated: its VFIO node is looked for only when it is on
 * a VFIO driver). Returns 0: what could not be read is said in the facts (reset a negative
 * errno, no node), whatever the error. */
int vb_device_facts_read(VbContext *ctx, const VbPciDevice *d, VbDeviceFacts *ret);
