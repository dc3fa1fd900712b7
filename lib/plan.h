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
#include <stdint.h>

#include "config.h"
#include "console.h"
#include "device-facts.h"
#include "driver-choice.h"
#include "interlock.h"
#include "iommu.h"
#include "pci.h"
#include "sriov.h"

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
        VB_REASON_BRIDGE,       /* bridges are never bound */
        VB_REASON_HOST_DRIVER,  /* a host driver holds it and UnbindHost=no */
        VB_REASON_GROUP,        /* Group=check: other endpoints of its group are on host drivers */
        VB_REASON_GROUP_MEMBER, /* Group=check: refused because a group sibling was refused */
        VB_REASON_NO_IOMMU,     /* a VFIO driver was asked for and there are no IOMMU groups */
        VB_REASON_DISABLED,     /* vfio-bind=off on the kernel command line */
        VB_REASON_RELEASED,     /* given back to the host by hand (vfio-bind release) */
        VB_REASON_IN_USE,       /* the host uses it (mounted file system, swap, network, console
                                    * with Release=no) and Force= does not name it */
        VB_REASON_FAILED,       /* binding it failed before: not tried again until it is added
                                    * anew or the configuration is reloaded */
        VB_REASON_SRIOV,        /* VirtualFunctions= forbids it: a PF whose VFs it creates keeps
                                    * its host driver; a VF selected directly and through its PF */
        _VB_PLAN_REASON_MAX,
        _VB_PLAN_REASON_INVALID = -EINVAL,
} VbPlanReason;

/* What the plan warns of for a device it binds or leaves on the driver: it can be passed, but a
 * user should know. */
typedef enum VbPlanWarning {
        VB_WARNING_NO_RESET = 1 << 0,   /* the kernel shows no reset method */
        VB_WARNING_BEHIND_VMD = 1 << 1, /* behind an Intel VMD controller (entry->vmd) */
} VbPlanWarning;

const char *vb_action_to_string(VbAction a);
const char *vb_plan_reason_to_string(VbPlanReason r);

typedef struct VbPlanEntry {
        VbPciAddress address;
        bool present;
        bool selected; /* false: a group member added by Group=take */
        uint16_t vendor, device;
        uint32_t class;
        VbAction action;
        VbPlanReason reason;
        char *driver_before;    /* NULL: none */
        char *driver;           /* the wanted driver: Driver='s, or the one Driver=auto chose; NULL: a
                              * variant driver whose module is not loaded yet (apply loads it and
                              * finds its name) */
        char *module;           /* Driver=auto: the chosen driver's module; NULL: Driver= names the
                              * driver, whose module is found by that name */
        bool registered;        /* the wanted driver is registered (its module need not be loaded) */
        char *driver_why;       /* Driver=auto: why this driver ("variant driver virtio-vfio-pci (…)") */
        bool unbind;            /* the host driver will be unbound */
        bool owns_console;      /* boot VGA / owns the boot framebuffer */
        int iommu_group;        /* -1: none */
        char *detail;           /* plain words for REFUSE/MISSING, e.g. the blocking group members */
        VbCpuVendor cpu_vendor; /* NO_IOMMU: the processor's vendor, for the advice */
        char *in_use;           /* what the host uses it for ("/dev/sda2 is mounted on /"), NULL: nothing */
        bool forced;            /* BIND although the host uses it: Force= names it (warn loudly) */
        unsigned warnings;      /* VbPlanWarning bits (BIND and LEAVE only) */
        VbPciAddress vmd;       /* VB_WARNING_BEHIND_VMD: the controller, if known (have_vmd) */
        bool have_vmd;
        const char *fallback; /* Driver=auto with a variant: the driver it gets when the variant's
                                 * module cannot be had (vfio-pci keeps the host's driver off it all
                                 * the same); NULL: none, its driver's module failing fails it */
} VbPlanEntry;

typedef enum VbSriovAction {
        VB_SRIOV_CREATE,  /* create the VFs (autoprobe off meanwhile), then bind them */
        VB_SRIOV_LEAVE,   /* the PF has that many VFs already: bind them */
        VB_SRIOV_REFUSE,  /* nothing is written for this PF; detail says why */
        VB_SRIOV_MISSING, /* the PF is not present (yet) */
        VB_SRIOV_WAIT,    /* the PF has no driver yet: VFs are created through it once it binds */
        _VB_SRIOV_ACTION_MAX,
        _VB_SRIOV_ACTION_INVALID = -EINVAL,
} VbSriovAction;

