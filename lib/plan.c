/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "alloc-util.h"
#include "driver.h"
#include "iommu.h"
#include "macro.h"
#include "plan.h"
#include "reach.h"
#include "selector-index.h"
#include "strv.h"

static const char *const action_table[_VB_ACTION_MAX] = {
        [VB_ACTION_LEAVE] = "leave",
        [VB_ACTION_BIND] = "bind",
        [VB_ACTION_REFUSE] = "refuse",
        [VB_ACTION_MISSING] = "missing",
};

static const char *const reason_table[_VB_PLAN_REASON_MAX] = {
        [VB_REASON_NONE] = "none",
        [VB_REASON_BRIDGE] = "bridge",
        [VB_REASON_HOST_DRIVER] = "host-driver",
        [VB_REASON_GROUP] = "group",
        [VB_REASON_GROUP_MEMBER] = "group-member",
        [VB_REASON_NO_IOMMU] = "no-iommu",
        [VB_REASON_DISABLED] = "disabled",
        [VB_REASON_RELEASED] = "released",
        [VB_REASON_IN_USE] = "in-use",
        [VB_REASON_FAILED] = "failed",
        [VB_REASON_SRIOV] = "sriov",
};

static const char *const sriov_action_table[_VB_SRIOV_ACTION_MAX] = {
        [VB_SRIOV_CREATE] = "create",   [VB_SRIOV_LEAVE] = "leave", [VB_SRIOV_REFUSE] = "refuse",
        [VB_SRIOV_MISSING] = "missing", [VB_SRIOV_WAIT] = "wait",
};

const char *vb_sriov_action_to_string(VbSriovAction a) {
        return a >= 0 && a < _VB_SRIOV_ACTION_MAX ? sriov_action_table[a] : NULL;
}

const char *vb_action_to_string(VbAction a) {
        return a >= 0 && a < _VB_ACTION_MAX ? action_table[a] : NULL;
}

const char *vb_plan_reason_to_string(VbPlanReason r) {
        return r >= 0 && r < _VB_PLAN_REASON_MAX ? reason_table[r] : NULL;
}

static void plan_entry_done(VbPlanEntry *e) {
        free(e->driver_before);
        free(e->driver);
        free(e->module);
        free(e->driver_why);
        free(e->detail);
        free(e->in_use);
}

void vb_plan_done(VbPlan *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                plan_entry_done(&p->entries[i]);
        free(p->entries);
        free(p->console_reason);
        free(p->unmatched);
        for (size_t i = 0; i < p->n_sriov; i++) {
                free(p->sriov[i].pf_driver);
                free(p->sriov[i].vfs);
                free(p->sriov[i].detail);
                free(p->sriov[i].driver);
                free(p->sriov[i].module);
                free(p->sriov[i].driver_why);
        }
        free(p->sriov);
        strv_free(p->modules);
        *p = (VbPlan) {};
}

unsigned vb_plan_hold_mask(const VbConfig *c, bool at_boot) {
        unsigned mask = VB_HOLD_MASK(VB_HOLD_MOUNT) | VB_HOLD_MASK(VB_HOLD_SWAP) | VB_HOLD_MASK(VB_HOLD_NETWORK) |
                        VB_HOLD_MASK(VB_HOLD_PROGRAM);

        /* With Release=auto/yes the console is released before its device is bound; with
         * Release=no binding the device would take the console from under the host. */
        if (c->release == VB_RELEASE_NO)
                mask |= VB_HOLD_MASK(VB_HOLD_CONSOLE);
        if (at_boot)
                mask &= ~VB_HOLD_MASK(VB_HOLD_PROGRAM);
        return mask;
}

const VbPlanEntry *vb_plan_find(const VbPlan *p, const VbPciAddress *a) {
        return VB_PCI_ADDRESS_BSEARCH(p->entries, p->n, address, a);
}

size_t vb_plan_count(const VbPlan *p, VbAction a) {
        size_t n = 0;
        for (size_t i = 0; i < p->n; i++)
                if (p->entries[i].action == a)
                        n++;
        return n;
}

size_t vb_plan_count_sriov(const VbPlan *p, VbSriovAction a) {
        size_t n = 0;
        for (size_t i = 0; i < p->n_sriov; i++)
                if (p->sriov[i].action == a)
                        n++;
        return n;
}

const VbPlanSriov *vb_plan_find_sriov(const VbPlan *p, const VbPciAddress *a) {
        for (size_t i = 0; i < p->n_sriov; i++)
                if (vb_pci_address_equal(&p->sriov[i].pf, a))
                        return &p->sriov[i];
        return NULL;
}

bool vb_plan_complete(const VbPlan *p) {
        return vb_plan_count(p, VB_ACTION_MISSING) == 0 && p->n_unmatched == 0 &&
               vb_plan_count_sriov(p, VB_SRIOV_MISSING) == 0 && vb_plan_count_sriov(p, VB_SRIOV_CREATE) == 0;
}

static VbPlanEntry *plan_add(VbPlan *p, size_t *allocated) {
        if (!VB_GREEDY_REALLOC(p->entries, *allocated, p->n + 1))
                return NULL;
        p->entries[p->n] = (VbPlanEntry) { .iommu_group = -1 };
        return &p->entries[p->n++];
}

const char *vb_plan_entry_driver(const VbPlanEntry *e) {
        return e->driver ?: e->module ?: "?";
}

