/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-bind bind ADDRESS and vfio-bind release ADDRESS: by hand, through the same plan and the
 * same apply as the daemon. bind reads the configuration's policies (Driver=, Group=, Release=,
 * Force=) and refuses what the daemon would refuse, in the same words; its flags say otherwise.
 */
#include <assert.h>
#include <stdio.h>

#include "alloc-util.h"
#include "apply.h"
#include "bind.h"
#include "console.h"
#include "driver-choice.h"
#include "driver.h"
#include "handoff.h"
#include "iommu.h"
#include "macro.h"
#include "output.h"
#include "pci.h"
#include "plan.h"
#include "release-plan.h"
#include "runtime.h"
#include "selector.h"
#include "snapshot.h"
#include "strv.h"
#include "utf8.h"
#include "verbs.h"

#define HAND_SOURCE "command line"

static int parse_address(const char *s, VbPciAddress *ret) {
        const char *error = NULL;
        VbSelector sel;

        if (vb_selector_parse(s, &sel, &error) < 0 || sel.type != VB_SELECTOR_ADDRESS) {
                fprintf(stderr, "vfio-bind: %s is not a PCI address (like 0000:01:00.0 or 01:00.0)%s%s\n", VB_QUOTE(s),
                        error ? ": " : "", strempty(error));
                return -EINVAL;
        }
        *ret = sel.address;
        return 0;
}

/* Add A to the selector list *L (N entries, room for *ALLOCATED), as given on the command line. */
static int hand_selector_add(VbConfigSelector **l, size_t *n, size_t *allocated, const VbPciAddress *a) {
        char *file;

        file = strdup(HAND_SOURCE);
        if (!file)
                return -ENOMEM;
        if (!VB_GREEDY_REALLOC(*l, *allocated, *n + 1)) {
                free(file);
                return -ENOMEM;
        }
        (*l)[(*n)++] = (VbConfigSelector) {
                .selector = { .type = VB_SELECTOR_ADDRESS, .address = *a },
                .file = file,
        };
        return 0;
}

/* The configuration of a hand bind: the file's policies, the device (and with --take-group its
 * group), --force and --release-console on top. A hand bind may unbind a host driver (that is
 * what it is asked for) and is not held back by vfio-bind=off, which is about the boot. */
static int hand_config(const VbcArgs *a, const VbConfig *file, const VbSnapshot *s, const VbPciDevice *d,
                       VbConfig **ret) {
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        size_t selectors_allocated = 0, force_allocated = 0; /* the lists are built here only */
        int r;

        r = vb_config_new(&c);
        if (r < 0)
                return r;
        free(c->driver);
        c->driver = strdup(a->driver ?: file->driver);
        if (!c->driver)
                return -ENOMEM;
        c->group = a->take_group ? VB_GROUP_TAKE : file->group;
        c->unbind_host = true;
        c->timeout_usec = file->timeout_usec;
        c->release = a->release_console && file->release == VB_RELEASE_NO ? VB_RELEASE_AUTO : file->release;
        for (size_t i = 0; i < file->n_stop_units; i++)
                if (strv_extend_printf(&c->stop_units, &c->n_stop_units, "%s", file->stop_units[i]) < 0)
                        return -ENOMEM;

        r = hand_selector_add(&c->selectors, &c->n_selectors, &selectors_allocated, &d->address);
        if (r < 0)
                return r;
        for (size_t i = 0; i < file->n_force; i++) {
                if (!VB_GREEDY_REALLOC(c->force, force_allocated, c->n_force + 1))
                        return -ENOMEM;
                c->force[c->n_force] = (VbConfigSelector) { .selector = file->force[i].selector,
                                                            .line = file->force[i].line };
                c->force[c->n_force].file = strdup(file->force[i].file);
                if (!c->force[c->n_force++].file)
                        return -ENOMEM;
        }
        if (a->force)
                for (size_t i = 0; i < s->devices.n; i++) {
                        const VbPciDevice *m = &s->devices.devices[i];
                        bool member = vb_pci_address_equal(&m->address, &d->address) ||
                                      (a->take_group && d->iommu_group >= 0 && m->iommu_group == d->iommu_group);
                        if (member) {
                                r = hand_selector_add(&c->force, &c->n_force, &force_allocated, &m->address);
                                if (r < 0)
                                        return r;
                        }
                }
        *ret = TAKE_PTR(c);
        return 0;
}

