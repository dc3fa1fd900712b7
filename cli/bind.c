/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-bind bind ADDRESS and vfio-bind release ADDRESS: one device by hand. */
#include <stdio.h>

#include "bind.h"
#include "console.h"
#include "interlock.h"
#include "iommu.h"
#include "macro.h"
#include "output.h"
#include "pci.h"
#include "runtime.h"
#include "selector.h"
#include "vfio-bind.h"

static int parse_address(const char *s, VbPciAddress *ret) {
        const char *error = NULL;
        VbSelector sel;

        if (vb_selector_parse(s, &sel, &error) < 0 || sel.type != VB_SELECTOR_ADDRESS) {
                fprintf(stderr, "vfio-bind: \"%s\" is not a PCI address (like 0000:01:00.0 or 01:00.0)%s%s\n", s,
                        error ? ": " : "", strempty(error));
                return -EINVAL;
        }
        *ret = sel.address;
        return 0;
}

static int open_device(const VbcArgs *a, const char *arg, VbContext **ret_ctx, VbPciDevice *ret) {
        VbPciAddress addr;
        int r;

        r = parse_address(arg, &addr);
        if (r < 0)
                return r;
        r = vbc_open_context(a, ret_ctx);
        if (r < 0)
                return r;
        r = vb_pci_device_read(*ret_ctx, &addr, ret);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: %s: %s\n", VB_PCI_ADDRESS_STR(&addr),
                        r == -ENODEV ? "no such PCI device" : strerror(-r));
                return r;
        }
        if (vb_pci_device_is_bridge(ret)) {
                fprintf(stderr, "vfio-bind: %s is a bridge; bridges are never bound or released\n", VB_PCI_ADDRESS_STR(&addr));
                return -EPERM;
        }
        return 0;
}

static const char *failure_words(const VbBindResult *res, int r) {
        switch (res->failed_step) {
        case VB_BIND_STEP_MODULE:
                return r == -ENOENT ? "no kernel module provides this driver" : "loading the driver's module failed";
        case VB_BIND_STEP_OVERRIDE:
                return "writing driver_override failed";
        case VB_BIND_STEP_UNBIND:
                return "unbinding the current driver failed";
        case VB_BIND_STEP_PROBE:
                return "writing drivers_probe failed";
        case VB_BIND_STEP_VERIFY:
                return "the driver did not take the device (see `dmesg`: BAR can't reserve, no IOMMU group, …)";
        default:
                return r == -ENODEV ? "the device disappeared" : "reading the device failed";
        }
}

int vbc_bind(const VbcArgs *a, const char *arg) {
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_(vb_pci_device_done) VbPciDevice d = {};
        _cleanup_(vb_bind_result_done) VbBindResult res = {};
        _cleanup_(vb_console_state_done) VbConsoleState console = {};
        const char *driver = a->driver ?: VB_DRIVER_DEFAULT;
        const char *addr, *why = NULL;
        int r;

        if (open_device(a, arg, &ctx, &d) < 0)
                return 1;
        addr = VB_PCI_ADDRESS_STR(&d.address);

        /* The interlocks: a device behind a mounted file system, active swap or a network
         * interface in use is not taken from the host unless --force says so. (The console is
         * released below instead.) */
        if (!streq_ptr(d.driver, driver)) {
                _cleanup_(vb_holds_done) VbHolds holds = {};
                _cleanup_free_ char *in_use = NULL;
                unsigned mask = VB_HOLD_MASK(VB_HOLD_MOUNT) | VB_HOLD_MASK(VB_HOLD_SWAP) | VB_HOLD_MASK(VB_HOLD_NETWORK);

                r = vb_interlock_read_storage(ctx, &holds);
                if (r >= 0)
                        r = vb_interlock_read_network(ctx, &holds);
                if (r < 0)
                        fprintf(stderr, "vfio-bind: Failed to read what the host uses (%s); the check is incomplete\n",
                                strerror(-r));
                if (vb_holds_describe(&holds, &d.address, mask, &in_use) < 0) {
                        fprintf(stderr, "vfio-bind: Out of memory\n");
                        return 1;
                }
                if (in_use && !a->force) {
                        fprintf(stderr, "vfio-bind: %s: refused: the host uses it: %s; --force binds it anyway\n",
                                addr, in_use);
                        return 1;
                }
                if (in_use)
                        fprintf(stderr, "vfio-bind: %s: WARNING: the host uses it (%s); binding it anyway (--force)\n",
                                addr, in_use);
        }

        if (strneq(driver, "vfio", 4) && !vb_iommu_enabled(ctx)) {
                fprintf(stderr, "vfio-bind: the IOMMU is off (no IOMMU groups), so %s cannot take %s: "
                        "add intel_iommu=on or amd_iommu=on to the kernel command line\n", driver, addr);
                return 1;
        }

        /* The boot framebuffer on this GPU must go first, or the driver cannot reserve its BARs. */
        if (!streq_ptr(d.driver, driver) && vb_console_read(ctx, &console) >= 0 && vb_console_is_held(&console) &&
            vb_console_owned_by(&console, &d, &why)) {
                _cleanup_(vb_console_release_done) VbConsoleRelease rel = {};
                r = vb_console_release(ctx, &console, &rel);
                if (r < 0)
                        fprintf(stderr, "vfio-bind: releasing the console failed: %s\n", strerror(-r));
                else if (r > 0)
                        printf("%s: released the console (%s): %s\n", addr, why, rel.released);
        }

        r = vb_bind_device(ctx, &d.address, driver, true, &res);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: %s: binding to %s failed: %s (%s); now on %s%s%s\n", addr, driver,
                        failure_words(&res, r), strerror(-r), res.driver_after ?: "no driver",
                        res.rolled_back ? "; the override was cleared again" : "",
                        res.override_left ? "; driver_override still names the driver" : "");
                return 1;
        }
        r = vb_runtime_set_released(vb_runtime_dir(a->platform), &d.address, false);
        if (r < 0)
                fprintf(stderr, "vfio-bind: Failed to clear the release mark of %s, ignoring: %s\n", addr, strerror(-r));
        if (res.changed)
                printf("%s: bound to %s (was %s)\n", addr, driver, res.driver_before ?: "no driver");
        else
                printf("%s: already on %s\n", addr, driver);
        return 0;
}

int vbc_release(const VbcArgs *a, const char *arg) {
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_(vb_pci_device_done) VbPciDevice d = {};
        _cleanup_(vb_bind_result_done) VbBindResult res = {};
        const char *addr;
        int r;

        if (open_device(a, arg, &ctx, &d) < 0)
                return 1;
        addr = VB_PCI_ADDRESS_STR(&d.address);

        /* Mark it first, so that a running vfio-bindd does not take it back on the bind event. */
        r = vb_runtime_set_released(vb_runtime_dir(a->platform), &d.address, true);
        if (r < 0)
                fprintf(stderr, "vfio-bind: Failed to mark %s as released (a running vfio-bindd may take it back): %s\n",
                        addr, strerror(-r));

        r = vb_release_device(ctx, &d.address, &res);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: %s: releasing failed: %s (%s); now on %s\n", addr,
                        failure_words(&res, r), strerror(-r), res.driver_after ?: "no driver");
                return 1;
        }
        if (r == 0)
                printf("%s: nothing to release (no driver, no override)\n", addr);
        else if (res.driver_after)
                printf("%s: released: driver_override cleared, now on %s (was %s)\n", addr, res.driver_after,
                       res.driver_before ?: "no driver");
        else
                printf("%s: released: driver_override cleared; no host driver took it (was %s)\n", addr,
                       res.driver_before ?: "no driver");
        return 0;
}
