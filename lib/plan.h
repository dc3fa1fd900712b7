/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The plan: pure data computed from a validated configuration and a snapshot of the machine.
 * No I/O. The daemon applies it; `vfio-bind check` and `vfio-bindd --dry-run` print it. One
 * decision path.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "console.h"
#include "interlock.h"
#include "pci.h"

typedef enum VbAction {
        VB_ACTION_LEAVE,   /* already on the wanted driver */
        VB_ACTION_BIND,    /* bind (unbinding the host driver first if entry->unbind) */
        VB_ACTION_REFUSE,  /* will not be touched; reason says why */
        VB_ACTION_MISSING, /* selected by address, not present (yet) */
        _VB_ACTION_MAX,
        _VB_ACTION_INVALID = -EINVAL,
} VbAction;

typedef enum VbPlanReason {
        VB_REASON_NONE,
        VB_REASON_BRIDGE,          /* bridges are never bound */
        VB_REASON_HOST_DRIVER,     /* a host driver holds it and UnbindHost=no */
        VB_REASON_GROUP,           /* Group=check: other endpoints of its group are on host drivers */
        VB_REASON_GROUP_MEMBER,    /* Group=check: refused because a group sibling was refused */
        VB_REASON_NO_IOMMU,        /* a VFIO driver was asked for and there are no IOMMU groups */
        VB_REASON_DISABLED,        /* vfio-bind=off on the kernel command line */
        VB_REASON_RELEASED,        /* given back to the host by hand (vfio-bind release) */
        VB_REASON_IN_USE,          /* the host uses it (mounted file system, swap, network, console
                                    * with Release=no) and Force= does not name it */
        _VB_PLAN_REASON_MAX,
        _VB_PLAN_REASON_INVALID = -EINVAL,
} VbPlanReason;

const char *vb_action_to_string(VbAction a);
const char *vb_plan_reason_to_string(VbPlanReason r);

typedef struct VbPlanEntry {
        VbPciAddress address;
        bool present;
        bool selected;       /* false: a group member added by Group=take */
        uint16_t vendor, device;
        uint32_t class;
        VbAction action;
        VbPlanReason reason;
        char *driver_before; /* NULL: none */
        const char *driver;  /* the wanted driver (the configuration's) */
        bool unbind;         /* the host driver will be unbound */
        bool owns_console;   /* boot VGA / owns the boot framebuffer */
        int iommu_group;     /* -1: none */
        char *detail;        /* plain words for REFUSE/MISSING, e.g. the blocking group members */
        char *in_use;        /* what the host uses it for ("/dev/sda2 is mounted on /"), NULL: nothing */
        bool forced;         /* BIND although the host uses it: Force= names it (warn loudly) */
} VbPlanEntry;

typedef struct VbPlan {
        VbPlanEntry *entries; /* sorted by address */
        size_t n;
        bool iommu_enabled;
        bool disabled;         /* vfio-bind=off */
        bool release_console;  /* release before binding entries[i].owns_console (or all, Release=yes) */
        char *console_reason;  /* why (or why not) the console is released */
        /* Selectors (slot, vendor:device) that match no present device. */
        VbSelector *unmatched;
        size_t n_unmatched;
} VbPlan;

void vb_plan_done(VbPlan *p);

/* Compute the plan. CONSOLE may be NULL (nothing known of the console). HOLDS (may be NULL: none
 * known) says what the host uses: a device it uses is refused (VB_REASON_IN_USE) unless Force=
 * names it; a console hold counts only with Release=no (otherwise the console is released
 * first). A Group=take member the host uses blocks its whole group. */
int vb_plan_compute_full(const VbConfig *c, const VbPciList *devices, bool iommu_enabled,
                         const VbConsoleState *console, const VbHolds *holds, VbPlan *ret);
/* The same without interlock facts. */
int vb_plan_compute(const VbConfig *c, const VbPciList *devices, bool iommu_enabled,
                    const VbConsoleState *console, VbPlan *ret);
/* The kinds of holds that refuse a device under C: all but the console unless Release=no. */
unsigned vb_plan_hold_mask(const VbConfig *c);

/* Hold back the device at A: given back to the host by hand with `vfio-bind release`, it stays
 * there until `vfio-bind bind` or a reboot. Turns a BIND entry into REFUSE/RELEASED. */
void vb_plan_hold(VbPlan *p, const VbPciAddress *a);

/* Number of entries with the given action. */
size_t vb_plan_count(const VbPlan *p, VbAction a);
/* Is the plan complete: nothing missing or unmatched? */
bool vb_plan_complete(const VbPlan *p);
/* Plain words for one entry, without the address: "bind to vfio-pci, unbinding bochs-drm",
 * "refused: IOMMU group 1 has 0000:01:00.1 on snd_hda_intel (Group=check)", "not present". */
int vb_plan_entry_explain(const VbPlanEntry *e, char **ret);

/* The whole plan as text, a line per device, then the console decision: what `vfio-bind
 * check` and `vfio-bindd --dry-run` print. */
int vb_plan_format(const VbPlan *p, char **ret);

/* Does the configuration select this device (address/slot/ID selectors)? Pure. */
bool vb_config_selects(const VbConfig *c, const VbPciDevice *d);
/* Does Force= name this device? Pure. */
bool vb_config_forces(const VbConfig *c, const VbPciDevice *d);