/* What flag would say otherwise, after a refusal. */
static const char *refusal_hint(const VbConfig *c, const VbPlanEntry *e) {
        switch (e->reason) {
        case VB_REASON_GROUP:
        case VB_REASON_GROUP_MEMBER:
                return "; --take-group binds every endpoint of the group";
        case VB_REASON_IN_USE:
                return c->release == VB_RELEASE_NO && e->in_use && strstr(e->in_use, "console")
                               ? "; --release-console releases the console first, --force binds it anyway"
                               : "; --force binds it anyway";
        default:
                return "";
        }
}

/* Print what the pass did; returns whether every device to be bound ended on the driver. */
static bool print_applied(const VbPlan *p, const VbApply *ap) {
        bool ok = true;

        if (ap->module_error < 0)
                fprintf(stderr, "vfio-bind: loading the module of %s failed: %s; nothing was bound%s\n", p->driver,
                        ap->module_error == -ENOENT ? "no kernel module provides it" : strerror(-ap->module_error),
                        p->release_console ? ", the console is left alone" : "");
        if (ap->console_released)
                printf("released the console: %s (%s)\n", ap->console_text, strempty(p->console_reason));
        if (ap->console_error < 0)
                fprintf(stderr, "vfio-bind: releasing the console failed: %s\n", strerror(-ap->console_error));

        for (size_t i = 0; i < p->n; i++) {
                const VbPlanEntry *e = &p->entries[i];
                const VbApplyResult *r = &ap->results[i];
                const char *addr = VB_PCI_ADDRESS_STR(&e->address);
                const char *cause = r->cause < p->n ? VB_PCI_ADDRESS_STR(&p->entries[r->cause].address) : "a member";

                switch (r->state) {
                case VB_DEVICE_ON_DRIVER:
                        printf("%s: already on %s\n", addr, e->driver_before ?: vb_plan_entry_driver(e));
                        break;
                case VB_DEVICE_BOUND:
                        if (r->bind.changed)
                                printf("%s: bound to %s (was %s)\n", addr, r->driver,
                                       r->bind.driver_before ?: "no driver");
                        else
                                printf("%s: already on %s\n", addr, r->driver);
                        if (e->driver_why && !streq(r->driver, VB_DRIVER_PLAIN))
                                printf("%s: driver: %s\n", addr, e->driver_why);
                        if (r->driver_note)
                                printf("%s: %s\n", addr, r->driver_note);
                        break;
                case VB_DEVICE_FAILED:
                case VB_DEVICE_STUCK:
                        ok = false;
                        fprintf(stderr, "vfio-bind: %s: binding to %s failed: %s (%s); now on %s%s%s\n", addr,
                                r->driver ?: vb_plan_entry_driver(e), vb_bind_result_explain(&r->bind, r->error),
                                strerror(-r->error), r->bind.driver_after ?: "no driver",
                                r->bind.rolled_back ? "; the override was cleared again" : "",
                                r->bind.override_left ? "; driver_override still names the driver" : "");
                        break;
                case VB_DEVICE_ROLLED_BACK:
                        ok = false;
                        fprintf(stderr,
                                "vfio-bind: %s: put back on %s: %s of its IOMMU group failed, and a group is "
                                "never left half bound%s\n",
                                addr, r->restore.driver_after ?: "no driver", cause,
                                r->restore.override_left
                                        ? " (driver_override left at the driver: no host driver held it)"
                                        : "");
                        break;
                case VB_DEVICE_RESTORE_FAILED:
                        ok = false;
                        fprintf(stderr,
                                "vfio-bind: %s: %s of its IOMMU group failed, and putting this one back on %s "
                                "failed: %s (%s); now on %s\n",
                                addr, cause, r->bind.driver_before ?: "no driver",
                                vb_bind_result_explain(&r->restore, r->error), strerror(-r->error),
                                r->restore.driver_after ?: "no driver");
                        break;
                case VB_DEVICE_SKIPPED:
                        ok = false;
                        fprintf(stderr, "vfio-bind: %s: not tried: %s of its IOMMU group failed first\n", addr, cause);
                        break;
                default:
                        break;
                }
        }
        return ok;
}

/* The look and the plan of a hand bind of ADDR: S, and in *RET_C the configuration it is planned
 * with. Returns 0, or -1 (said already). */