/* The choices are in address order (lib/snapshot). */
static const VbDriverChoice *choice_of(const VbPlanInput *in, const VbPciAddress *a) {
        return VB_PCI_ADDRESS_BSEARCH(in->choices, in->n_choices, address, a);
}

/* The wanted driver: Driver='s, or under Driver=auto the choice CH (NULL: none was read: vfio-pci). */
static int want_driver(const VbPlanInput *in, const VbDriverChoice *ch, char **driver, char **module, bool *registered,
                       char **why) {
        const VbConfig *c = in->config;

        if (!vb_config_driver_auto(c)) {
                *driver = strdup(c->driver);
                *registered = in->driver_loaded;
                return *driver ? 0 : -ENOMEM;
        }
        if (!ch) {
                *driver = strdup(VB_DRIVER_PLAIN);
                *module = strdup(VB_DRIVER_PLAIN_MODULE);
                *why = strdup(VB_DRIVER_PLAIN " (Driver=auto: no driver choice was read for it)");
                *registered = in->driver_loaded;
                return *driver && *module && *why ? 0 : -ENOMEM;
        }
        if (ch->driver) {
                *driver = strdup(ch->driver);
                if (!*driver)
                        return -ENOMEM;
        }
        *module = strdup(ch->module);
        *registered = ch->registered;
        if (!*module)
                return -ENOMEM;
        return vb_driver_choice_explain(ch, why);
}

/* Is a device on DRIVER where E wants it? Under Driver=auto a device on another VFIO driver than
 * the chosen one is left there too (moving it between VFIO drivers would take it from a guest
 * that has it open): detail says so. */
static bool entry_on_wanted(const VbConfig *c, const VbPlanEntry *e, const char *driver) {
        if (!driver)
                return false;
        if (e->driver && streq(driver, e->driver))
                return true;
        return vb_config_driver_auto(c) && vb_driver_is_vfio(driver);
}

static int entry_from_device(VbPlanEntry *e, const VbPlanInput *in, const VbPciDevice *d, bool selected) {
        int r;

        e->address = d->address;
        e->present = true;
        e->selected = selected;
        e->vendor = d->vendor;
        e->device = d->device;
        e->class = d->class;
        r = want_driver(in, choice_of(in, &d->address), &e->driver, &e->module, &e->registered, &e->driver_why);
        if (r < 0)
                return r;
        e->iommu_group = d->iommu_group;
        if (d->driver) {
                e->driver_before = strdup(d->driver);
                if (!e->driver_before)
                        return -ENOMEM;
        }
        return 0;
}

/* What the plan is built from, with the indexes that keep it O(n log n): the entry of each
 * device (by index in the device list), and the devices ordered by IOMMU group. */
typedef struct PlanBuild {
        VbPlan *p;
        size_t allocated, unmatched_allocated; /* room in p->entries, p->unmatched */
        const VbPlanInput *in;
        const VbPciList *devices;
        VbSelectorIndex *selectors; /* Device= and the kernel command line */
        VbSelectorIndex *force;     /* Force= */
        ssize_t *entry_of;          /* devices->n: index into p->entries, or -1 */
        size_t *by_group;           /* indices of the devices with a group, ordered by (group, address) */
        size_t n_by_group;
} PlanBuild;

static bool address_in(const VbPciAddress *list, size_t n, const VbPciAddress *a) {
        for (size_t i = 0; i < n; i++)
                if (vb_pci_address_equal(&list[i], a))
                        return true;
        return false;
}

/* The VirtualFunctions= plan whose PF is A, or NULL. */
static VbPlanSriov *sriov_of(const PlanBuild *b, const VbPciAddress *a) {
        return (VbPlanSriov *) vb_plan_find_sriov(b->p, a);
}

/* Is D a VF that comes through its PF's VirtualFunctions= line? */
static bool selected_through_pf(const PlanBuild *b, const VbPciDevice *d) {
        const VbPlanSriov *s = d->is_virtfn ? sriov_of(b, &d->physfn) : NULL;
        return s && (s->action == VB_SRIOV_LEAVE || s->action == VB_SRIOV_CREATE);
}

/* The first Device= selector that picks the device at A with VENDOR:DEVICE, or NULL. */
static const VbConfigSelector *device_selector(const VbConfig *c, const VbPciAddress *a, uint16_t vendor,
                                               uint16_t device) {
        for (size_t i = 0; i < c->n_selectors; i++)
                if (vb_selector_match(&c->selectors[i].selector, a, vendor, device))
                        return &c->selectors[i];
        return NULL;
}

/* Does VirtualFunctions= forbid binding D? Its PF keeps its host driver; a VF of a configured PF
 * that Device= selects as well is refused, and its PF creates nothing (lib/plan.c's SR-IOV part
 * said so already). Sets E->detail. */
