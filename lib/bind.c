/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "bind.h"
#include "driver.h"
#include "macro.h"
#include "pci.h"
#include "sysfs.h"

static const char *const bind_step_table[_VB_BIND_STEP_MAX] = {
        [VB_BIND_STEP_READ] = "read",     [VB_BIND_STEP_MODULE] = "module", [VB_BIND_STEP_OVERRIDE] = "override",
        [VB_BIND_STEP_UNBIND] = "unbind", [VB_BIND_STEP_PROBE] = "probe",   [VB_BIND_STEP_VERIFY] = "verify",
};

const char *vb_bind_step_to_string(VbBindStep s) {
        if (s < 0 || s >= _VB_BIND_STEP_MAX)
                return NULL;
        return bind_step_table[s];
}

void vb_bind_result_done(VbBindResult *r) {
        if (!r)
                return;
        free(r->driver_before);
        free(r->driver_after);
        *r = (VbBindResult) {};
}

static int write_device_attr(VbContext *ctx, const VbPciAddress *a, const char *attr, const char *value) {
        const char *path = VB_PCI_DEVICE_PATH(a, attr);
        return path ? vb_sysfs_write(ctx, path, value) : -ENAMETOOLONG;
}

static int unbind_driver(VbContext *ctx, const VbPciAddress *a, const char *driver) {
        char path[256];
        int r;

        snprintf(path, sizeof(path), VB_PCI_DRIVERS_PATH "/%s/unbind", driver);
        r = vb_sysfs_write(ctx, path, VB_PCI_ADDRESS_STR(a));
        if (r == -ENODEV) /* it let go meanwhile */
                return 0;
        return r;
}

static int probe(VbContext *ctx, const VbPciAddress *a) {
        return vb_sysfs_write(ctx, VB_PCI_DRIVERS_PROBE_PATH, VB_PCI_ADDRESS_STR(a));
}

/* The driver the device is bound to now (NULL: none). */
static int current_driver(VbContext *ctx, const VbPciAddress *a, char **ret) {
        const char *path = VB_PCI_DEVICE_PATH(a, "driver");
        int r;

        if (!path)
                return -ENAMETOOLONG;
        r = vb_sysfs_readlink_basename(ctx, path, ret);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return r;
}

/* Is the device on WANTED (NULL: no driver)? *RET is the driver it is on. 0, -EIO if not, or the
 * error reading the link. */
static int verify(VbContext *ctx, const VbPciAddress *a, const char *wanted, char **ret) {
        int r;

        free(*ret);
        *ret = NULL;
        r = current_driver(ctx, a, ret);
        if (r < 0)
                return r;
        return streq_ptr(*ret, wanted) ? 0 : -EIO;
}

int vb_bind_device(VbContext *ctx, const VbPciAddress *a, const char *driver, bool unbind_host, VbBindResult *ret) {
        _cleanup_(vb_pci_device_done) VbPciDevice d = {};
        VbBindResult res = { .failed_step = VB_BIND_STEP_READ };
        bool unbound_host = false;
        int r;

        r = vb_pci_device_read_identity(ctx, a, &d);
        if (r < 0)
                goto finish;
        if (d.driver) {
                res.driver_before = strdup(d.driver);
                if (!res.driver_before) {
                        r = -ENOMEM;
                        goto finish;
                }
        }
        if (streq_ptr(d.driver, driver)) {
                r = 0;
                goto done;
        }
        if (vb_pci_device_is_bridge(&d)) {
                r = -EPERM;
                goto finish;
        }
        if (d.driver && !unbind_host) {
                res.failed_step = VB_BIND_STEP_UNBIND;
                r = -EBUSY;
                goto finish;
        }

        res.failed_step = VB_BIND_STEP_MODULE;
        r = vb_driver_load(ctx, driver);
        if (r < 0)
                goto finish;
        res.module_loaded = r > 0;

        res.failed_step = VB_BIND_STEP_OVERRIDE;
        r = write_device_attr(ctx, a, "driver_override", driver);
        if (r < 0)
                goto finish;
        res.changed = true;

        /* Read the driver again: loading the module may have changed things meanwhile. */
        free(d.driver);
        r = current_driver(ctx, a, &d.driver);
        if (r < 0)
                goto fail;
        if (d.driver && !streq(d.driver, driver)) {
                res.failed_step = VB_BIND_STEP_UNBIND;
                /* A host driver that took the device after it was looked at (its module loaded
                 * meanwhile) is not unbound under UnbindHost=no either. */
                if (!unbind_host) {
                        r = -EBUSY;
                        goto fail;
                }
                r = unbind_driver(ctx, a, d.driver);
                if (r < 0)
                        goto fail;
                unbound_host = true;
        }

        if (!d.driver || !streq(d.driver, driver)) {
                res.failed_step = VB_BIND_STEP_PROBE;
                r = probe(ctx, a);
                if (r < 0)
                        goto fail;
        }

        /* drivers_probe reports success even when no driver took the device: check. */
        res.failed_step = VB_BIND_STEP_VERIFY;
        r = verify(ctx, a, driver, &res.driver_after);
        if (r < 0)
                goto fail;
        r = 1;
        goto finish;

fail:
        free(res.driver_after);
        res.driver_after = NULL;
        (void) current_driver(ctx, a, &res.driver_after);
        if (unbound_host || res.driver_after) {
                /* We took the device from the host, or a driver holds it anyway: clear the
                 * override and give the device back rather than leave it without a driver. */
                if (write_device_attr(ctx, a, "driver_override", "") >= 0) {
                        if (!res.driver_after)
                                (void) probe(ctx, a);
                        res.rolled_back = true;
                        free(res.driver_after);
                        res.driver_after = NULL;
                        (void) current_driver(ctx, a, &res.driver_after);
                }
        } else {
                _cleanup_free_ char *override = NULL;
                const char *path = VB_PCI_DEVICE_PATH(a, "driver_override");
                if (path && vb_sysfs_read(ctx, path, &override) >= 0 && streq(override, driver))
                        res.override_left = true;
        }
        goto finish;

done:
        if (res.driver_before) {
                res.driver_after = strdup(res.driver_before);
                if (!res.driver_after)
                        r = -ENOMEM;
        }
finish:
        if (r < 0) {
                /* Failed before anything was unbound: say where the device is now. */
                if (!res.driver_after && r != -ENODEV)
                        (void) current_driver(ctx, a, &res.driver_after);
                vb_debug(ctx, "%s: binding to %s failed at step %s: %s", VB_PCI_ADDRESS_STR(a), driver,
                         vb_bind_step_to_string(res.failed_step), strerror(-r));
        }
        *ret = res;
        return r;
}

