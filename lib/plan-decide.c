/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The decision: the plan computed from its input, device by device and group by group
 * (vb_plan_compute). */
#include <stdio.h>

#include "alloc-util.h"
#include "driver.h"
#include "iommu.h"
#include "macro.h"
#include "plan-build.h"
#include "plan.h"
#include "reach.h"
#include "reset.h"
#include "selector-index.h"
#include "strv.h"

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

static const VbDriverChoice *choice_of(const VbPlanInput *in, const VbPciAddress *a) {
        return VB_PCI_ADDRESS_BSEARCH(in->choices, in->n_choices, address, a);
}

/* The wanted driver: Driver='s, or under Driver=auto the choice CH (NULL: none was read: vfio-pci). */
int vb_plan_want_driver(const VbPlanInput *in, const VbDriverChoice *ch, char **driver, char **module, bool *registered,
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

const char *vb_plan_fallback(const VbPlanInput *in, const char *module) {
        return vb_config_driver_auto(in->config) && module && !streq(module, VB_DRIVER_PLAIN_MODULE) ? VB_DRIVER_PLAIN
                                                                                                     : NULL;
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
        r = vb_plan_want_driver(in, choice_of(in, &d->address), &e->driver, &e->module, &e->registered, &e->driver_why);
        if (r < 0)
                return r;
        e->fallback = vb_plan_fallback(in, e->module);
        e->iommu_group = d->iommu_group;
        if (d->driver) {
                e->driver_before = strdup(d->driver);
                if (!e->driver_before)
                        return -ENOMEM;
        }
        return 0;
}

bool vb_plan_address_in(const VbPciAddress *list, size_t n, const VbPciAddress *a) {
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
const VbConfigSelector *vb_plan_device_selector(const VbConfig *c, const VbPciAddress *a, uint16_t vendor,
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
                sel = e->selected ? vb_plan_device_selector(b->in->config, &d->address, d->vendor, d->device) : NULL;
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
            (sel = vb_plan_device_selector(b->in->config, &d->address, d->vendor, d->device))) {
                if (asprintf(&e->detail,
                             "it is a virtual function of %s, which VirtualFunctions= (%s:%u) selects already, and "
                             "Device= at %s:%u selects it directly too: select it one way",
                             VB_PCI_ADDRESS_STR(&d->physfn), s->file, s->line, sel->file, sel->line) < 0)
                        e->detail = NULL;
                return true;
        }
        return false;
}

/* The decision's rules, each a question about the device. */
static bool rule_disabled(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d) {
        return b->in->config->disabled;
}
static bool rule_bridge(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d) {
        return vb_pci_device_is_bridge(d);
}
static bool rule_released(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d) {
        return vb_plan_address_in(b->in->released, b->in->n_released, &d->address);
}
static bool rule_on_wanted(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d) {
        return entry_on_wanted(b->in->config, e, d->driver);
}
static bool rule_failed(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d) {
        return vb_plan_address_in(b->in->failed, b->in->n_failed, &d->address);
}
static bool rule_in_use(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d) {
        return e->in_use && !e->forced;
}
static bool rule_no_iommu(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d) {
        return !b->in->iommu_enabled && vb_config_driver_is_vfio(b->in->config);
}
static bool rule_host_driver(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d) {
        return d->driver && !b->in->config->unbind_host;
}
static bool rule_otherwise(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d) {
        return true;
}

/* The precedence of the decision, in one place: the first rule that holds decides. */
static const struct {
        bool (*holds)(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d);
        VbAction action;
        VbPlanReason reason;
} decision[] = {
        { rule_disabled, VB_ACTION_REFUSE, VB_REASON_DISABLED }, /* vfio-bind=off on the command line */
        { rule_bridge, VB_ACTION_REFUSE, VB_REASON_BRIDGE },     /* bridges are never bound */
        { sriov_conflict, VB_ACTION_REFUSE,
          VB_REASON_SRIOV }, /* a PF VirtualFunctions= keeps, or a VF selected twice */
        { rule_released, VB_ACTION_REFUSE,
          VB_REASON_RELEASED },                              /* given back by hand: the host's until bind or reboot */
        { rule_on_wanted, VB_ACTION_LEAVE, VB_REASON_NONE }, /* on the driver already (or another VFIO one) */
        { rule_failed, VB_ACTION_REFUSE, VB_REASON_FAILED }, /* failed before: a new add or a reload tries again */
        { rule_in_use, VB_ACTION_REFUSE, VB_REASON_IN_USE }, /* the host uses it, and Force= does not say so */
        { rule_no_iommu, VB_ACTION_REFUSE, VB_REASON_NO_IOMMU },       /* a VFIO driver without IOMMU groups */
        { rule_host_driver, VB_ACTION_REFUSE, VB_REASON_HOST_DRIVER }, /* a host driver holds it, UnbindHost=no */
        { rule_otherwise, VB_ACTION_BIND, VB_REASON_NONE },
};

static int entry_decide(PlanBuild *b, VbPlanEntry *e, const VbPciDevice *d) {
        const VbConfig *c = b->in->config;
        size_t k = 0;
        int r;

        if (!c->disabled && !vb_pci_device_is_bridge(d) && !entry_on_wanted(c, e, d->driver)) {
                r = vb_holds_describe(b->in->holds, &d->address, vb_plan_hold_mask(c, b->in->at_boot), &e->in_use);
                if (r < 0)
                        return r;
                e->forced = e->in_use && vb_selector_index_match(b->force, &d->address, d->vendor, d->device);
        }

        while (!decision[k].holds(b, e, d))
                k++;
        e->action = decision[k].action;
        e->reason = decision[k].reason;

        /* What the decision carries besides. */
        if (e->action == VB_ACTION_LEAVE && !streq_ptr(d->driver, e->driver) &&
            asprintf(&e->detail,
                     "Driver=auto chooses %s; it is left on %s, another VFIO driver (vfio-bind release, then "
                     "vfio-bind bind, moves it)",
                     vb_plan_entry_driver(e), d->driver) < 0)
                return -ENOMEM;
        if (e->reason == VB_REASON_NO_IOMMU)
                e->cpu_vendor = b->in->cpu_vendor;
        if (e->action == VB_ACTION_BIND)
                e->unbind = d->driver != NULL;
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

/* What the look says of the devices to be bound or left on the driver that a user should know. */
static int plan_warnings(VbPlan *p, const VbPlanInput *in) {
        if (!in->facts)
                return 0;
        for (size_t i = 0; i < p->n; i++) {
                VbPlanEntry *e = &p->entries[i];
                const VbPciDevice *d;
                const VbDeviceFacts *f;

                if (!e->present || (e->action != VB_ACTION_BIND && e->action != VB_ACTION_LEAVE))
                        continue;
                d = vb_pci_list_find(in->devices, &e->address);
                f = d ? &in->facts[d - in->devices->devices] : NULL;
                if (!f || !f->read)
                        continue;
                if (f->reset == VB_RESET_NONE)
                        e->warnings |= VB_WARNING_NO_RESET;
                if (f->behind_vmd) {
                        e->warnings |= VB_WARNING_BEHIND_VMD;
                        e->vmd = f->vmd;
                        e->have_vmd = f->have_vmd;
                }
        }
        return 0;
}

/* The drivers' modules are loaded before anything else; the console is given up only once they
 * are there, since without the driver nothing would be bound and the host would lose its console
 * for nothing. Under Driver=auto a variant's module that cannot be had gives way to vfio-pci. */
static int plan_modules(VbPlan *p, const VbConfig *c) {
        size_t allocated = 0;

        p->driver_auto = vb_config_driver_auto(c);
        for (size_t i = 0; i < p->n + p->n_sriov; i++) {
                bool bind = i < p->n ? p->entries[i].action == VB_ACTION_BIND
                                     : p->sriov[i - p->n].action == VB_SRIOV_CREATE;
                bool registered = i < p->n ? p->entries[i].registered : p->sriov[i - p->n].registered;
                const char *what = i < p->n ? (p->entries[i].module ?: p->entries[i].driver)
                                            : (p->sriov[i - p->n].module ?: p->sriov[i - p->n].driver);
                bool plain = p->driver_auto && streq(what, VB_DRIVER_PLAIN_MODULE);
                VbPlanModule *m;

                if (!bind || registered || vb_plan_find_module(p, what))
                        continue;
                if (!VB_GREEDY_REALLOC(p->modules, allocated, p->n_modules + 1))
                        return -ENOMEM;
                m = &p->modules[p->n_modules];
                *m = (VbPlanModule) {
                        /* vfio_pci and a Driver= name through the driver's name; a variant by module */
                        .driver = !p->driver_auto ? c->driver
                                  : plain         ? VB_DRIVER_PLAIN
                                                  : NULL,
                        .fallback = p->driver_auto && !plain ? VB_DRIVER_PLAIN : NULL,
                };
                m->name = strdup(what);
                if (!m->name)
                        return -ENOMEM;
                p->n_modules++;
        }
        p->load_module = p->n_modules > 0;
        return 0;
}

/* A PF an earlier run left with autoprobe off is switched back on after this pass's binds, unless
 * its creation still hangs (the daemon's memory says so) or this plan creates its VFs (the
 * creation switches it back on itself). */
static int plan_autoprobe(VbPlan *p, const VbPlanInput *in) {
        if (in->n_autoprobe_off == 0)
                return 0;
        p->restore_autoprobe = malloc(in->n_autoprobe_off * sizeof(VbPciAddress));
        if (!p->restore_autoprobe)
                return -ENOMEM;
        for (size_t i = 0; i < in->n_autoprobe_off; i++) {
                const VbPciAddress *pf = &in->autoprobe_off[i];
                const VbPlanSriov *s = vb_plan_find_sriov(p, pf);

                if (vb_plan_address_in(in->stuck, in->n_stuck, pf) || (s && s->action == VB_SRIOV_CREATE))
                        continue;
                p->restore_autoprobe[p->n_restore_autoprobe++] = *pf;
        }
        return 0;
}

/* Every present device a selector picks, and the VFs that VirtualFunctions= creates, each decided. */
static int plan_selected(PlanBuild *b) {
        const VbPciList *devices = b->devices;
        int r;

        for (size_t i = 0; i < devices->n; i++) {
                const VbPciDevice *d = &devices->devices[i];
                VbReach reach;
                VbPlanEntry *e;

                b->entry_of[i] = -1;
                if (d->iommu_group >= 0)
                        b->by_group[b->n_by_group++] = i;
                /* A VF is selected when its PF's VirtualFunctions= line is planned to make it. */
                reach = vb_reach(b->in->config, b->selectors, &(VbReachDevice) VB_REACH_DEVICE(d), NULL, 0);
                if (reach != VB_REACH_SELECTED && !(reach == VB_REACH_VF && selected_through_pf(b, d)))
                        continue;
                e = plan_build_add(b, i);
                if (!e)
                        return -ENOMEM;
                r = entry_from_device(e, b->in, d, true);
                if (r < 0)
                        return r;
                r = entry_decide(b, e, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Address selectors whose device is not there (yet), one entry per address; other selectors that
 * match nothing. */
static int plan_missing(PlanBuild *b) {
        const VbConfig *c = b->in->config;
        VbPlan *p = b->p;
        _cleanup_free_ size_t *missing = NULL;
        size_t n_missing = 0;
        int r;

        missing = malloc((c->n_selectors ?: 1) * sizeof(size_t));
        if (!missing)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_selectors; i++) {
                const VbSelector *s = &c->selectors[i].selector;

                if (vb_selector_index_matched(b->selectors, i))
                        continue;
                if (s->type == VB_SELECTOR_ADDRESS)
                        missing[n_missing++] = i;
                else {
                        if (!VB_GREEDY_REALLOC(p->unmatched, b->unmatched_allocated, p->n_unmatched + 1))
                                return -ENOMEM;
                        p->unmatched[p->n_unmatched++] = *s;
                }
        }
        qsort_r(missing, n_missing, sizeof(size_t), cmp_config_selector, (void *) c);
        for (size_t i = 0; i < n_missing; i++) {
                const VbSelector *s = &c->selectors[missing[i]].selector;
                VbPlanEntry *e;

                /* The same address given twice (file and kernel command line) is one entry. */
                if (i > 0 && vb_pci_address_equal(&c->selectors[missing[i - 1]].selector.address, &s->address))
                        continue;
                e = plan_build_add(b, SIZE_MAX);
                if (!e)
                        return -ENOMEM;
                e->address = s->address;
                e->selected = true;
                r = vb_plan_want_driver(b->in, NULL, &e->driver, &e->module, &e->registered, &e->driver_why);
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
        return 0;
}

/* IOMMU groups, per Group=: each group of a selected device once, in group order. */
static int plan_groups(PlanBuild *b) {
        const VbConfig *c = b->in->config;
        VbPlan *p = b->p;
        _cleanup_free_ size_t *groups = NULL;
        size_t n_groups = 0;
        int r;

        if (!b->in->iommu_enabled || c->group == VB_GROUP_IGNORE || c->disabled)
                return 0;
        qsort_r(b->by_group, b->n_by_group, sizeof(size_t), cmp_by_group, (void *) b->devices);
        groups = malloc((p->n ?: 1) * sizeof(size_t));
        if (!groups)
                return -ENOMEM;
        for (size_t i = 0; i < p->n; i++)
                if (p->entries[i].iommu_group >= 0)
                        groups[n_groups++] = (size_t) p->entries[i].iommu_group;
        qsort(groups, n_groups, sizeof(size_t), cmp_size);
        for (size_t i = 0; i < n_groups; i++) {
                if (i > 0 && groups[i] == groups[i - 1])
                        continue;
                r = plan_group(b, (int) groups[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The plan, stage by stage: the VirtualFunctions= lines, the selected devices, the missing ones,
 * the groups, the console, the warnings, the modules, the autoprobe to give back. */
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
        int r;

        r = vb_selector_index_new(&b.selectors, c->selectors, c->n_selectors);
        if (r < 0)
                return r;
        r = vb_selector_index_new(&b.force, c->force, c->n_force);
        if (r < 0)
                return r;
        b.entry_of = malloc((devices->n ?: 1) * sizeof(ssize_t));
        b.by_group = malloc((devices->n ?: 1) * sizeof(size_t));
        if (!b.entry_of || !b.by_group)
                return -ENOMEM;

        r = vb_plan_sriov(&b);
        if (r >= 0)
                r = plan_selected(&b);
        if (r >= 0)
                r = plan_missing(&b);
        if (r >= 0)
                r = plan_groups(&b);
        if (r < 0)
                return r;
        if (p.n > 0)
                qsort(p.entries, p.n, sizeof(VbPlanEntry), cmp_entry);
        r = plan_console(&p, c, in->console, devices);
        if (r >= 0)
                r = plan_warnings(&p, in);
        if (r >= 0)
                r = plan_modules(&p, c);
        if (r >= 0)
                r = plan_autoprobe(&p, in);
        if (r < 0)
                return r;

        *ret = p;
        p = (VbPlan) {};
        return 0;
}
