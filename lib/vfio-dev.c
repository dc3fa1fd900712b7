/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "macro.h"
#include "pci.h"
#include "sysfs.h"
#include "vfio-dev.h"

int vb_vfio_dev_node(VbContext *ctx, const VbPciAddress *a, char **ret) {
        _cleanup_(strv_freep) char **entries = NULL;
        const char *dir = VB_PCI_DEVICE_PATH(a, "vfio-dev");
        int r;

        if (!dir)
                return -ENAMETOOLONG;
        r = vb_sysfs_list(ctx, dir, &entries);
        if (r < 0)
                return r == -ENOMEM ? r : -ENOENT;
        for (char **e = entries; e && *e; e++)
                if (startswith(*e, "vfio") && (*e)[4] >= '0' && (*e)[4] <= '9')
                        return asprintf(ret, VB_VFIO_DEV_DIR "/devices/%s", *e) < 0 ? -ENOMEM : 0;
        return -ENOENT;
}
