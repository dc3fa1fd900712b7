/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-bind status and vfio-bind check: the configured devices against this machine. */
#include <stdio.h>

#include "apply.h"
#include "driver.h"
#include "iommu.h"
#include "libvirt-check.h"
#include "macro.h"
#include "output.h"
#include "reset.h"
#include "runtime.h"
#include "snapshot.h"
#include "strv.h"
#include "verbs.h"
#include "vfio-dev.h"

/* The members of E's IOMMU group that keep it from a guest and that the plan does not bind:
 * "0000:01:00.1 on snd_hda_intel, …", or NULL if there is none. */
static char *group_blockers(const VbSnapshot *s, const VbPlanEntry *e) {
        char *list = NULL;

        if (e->iommu_group < 0)
                return NULL;
        for (size_t i = 0; i < s->devices.n; i++) {
                const VbPciDevice *d = &s->devices.devices[i];
                const VbPlanEntry *m;

                if (d->iommu_group != e->iommu_group || !vb_iommu_member_blocks(d))
                        continue;
                m = vb_plan_find(&s->plan, &d->address);
                if (m && m->action == VB_ACTION_BIND)
                        continue;
                if (vb_join_append(&list, ", ", "%s on %s", VB_PCI_ADDRESS_STR(&d->address), d->driver) < 0) {
                        free(list);
                        return NULL;
                }
        }
        return list;
}

/* Why GROUP is what it is, and with ADVICE what would change it, indented under a problem. */
static void print_group_why(const VbSnapshot *s, int group, bool advice) {
        _cleanup_(vb_group_why_list_done) VbGroupWhyList why = {};
        _cleanup_strv_free_ char **change = NULL;

        if (vb_snapshot_group_why(s, group, &why) < 0 || (advice && vb_group_why_advice(&why, &change) < 0)) {
                printf("  (out of memory telling why group %d is what it is)\n", group);
                return;
        }
        for (size_t i = 0; i < why.n; i++)
                printf("  why together: %s\n", why.items[i].text);
        for (char **c = change; c && *c; c++)
                printf("  what would change it: %s\n", *c);
}

static bool entry_on_driver(const VbPlanEntry *e) {
        return vb_apply_on_driver(e, NULL);
}

static const char *reset_words(const VbDeviceFacts *f) {
        switch (f ? f->reset : -ENODEV) {
        case VB_RESET_METHODS:
                return f->reset_methods;
        case VB_RESET_UNKNOWN:
                return "supported (this kernel does not say how)";
        case VB_RESET_NONE:
                return "none";
        default:
                return "unknown";
        }
}

/* How many of the VFs of S are on their driver now. */
static size_t sriov_on_driver(const VbPlan *p, const VbPlanSriov *v) {
        size_t n = 0;
        for (size_t i = 0; i < v->n_vfs; i++) {
                const VbPlanEntry *e = vb_plan_find(p, &v->vfs[i]);
                if (e && entry_on_driver(e))
                        n++;
        }
        return n;
}

