/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "device-facts.h"
#include "driver.h"
#include "macro.h"
#include "pci.h"
#include "reset.h"
#include "vfio-dev.h"

/* The kernel's VMD driver gives the root bus behind the controller a domain of its own from
 * 10000 up (vmd_find_free_domain()); no other host bridge uses domains that high. */
#define VMD_FIRST_DOMAIN 0x10000u

void vb_device_facts_done(VbDeviceFacts *f) {
        if (!f)
                return;
        free(f->reset_methods);
        free(f->vfio_node);
        *f = (VbDeviceFacts) {};
}

int vb_device_facts_read(VbContext *ctx, const VbPciDevice *d, VbDeviceFacts *ret) {
        _cleanup_(vb_device_facts_done) VbDeviceFacts f = { .read = true };
        const VbPciAddress *a = &d->address;
        int r;

        /* What cannot be read stays unknown: these facts warn and inform, and a device that goes
         * away while it is looked at must not stop the look. */
        f.reset = vb_reset_read(ctx, a, &f.reset_methods);
        if (d->driver && vb_driver_is_vfio(d->driver)) {
                r = vb_vfio_dev_node(ctx, a, &f.vfio_node);
                if (r < 0)
                        vb_debug(ctx, "%s: no VFIO device node: %s", VB_PCI_ADDRESS_STR(a), strerror(-r));
        }
        if (a->domain >= VMD_FIRST_DOMAIN) {
                f.behind_vmd = true;
                f.have_vmd = vb_pci_device_behind_vmd(ctx, a, &f.vmd);
        }
        *ret = f;
        f = (VbDeviceFacts) {};
        return 0;
}