int vb_release_device(VbContext *ctx, const VbPciAddress *a, VbBindResult *ret) {
        _cleanup_(vb_pci_device_done) VbPciDevice d = {};
        VbBindResult res = { .failed_step = VB_BIND_STEP_READ };
        int r;

        r = vb_pci_device_read(ctx, a, &d);
        if (r < 0)
                goto finish;
        if (vb_pci_device_is_bridge(&d)) {
                r = -EPERM;
                goto finish;
        }
        res.driver_before = d.driver ? strdup(d.driver) : NULL;
        if (d.driver && !res.driver_before) {
                r = -ENOMEM;
                goto finish;
        }

        if (d.driver_override) {
                res.failed_step = VB_BIND_STEP_OVERRIDE;
                r = write_device_attr(ctx, a, "driver_override", "");
                if (r < 0)
                        goto finish;
                res.changed = true;
        }
        if (d.driver) {
                res.failed_step = VB_BIND_STEP_UNBIND;
                r = unbind_driver(ctx, a, d.driver);
                if (r < 0)
                        goto finish;
                res.changed = true;
        }
        if (res.changed) {
                res.failed_step = VB_BIND_STEP_PROBE;
                r = probe(ctx, a);
                if (r < 0)
                        goto finish;
        }
        res.failed_step = VB_BIND_STEP_VERIFY;
        r = current_driver(ctx, a, &res.driver_after);
        if (r < 0)
                goto finish;
        r = res.changed;
finish:
        *ret = res;
        return r;
}

int vb_bind_restore(VbContext *ctx, const VbPciAddress *a, const char *driver, const char *driver_before,
                    VbBindResult *ret) {
        VbBindResult res = { .failed_step = VB_BIND_STEP_READ };
        int r;

        r = current_driver(ctx, a, &res.driver_before);
        if (r < 0)
                goto finish;

        if (driver_before) {
                /* It had a host driver: no override, and let that driver probe it again. */
                res.failed_step = VB_BIND_STEP_OVERRIDE;
                r = write_device_attr(ctx, a, "driver_override", "");
                if (r < 0)
                        goto finish;
                res.changed = true;
        }
        if (res.driver_before && (!driver_before || !streq(res.driver_before, driver_before))) {
                res.failed_step = VB_BIND_STEP_UNBIND;
                r = unbind_driver(ctx, a, res.driver_before);
                if (r < 0)
                        goto finish;
                res.changed = true;
        }
        if (driver_before) {
                res.failed_step = VB_BIND_STEP_PROBE;
                r = probe(ctx, a);
                if (r < 0)
                        goto finish;
        }

        res.failed_step = VB_BIND_STEP_VERIFY;
        r = verify(ctx, a, driver_before, &res.driver_after);
        if (r < 0)
                goto finish;
        /* No driver held it before: it stays driverless, and the override (still naming DRIVER)
         * keeps host drivers off it. */
        res.override_left = !driver_before;
        r = res.changed;
finish:
        if (r < 0)
                vb_debug(ctx, "%s: putting it back on %s (from %s) failed at step %s: %s", VB_PCI_ADDRESS_STR(a),
                         driver_before ?: "no driver", driver, vb_bind_step_to_string(res.failed_step), strerror(-r));
        *ret = res;
        return r;
}

const char *vb_bind_result_explain(const VbBindResult *r, int error) {
        switch (r->failed_step) {
        case VB_BIND_STEP_READ:
                return error == -ENODEV ? "the device disappeared" : "reading the device failed";
        case VB_BIND_STEP_MODULE:
                return error == -ENOENT ? "no kernel module provides the driver" : "loading the driver's module failed";
        case VB_BIND_STEP_OVERRIDE:
                return "writing driver_override failed";
        case VB_BIND_STEP_UNBIND:
                return error == -EBUSY ? "a host driver holds it" : "unbinding the host driver failed";
        case VB_BIND_STEP_PROBE:
                return "writing drivers_probe failed";
        case VB_BIND_STEP_VERIFY:
                return "the driver did not take it (the kernel log says why: BAR can't reserve, no IOMMU group, …)";
        default:
                return error == -ENODEV ? "the device disappeared" : "failed";
        }
}