static void print_json(const VbConfig *c, const VbSnapshot *s, bool ok) {
        const VbPlan *p = &s->plan;
        FILE *f = stdout;

        fputs("{\n  \"files\": [", f);
        for (char **i = c->files; i && *i; i++) {
                fputs(i == c->files ? "" : ", ", f);
                vbc_json_string(f, *i);
        }
        fputs("],\n  \"driver\": ", f);
        vbc_json_string(f, c->driver);
        fprintf(f, ",\n  \"disabled\": %s,\n  \"iommu\": %s,\n  \"ok\": %s,\n  \"devices\": [",
                c->disabled ? "true" : "false", s->iommu_enabled ? "true" : "false", ok ? "true" : "false");
        for (size_t i = 0; i < p->n; i++) {
                const VbPlanEntry *e = &p->entries[i];
                _cleanup_free_ char *explain = NULL;
                const VbDeviceFacts *facts = e->present ? vb_snapshot_facts(s, &e->address) : NULL;

                (void) vb_plan_entry_explain(e, &explain);
                fprintf(f, "%s\n    {\"address\": \"%s\", \"selected\": %s, \"present\": %s", i ? "," : "",
                        VB_PCI_ADDRESS_STR(&e->address), e->selected ? "true" : "false", e->present ? "true" : "false");
                if (e->present)
                        fprintf(f, ", \"vendor\": \"%04x\", \"device\": \"%04x\", \"class\": \"%06x\"", e->vendor,
                                e->device, e->class);
                else
                        fputs(", \"vendor\": null, \"device\": null, \"class\": null", f);
                fputs(", \"driver\": ", f);
                vbc_json_string(f, e->driver_before);
                fputs(", \"wanted\": ", f);
                vbc_json_string(f, e->driver ?: e->module);
                fputs(", \"wanted_module\": ", f);
                vbc_json_string(f, e->module);
                fputs(", \"driver_choice\": ", f);
                vbc_json_string(f, e->driver_why);
                fputs(", \"reset_methods\": ", f);
                if (facts && facts->reset == VB_RESET_METHODS) {
                        fputc('[', f);
                        for (const char *w = facts->reset_methods; *w;) {
                                size_t n = strcspn(w, " ");
                                _cleanup_free_ char *one = strndup(w, n);
                                fputs(w == facts->reset_methods ? "" : ", ", f);
                                vbc_json_string(f, one);
                                w += n + (w[n] == ' ');
                        }
                        fputc(']', f);
                } else
                        fputs(facts && facts->reset == VB_RESET_NONE ? "[]" : "null", f);
                fputs(", \"group_node\": ", f);
                if (e->iommu_group >= 0)
                        fprintf(f, "\"" VB_VFIO_DEV_DIR "/%d\"", e->iommu_group);
                else
                        fputs("null", f);
                fputs(", \"device_node\": ", f);
                vbc_json_string(f, facts ? facts->vfio_node : NULL);
                fputs(", \"warnings\": [", f);
                {
                        _cleanup_strv_free_ char **w = NULL;

                        (void) vb_plan_entry_warnings(e, &w);
                        for (char **k = w; k && *k; k++) {
                                fputs(k == w ? "" : ", ", f);
                                vbc_json_string(f, *k);
                        }
                }
                fputc(']', f);
                fprintf(f, ", \"on_driver\": %s", entry_on_driver(e) ? "true" : "false");
                if (e->iommu_group >= 0)
                        fprintf(f, ", \"iommu_group\": %d, \"group_viable\": %s", e->iommu_group,
                                vb_iommu_group_viable(&s->devices, e->iommu_group) ? "true" : "false");
                else
                        fputs(", \"iommu_group\": null, \"group_viable\": false", f);
                /* Why its group holds more than it (null: a group of one, or none). */
                fputs(", \"group_why\": ", f);
                {
                        _cleanup_(vb_group_why_list_done) VbGroupWhyList why = {};
                        if (vb_snapshot_group_why(s, e->iommu_group, &why) < 0 || why.n == 0)
                                fputs("null", f);
                        else {
                                fputc('[', f);
                                for (size_t k = 0; k < why.n; k++) {
                                        fputs(k ? ", " : "", f);
                                        vbc_json_string(f, why.items[k].text);
                                }
                                fputc(']', f);
                        }
                }
                fprintf(f,
                        ", \"owns_console\": %s, \"action\": \"%s\", \"reason\": ", e->owns_console ? "true" : "false",
                        vb_action_to_string(e->action));
                vbc_json_string(f, e->action == VB_ACTION_REFUSE ? vb_plan_reason_to_string(e->reason) : NULL);
                fputs(", \"in_use\": ", f);
                vbc_json_string(f, e->in_use);
                fprintf(f, ", \"forced\": %s", e->forced ? "true" : "false");
                fputs(", \"explanation\": ", f);
                vbc_json_string(f, explain);
                fputc('}', f);
        }
        fputs(p->n ? "\n  ],\n" : "],\n", f);
        fputs("  \"unmatched\": [", f);
        for (size_t i = 0; i < p->n_unmatched; i++) {
                char sel[VB_SELECTOR_STRING_MAX];
                fputs(i ? ", " : "", f);
                vbc_json_string(f, vb_selector_format(&p->unmatched[i], sel));
        }
        fputs("],\n  \"sriov\": [", f);
        for (size_t i = 0; i < p->n_sriov; i++) {
                const VbPlanSriov *v = &p->sriov[i];
                _cleanup_free_ char *explain = NULL;

                (void) vb_plan_sriov_explain(v, &explain);
                fprintf(f, "%s\n    {\"pf\": \"%s\", \"count\": %u, \"file\": ", i ? "," : "",
                        VB_PCI_ADDRESS_STR(&v->pf), v->count);
                vbc_json_string(f, v->file);
                fprintf(f, ", \"line\": %u, \"action\": \"%s\", \"pf_driver\": ", v->line,
                        vb_sriov_action_to_string(v->action));
                vbc_json_string(f, v->pf_driver);
                if (v->action == VB_SRIOV_MISSING || (v->sriov.total == 0 && v->action == VB_SRIOV_REFUSE))
                        fputs(", \"totalvfs\": null, \"numvfs\": null", f);
                else
                        fprintf(f, ", \"totalvfs\": %u, \"numvfs\": %u", v->sriov.total, v->sriov.numvfs);
                fputs(", \"vfs\": [", f);
                for (size_t k = 0; k < v->n_vfs; k++)
                        fprintf(f, "%s\"%s\"", k ? ", " : "", VB_PCI_ADDRESS_STR(&v->vfs[k]));
                fprintf(f, "], \"vfs_on_driver\": %zu, \"explanation\": ", sriov_on_driver(p, v));
                vbc_json_string(f, explain);
                fputc('}', f);
        }
        fputs(p->n_sriov ? "\n  ],\n" : "],\n", f);
        fprintf(f,
                "  \"console\": {\"known\": %s, \"held\": %s, \"release\": \"%s\", \"would_release\": %s, \"reason\": ",
                s->have_console ? "true" : "false",
                s->have_console && vb_console_is_held(&s->console) ? "true" : "false",
                vb_release_policy_to_string(c->release), p->release_console ? "true" : "false");
        vbc_json_string(f, p->console_reason);
        fputs(", \"vtconsoles\": [", f);
        for (size_t i = 0; i < s->console.n_vtconsoles; i++) {
                const VbVtconsole *v = &s->console.vtconsoles[i];
                fprintf(f, "%s{\"name\": \"vtcon%u\", \"description\": ", i ? ", " : "", v->index);
                vbc_json_string(f, v->name);
                fprintf(f, ", \"bound\": %s, \"framebuffer\": %s}", v->bound ? "true" : "false",
                        v->framebuffer ? "true" : "false");
        }
        fputs("], \"framebuffers\": [", f);
        for (size_t i = 0; i < s->console.n_framebuffers; i++) {
                const VbFramebuffer *fb = &s->console.framebuffers[i];
                fprintf(f, "%s{\"name\": ", i ? ", " : "");
                vbc_json_string(f, fb->name);
                fputs(", \"driver\": ", f);
                vbc_json_string(f, fb->driver);
                fputs(", \"parent\": ", f);
                vbc_json_string(f, fb->has_parent ? VB_PCI_ADDRESS_STR(&fb->parent) : NULL);
                fputc('}', f);
        }
        fputs("]}\n}\n", f);
}