const char *vb_sriov_action_to_string(VbSriovAction a);

/* What a VirtualFunctions= line comes to. */
typedef struct VbPlanSriov {
        VbPciAddress pf;
        unsigned count;   /* VirtualFunctions='s */
        const char *file; /* where it was written */
        unsigned line;
        VbSriovAction action;
        VbSriov sriov;     /* the PF's attributes (valid when it is present with SR-IOV) */
        char *pf_driver;   /* the PF's driver, NULL: none */
        VbPciAddress *vfs; /* CREATE, LEAVE: the VFs' addresses, COUNT of them */
        size_t n_vfs;
        char *driver; /* the driver the VFs go to; NULL: a variant whose module is not loaded yet */
        char *module; /* Driver=auto: its module; NULL: Driver= names the driver */
        bool registered;
        char *driver_why;     /* Driver=auto: why */
        const char *fallback; /* as VbPlanEntry's */
        char *detail;         /* REFUSE, WAIT: plain words */
} VbPlanSriov;

/* A module the plan loads before anything else. */
typedef struct VbPlanModule {
        char *name;           /* the module's name, or of a driver whose module is found by its name */
        const char *driver;   /* loaded through the driver's name (vfio-pci, Driver=NAME); NULL: by
                               * the module's name (a variant Driver=auto chose), whose driver is
                               * known once it is loaded */
        const char *fallback; /* NULL: required, nothing is bound when it cannot be had; else the
                               * module whose driver the devices that wanted it get instead, loaded
                               * then (Driver=auto: a variant gives way to vfio_pci) */
} VbPlanModule;

typedef struct VbPlan {
        VbPlanEntry *entries; /* sorted by address */
        size_t n;
        const char *driver;    /* the configuration's driver */
        VbGroupPolicy group;   /* the configuration's Group=: a group is bound as a transaction */
        bool unbind_host;      /* UnbindHost=, which holds at bind time too */
        uint64_t timeout_usec; /* Timeout=: how long VFs may take to appear */
        bool iommu_enabled;
        VbCpuVendor cpu_vendor; /* whose advice turns the IOMMU on */
        bool disabled;          /* vfio-bind=off */
        bool load_module;       /* a driver is not registered: load its module first, and release
                                * the console only once it is there */
        VbPlanModule *modules;  /* what to load, in order */
        size_t n_modules;
        bool driver_auto;     /* Driver=auto: each device's driver is chosen (entries' driver_why) */
        bool release_console; /* release before binding entries[i].owns_console (or all, Release=yes) */
        char *console_reason; /* why (or why not) the console is released */
        /* Selectors (slot, vendor:device) that match no present device. */
        VbSelector *unmatched;
        size_t n_unmatched;
        VbPlanSriov *sriov; /* one per VirtualFunctions= line, in the configuration's order */
        size_t n_sriov;
        /* PFs whose sriov_drivers_autoprobe an earlier run switched off and did not switch back on
         * (it was killed in between, or the write failed): on again, after this pass's binds. */
        VbPciAddress *restore_autoprobe;
        size_t n_restore_autoprobe;
} VbPlan;

void vb_plan_done(VbPlan *p);

