/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "snapshot.h"
#include "driver.h"
#include "iommu.h"
#include "macro.h"
#include "modalias.h"
#include "reach.h"
#include "runtime.h"
#include "selector-index.h"
#include "sysfs.h"

void vb_snapshot_done(VbSnapshot *s) {
        if (!s)
                return;
        for (size_t i = 0; s->facts && i < s->devices.n; i++)
                vb_device_facts_done(&s->facts[i]);
        free(s->facts);
        vb_pci_list_done(&s->devices);
        vb_console_state_done(&s->console);
        vb_holds_done(&s->holds);
        free(s->released);
        free(s->failed);
        free(s->stuck);
        for (size_t i = 0; i < s->n_choices; i++)
                vb_driver_choice_done(&s->choices[i]);
        free(s->choices);
        for (size_t i = 0; i < s->n_vf_choices; i++)
                vb_driver_choice_done(&s->vf_choices[i]);
        free(s->vf_choices);
        free(s->autoprobe_off);
        vb_plan_done(&s->plan);
        vb_group_look_done(&s->group_look);
        *s = (VbSnapshot) {};
}

int vb_snapshot_read(VbContext *ctx, const char *runtime_dir, VbSnapshot *ret) {
        _cleanup_(vb_snapshot_done) VbSnapshot s = {};
        int r;

        r = vb_pci_enumerate(ctx, &s.devices);
        if (r < 0)
                return r;
        s.iommu_enabled = vb_iommu_enabled(ctx);
        if (!s.iommu_enabled)
                s.cpu_vendor = vb_iommu_read_cpu_vendor(ctx);

        r = vb_console_read(ctx, &s.console);
        s.have_console = r >= 0;
        if (r < 0) {
                s.console_error = r;
                vb_debug(ctx, "cannot read the console state: %s", strerror(-r));
        }

        r = vb_interlock_read(ctx, s.have_console ? &s.console : NULL, &s.devices, &s.holds);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                s.holds_error = r;

        s.facts = calloc(s.devices.n ?: 1, sizeof(VbDeviceFacts));
        if (!s.facts)
                return -ENOMEM;

        if (runtime_dir) {
                r = vb_runtime_list_released(runtime_dir, &s.released, &s.n_released);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        vb_debug(ctx, "cannot read %s/released, ignoring: %s", runtime_dir, strerror(-r));
                r = vb_runtime_list(runtime_dir, VB_MARK_AUTOPROBE_OFF, &s.autoprobe_off, &s.n_autoprobe_off);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        vb_debug(ctx, "cannot read the autoprobe marks under %s, ignoring: %s", runtime_dir,
                                 strerror(-r));
        }

        *ret = s;
        s = (VbSnapshot) {};
        return 0;
}

int vb_snapshot_read_groups(VbContext *ctx, VbSnapshot *s) {
        vb_group_look_done(&s->group_look);
        if (!s->iommu_enabled)
                return 0;
        return vb_group_look_read(ctx, &s->devices, &s->group_look);
}

int vb_snapshot_group_why(const VbSnapshot *s, int group, VbGroupWhyList *ret) {
        return vb_group_why_explain(&s->devices, &s->group_look, group, ret);
}

static void choices_free(VbDriverChoice **l, size_t *n) {
        for (size_t i = 0; i < *n; i++)
                vb_driver_choice_done(&(*l)[i]);
        free(*l);
        *l = NULL;
        *n = 0;
}

/* The alias the VFs of PF will have: the PF's vendor, subsystem and class, sriov_vf_device. */
static int vf_alias(VbContext *ctx, const VbPciDevice *pf, char **ret) {
        char buf[VB_MODALIAS_MAX], vfio[VB_MODALIAS_MAX + 16];
        uint32_t sv = 0, sd = 0;
        int r;

        (void) vb_sysfs_read_u32(ctx, VB_PCI_DEVICE_PATH(&pf->address, "subsystem_vendor"), &sv);
        (void) vb_sysfs_read_u32(ctx, VB_PCI_DEVICE_PATH(&pf->address, "subsystem_device"), &sd);
        r = vb_modalias_format_pci(pf->vendor, pf->sriov.vf_device, sv, sd, pf->class, buf, sizeof(buf));
        if (r >= 0)
                r = vb_modalias_to_vfio(buf, vfio, sizeof(vfio));
        if (r < 0)
                return r;
        *ret = strdup(vfio);
        return *ret ? 0 : -ENOMEM;
}

static int read_facts(VbContext *ctx, VbSnapshot *s, size_t i) {
        if (s->facts[i].read)
                return 0;
        return vb_device_facts_read(ctx, &s->devices.devices[i], &s->facts[i]);
}

int vb_snapshot_read_facts(VbContext *ctx, VbSnapshot *s) {
        for (size_t i = 0; i < s->devices.n; i++)
                if (!vb_pci_device_is_bridge(&s->devices.devices[i])) {
                        int r = read_facts(ctx, s, i);
                        if (r < 0)
                                return r;
                }
        return 0;
}

const VbDeviceFacts *vb_snapshot_facts(const VbSnapshot *s, const VbPciAddress *a) {
        const VbPciDevice *d = vb_pci_list_find(&s->devices, a);
        const VbDeviceFacts *f = d && s->facts ? &s->facts[d - s->devices.devices] : NULL;

        return f && f->read ? f : NULL;
}