static void print_console(const VbSnapshot *s) {
        bool any = false;

        if (!s->have_console) {
                printf("Console: unknown (%s)\n", strerror(-s->console_error));
                return;
        }
        printf("Console:");
        for (size_t i = 0; i < s->console.n_vtconsoles; i++) {
                const VbVtconsole *v = &s->console.vtconsoles[i];
                if (!v->framebuffer)
                        continue;
                printf("%s vtcon%u %s", any ? "," : "", v->index, v->bound ? "bound" : "released");
                any = true;
        }
        for (size_t i = 0; i < s->console.n_framebuffers; i++) {
                const VbFramebuffer *fb = &s->console.framebuffers[i];
                printf("%s %s %s%s%s", any ? "," : "", fb->name, fb->driver ? "on " : "released", strempty(fb->driver),
                       fb->has_parent ? "" : "");
                any = true;
        }
        printf("%s\n", any ? "" : " no framebuffer console");
}

void vbc_status_json_failure(char *const *errors, size_t n) {
        fputs("{\n  \"ok\": false,\n  \"errors\": [", stdout);
        for (size_t i = 0; i < n; i++) {
                fputs(i == 0 ? "" : ", ", stdout);
                vbc_json_string(stdout, errors[i]);
        }
        fputs("]\n}\n", stdout);
}