static bool sriov_conflict(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d) {
        const VbPlanSriov *s = sriov_of(b, &d->address);
        const VbConfigSelector *sel;

        if (s) {
                /* Selected by a vendor:device selector, or a member of its group under
                 * Group=take: never bound either way. */
                sel = e->selected ? device_selector(b->in->config, &d->address, d->vendor, d->device) : NULL;
                if ((sel ? asprintf(&e->detail,
                                    "it is the physical function whose virtual functions VirtualFunctions= creates "
                                    "(%s:%u), so it keeps its host driver, but Device= at %s:%u selects it too",
                                    s->file, s->line, sel->file, sel->line)
                         : asprintf(&e->detail,
                                    "it is the physical function whose virtual functions VirtualFunctions= creates "
                                    "(%s:%u), so it keeps its host driver",
                                    s->file, s->line)) < 0)
                        e->detail = NULL;
                return true;
        }
        if (d->is_virtfn && e->selected && (s = sriov_of(b, &d->physfn)) &&
            (sel = device_selector(b->in->config, &d->address, d->vendor, d->device))) {
                if (asprintf(&e->detail,
                             "it is a virtual function of %s, which VirtualFunctions= (%s:%u) selects already, and "
                             "Device= at %s:%u selects it directly too: select it one way",
                             VB_PCI_ADDRESS_STR(&d->physfn), s->file, s->line, sel->file, sel->line) < 0)
                        e->detail = NULL;
                return true;
        }
        return false;
}

static int entry_decide(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d) {
        const VbConfig *c = b->in->config;
        int r;

        if (!c->disabled && !vb_pci_device_is_bridge(d) && !entry_on_wanted(c, e, d->driver)) {
                r = vb_holds_describe(b->in->holds, &d->address, vb_plan_hold_mask(c, b->in->at_boot), &e->in_use);
                if (r < 0)
                        return r;
                e->forced = e->in_use && vb_selector_index_match(b->force, &d->address, d->vendor, d->device);
        }

        if (c->disabled) {
                e->action = VB_ACTION_REFUSE;
                e->reason = VB_REASON_DISABLED;
        } else if (vb_pci_device_is_bridge(d)) {
                e->action = VB_ACTION_REFUSE;
                e->reason = VB_REASON_BRIDGE;
        } else if (sriov_conflict(b, e, d)) {
                e->action = VB_ACTION_REFUSE;
                e->reason = VB_REASON_SRIOV;
        } else if (address_in(b->in->released, b->in->n_released, &d->address)) {
                /* Given back by hand: it stays with the host until vfio-bind bind or a reboot. */
                e->action = VB_ACTION_REFUSE;
                e->reason = VB_REASON_RELEASED;
        } else if (entry_on_wanted(c, e, d->driver)) {
                e->action = VB_ACTION_LEAVE;
                if (!streq_ptr(d->driver, e->driver) &&
                    asprintf(&e->detail,
                             "Driver=auto chooses %s; it is left on %s, another VFIO driver (vfio-bind release, "
                             "then vfio-bind bind, moves it)",
                             vb_plan_entry_driver(e), d->driver) < 0)
                        return -ENOMEM;
        } else if (address_in(b->in->failed, b->in->n_failed, &d->address)) {
                /* No retry loop: a new add uevent or a reload tries again. */
                e->action = VB_ACTION_REFUSE;
                e->reason = VB_REASON_FAILED;
        } else if (e->in_use && !e->forced) {
                e->action = VB_ACTION_REFUSE;
                e->reason = VB_REASON_IN_USE;
        } else if (!b->in->iommu_enabled && vb_config_driver_is_vfio(c)) {
                e->action = VB_ACTION_REFUSE;
                e->reason = VB_REASON_NO_IOMMU;
                e->cpu_vendor = b->in->cpu_vendor;
        } else if (d->driver && !c->unbind_host) {
                e->action = VB_ACTION_REFUSE;
                e->reason = VB_REASON_HOST_DRIVER;
        } else {
                e->action = VB_ACTION_BIND;
                e->unbind = d->driver != NULL;
        }
        /* Forced only matters when it is bound. */
        if (e->action != VB_ACTION_BIND)
                e->forced = false;
        return 0;
}

/* Appends "0000:01:00.1 on snd_hda_intel" to *LIST, and what the host uses it for, if it does. */
static int append_blocker(char **list, const VbPlanEntry *e, const char *driver) {
        bool in_use = e->reason == VB_REASON_IN_USE && e->in_use;
        bool released = e->action == VB_ACTION_REFUSE && e->reason == VB_REASON_RELEASED;

        return vb_join_append(list, ", ", "%s on %s%s%s%s%s", VB_PCI_ADDRESS_STR(&e->address), driver ?: "no driver",
                              in_use ? " (the host uses it: " : "", in_use ? e->in_use : "", in_use ? ")" : "",
                              released                        ? " (released by hand with vfio-bind release)"
                              : e->reason == VB_REASON_FAILED ? " (binding it failed)"
                                                              : "");
}

/* Does refused entry E (device D) keep its IOMMU group from a guest? */
static bool sibling_blocks(const VbPlanEntry *e, const VbPciDevice *d) {
        if (e->action != VB_ACTION_REFUSE)
                return false;
        /* One the host uses, or one given back to the host by hand, goes to the host whatever it
         * is bound to now. */
        return e->reason == VB_REASON_IN_USE || e->reason == VB_REASON_RELEASED || e->reason == VB_REASON_FAILED ||
               vb_iommu_member_blocks(d);
}

static void plan_build_done(PlanBuild *b) {
        vb_selector_index_free(b->selectors);
        vb_selector_index_free(b->force);
        free(b->entry_of);
        free(b->by_group);
}

