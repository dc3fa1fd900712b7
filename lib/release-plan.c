/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "driver.h"
#include "macro.h"
#include "release-plan.h"

static const char *const release_action_table[_VB_RELEASE_ACTION_MAX] = {
        [VB_RELEASE_GIVE_BACK] = "give-back",
        [VB_RELEASE_LEAVE] = "leave",
};

const char *vb_release_action_to_string(VbReleaseAction a) {
        return a >= 0 && a < _VB_RELEASE_ACTION_MAX ? release_action_table[a] : NULL;
}

void vb_release_plan_done(VbReleasePlan *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                free(p->entries[i].held);
        free(p->entries);
        free(p->refusal);
        *p = (VbReleasePlan) { .iommu_group = -1 };
}

bool vb_release_is_passed_through(const VbPciDevice *d) {
        return vb_driver_is_vfio(d->driver) || vb_driver_is_vfio(d->driver_override);
}

/* "on ahci", "on no driver, driver_override pci-stub": where a device that is not passed
 * through is. */
static char *where_words(const VbPciDevice *d) {
        char *s;

        if (asprintf(&s, "on %s%s%s", d->driver ?: "no driver", d->driver_override ? ", driver_override " : "",
                     strempty(d->driver_override)) < 0)
                return NULL;
        return s;
}

static int refuse(VbReleasePlan *p, const VbPciDevice *d, bool group) {
        _cleanup_free_ char *where = where_words(d);

        if (!where ||
            asprintf(&p->refusal, "%s is not passed through (%s)%s; nothing to release",
                     VB_PCI_ADDRESS_STR(&d->address), where, group ? ", nor is the rest of its IOMMU group" : "") < 0) {
                p->refusal = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* "0000:01:00.0 is held: /dev/vfio/1 is open in PID 900 (qemu-system-x86, …); a VM has it, and
 * the kernel's unbind waits until it lets go: shut the VM down first (--force releases it all the
 * same)", for the first entry given back that a process holds. */
static int refuse_held(VbReleasePlan *p) {
        for (size_t i = 0; i < p->n; i++) {
                const VbReleaseEntry *e = &p->entries[i];

                if (!e->held)
                        continue;
                if (asprintf(&p->refusal,
                             "%s is held: %s; the kernel's unbind waits until that lets it go (a VM: shut it down "
                             "first; --force releases it all the same)",
                             VB_PCI_ADDRESS_STR(&e->address), e->held) < 0) {
                        p->refusal = NULL;
                        return -ENOMEM;
                }
                return 0;
        }
        return 0;
}

/* Did vfio-bind give A back before (a release mark)? */
static bool was_released(const VbPciAddress *released, size_t n_released, const VbPciAddress *a) {
        for (size_t i = 0; i < n_released; i++)
                if (vb_pci_address_equal(&released[i], a))
                        return true;
        return false;
}

int vb_release_plan_compute(const VbPciList *devices, const VbConsoleState *console, const VbHolds *holds,
                            const VbPciAddress *released, size_t n_released, const VbPciAddress *address,
                            bool take_group, bool force, VbReleasePlan *ret) {
        _cleanup_(vb_release_plan_done) VbReleasePlan p = { .iommu_group = -1 };
        const VbPciDevice *d;
        int r = 0;

        d = vb_pci_list_find(devices, address);
        if (!d)
                return -ENODEV;
        p.iommu_group = d->iommu_group;
        if (vb_pci_device_is_bridge(d)) {
                if (asprintf(&p.refusal, "%s is a bridge; bridges are never bound or released",
                             VB_PCI_ADDRESS_STR(address)) < 0) {
                        p.refusal = NULL;
                        return -ENOMEM;
                }
                *ret = p;
                p = (VbReleasePlan) { .iommu_group = -1 };
                return 0;
        }
        p.entries = calloc(devices->n, sizeof(VbReleaseEntry));
        if (!p.entries)
                return -ENOMEM;

        /* The named device first, then the rest of its group in address order. */
        for (size_t pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < devices->n; i++) {
                        const VbPciDevice *m = &devices->devices[i];
                        bool named = vb_pci_address_equal(&m->address, address);
                        bool gives_back;

                        if (pass == 0 ? !named
                                      : named || !take_group || d->iommu_group < 0 ||
                                                m->iommu_group != d->iommu_group || vb_pci_device_is_bridge(m))
                                continue;
                        gives_back = vb_release_is_passed_through(m);
                        p.entries[p.n++] = (VbReleaseEntry) {
                                .address = m->address,
                                .action = gives_back ? VB_RELEASE_GIVE_BACK : VB_RELEASE_LEAVE,
                                .driver = m->driver,
                                .driver_override = m->driver_override,
                        };
                        if (gives_back) {
                                VbReleaseEntry *e = &p.entries[p.n - 1];

                                p.n_give_back++;
                                if (holds &&
                                    vb_holds_describe(holds, &m->address, VB_HOLD_MASK(VB_HOLD_PROGRAM), &e->held) < 0)
                                        return -ENOMEM;
                                /* The GPU that showed the console (or a member released with it)
                                 * gets it back after. */
                                if (!p.give_console_back && console &&
                                    vb_console_owned_by(console, m, &p.console_why)) {
                                        p.give_console_back = true;
                                        p.console_owner = m->address;
                                }
                        }
                }

        /* Nothing in reach is passed through: a release would only bounce host drivers. It is done
         * already if vfio-bind gave any of it back before (the group's other function, released
         * with --take-group a moment ago); else the address is not one vfio-bind passed. */
        if (p.n_give_back == 0) {
                for (size_t i = 0; i < p.n; i++)
                        p.already_released |= was_released(released, n_released, &p.entries[i].address);
                if (!p.already_released)
                        r = refuse(&p, d, p.n > 1);
        } else {
                for (size_t i = 0; i < p.n; i++)
                        p.forced |= force && p.entries[i].held;
                if (!force)
                        r = refuse_held(&p);
        }
        if (r < 0)
                return r;
        *ret = p;
        p = (VbReleasePlan) { .iommu_group = -1 };
        return 0;
}