/* ERRORS (may be NULL): what went wrong, for status --json. */
/* AT_BOOT: plan as vfio-bindd would at boot (check), not as a bind would now (status). */
static int take_snapshot(const VbcArgs *a, bool at_boot, VbContext **ret_ctx, VbConfig **ret_config, VbSnapshot *ret,
                         char ***errors, size_t *n_errors) {
        int r;

        r = vbc_open_context(a, ret_ctx);
        if (r < 0) {
                if (errors)
                        (void) strv_extend_printf(errors, n_errors, "Failed to open sysfs: %s", strerror(-r));
                return r;
        }
        r = vbc_load_config_full(a, *ret_ctx, ret_config, errors, n_errors);
        if (r < 0)
                return r;
        r = vb_snapshot_read(*ret_ctx, vb_platform_runtime_dir(a->platform), ret);
        if (r >= 0)
                r = vb_snapshot_read_groups(*ret_ctx, ret);
        if (r >= 0)
                r = vb_snapshot_read_reach(*ret_ctx, *ret_config, ret);
        if (r >= 0) {
                ret->at_boot = at_boot;
                r = vb_snapshot_plan(*ret_config, ret);
        }
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Failed to look at the PCI devices: %s\n", strerror(-r));
                if (errors)
                        (void) strv_extend_printf(errors, n_errors, "Failed to look at the PCI devices: %s",
                                                  strerror(-r));
        }
        return r;
}