/* What the plan may bind: a device a selector picks, a VF of a VirtualFunctions= PF, and under
 * Group=check or take the other members of their IOMMU groups; none of them a bridge. Their
 * facts, and under Driver=auto their driver choices (kept in the devices' order, by address),
 * and the choices for each PF's VFs to be. */
int vb_snapshot_read_reach(VbContext *ctx, const VbConfig *c, VbSnapshot *s) {
        _cleanup_(vb_selector_index_freep) VbSelectorIndex *selectors = NULL;
        _cleanup_free_ bool *wanted = NULL;
        _cleanup_free_ int *groups = NULL;
        bool is_auto = vb_config_driver_auto(c);
        size_t n_groups = 0;
        int r;

        choices_free(&s->choices, &s->n_choices);
        choices_free(&s->vf_choices, &s->n_vf_choices);
        s->driver_loaded = vb_driver_exists(ctx, is_auto ? VB_DRIVER_PLAIN : c->driver);
        s->choices = calloc(s->devices.n ?: 1, sizeof(VbDriverChoice));
        s->vf_choices = calloc(c->n_vfs ?: 1, sizeof(VbDriverChoice));
        wanted = calloc(s->devices.n ?: 1, sizeof(bool));
        groups = calloc(s->devices.n ?: 1, sizeof(int));
        if (!s->choices || !s->vf_choices || !wanted || !groups)
                return -ENOMEM;
        r = vb_selector_index_new(&selectors, c->selectors, c->n_selectors);
        if (r < 0)
                return r;
        /* What the plan selects, then the members of their groups (vb_reach() with the groups, for
         * what it does not select, without asking the selectors twice). */
        for (size_t i = 0; i < s->devices.n; i++) {
                const VbPciDevice *d = &s->devices.devices[i];

                wanted[i] = !vb_pci_device_is_bridge(d) &&
                            vb_reach_selects(vb_reach(c, selectors, &(VbReachDevice) VB_REACH_DEVICE(d), NULL, 0));
                if (wanted[i] && d->iommu_group >= 0)
                        groups[n_groups++] = d->iommu_group;
        }
        n_groups = vb_reach_groups_sort(groups, n_groups);
        for (size_t i = 0; i < s->devices.n; i++) {
                const VbPciDevice *d = &s->devices.devices[i];

                if (!wanted[i] && (vb_pci_device_is_bridge(d) ||
                                   !vb_reach_in_groups(c, &(VbReachDevice) VB_REACH_DEVICE(d), groups, n_groups)))
                        continue;
                r = read_facts(ctx, s, i);
                if (r < 0)
                        return r;
                if (!is_auto)
                        continue;
                r = vb_driver_choice_read(ctx, &d->address, &s->choices[s->n_choices]);
                if (r < 0)
                        return r;
                s->n_choices++;
        }
        for (size_t i = 0; is_auto && i < c->n_vfs; i++) {
                const VbPciDevice *pf = vb_pci_list_find(&s->devices, &c->vfs[i].pf);
                _cleanup_free_ char *alias = NULL;

                r = pf && pf->has_sriov ? vf_alias(ctx, pf, &alias) : -ENODEV;
                if (r == -ENOMEM)
                        return r;
                r = vb_driver_choice_lookup(ctx, &c->vfs[i].pf, alias, r < 0 ? r : 0, &s->vf_choices[i]);
                if (r < 0)
                        return r;
                s->n_vf_choices++;
        }
        return 0;
}

int vb_snapshot_plan(const VbConfig *c, VbSnapshot *s) {
        VbPlan plan = {};
        int r;

        r = vb_plan_compute(
                &(VbPlanInput) {
                        .config = c,
                        .devices = &s->devices,
                        .facts = s->facts,
                        .iommu_enabled = s->iommu_enabled,
                        .cpu_vendor = s->cpu_vendor,
                        .console = s->have_console ? &s->console : NULL,
                        .holds = &s->holds,
                        .released = s->released,
                        .n_released = s->n_released,
                        .failed = s->failed,
                        .n_failed = s->n_failed,
                        .stuck = s->stuck,
                        .n_stuck = s->n_stuck,
                        .autoprobe_off = s->autoprobe_off,
                        .n_autoprobe_off = s->n_autoprobe_off,
                        .at_boot = s->at_boot,
                        .driver_loaded = s->driver_loaded,
                        .choices = s->choices,
                        .n_choices = s->n_choices,
                        .vf_choices = s->n_vf_choices ? s->vf_choices : NULL,
                },
                &plan);
        if (r < 0)
                return r;
        vb_plan_done(&s->plan);
        s->plan = plan;
        return 0;
}

int vb_snapshot_take(VbContext *ctx, const VbConfig *c, const char *runtime_dir, VbSnapshot *ret) {
        _cleanup_(vb_snapshot_done) VbSnapshot s = {};
        int r;

        r = vb_snapshot_read(ctx, runtime_dir, &s);
        if (r < 0)
                return r;
        r = vb_snapshot_read_reach(ctx, c, &s);
        if (r < 0)
                return r;
        r = vb_snapshot_plan(c, &s);
        if (r < 0)
                return r;
        *ret = s;
        s = (VbSnapshot) {};
        return 0;
}

void vb_snapshot_forget_release(VbSnapshot *s, const VbPciAddress *a) {
        for (size_t i = 0; i < s->n_released;)
                if (vb_pci_address_equal(&s->released[i], a))
                        s->released[i] = s->released[--s->n_released];
                else
                        i++;
}