static int look_and_plan(const VbcArgs *a, VbContext *ctx, const VbConfig *file, const VbPciAddress *addr,
                         VbSnapshot *s, VbConfig **ret_c) {
        const VbPciDevice *d;
        int r;

        r = vb_snapshot_read(ctx, vb_platform_runtime_dir(a->platform), s);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Failed to look at the PCI devices: %s\n", strerror(-r));
                return -1;
        }
        d = vb_pci_list_find(&s->devices, addr);
        if (!d) {
                fprintf(stderr, "vfio-bind: %s: no such PCI device\n", VB_PCI_ADDRESS_STR(addr));
                return -1;
        }
        if (hand_config(a, file, s, d, ret_c) < 0) {
                fprintf(stderr, "vfio-bind: Out of memory\n");
                return -1;
        }

        /* The hand bind takes the device (and with --take-group its group) again. */
        for (size_t i = 0; i < s->devices.n; i++) {
                const VbPciDevice *m = &s->devices.devices[i];
                if (vb_pci_address_equal(&m->address, addr) ||
                    (a->take_group && d->iommu_group >= 0 && m->iommu_group == d->iommu_group))
                        vb_snapshot_forget_release(s, &m->address);
        }
        r = vb_snapshot_read_reach(ctx, *ret_c, s);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Failed to look at the PCI devices: %s\n", strerror(-r));
                return -1;
        }
        r = vb_snapshot_plan(*ret_c, s);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Failed to compute the plan: %s\n", strerror(-r));
                return -1;
        }
        return 0;
}

int vbc_bind(const VbcArgs *a, const char *arg) {
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_(vb_config_freep) VbConfig *file = NULL, *c = NULL;
        _cleanup_(vb_snapshot_done) VbSnapshot s = {};
        _cleanup_(vb_apply_done) VbApply applied = {};
        const char *runtime_dir = vb_platform_runtime_dir(a->platform);
        const VbPlanEntry *target;
        _cleanup_free_ char *explain = NULL;
        VbPciAddress addr;
        int r;

        if (parse_address(arg, &addr) < 0)
                return 2;
        if (vbc_open_context(a, &ctx) < 0 || vbc_load_config(a, ctx, &file) < 0)
                return 1;
        if (look_and_plan(a, ctx, file, &addr, &s, &c) < 0)
                return 1;
        /* [Handoff] StopUnits=: the units whose programs hold what the plan refuses for them are
         * stopped, and the machine looked at again. */
        if (!a->dry_run && !a->force) {
                r = vbc_handoff_stop(a, ctx, c, &s);
                if (r < 0)
                        return 1;
                if (r > 0) {
                        vb_snapshot_done(&s);
                        c = vb_config_free(c);
                        if (look_and_plan(a, ctx, file, &addr, &s, &c) < 0)
                                return 1;
                }
        }
        target = vb_plan_find(&s.plan, &addr);
        assert(target);
        if (vb_plan_entry_explain(target, &explain) < 0) {
                fprintf(stderr, "vfio-bind: Out of memory\n");
                return 1;
        }

        if (a->dry_run) {
                _cleanup_free_ char *text = NULL;

                if (vb_plan_format(&s.plan, true, &text) < 0) {
                        fprintf(stderr, "vfio-bind: Out of memory\n");
                        return 1;
                }
                printf("Dry run: nothing is written. Driver %s, Group=%s, Release=%s%s%s.\n%s", c->driver,
                       vb_group_policy_to_string(c->group), vb_release_policy_to_string(c->release),
                       a->force ? ", --force" : "", a->take_group ? ", --take-group" : "", text);
                return target->action == VB_ACTION_BIND || target->action == VB_ACTION_LEAVE ? 0 : 1;
        }

        if (target->action == VB_ACTION_REFUSE) {
                _cleanup_free_ char *why_not = vbc_handoff_why_not(c, &s, &addr);

                fprintf(stderr, "vfio-bind: %s: %s%s; nothing was written\n", VB_PCI_ADDRESS_STR(&addr), explain,
                        refusal_hint(c, target));
                if (why_not)
                        fprintf(stderr, "vfio-bind: %s: %s\n", VB_PCI_ADDRESS_STR(&addr), why_not);
                return 1;
        }
        for (size_t i = 0; i < s.plan.n; i++) {
                const VbPlanEntry *e = &s.plan.entries[i];
                if (e->action == VB_ACTION_BIND && e->forced)
                        fprintf(stderr, "vfio-bind: %s: WARNING: the host uses it (%s); binding it anyway (--force)\n",
                                VB_PCI_ADDRESS_STR(&e->address), e->in_use);
        }

        r = vb_apply(ctx, &s.plan, s.have_console ? &s.console : NULL, &(VbApplyOps) { .runtime_dir = runtime_dir },
                     &applied);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Out of memory\n");
                return 1;
        }
        if (!print_applied(&s.plan, &applied))
                return 1;

        for (size_t i = 0; i < s.plan.n; i++)
                if (vb_apply_on_driver(&s.plan.entries[i], &applied.results[i])) {
                        r = vb_runtime_set_released(runtime_dir, &s.plan.entries[i].address, false);
                        if (r < 0)
                                fprintf(stderr, "vfio-bind: Failed to clear the release mark of %s, ignoring: %s\n",
                                        VB_PCI_ADDRESS_STR(&s.plan.entries[i].address), strerror(-r));
                }
        return 0;
}