/* Everything a plan is decided from. Nothing changes a plan after it is computed. */
typedef struct VbPlanInput {
        const VbConfig *config; /* the files and the kernel command line (vfio-bind=off, …) */
        const VbPciList *devices;
        bool iommu_enabled;
        VbCpuVendor cpu_vendor;        /* the processor's vendor: the advice when the IOMMU is off */
        const VbConsoleState *console; /* NULL: nothing known of the console (it is left alone) */
        const VbHolds *holds;          /* NULL: nothing known of what the host uses */
        const VbPciAddress *released;  /* given back to the host by hand (vfio-bind release) */
        size_t n_released;
        const VbPciAddress *failed; /* whose bind (or, for a PF, the creation of its VFs) failed
                                     * before (the daemon's memory) */
        size_t n_failed;
        /* PFs marked with their autoprobe off by an earlier run (VB_MARK_AUTOPROBE_OFF); those also
         * in FAILED (a creation that still hangs) are left so. */
        const VbPciAddress *autoprobe_off;
        size_t n_autoprobe_off;
        const VbPciAddress *stuck; /* whose bind or VF creation hangs in a write (the daemon's memory) */
        size_t n_stuck;
        /* Parallel to devices (NULL: none): what the look read of each (warnings). */
        const VbDeviceFacts *facts;
        bool driver_loaded; /* the configuration's driver is registered already (Driver=NAME) */
        bool at_boot;       /* plan as vfio-bindd would at boot (check): the processes that hold a
                             * device now (VB_HOLD_PROGRAM: a display manager, an audio server)
                             * start after it, so they do not refuse the device */
        /* Driver=auto: the choice for each device that has one (sorted by address), and for the VFs of
         * each VirtualFunctions= line (parallel to config->vfs; a kind of PLAIN with no alias where
         * nothing could be read). A device without a choice gets vfio-pci. */
        const VbDriverChoice *choices;
        size_t n_choices;
        const VbDriverChoice *vf_choices;
} VbPlanInput;

/* Compute the plan. A device the host uses (HOLDS) is refused (VB_REASON_IN_USE) unless Force=
 * names it; a console hold counts only with Release=no (otherwise the console is released
 * first). A device released by hand is left to the host (VB_REASON_RELEASED) and, like one the
 * host uses, blocks its IOMMU group under Group=check and Group=take. The console is released
 * only for a device that is really going to be bound. */
int vb_plan_compute(const VbPlanInput *in, VbPlan *ret);
/* The kinds of holds that refuse a device under C: all but the console unless Release=no, and
 * AT_BOOT all but the processes' too. */
unsigned vb_plan_hold_mask(const VbConfig *c, bool at_boot);

/* The wanted driver's name for messages: the driver, or "the driver of MODULE" before it is known. */
const char *vb_plan_entry_driver(const VbPlanEntry *e);

/* The warnings of entry E in plain words, each a sentence naming the device ("0000:02:00.0 has
 * no reset method …"), NULL-terminated (NULL: none). 0 or -ENOMEM. */
int vb_plan_entry_warnings(const VbPlanEntry *e, char ***ret);
/* The module with NAME, or NULL. */
const VbPlanModule *vb_plan_find_module(const VbPlan *p, const char *name);
/* The plan's modules' names joined by ", " (NULL: none, or out of memory). */
char *vb_plan_modules_join(const VbPlan *p);

/* Number of entries with the given action. */
size_t vb_plan_count(const VbPlan *p, VbAction a);
/* Number of VirtualFunctions= lines with the given action. */
size_t vb_plan_count_sriov(const VbPlan *p, VbSriovAction a);
/* The VirtualFunctions= plan of the PF at A, or NULL. */
const VbPlanSriov *vb_plan_find_sriov(const VbPlan *p, const VbPciAddress *a);
/* Plain words for one VirtualFunctions= line, without the address: "create 4 virtual functions
 * for vfio-pci: 0000:03:10.0 …", "has its 4 virtual functions already", "refused: …". */
int vb_plan_sriov_explain(const VbPlanSriov *s, char **ret);

/* Is the plan complete: nothing missing or unmatched, no VFs still to be created? */
bool vb_plan_complete(const VbPlan *p);
/* Plain words for one entry, without the address: "bind to vfio-pci, unbinding bochs-drm",
 * "refused: IOMMU group 1 has 0000:01:00.1 on snd_hda_intel (Group=check)", "not present". */
int vb_plan_entry_explain(const VbPlanEntry *e, char **ret);
/* The entry for A, or NULL. */
const VbPlanEntry *vb_plan_find(const VbPlan *p, const VbPciAddress *a);

/* The whole plan as text, a line per device (WITH_WARNINGS: and a "warning:" line for each of
 * its warnings), then the module and console decisions: what `vfio-bind check`, `vfio-bind bind
 * --dry-run` and `vfio-bindd --dry-run` print (check lists the warnings after the plan). */
int vb_plan_format(const VbPlan *p, bool with_warnings, char **ret);
