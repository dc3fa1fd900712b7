/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The words of a plan: the names of actions and reasons, what a device's or a VirtualFunctions=
 * line's entry means, and the whole plan as check and --dry-run print it. */
#include <stdio.h>

#include "driver.h"
#include "iommu.h"
#include "macro.h"
#include "plan.h"
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

int vb_plan_entry_warnings(const VbPlanEntry *e, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *a = VB_PCI_ADDRESS_STR(&e->address);
        size_t n = 0;
        int r;

        if (e->warnings & VB_WARNING_NO_RESET) {
                r = strv_extend_printf(
                        &l, &n,
                        "%s has no reset method (the kernel shows no reset_method): VFIO cannot reset it when a guest "
                        "starts, reboots or stops, so it keeps whatever state the guest left; a guest reboot may need "
                        "a host reboot, and a device that shares a bus or slot with it (a GPU's audio function) may "
                        "need to go with it",
                        a);
                if (r < 0)
                        return r;
        }
        if (e->warnings & VB_WARNING_BEHIND_VMD) {
                r = strv_extend_printf(&l, &n,
                                       "%s is behind the VMD controller %s (Intel Volume Management Device): its DMA "
                                       "goes through that controller, so it cannot be passed through on its own; turn "
                                       "VMD off in the firmware setup to pass it",
                                       a, e->have_vmd ? VB_PCI_ADDRESS_STR(&e->vmd) : "of its domain");
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int vb_plan_format(const VbPlan *p, bool with_warnings, char **ret) {
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
                if (with_warnings && e->warnings) {
                        _cleanup_strv_free_ char **w = NULL;

                        if (vb_plan_entry_warnings(e, &w) < 0) {
                                fclose(f);
                                free(buf);
                                return -ENOMEM;
                        }
                        for (char **k = w; k && *k; k++)
                                fprintf(f, "warning: %s\n", *k);
                }
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
                for (size_t i = 0; i < p->n_modules; i++)
                        /* vfio_pci and a Driver= name as "the module of vfio-pci"; a variant by module. */
                        fprintf(f, "%s%s%s", i == 0 ? "" : ", ", p->modules[i].driver ? "the module of " : "module ",
                                p->modules[i].driver ?: p->modules[i].name);
                fprintf(f, " first (%s not registered yet)%s\n",
                        p->n_modules == 1 ? "its driver is" : "their drivers are",
                        p->release_console ? "; the console is released only once it is loaded" : "");
        }
        for (size_t i = 0; i < p->n_restore_autoprobe; i++)
                fprintf(f, "sr-iov: %s: sriov_drivers_autoprobe back on (an earlier run left it off)\n",
                        VB_PCI_ADDRESS_STR(&p->restore_autoprobe[i]));
        fprintf(f, "console: %s (%s)\n", p->release_console ? "release before binding" : "leave alone",
                strempty(p->console_reason));

        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}