int vbc_status(const VbcArgs *a) {
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        _cleanup_(vb_snapshot_done) VbSnapshot s = {};
        size_t width = strlen("DRIVER"), aw = strlen("0000:00:00.0");
        bool ok = true;
        _cleanup_strv_free_ char **errors = NULL;
        size_t n_errors = 0;

        if (take_snapshot(a, false, &ctx, &c, &s, a->json ? &errors : NULL, &n_errors) < 0) {
                if (a->json)
                        vbc_status_json_failure(errors, n_errors);
                return 1;
        }

        for (size_t i = 0; i < s.plan.n; i++) {
                const VbPlanEntry *e = &s.plan.entries[i];
                if (e->present && !entry_on_driver(e) && e->selected)
                        ok = false;
                if (e->driver_before && strlen(e->driver_before) > width)
                        width = strlen(e->driver_before);
                /* A domain above ffff (Intel VMD) makes the address longer. */
                if (strlen(VB_PCI_ADDRESS_STR(&e->address)) > aw)
                        aw = strlen(VB_PCI_ADDRESS_STR(&e->address));
        }

        for (size_t i = 0; i < s.plan.n_sriov; i++) {
                const VbPlanSriov *v = &s.plan.sriov[i];
                if (v->action != VB_SRIOV_LEAVE || sriov_on_driver(&s.plan, v) < v->count)
                        ok = false;
        }

        if (a->json) {
                print_json(c, &s, ok);
                return ok ? 0 : 1;
        }

        if (c->disabled)
                printf("vfio-bind=off is on the kernel command line: nothing is bound this boot.\n");
        printf("Driver: %s    IOMMU: %s\n", c->driver, s.iommu_enabled ? "on" : "off (no IOMMU groups)");
        if (s.plan.n == 0 && s.plan.n_unmatched == 0 && s.plan.n_sriov == 0)
                printf("No devices configured.\n");
        else {
                printf("%s%-*s  ", VBC_BOLD, (int) aw, "DEVICE");
                vbc_print_padded(stdout, "DRIVER", width);
                printf("  %-5s  STATE%s\n", "GROUP", VBC_RESET);
        }
        for (size_t i = 0; i < s.plan.n; i++) {
                const VbPlanEntry *e = &s.plan.entries[i];
                _cleanup_free_ char *explain = NULL;
                char group[16] = "-";
                bool on = entry_on_driver(e);

                (void) vb_plan_entry_explain(e, &explain);
                if (e->iommu_group >= 0)
                        snprintf(group, sizeof(group), "%d", e->iommu_group);
                printf("%-*s  ", (int) aw, VB_PCI_ADDRESS_STR(&e->address));
                vbc_print_padded(stdout, e->driver_before ?: "-", width);
                printf("  %-5s  ", group);
                if (!e->present)
                        printf("%snot present%s\n", VBC_YELLOW, VBC_RESET);
                else if (on && vb_iommu_group_viable(&s.devices, e->iommu_group))
                        printf("%sok%s, group ready for a guest\n", VBC_GREEN, VBC_RESET);
                else if (on) {
                        _cleanup_free_ char *blockers = group_blockers(&s, e);
                        printf("%sok%s, but the group cannot go to a guest: %s\n", VBC_GREEN, VBC_RESET,
                               e->detail ?: blockers ?: "it has no IOMMU group");
                } else if (e->driver)
                        printf("%snot on %s%s: %s\n", VBC_RED, e->driver, VBC_RESET, strempty(explain));
                else /* a variant whose module is not loaded: its driver's name is not known yet */
                        printf("%snot on the driver of module %s%s: %s\n", VBC_RED, strna(e->module), VBC_RESET,
                               strempty(explain));
                if (e->present) {
                        const VbDeviceFacts *facts = vb_snapshot_facts(&s, &e->address);
                        const char *node = facts ? facts->vfio_node : NULL;

                        if (e->driver_why)
                                printf("%-*s  driver: %s\n", (int) aw, "", e->driver_why);
                        printf("%-*s  reset: %s", (int) aw, "", reset_words(facts));
                        if (on && e->iommu_group >= 0)
                                printf("; nodes: " VB_VFIO_DEV_DIR "/%d%s%s", e->iommu_group, node ? ", " : "",
                                       strempty(node));
                        putchar('\n');
                }
        }
        for (size_t i = 0; i < s.plan.n_unmatched; i++) {
                char sel[VB_SELECTOR_STRING_MAX];
                printf("%-*s  ", (int) aw, vb_selector_format(&s.plan.unmatched[i], sel));
                vbc_print_padded(stdout, "-", width);
                printf("  %-5s  %smatches no device%s\n", "-", VBC_YELLOW, VBC_RESET);
        }
        for (size_t i = 0; i < s.plan.n_sriov; i++) {
                const VbPlanSriov *v = &s.plan.sriov[i];
                _cleanup_free_ char *explain = NULL;
                size_t on = sriov_on_driver(&s.plan, v);

                (void) vb_plan_sriov_explain(v, &explain);
                printf("Virtual functions of %s (%s): ", VB_PCI_ADDRESS_STR(&v->pf), v->pf_driver ?: "no driver");
                if (v->action == VB_SRIOV_LEAVE)
                        printf("%s%zu/%u on %s%s\n", on == v->count ? VBC_GREEN : VBC_RED, on, v->count, v->driver,
                               VBC_RESET);
                else
                        printf("%s%s%s\n", v->action == VB_SRIOV_REFUSE ? VBC_RED : VBC_YELLOW, strempty(explain),
                               VBC_RESET);
        }
        print_console(&s);
        return ok ? 0 : 1;
}

