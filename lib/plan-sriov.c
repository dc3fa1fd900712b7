/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan of each VirtualFunctions= line: create the VFs, leave them, wait for the PF's driver,
 * or refuse, and why. */
#include <stdio.h>

#include "iommu.h"
#include "macro.h"
#include "plan-build.h"
#include "sriov.h"

/* One VirtualFunctions= line: what it comes to on this machine. Nothing is written for a PF
 * unless everything about it holds. */
static int plan_sriov_line(PlanBuild *b, const VbConfigVfs *v, VbPlanSriov *s) {
        const VbConfig *c = b->in->config;
        const VbPciDevice *pf = vb_pci_list_find(b->devices, &v->pf);
        char *detail = NULL;
        int r = 0;

        *s = (VbPlanSriov) { .pf = v->pf, .count = v->count, .file = v->file, .line = v->line };
        r = vb_plan_want_driver(b->in, b->in->vf_choices ? &b->in->vf_choices[v - c->vfs] : NULL, &s->driver,
                                &s->module, &s->registered, &s->driver_why);
        s->fallback = vb_plan_fallback(b->in, s->module);
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
        if (vb_plan_address_in(b->in->failed, b->in->n_failed, &v->pf)) {
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
                const VbConfigSelector *sel = vb_plan_device_selector(c, &s->vfs[i], pf->vendor, pf->sriov.vf_device);
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
                const VbConfigSelector *sel = vb_plan_device_selector(c, &pf->address, pf->vendor, pf->device);
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

int vb_plan_sriov(PlanBuild *b) {
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
