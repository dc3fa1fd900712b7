/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Driver=auto: which VFIO driver a device should have, as libvirt (10.0 and later) chooses it.
 * The device's modalias with "pci:" replaced by "vfio_pci:" is looked up in the module index
 * (through the context: libkmod, or a dump's alias list); every VFIO variant driver's table
 * entry (PCI_DRIVER_OVERRIDE_DEVICE_VFIO()) is such an alias, and vfio_pci's own
 * "vfio_pci:v*d*sv*sd*bc*sc*i*" matches every device. The most specific match wins: the alias
 * with the fewest wildcard fields. A tie goes to vfio_pci if it is among the tied, else to the
 * module whose name sorts first, and is reported. No match, or no index: vfio-pci.
 *
 * Mechanism: the choice is a fact about the device and the installed modules, read before the
 * plan; the plan decides with it (lib/plan.c).
 */

#include <errno.h>
#include <stdbool.h>

#include "address.h"
#include "context.h"

#define VB_DRIVER_PLAIN "vfio-pci"        /* vfio-pci's PCI driver name */
#define VB_DRIVER_PLAIN_MODULE "vfio_pci" /* and its module's */

typedef enum VbDriverChoiceKind {
        VB_DRIVER_CHOICE_VARIANT,  /* a variant driver's alias is the most specific match */
        VB_DRIVER_CHOICE_PLAIN,    /* vfio-pci: no variant driver's alias matches */
        VB_DRIVER_CHOICE_NO_INDEX, /* vfio-pci: no module index, or no modalias, to look in */
        _VB_DRIVER_CHOICE_KIND_MAX,
        _VB_DRIVER_CHOICE_KIND_INVALID = -EINVAL,
} VbDriverChoiceKind;

typedef struct VbDriverChoice {
        VbPciAddress address;
        VbDriverChoiceKind kind;
        char *module;       /* "virtio_vfio_pci"; VB_DRIVER_PLAIN_MODULE */
        char *driver;       /* the module's PCI driver ("virtio-vfio-pci"): registered, or vfio-pci;
                             * NULL: a variant whose module is not loaded yet (known once it is) */
        bool registered;    /* DRIVER is registered (its module loaded or built in) */
        char *alias;        /* the device's vfio_pci: modalias, NULL if it has none */
        char *pattern;      /* the alias pattern that won, NULL: none matched */
        unsigned wildcards; /* of PATTERN */
        unsigned n_matches; /* modules whose aliases match */
        char *tie;          /* a module whose alias is as specific as PATTERN, not chosen */
        int error;          /* NO_INDEX: why (-ENOENT: no index; or reading the modalias failed) */
} VbDriverChoice;

void vb_driver_choice_done(VbDriverChoice *c);
const char *vb_driver_choice_kind_to_string(VbDriverChoiceKind k);

/* Choose for the device at A. Returns 0 (the choice, whatever it is) or -ENOMEM. */
int vb_driver_choice_read(VbContext *ctx, const VbPciAddress *a, VbDriverChoice *ret);
/* Choose for ALIAS (a vfio_pci: modalias; NULL with ERROR, why there is none), for the device at
 * A: the VFs a PF is to have, whose modalias is known before they exist. */
int vb_driver_choice_lookup(VbContext *ctx, const VbPciAddress *a, const char *alias, int error, VbDriverChoice *ret);

/* Plain words: "variant driver virtio-vfio-pci (module virtio_vfio_pci: its alias
 * vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i* is the most specific of 2 that match)", "vfio-pci
 * (no variant driver matches vfio_pci:v…)", "vfio-pci (no module index: …)". */
int vb_driver_choice_explain(const VbDriverChoice *c, char **ret);