static VbPlanEntry *plan_build_add(PlanBuild *b, size_t device_index) {
        VbPlanEntry *e = plan_add(b->p, &b->allocated);
        if (e && device_index != SIZE_MAX)
                b->entry_of[device_index] = (ssize_t) (b->p->n - 1);
        return e;
}

static VbPlanEntry *plan_build_entry(PlanBuild *b, size_t device_index) {
        ssize_t i = b->entry_of[device_index];
        return i < 0 ? NULL : &b->p->entries[i];
}

static int cmp_by_group(const void *a, const void *b, void *userdata) {
        const VbPciList *devices = userdata;
        size_t x = *(const size_t *) a, y = *(const size_t *) b;
        int gx = devices->devices[x].iommu_group, gy = devices->devices[y].iommu_group;
        if (gx != gy)
                return gx < gy ? -1 : 1;
        return x < y ? -1 : x > y;
}

/* The devices of GROUP: [*ret_start, *ret_end) in b->by_group. */
static void group_range(const PlanBuild *b, int group, size_t *ret_start, size_t *ret_end) {
        size_t lo = 0, hi = b->n_by_group;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (b->devices->devices[b->by_group[mid]].iommu_group < group)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *ret_start = lo;
        while (lo < b->n_by_group && b->devices->devices[b->by_group[lo]].iommu_group == group)
                lo++;
        *ret_end = lo;
}