int vbc_check(const VbcArgs *a) {
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        _cleanup_(vb_snapshot_done) VbSnapshot s = {};
        _cleanup_free_ char *text = NULL;
        unsigned problems = 0, warnings = 0;

        if (take_snapshot(a, true, &ctx, &c, &s, NULL, NULL) < 0)
                return 1;
        if (vb_plan_format(&s.plan, false, &text) < 0) {
                fprintf(stderr, "vfio-bind: Out of memory\n");
                return 1;
        }

        printf("Configuration: ");
        for (char **i = c->files; i && *i; i++)
                printf("%s%s", i == c->files ? "" : ", ", *i);
        printf("%s\nDriver %s, Group=%s, UnbindHost=%s, Release=%s\n\n%s",
               c->files && c->files[0] ? "" : "(none found)", c->driver, vb_group_policy_to_string(c->group),
               c->unbind_host ? "yes" : "no", vb_release_policy_to_string(c->release), text);
        /* How each device to be passed can be reset: what a guest's reboot will need. */
        for (size_t i = 0; i < s.plan.n; i++) {
                const VbPlanEntry *e = &s.plan.entries[i];

                if (!e->present || (e->action != VB_ACTION_BIND && e->action != VB_ACTION_LEAVE))
                        continue;
                printf("%s: reset: %s\n", VB_PCI_ADDRESS_STR(&e->address),
                       reset_words(vb_snapshot_facts(&s, &e->address)));
        }

#define PROBLEM(...)                                         \
        do {                                                 \
                printf("%sproblem:%s ", VBC_RED, VBC_RESET); \
                printf(__VA_ARGS__);                         \
                putchar('\n');                               \
                problems++;                                  \
        } while (0)
#define WARNING(...)                                            \
        do {                                                    \
                printf("%swarning:%s ", VBC_YELLOW, VBC_RESET); \
                printf(__VA_ARGS__);                            \
                putchar('\n');                                  \
                warnings++;                                     \
        } while (0)
        if (c->n_selectors == 0 && c->n_vfs == 0)
                PROBLEM("no devices are configured: add Device= (or VirtualFunctions=) to [Bind]");
        if (c->disabled)
                WARNING("vfio-bind=off is on the kernel command line of this boot");
        if (s.holds_error)
                WARNING("cannot tell completely what the host uses (mounts, swap, network): %s",
                        strerror(-s.holds_error));
        if (!s.iommu_enabled)
                PROBLEM("the IOMMU is off: %s", vb_iommu_hint(s.cpu_vendor));
        if (!vb_config_driver_auto(c) && !streq(c->driver, VB_DRIVER_PLAIN) && !s.driver_loaded)
                WARNING("driver %s is not loaded now; vfio-bindd will load its module at boot", c->driver);
        for (size_t i = 0; i < s.plan.n; i++) {
                const VbPlanEntry *e = &s.plan.entries[i];
                const char *addr = VB_PCI_ADDRESS_STR(&e->address);
                _cleanup_free_ char *explain = NULL;

                (void) vb_plan_entry_explain(e, &explain);
                if (e->action == VB_ACTION_MISSING)
                        PROBLEM("%s is not present on this machine", addr);
                else if (e->action == VB_ACTION_REFUSE) {
                        if (e->reason == VB_REASON_HOST_DRIVER)
                                WARNING("%s: %s; at boot vfio-bindd runs before that driver loads from udev or "
                                        "modules-load, but not before the initrd",
                                        addr, explain);
                        else if (e->reason == VB_REASON_RELEASED || e->reason == VB_REASON_DISABLED ||
                                 e->reason == VB_REASON_BRIDGE)
                                WARNING("%s: %s", addr, explain);
                        else if (e->reason != VB_REASON_NO_IOMMU || s.iommu_enabled) {
                                PROBLEM("%s: %s", addr, explain);
                                if (e->reason == VB_REASON_GROUP || e->reason == VB_REASON_GROUP_MEMBER)
                                        print_group_why(&s, e->iommu_group, e->reason == VB_REASON_GROUP);
                        }
                } else if (e->action == VB_ACTION_LEAVE && e->detail)
                        PROBLEM("%s: %s", addr, e->detail);
                else if (e->action == VB_ACTION_BIND && e->forced)
                        WARNING("%s: FORCED by Force=: it will be bound although the host uses it: %s", addr,
                                e->in_use);
                if (e->action == VB_ACTION_BIND) {
                        _cleanup_free_ char *programs = NULL;

                        (void) vb_holds_describe(&s.holds, &e->address, VB_HOLD_MASK(VB_HOLD_PROGRAM), &programs);
                        if (programs)
                                WARNING("%s is held now: %s; at boot vfio-bindd binds it before these start, but "
                                        "vfio-bind bind refuses it while they hold it (--force takes it anyway)",
                                        addr, programs);
                }
                /* Under Group=ignore the plan does not look at the group, but a guest will. */
                if (c->group == VB_GROUP_IGNORE && (e->action == VB_ACTION_BIND || e->action == VB_ACTION_LEAVE)) {
                        _cleanup_free_ char *blockers = group_blockers(&s, e);
                        if (blockers)
                                WARNING("%s: its IOMMU group %d cannot go to a guest as it stands: %s (Group=ignore "
                                        "does not check it; a VM that opens the group will be refused with \"group "
                                        "%d is not viable\")",
                                        addr, e->iommu_group, blockers, e->iommu_group);
                        if (blockers)
                                print_group_why(&s, e->iommu_group, true);
                }
                if (e->warnings) {
                        _cleanup_strv_free_ char **w = NULL;

                        if (vb_plan_entry_warnings(e, &w) < 0) {
                                fprintf(stderr, "vfio-bind: Out of memory\n");
                                return 1;
                        }
                        for (char **k = w; *k; k++)
                                WARNING("%s", *k);
                }
        }
        for (size_t i = 0; i < s.plan.n_unmatched; i++) {
                char sel[VB_SELECTOR_STRING_MAX];
                PROBLEM("%s matches no device on this machine", vb_selector_format(&s.plan.unmatched[i], sel));
        }
        for (size_t i = 0; i < s.plan.n_sriov; i++) {
                const VbPlanSriov *v = &s.plan.sriov[i];
                _cleanup_free_ char *explain = NULL;

                (void) vb_plan_sriov_explain(v, &explain);
                if (v->action == VB_SRIOV_MISSING)
                        PROBLEM("%s:%u: VirtualFunctions=: %s is not present on this machine", v->file, v->line,
                                VB_PCI_ADDRESS_STR(&v->pf));
                else if (v->action == VB_SRIOV_REFUSE)
                        PROBLEM("%s:%u: VirtualFunctions= for %s: %s", v->file, v->line, VB_PCI_ADDRESS_STR(&v->pf),
                                strna(explain));
                else if (v->action == VB_SRIOV_WAIT)
                        WARNING("%s: %s; vfio-bindd creates its virtual functions once its driver binds",
                                VB_PCI_ADDRESS_STR(&v->pf), strna(explain));
        }
        /* libvirt's domains: how their host devices get to VFIO */
        {
                _cleanup_strv_free_ char **w = NULL;
                size_t n_w = 0;

                if (vbc_libvirt_check(a, &s, &w, &n_w) < 0) {
                        fprintf(stderr, "vfio-bind: Out of memory\n");
                        return 1;
                }
                for (size_t i = 0; i < n_w; i++)
                        WARNING("%s", w[i]);
        }
#undef PROBLEM
#undef WARNING
        if (problems)
                printf("\n%u problem%s, %u warning%s: fix the problems before rebooting.\n", problems,
                       problems == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
        else
                printf("\nOK, %u warning%s: vfio-bindd would bind %zu device%s at boot (%zu already on %s).\n",
                       warnings, warnings == 1 ? "" : "s", vb_plan_count(&s.plan, VB_ACTION_BIND),
                       vb_plan_count(&s.plan, VB_ACTION_BIND) == 1 ? "" : "s", vb_plan_count(&s.plan, VB_ACTION_LEAVE),
                       vb_config_driver_auto(c) ? "their VFIO driver" : c->driver);
        return problems ? 1 : 0;
}
