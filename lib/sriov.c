/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <time.h>

#include "macro.h"
#include "pci.h"
#include "sriov.h"
#include "sysfs.h"
#include "time-util.h"

static const char *const step_table[_VB_SRIOV_STEP_MAX] = {
        [VB_SRIOV_STEP_NONE] = "nothing",
        [VB_SRIOV_STEP_AUTOPROBE_OFF] = "switching sriov_drivers_autoprobe off",
        [VB_SRIOV_STEP_NUMVFS] = "writing sriov_numvfs",
        [VB_SRIOV_STEP_WAIT] = "waiting for the virtual functions to appear",
        [VB_SRIOV_STEP_OVERRIDE] = "writing a virtual function's driver_override",
        [VB_SRIOV_STEP_AUTOPROBE_ON] = "switching sriov_drivers_autoprobe back on",
};

const char *vb_sriov_step_to_string(VbSriovStep s) {
        return s >= 0 && s < _VB_SRIOV_STEP_MAX ? step_table[s] : NULL;
}

int vb_sriov_vf_address(const VbPciAddress *pf, const VbSriov *s, unsigned index, VbPciAddress *ret) {
        uint64_t rid = ((uint64_t) pf->bus << 8 | (uint64_t) pf->slot << 3 | pf->function) + s->offset +
                       (uint64_t) index * s->stride;

        if (rid > 0xffff)
                return -ERANGE;
        *ret = (VbPciAddress) {
                .domain = pf->domain,
                .bus = (uint8_t) (rid >> 8),
                .slot = (uint8_t) ((rid >> 3) & 0x1f),
                .function = (uint8_t) (rid & 7),
        };
        return 0;
}

void vb_sriov_enable_done(VbSriovEnable *e) {
        if (!e)
                return;
        free(e->vfs);
        *e = (VbSriovEnable) {};
}

static int write_attr(VbContext *ctx, const VbPciAddress *pf, const char *attr, const char *value) {
        const char *path = VB_PCI_DEVICE_PATH(pf, attr);
        return path ? vb_sysfs_write(ctx, path, value) : -ENAMETOOLONG;
}

int vb_sriov_autoprobe_on(VbContext *ctx, const VbPciAddress *pf) {
        return write_attr(ctx, pf, "sriov_drivers_autoprobe", "1");
}

/* The VF behind the PF's virtfnINDEX link, or -ENOENT while it is not there. */
static int virtfn(VbContext *ctx, const VbPciAddress *pf, unsigned index, VbPciAddress *ret) {
        _cleanup_free_ char *name = NULL;
        char attr[32];
        int r;

        snprintf(attr, sizeof(attr), "virtfn%u", index);
        r = vb_sysfs_readlink_basename(ctx, VB_PCI_DEVICE_PATH(pf, attr), &name);
        if (r < 0)
                return r;
        return vb_pci_address_parse(name, ret) < 0 ? -EBADMSG : 0;
}

int vb_sriov_enable(VbContext *ctx, const VbPciAddress *pf, const VbSriov *s, unsigned count, const char *driver,
                    uint64_t timeout_usec, VbSriovEnable *ret) {
        _cleanup_(vb_sriov_enable_done) VbSriovEnable e = {};
        uint64_t deadline;
        char number[16];
        int r;

        e.vfs = calloc(count ?: 1, sizeof(VbPciAddress));
        if (!e.vfs)
                return -ENOMEM;

        if (s->autoprobe) {
                e.failed_step = VB_SRIOV_STEP_AUTOPROBE_OFF;
                r = write_attr(ctx, pf, "sriov_drivers_autoprobe", "0");
                if (r < 0)
                        goto fail;
                e.autoprobe_was_on = true;
        }

        e.failed_step = VB_SRIOV_STEP_NUMVFS;
        snprintf(number, sizeof(number), "%u", count);
        r = write_attr(ctx, pf, "sriov_numvfs", number);
        if (r < 0)
                goto fail;

        /* The kernel adds the VFs before the write returns; a few polls cover a slower path. */
        e.failed_step = VB_SRIOV_STEP_WAIT;
        deadline = vb_now_usec() + timeout_usec;
        for (;;) {
                while (e.created < count && virtfn(ctx, pf, e.created, &e.vfs[e.created]) >= 0)
                        e.created++;
                if (e.created == count || vb_now_usec() >= deadline)
                        break;
                (void) nanosleep(&(struct timespec) { .tv_nsec = 10 * 1000 * 1000 }, NULL);
        }
        if (e.created < count) {
                r = -ETIMEDOUT;
                goto fail;
        }

        e.failed_step = VB_SRIOV_STEP_OVERRIDE;
        for (unsigned i = 0; i < e.created; i++) {
                r = write_attr(ctx, &e.vfs[i], "driver_override", driver);
                if (r < 0)
                        goto fail;
        }
        e.failed_step = VB_SRIOV_STEP_NONE;
        r = 0;

fail:
        e.error = r;
        if (e.autoprobe_was_on) {
                /* Back as it was, also after a failure: VFs created so far carry the override or
                 * have no driver, and a VF still without an override is bound by the next pass
                 * only if nothing probes it first, which the failure's report says. */
                int k = write_attr(ctx, pf, "sriov_drivers_autoprobe", "1");
                if (k < 0) {
                        e.restore_error = k;
                        if (e.error == 0) {
                                e.failed_step = VB_SRIOV_STEP_AUTOPROBE_ON;
                                e.error = k;
                        }
                }
        }
        vb_debug(ctx, "%s: %u of %u virtual functions created: %s%s%s", VB_PCI_ADDRESS_STR(pf), e.created, count,
                 e.error < 0 ? vb_sriov_step_to_string(e.failed_step) : "done", e.error < 0 ? " failed: " : "",
                 e.error < 0 ? strerror(-e.error) : "");
        *ret = e;
        e = (VbSriovEnable) {};
        return 0;
}