/* Apply Group= to one IOMMU group. */
static int plan_group(PlanBuild *b, int group) {
        const VbConfig *c = b->in->config;
        _cleanup_free_ char *blockers = NULL;
        const VbPciList *devices = b->devices;
        size_t start, end;
        bool wanted = false;
        int r;

        group_range(b, group, &start, &end);

        /* Only groups with a selected device that is to be (or already is) on the driver. */
        for (size_t k = start; k < end && !wanted; k++) {
                VbPlanEntry *e = plan_build_entry(b, b->by_group[k]);
                wanted = e && e->selected && (e->action == VB_ACTION_BIND || e->action == VB_ACTION_LEAVE);
        }
        if (!wanted)
                return 0;

        for (size_t k = start; k < end; k++) {
                size_t i = b->by_group[k];
                const VbPciDevice *d = &devices->devices[i];
                VbPlanEntry *e;

                if (vb_pci_device_is_bridge(d))
                        continue;
                e = plan_build_entry(b, i);
                if (e && e->selected) {
                        /* A selected sibling that stays on its host driver blocks the group too,
                         * and so does one the host uses even while it has no driver yet (the
                         * console's GPU before its driver loads): the host will take it. */
                        if (sibling_blocks(e, d)) {
                                r = append_blocker(&blockers, e, d->driver);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                if (c->group == VB_GROUP_TAKE) {
                        /* A member already on the driver is listed too (LEAVE), so that the group
                         * is counted whole after the bind, not only while it is being bound. */
                        e = plan_build_add(b, i);
                        if (!e)
                                return -ENOMEM;
                        r = entry_from_device(e, b->in, d, false);
                        if (r < 0)
                                return r;
                        r = entry_decide(b, e, d);
                        if (r < 0)
                                return r;
                        if (sibling_blocks(e, d)) {
                                r = append_blocker(&blockers, e, d->driver);
                                if (r < 0)
                                        return r;
                        }
                } else if (vb_iommu_member_blocks(d)) {
                        VbPlanEntry tmp = { .address = d->address };
                        r = append_blocker(&blockers, &tmp, d->driver);
                        if (r < 0)
                                return r;
                }
        }

        if (!blockers)
                return 0;

        for (size_t k = start; k < end; k++) {
                VbPlanEntry *e = plan_build_entry(b, b->by_group[k]);
                char *detail;

                if (!e)
                        continue;
                if (e->action == VB_ACTION_BIND) {
                        e->action = VB_ACTION_REFUSE;
                        e->reason = e->selected ? VB_REASON_GROUP : VB_REASON_GROUP_MEMBER;
                        e->unbind = false;
                        e->forced = false;
                } else if (e->action != VB_ACTION_LEAVE)
                        continue;
                if (asprintf(&detail, "IOMMU group %d has %s (Group=%s)", group, blockers,
                             vb_group_policy_to_string(c->group)) < 0)
                        return -ENOMEM;
                free(e->detail);
                e->detail = detail;
        }
        return 0;
}

static int cmp_entry(const void *a, const void *b) {
        const VbPlanEntry *x = a, *y = b;
        return vb_pci_address_compare(&x->address, &y->address);
}

static int plan_console(VbPlan *p, const VbConfig *c, const VbConsoleState *console, const VbPciList *devices) {
        const char *why = NULL;
        const VbPlanEntry *owner = NULL;
        bool held = console && vb_console_is_held(console);

        for (size_t i = 0; console && i < p->n; i++) {
                VbPlanEntry *e = &p->entries[i];
                const VbPciDevice *d;
                const char *w;

                if (!e->present || (e->action != VB_ACTION_BIND && e->action != VB_ACTION_LEAVE))
                        continue;
                d = vb_pci_list_find(devices, &e->address);
                if (d && vb_console_owned_by(console, d, &w)) {
                        e->owns_console = true;
                        if (!owner && e->action == VB_ACTION_BIND) {
                                owner = e;
                                why = w;
                        }
                }
        }

        if (!held) {
                p->release_console = false;
                p->console_reason = strdup("the console holds no framebuffer");
        } else if (c->release == VB_RELEASE_NO) {
                p->release_console = false;
                p->console_reason = strdup("Release=no");
        } else if (c->release == VB_RELEASE_YES) {
                p->release_console = vb_plan_count(p, VB_ACTION_BIND) > 0;
                p->console_reason = strdup(p->release_console ? "Release=yes"
                                                              : "Release=yes, but nothing is to be bound");
        } else if (owner) {
                p->release_console = true;
                if (asprintf(&p->console_reason, "%s: %s", VB_PCI_ADDRESS_STR(&owner->address), why) < 0)
                        p->console_reason = NULL;
        } else {
                p->release_console = false;
                p->console_reason = strdup("no device being bound owns the console");
        }
        return p->console_reason ? 0 : -ENOMEM;
}

static int cmp_size(const void *a, const void *b) {
        size_t x = *(const size_t *) a, y = *(const size_t *) b;
        return x < y ? -1 : x > y;
}

static int cmp_config_selector(const void *a, const void *b, void *userdata) {
        const VbConfig *c = userdata;
        return vb_pci_address_compare(&c->selectors[*(const size_t *) a].selector.address,
                                      &c->selectors[*(const size_t *) b].selector.address);
}

/* One VirtualFunctions= line: what it comes to on this machine. Nothing is written for a PF
 * unless everything about it holds. */
static int plan_sriov_line(PlanBuild *b, const VbConfigVfs *v, VbPlanSriov *s) {
        const VbConfig *c = b->in->config;
        const VbPciDevice *pf = vb_pci_list_find(b->devices, &v->pf);
        char *detail = NULL;
        int r = 0;

        *s = (VbPlanSriov) { .pf = v->pf, .count = v->count, .file = v->file, .line = v->line };
        r = want_driver(b->in, b->in->vf_choices ? &b->in->vf_choices[v - c->vfs] : NULL, &s->driver, &s->module,
                        &s->registered, &s->driver_why);
        if (r < 0)
                return r;
        if (c->disabled) {
                s->action = VB_SRIOV_REFUSE;
                return (s->detail = strdup("left alone: vfio-bind=off is on the kernel command line")) ? 0 : -ENOMEM;
        }
        if (!pf) {
                s->action = VB_SRIOV_MISSING;
                return 0;
        }
        if (pf->driver) {
                s->pf_driver = strdup(pf->driver);
                if (!s->pf_driver)
                        return -ENOMEM;
        }
        if (address_in(b->in->failed, b->in->n_failed, &v->pf)) {
                /* No retry loop: the PF added anew or a reload tries again. */
                s->action = VB_SRIOV_REFUSE;
                r = asprintf(&detail,
                             "not tried again: creating its virtual functions failed before (the PF added "
                             "anew or a reload tries again)");
                goto done;
        }
        if (!pf->has_sriov) {
                s->action = VB_SRIOV_REFUSE;
                r = asprintf(&detail,
                             "refused: %s [%04x:%04x] is not an SR-IOV physical function (it has no sriov_totalvfs), "
                             "so it cannot have virtual functions",
                             VB_PCI_ADDRESS_STR(&v->pf), pf->vendor, pf->device);
                goto done;
        }
        s->sriov = pf->sriov;
        if (v->count > pf->sriov.total) {
                s->action = VB_SRIOV_REFUSE;
                r = asprintf(&detail,
                             "refused: VirtualFunctions= asks for %u virtual functions, and %s has at most %u "
                             "(sriov_totalvfs)",
                             v->count, VB_PCI_ADDRESS_STR(&v->pf), pf->sriov.total);
                goto done;
        }
        if (pf->sriov.numvfs != 0 && pf->sriov.numvfs != v->count) {
                s->action = VB_SRIOV_REFUSE;
                r = asprintf(&detail,
                             "refused: it has %u virtual functions already, and changing the count destroys them "
                             "(with any guest using one); write 0 to its sriov_numvfs by hand first, or make "
                             "VirtualFunctions= say %u",
                             pf->sriov.numvfs, pf->sriov.numvfs);
                goto done;
        }
        if (!b->in->iommu_enabled && vb_config_driver_is_vfio(c)) {
                s->action = VB_SRIOV_REFUSE;
                r = asprintf(&detail,
                             "refused: IOMMU off: there are no IOMMU groups, so %s could not take its "
                             "virtual functions (%s)",
                             s->driver ?: s->module, vb_iommu_hint(b->in->cpu_vendor));
                goto done;
        }
        s->vfs = calloc(v->count, sizeof(VbPciAddress));
        if (!s->vfs)
                return -ENOMEM;
        for (unsigned i = 0; i < v->count; i++) {
                if (vb_sriov_vf_address(&v->pf, &pf->sriov, i, &s->vfs[i]) < 0) {
                        s->action = VB_SRIOV_REFUSE;
                        r = asprintf(&detail, "refused: its virtual function %u would lie beyond bus ff", i);
                        goto done;
                }
                s->n_vfs++;
        }
        /* A VF selected directly as well: say where, and create nothing. */
        for (size_t i = 0; i < s->n_vfs; i++) {
                const VbConfigSelector *sel = device_selector(c, &s->vfs[i], pf->vendor, pf->sriov.vf_device);
                if (!sel)
                        continue;
                s->action = VB_SRIOV_REFUSE;
                r = asprintf(&detail,
                             "refused: its virtual function %s is selected directly too, by Device= at %s:%u: select "
                             "it one way",
                             VB_PCI_ADDRESS_STR(&s->vfs[i]), sel->file, sel->line);
                goto done;
        }
        /* The PF selected by Device= (a vendor:device selector; an address is refused by the
         * parser): its VFs would go with it. */
        {
                const VbConfigSelector *sel = device_selector(c, &pf->address, pf->vendor, pf->device);
                if (sel) {
                        s->action = VB_SRIOV_REFUSE;
                        r = asprintf(&detail,
                                     "refused: Device= at %s:%u selects the physical function itself, which keeps "
                                     "its host driver",
                                     sel->file, sel->line);
                        goto done;
                }
        }
        if (pf->sriov.numvfs == v->count) {
                s->action = VB_SRIOV_LEAVE;
                return 0;
        }
        if (!pf->driver) {
                /* At boot the PF's driver loads with udev's coldplug, after this service: its bind
                 * brings another pass. */
                s->action = VB_SRIOV_WAIT;
                r = asprintf(&detail, "waiting for its host driver: the kernel creates virtual functions through it");
                goto done;
        }
        s->action = VB_SRIOV_CREATE;
        return 0;

done:
        if (r < 0)
                return -ENOMEM;
        s->detail = detail;
        return 0;
}

static int plan_sriov(PlanBuild *b) {
        const VbConfig *c = b->in->config;
        int r;

        if (c->n_vfs == 0)
                return 0;
        b->p->sriov = calloc(c->n_vfs, sizeof(VbPlanSriov));
        if (!b->p->sriov)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_vfs; i++) {
                r = plan_sriov_line(b, &c->vfs[i], &b->p->sriov[i]);
                b->p->n_sriov++;
                if (r < 0)
                        return r;
        }
        return 0;
}

int vb_plan_compute(const VbPlanInput *in, VbPlan *ret) {
        const VbConfig *c = in->config;
        const VbPciList *devices = in->devices;
        _cleanup_(vb_plan_done) VbPlan p = {
                .driver = c->driver,
                .group = c->group,
                .unbind_host = c->unbind_host,
                .timeout_usec = c->timeout_usec,
                .iommu_enabled = in->iommu_enabled,
                .cpu_vendor = in->cpu_vendor,
                .disabled = c->disabled,
        };
        _cleanup_(plan_build_done) PlanBuild b = { .p = &p, .in = in, .devices = devices };
        _cleanup_free_ size_t *missing = NULL;
        size_t n_missing = 0;
        VbReach reach;
        int r;

        r = vb_selector_index_new(&b.selectors, c->selectors, c->n_selectors);
        if (r < 0)
                return r;
        r = vb_selector_index_new(&b.force, c->force, c->n_force);
        if (r < 0)
                return r;
        b.entry_of = malloc((devices->n ?: 1) * sizeof(ssize_t));
        b.by_group = malloc((devices->n ?: 1) * sizeof(size_t));
        missing = malloc((c->n_selectors ?: 1) * sizeof(size_t));
        if (!b.entry_of || !b.by_group || !missing)
                return -ENOMEM;

        r = plan_sriov(&b);
        if (r < 0)
                return r;

        /* Every present device a selector picks, and the VFs that VirtualFunctions= creates. */
        for (size_t i = 0; i < devices->n; i++) {
                const VbPciDevice *d = &devices->devices[i];
                VbPlanEntry *e;

                b.entry_of[i] = -1;
                if (d->iommu_group >= 0)
                        b.by_group[b.n_by_group++] = i;
                /* A VF is selected when its PF's VirtualFunctions= line is planned to make it. */
                reach = vb_reach(c, b.selectors, &(VbReachDevice) VB_REACH_DEVICE(d), NULL, 0);
                if (reach != VB_REACH_SELECTED && !(reach == VB_REACH_VF && selected_through_pf(&b, d)))
                        continue;
                e = plan_build_add(&b, i);
                if (!e)
                        return -ENOMEM;
                r = entry_from_device(e, in, d, true);
                if (r < 0)
                        return r;
                r = entry_decide(&b, e, d);
                if (r < 0)
                        return r;
        }

        /* Address selectors whose device is not there (yet); other selectors matching nothing. */
        for (size_t i = 0; i < c->n_selectors; i++) {
                const VbSelector *s = &c->selectors[i].selector;

                if (vb_selector_index_matched(b.selectors, i))
                        continue;
                if (s->type == VB_SELECTOR_ADDRESS)
                        missing[n_missing++] = i;
                else {
                        if (!VB_GREEDY_REALLOC(p.unmatched, b.unmatched_allocated, p.n_unmatched + 1))
                                return -ENOMEM;
                        p.unmatched[p.n_unmatched++] = *s;
                }
        }
        qsort_r(missing, n_missing, sizeof(size_t), cmp_config_selector, (void *) c);
        for (size_t i = 0; i < n_missing; i++) {
                const VbSelector *s = &c->selectors[missing[i]].selector;
                VbPlanEntry *e;

                /* The same address given twice (file and kernel command line) is one entry. */
                if (i > 0 && vb_pci_address_equal(&c->selectors[missing[i - 1]].selector.address, &s->address))
                        continue;
                e = plan_build_add(&b, SIZE_MAX);
                if (!e)
                        return -ENOMEM;
                e->address = s->address;
                e->selected = true;
                r = want_driver(in, NULL, &e->driver, &e->module, &e->registered, &e->driver_why);
                if (r < 0)
                        return r;
                if (vb_config_driver_auto(c)) {
                        /* Chosen once it is there: its modalias says. */
                        free(e->driver_why);
                        e->driver_why = strdup("Driver=auto: chosen when it appears");
                        if (!e->driver_why)
                                return -ENOMEM;
                }
                e->action = c->disabled ? VB_ACTION_REFUSE : VB_ACTION_MISSING;
                e->reason = c->disabled ? VB_REASON_DISABLED : VB_REASON_NONE;
        }

        /* IOMMU groups, per Group=: each group of a selected device once, in group order. */
        if (in->iommu_enabled && c->group != VB_GROUP_IGNORE && !c->disabled) {
                _cleanup_free_ size_t *groups = NULL;
                size_t n_groups = 0;

                qsort_r(b.by_group, b.n_by_group, sizeof(size_t), cmp_by_group, (void *) devices);

                groups = malloc((p.n ?: 1) * sizeof(size_t));
                if (!groups)
                        return -ENOMEM;
                for (size_t i = 0; i < p.n; i++)
                        if (p.entries[i].iommu_group >= 0)
                                groups[n_groups++] = (size_t) p.entries[i].iommu_group;
                qsort(groups, n_groups, sizeof(size_t), cmp_size);
                for (size_t i = 0; i < n_groups; i++) {
                        if (i > 0 && groups[i] == groups[i - 1])
                                continue;
                        r = plan_group(&b, (int) groups[i]);
                        if (r < 0)
                                return r;
                }
        }

        if (p.n > 0)
                qsort(p.entries, p.n, sizeof(VbPlanEntry), cmp_entry);

        r = plan_console(&p, c, in->console, devices);
        if (r < 0)
                return r;
        /* The driver's module is loaded before anything else; the console is given up only once it
         * is there, since without the driver nothing would be bound and the host would lose its
         * console for nothing. */
        p.driver_auto = vb_config_driver_auto(c);
        for (size_t i = 0; i < p.n + p.n_sriov; i++) {
                bool bind = i < p.n ? p.entries[i].action == VB_ACTION_BIND
                                    : p.sriov[i - p.n].action == VB_SRIOV_CREATE;
                bool registered = i < p.n ? p.entries[i].registered : p.sriov[i - p.n].registered;
                const char *what = i < p.n ? (p.entries[i].module ?: p.entries[i].driver)
                                           : (p.sriov[i - p.n].module ?: p.sriov[i - p.n].driver);

                if (!bind || registered || strv_contains(p.modules, what))
                        continue;
                r = strv_extend_printf(&p.modules, NULL, "%s", what);
                if (r < 0)
                        return r;
        }
        p.load_module = p.modules != NULL;

        *ret = p;
        p = (VbPlan) {};
        return 0;
}

int vb_plan_entry_explain(const VbPlanEntry *e, char **ret) {
        const char *group_note = e->selected ? "" : " (a member of its IOMMU group, Group=take)";
        char *s = NULL;
        int r = -1;

        switch (e->action) {
        case VB_ACTION_LEAVE:
                r = asprintf(&s, "already on %s%s%s", e->driver_before ?: vb_plan_entry_driver(e),
                             e->detail ? "; but " : "", strempty(e->detail));
                break;
        case VB_ACTION_BIND:
                if (e->driver_before)
                        r = asprintf(&s, "bind to %s%s, unbinding %s%s%s%s", e->driver ? "" : "the driver of module ",
                                     vb_plan_entry_driver(e), e->driver_before, group_note,
                                     e->forced ? "; FORCED although the host uses it: " : "",
                                     e->forced ? e->in_use : "");
                else
                        r = asprintf(&s, "bind to %s%s (no driver holds it)%s%s%s",
                                     e->driver ? "" : "the driver of module ", vb_plan_entry_driver(e), group_note,
                                     e->forced ? "; FORCED although the host uses it: " : "",
                                     e->forced ? e->in_use : "");
                break;
        case VB_ACTION_MISSING:
                r = asprintf(&s, "not present");
                break;
        case VB_ACTION_REFUSE:
                switch (e->reason) {
                case VB_REASON_BRIDGE:
                        r = asprintf(&s, "refused: it is a bridge, and bridges are never bound");
                        break;
                case VB_REASON_HOST_DRIVER:
                        r = asprintf(&s, "refused: %s holds it and UnbindHost=no%s", strna(e->driver_before),
                                     group_note);
                        break;
                case VB_REASON_GROUP:
                case VB_REASON_GROUP_MEMBER:
                        r = asprintf(&s, "refused: %s%s", e->detail ?: "its IOMMU group is not viable", group_note);
                        break;
                case VB_REASON_NO_IOMMU:
                        r = asprintf(&s,
                                     "refused: IOMMU off: there are no IOMMU groups, so %s cannot take it "
                                     "(%s)",
                                     vb_plan_entry_driver(e), vb_iommu_hint(e->cpu_vendor));
                        break;
                case VB_REASON_DISABLED:
                        r = asprintf(&s, "left alone: vfio-bind=off is on the kernel command line");
                        break;
                case VB_REASON_RELEASED:
                        r = asprintf(&s,
                                     "left to the host: released by hand with vfio-bind release "
                                     "(vfio-bind bind takes it again)");
                        break;
                case VB_REASON_FAILED:
                        r = asprintf(&s,
                                     "not tried again: binding it to %s failed before (a new add uevent or a "
                                     "reload tries again)%s",
                                     vb_plan_entry_driver(e), group_note);
                        break;
                case VB_REASON_SRIOV:
                        r = asprintf(&s, "refused: %s", e->detail ?: "VirtualFunctions= forbids it");
                        break;
                case VB_REASON_IN_USE:
                        r = asprintf(&s, "refused: the host uses it: %s%s (Force= overrides)", strna(e->in_use),
                                     group_note);
                        break;
                default:
                        r = asprintf(&s, "refused");
                        break;
                }
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int vb_plan_sriov_explain(const VbPlanSriov *s, char **ret) {
        _cleanup_free_ char *list = NULL;
        char *t = NULL;
        int r;

        for (size_t i = 0; i < s->n_vfs; i++)
                if (vb_join_append(&list, " ", "%s", VB_PCI_ADDRESS_STR(&s->vfs[i])) < 0)
                        return -ENOMEM;
        switch (s->action) {
        case VB_SRIOV_CREATE:
                r = asprintf(&t,
                             "create %u virtual function%s for %s (sriov_totalvfs %u; sriov_drivers_autoprobe off "
                             "while they are created): %s",
                             s->count, s->count == 1 ? "" : "s", s->driver ?: s->module, s->sriov.total,
                             strempty(list));
                break;
        case VB_SRIOV_LEAVE:
                r = asprintf(&t, "has its %u virtual function%s already, for %s: %s", s->count,
                             s->count == 1 ? "" : "s", s->driver ?: s->module, strempty(list));
                break;
        case VB_SRIOV_MISSING:
                r = asprintf(&t, "not present (VirtualFunctions= asks for %u virtual function%s)", s->count,
                             s->count == 1 ? "" : "s");
                break;
        default:
                r = asprintf(&t, "%s", strna(s->detail));
                break;
        }
        if (r < 0)
                return -ENOMEM;
        *ret = t;
        return 0;
}

int vb_plan_format(const VbPlan *p, char **ret) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        if (p->disabled)
                fputs("vfio-bind=off is on the kernel command line: nothing will be touched\n", f);
        if (p->iommu_enabled)
                fputs("IOMMU: on\n", f);
        else
                fprintf(f, "IOMMU: off (no IOMMU groups; %s)\n", vb_iommu_hint(p->cpu_vendor));
        for (size_t i = 0; i < p->n; i++) {
                const VbPlanEntry *e = &p->entries[i];
                _cleanup_free_ char *explain = NULL;
                char group[16] = "-";

                if (vb_plan_entry_explain(e, &explain) < 0) {
                        fclose(f);
                        free(buf);
                        return -ENOMEM;
                }
                if (e->iommu_group >= 0)
                        snprintf(group, sizeof(group), "%d", e->iommu_group);
                if (e->present)
                        fprintf(f, "%s [%04x:%04x] class %06x, group %s, %s: %s%s\n", VB_PCI_ADDRESS_STR(&e->address),
                                e->vendor, e->device, e->class, group, e->driver_before ?: "no driver", explain,
                                e->owns_console ? " (owns the console)" : "");
                else
                        fprintf(f, "%s: %s\n", VB_PCI_ADDRESS_STR(&e->address), explain);
                if (e->driver_why && e->present && (e->action == VB_ACTION_BIND || e->action == VB_ACTION_LEAVE))
                        fprintf(f, "%s: driver: %s\n", VB_PCI_ADDRESS_STR(&e->address), e->driver_why);
        }
        for (size_t i = 0; i < p->n_unmatched; i++) {
                char sel[VB_SELECTOR_STRING_MAX];
                fprintf(f, "%s: matches no device\n", vb_selector_format(&p->unmatched[i], sel));
        }
        for (size_t i = 0; i < p->n_sriov; i++) {
                _cleanup_free_ char *explain = NULL;

                if (vb_plan_sriov_explain(&p->sriov[i], &explain) < 0) {
                        fclose(f);
                        free(buf);
                        return -ENOMEM;
                }
                fprintf(f, "sr-iov: %s (VirtualFunctions= at %s:%u): %s\n", VB_PCI_ADDRESS_STR(&p->sriov[i].pf),
                        p->sriov[i].file, p->sriov[i].line, explain);
        }
        if (p->load_module) {
                fputs("module: load ", f);
                for (char **m = p->modules; *m; m++)
                        /* vfio_pci and a Driver= name as "the module of vfio-pci"; a variant by module. */
                        fprintf(f, "%s%s%s", m == p->modules ? "" : ", ",
                                !p->driver_auto || streq(*m, VB_DRIVER_PLAIN_MODULE) ? "the module of " : "module ",
                                p->driver_auto && streq(*m, VB_DRIVER_PLAIN_MODULE) ? VB_DRIVER_PLAIN : *m);
                fprintf(f, " first (%s not registered yet)%s\n",
                        strv_length(p->modules) == 1 ? "its driver is" : "their drivers are",
                        p->release_console ? "; the console is released only once it is loaded" : "");
        }
        fprintf(f, "console: %s (%s)\n", p->release_console ? "release before binding" : "leave alone",
                strempty(p->console_reason));

        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}