/* What giving back the plan's devices means for the rest of the named device's IOMMU group, read
 * after the release. */
static void print_group_note(VbContext *ctx, const VbReleasePlan *plan, const VbPciAddress *addr) {
        _cleanup_(vb_pci_list_done) VbPciList now = {};
        _cleanup_free_ char *stay = NULL, *host = NULL;
        size_t others = 0;

        if (plan->iommu_group < 0 || vb_pci_enumerate(ctx, &now) < 0)
                return;
        for (size_t i = 0; i < now.n; i++) {
                const VbPciDevice *m = &now.devices[i];
                bool mine = false;

                if (m->iommu_group != plan->iommu_group || vb_pci_device_is_bridge(m))
                        continue;
                /* in the release's reach: given back, or left alone on its host driver */
                for (size_t k = 0; k < plan->n; k++)
                        mine |= vb_pci_address_equal(&plan->entries[k].address, &m->address);
                if (mine) {
                        if (vb_iommu_member_blocks(m) &&
                            vb_join_append(&host, ", ", "%s on %s", VB_PCI_ADDRESS_STR(&m->address), m->driver) < 0)
                                return;
                        continue;
                }
                others++;
                if (vb_join_append(&stay, ", ", "%s on %s", VB_PCI_ADDRESS_STR(&m->address), m->driver ?: "no driver") <
                    0)
                        return;
        }
        if (others == 0)
                printf("IOMMU group %d: it has no other endpoint.\n", plan->iommu_group);
        else if (host)
                printf("IOMMU group %d: %s stay%s as %s; the group cannot go to a guest while %s "
                       "(vfio-bind release --take-group %s gives the whole group back, vfio-bind bind --take-group takes "
                       "it again).\n",
                       plan->iommu_group, stay, others == 1 ? "s" : "", others == 1 ? "it is" : "they are", host,
                       VB_PCI_ADDRESS_STR(addr));
        else
                printf("IOMMU group %d: %s stay%s as %s; no host driver took what was released, so the group can "
                       "still go to a guest.\n",
                       plan->iommu_group, stay, others == 1 ? "s" : "", others == 1 ? "it is" : "they are");
}

/* What the release did to one entry of the plan. */
static void print_release_result(const VbReleaseEntry *e, const VbReleaseResult *res) {
        const char *s = VB_PCI_ADDRESS_STR(&e->address);

        if (e->action == VB_RELEASE_LEAVE) {
                printf("%s: left alone: not passed through (on %s)\n", s, e->driver ?: "no driver");
                return;
        }
        if (res->mark_error < 0)
                fprintf(stderr,
                        "vfio-bind: Failed to mark %s as released (a running vfio-bindd may take it back): %s\n", s,
                        strerror(-res->mark_error));
        if (res->error < 0)
                fprintf(stderr, "vfio-bind: %s: releasing failed: %s (%s); now on %s\n", s,
                        vb_bind_result_explain(&res->release, res->error), strerror(-res->error),
                        res->release.driver_after ?: "no driver");
        else if (res->release.driver_after)
                printf("%s: released: driver_override cleared, now on %s (was %s)\n", s, res->release.driver_after,
                       res->release.driver_before ?: "no driver");
        else
                printf("%s: released: driver_override cleared; no host driver took it (was %s)\n", s,
                       res->release.driver_before ?: "no driver");
}

/* After the GPU that showed the console went back to the host: the boot framebuffer and the
 * framebuffer console bound again, and what could not be. */
static void print_console_back(const VbReleasePlan *plan, const VbReleaseApply *ap) {
        const VbConsoleRestore *rest = &ap->console;
        const char *owner = VB_PCI_ADDRESS_STR(&plan->console_owner);

        if (ap->console_result < 0)
                printf("console: giving it back failed: %s (bound again before that: %s)\n",
                       strerror(-ap->console_result), rest->rebound ?: "nothing");
        else if (ap->console_result > 0)
                printf("console: back on %s (%s showed it: %s); bound again: %s\n", rest->shown, owner,
                       plan->console_why, rest->rebound ?: "nothing (the GPU's driver brought it back)");
        else
                printf("console: not back (%s showed it: %s): %s; bound again: %s\n", owner, plan->console_why,
                       strna(rest->missing), rest->rebound ?: "nothing");
        if (ap->console_result > 0 && rest->missing)
                printf("console: %s\n", rest->missing);
}

/* release --dry-run: the plan, and nothing written. */
static void print_release_plan(const VbReleasePlan *plan) {
        for (size_t i = 0; i < plan->n; i++) {
                const VbReleaseEntry *e = &plan->entries[i];
                const char *s = VB_PCI_ADDRESS_STR(&e->address);

                if (e->action == VB_RELEASE_LEAVE)
                        printf("%s: would be left alone: not passed through (on %s)\n", s, e->driver ?: "no driver");
                else
                        printf("%s: would be released: on %s%s%s; driver_override cleared, the host's drivers "
                               "probed\n",
                               s, e->driver ?: "no driver", e->driver_override ? ", driver_override " : "",
                               strempty(e->driver_override));
        }
        if (plan->give_console_back)
                printf("console: would be given back after (%s showed it: %s)\n",
                       VB_PCI_ADDRESS_STR(&plan->console_owner), plan->console_why);
        printf("dry run: nothing written\n");
}

int vbc_release(const VbcArgs *a, const char *arg) {
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_(vb_snapshot_done) VbSnapshot s = {};
        _cleanup_(vb_release_plan_done) VbReleasePlan plan = {};
        _cleanup_(vb_release_apply_done) VbReleaseApply applied = {};
        VbPciAddress addr;
        int r;

        if (parse_address(arg, &addr) < 0)
                return 2;
        if (vbc_open_context(a, &ctx) < 0)
                return 1;
        /* the look: the devices, the console, and who holds them */
        r = vb_snapshot_read(ctx, vb_platform_runtime_dir(a->platform), &s);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Failed to look at the PCI devices: %s\n", strerror(-r));
                return 1;
        }
        r = vb_release_plan_compute(&s.devices, s.have_console ? &s.console : NULL, &s.holds, s.released, s.n_released,
                                    &addr, a->take_group, a->force, &plan);
        if (r == -ENODEV) {
                fprintf(stderr, "vfio-bind: %s: no such PCI device\n", VB_PCI_ADDRESS_STR(&addr));
                return 1;
        }
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Failed to plan the release: %s\n", strerror(-r));
                return 1;
        }
        if (plan.refusal) {
                fprintf(stderr, "vfio-bind: %s\n", plan.refusal);
                return 1;
        }
        /* Given back before (a second release of the group): done, nothing written. */
        if (plan.already_released) {
                for (size_t i = 0; i < plan.n; i++)
                        printf("%s: released already (on %s); nothing written\n",
                               VB_PCI_ADDRESS_STR(&plan.entries[i].address), plan.entries[i].driver ?: "no driver");
                return 0;
        }
        for (size_t i = 0; i < plan.n; i++)
                if (plan.entries[i].held)
                        fprintf(stderr, "vfio-bind: warning: %s is held: %s; --force releases it all the same\n",
                                VB_PCI_ADDRESS_STR(&plan.entries[i].address), plan.entries[i].held);
        if (a->dry_run) {
                print_release_plan(&plan);
                return 0;
        }
        r = vb_apply_release(ctx, &plan, vb_platform_runtime_dir(a->platform), &applied);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Failed to release: %s\n", strerror(-r));
                return 1;
        }
        for (size_t i = 0; i < plan.n; i++)
                print_release_result(&plan.entries[i], &applied.results[i]);
        print_group_note(ctx, &plan, &addr);
        if (applied.console_tried)
                print_console_back(&plan, &applied);
        if (applied.n_failed > 0)
                return 1;
        /* [Handoff] StopUnits=: what the bind stopped for these devices, started again */
        {
                _cleanup_free_ VbPciAddress *back = calloc(plan.n ?: 1, sizeof(VbPciAddress));
                size_t n = 0;

                if (!back)
                        return 1;
                for (size_t i = 0; i < plan.n; i++)
                        if (plan.entries[i].action == VB_RELEASE_GIVE_BACK)
                                back[n++] = plan.entries[i].address;
                if (vbc_handoff_start(a, back, n) < 0)
                        return 1;
        }
        return 0;
}
