/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-bind groups: the IOMMU group listing of the seed guide's shell loop, with marks: what the
 * host uses (the interlocks check refuses by) is marked in-use and said under its group, and with
 * the IOMMU off the devices are still listed, under the reason. */
#include <stdio.h>

#include "iommu.h"
#include "load.h"
#include "macro.h"
#include "output.h"
#include "pci.h"
#include "reset.h"
#include "selector-index.h"
#include "snapshot.h"
#include "strv.h"
#include "verbs.h"

enum {
        COL_ADDRESS,
        COL_CLASS,
        COL_NAME,
        COL_DRIVER,
        COL_MARKS,
        _COL_MAX
};

typedef struct Row {
        const VbPciDevice *device;
        char *cells[_COL_MAX];
} Row;

static int cmp_group(const void *a, const void *b) {
        const Row *x = a, *y = b;
        if (x->device->iommu_group != y->device->iommu_group)
                return x->device->iommu_group < y->device->iommu_group ? -1 : 1;
        return vb_pci_address_compare(&x->device->address, &y->device->address);
}

static void print_no_iommu(VbCpuVendor vendor) {
        printf("No IOMMU groups: the IOMMU is off or absent, so no device can be passed to a guest.\n"
               "To turn it on: %s.\n\n",
               vb_iommu_hint(vendor));
}

/* What the host uses a device for now (mounts, swap, an interface with an address, a process with
 * one of its nodes open, and the console where Release=no keeps it): the interlocks bind and the
 * daemon refuse by. */
static unsigned hold_mask(const VbConfig *config) {
        return config ? vb_plan_hold_mask(config, false)
                      : VB_HOLD_MASK(VB_HOLD_MOUNT) | VB_HOLD_MASK(VB_HOLD_SWAP) | VB_HOLD_MASK(VB_HOLD_NETWORK) |
                                VB_HOLD_MASK(VB_HOLD_PROGRAM);
}

int vbc_groups(const VbcArgs *a) {
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_(vb_snapshot_done) VbSnapshot snapshot = {};
        const VbPciList *devices = &snapshot.devices;
        _cleanup_(vb_config_freep) VbConfig *config = NULL;
        _cleanup_(vb_selector_index_freep) VbSelectorIndex *selectors = NULL;
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
        VbcNames *names = NULL;
        Row *rows = NULL;
        size_t n = 0, width[_COL_MAX] = {};
        unsigned mask;
        bool oom = false;
        int r;

        r = vbc_open_context(a, &ctx);
        if (r < 0)
                return 1;
        /* The same look as check's: the devices, the IOMMU, what the host uses. */
        r = vb_snapshot_read(ctx, NULL, &snapshot);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Failed to look at the PCI devices: %s\n", strerror(-r));
                return 1;
        }
        r = vb_snapshot_read_groups(ctx, &snapshot);
        if (r >= 0)
                r = vb_snapshot_read_facts(ctx, &snapshot);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Failed to look at the IOMMU groups: %s\n", strerror(-r));
                return 1;
        }
        if (!snapshot.iommu_enabled)
                print_no_iommu(snapshot.cpu_vendor);
        if (snapshot.holds_error)
                printf("Warning: cannot tell completely what the host uses (mounts, swap, network): %s\n\n",
                       strerror(-snapshot.holds_error));
        /* Mark configured devices when the configuration is readable; the listing does not
         * depend on it. */
        if (vb_config_load_all_at(ctx, vb_platform_config_root(a->platform), a->config_path, &config, &diag) < 0)
                config = NULL;
        mask = hold_mask(config);
        if (config && vb_selector_index_new(&selectors, config->selectors, config->n_selectors) < 0) {
                fprintf(stderr, "vfio-bind: Out of memory\n");
                return 1;
        }

        rows = calloc(devices->n ?: 1, sizeof(Row));
        names = vbc_names_new(a->platform, a->recorder);
        if (!rows || !names) {
                oom = true;
                goto finish;
        }
        for (size_t i = 0; i < devices->n; i++) {
                const VbPciDevice *d = &devices->devices[i];
                _cleanup_free_ char *cls = NULL, *name = NULL;
                Row *row = &rows[n++];
                bool bridge = vb_pci_device_is_bridge(d);

                char sriov_mark[64] = "", reset_mark[96] = "";
                const VbDeviceFacts *facts = bridge ? NULL : vb_snapshot_facts(&snapshot, &d->address);
                int reset = facts ? facts->reset : -EINVAL;

                /* SR-IOV: a PF's VFs (enabled/total), a VF's PF. */
                if (d->has_sriov)
                        snprintf(sriov_mark, sizeof(sriov_mark), "SR-IOV:%u/%u-VFs ", d->sriov.numvfs, d->sriov.total);
                else if (d->is_virtfn)
                        snprintf(sriov_mark, sizeof(sriov_mark), "VF-of:%s ", VB_PCI_ADDRESS_STR(&d->physfn));
                /* How it can be reset: a guest reboot needs one. */
                if (reset == VB_RESET_METHODS) {
                        snprintf(reset_mark, sizeof(reset_mark), "reset:%s ", facts->reset_methods);
                        for (char *c = reset_mark + 6; *c && c[1]; c++)
                                if (*c == ' ')
                                        *c = ',';
                } else if (reset == VB_RESET_NONE)
                        snprintf(reset_mark, sizeof(reset_mark), "no-reset ");
                else if (reset == VB_RESET_UNKNOWN)
                        snprintf(reset_mark, sizeof(reset_mark), "reset:? ");
                row->device = d;
                cls = vbc_names_class(names, ctx, d);
                name = vbc_names_device(names, ctx, d);
                if (asprintf(&row->cells[COL_ADDRESS], "%s", VB_PCI_ADDRESS_STR(&d->address)) < 0 ||
                    asprintf(&row->cells[COL_CLASS], "%s%s[%04x]", strempty(cls), cls ? " " : "", d->class >> 8) < 0 ||
                    asprintf(&row->cells[COL_NAME], "%s%s[%04x:%04x]", strempty(name), name ? " " : "", d->vendor,
                             d->device) < 0 ||
                    asprintf(&row->cells[COL_DRIVER], "%s", d->driver ?: "-") < 0 ||
                    asprintf(&row->cells[COL_MARKS], "%s%s%s%s%s%s%s%s",
                             vb_holds_has(&snapshot.holds, &d->address, mask) ? "in-use " : "",
                             d->boot_vga ? "boot-VGA " : "", bridge ? "bridge " : "",
                             (selectors && vb_selector_index_match(selectors, &d->address, d->vendor, d->device)) ||
                                             (config && d->is_virtfn && vb_config_find_vfs(config, &d->physfn))
                                     ? "configured "
                                     : "",
                             sriov_mark[0] ? sriov_mark : "", d->iommu_group < 0 ? "no-group " : "",
                             config && d->has_sriov && vb_config_find_vfs(config, &d->address) ? "VirtualFunctions= "
                                                                                               : "",
                             reset_mark) < 0) {
                        oom = true;
                        goto finish;
                }
                /* No trailing blank after the last mark. */
                for (size_t l = strlen(row->cells[COL_MARKS]); l > 0 && row->cells[COL_MARKS][l - 1] == ' '; l--)
                        row->cells[COL_MARKS][l - 1] = '\0';
                for (int c = 0; c < _COL_MAX; c++)
                        if (vbc_width(row->cells[c]) > width[c])
                                width[c] = vbc_width(row->cells[c]);
        }
        qsort(rows, n, sizeof(Row), cmp_group);

        for (size_t i = 0; i < n;) {
                int g = rows[i].device->iommu_group;
                _cleanup_free_ char *host = NULL;
                size_t j, endpoints = 0, in_use = 0;

                for (j = i; j < n && rows[j].device->iommu_group == g; j++) {
                        const VbPciDevice *d = rows[j].device;

                        if (vb_holds_has(&snapshot.holds, &d->address, mask))
                                in_use++;
                        if (vb_pci_device_is_bridge(d))
                                continue;
                        endpoints++;
                        if (!vb_iommu_member_blocks(d))
                                continue;
                        if (vb_join_append(&host, ", ", "%s", d->driver) < 0) {
                                oom = true;
                                goto finish;
                        }
                }

                if (g < 0 && !snapshot.iommu_enabled)
                        printf("%sNo IOMMU group%s: the IOMMU is off; none of these can go to a guest until it is on\n",
                               VBC_BOLD, VBC_RESET);
                else if (g < 0)
                        printf("%sNo IOMMU group%s\n", VBC_BOLD, VBC_RESET);
                else if (in_use)
                        printf("%sIOMMU group %d%s: %sused by the host%s (%s); check and vfio-bindd refuse to bind it "
                               "(Force= overrides)\n",
                               VBC_BOLD, g, VBC_RESET, VBC_RED, VBC_RESET, host ?: "no driver");
                else if (endpoints == 0)
                        printf("%sIOMMU group %d%s: bridges only\n", VBC_BOLD, g, VBC_RESET);
                else if (!host)
                        printf("%sIOMMU group %d%s: %sready for a guest%s (every endpoint is on vfio or has no driver)\n",
                               VBC_BOLD, g, VBC_RESET, VBC_GREEN, VBC_RESET);
                else
                        printf("%sIOMMU group %d%s: %sheld by the host%s (%s); %s\n", VBC_BOLD, g, VBC_RESET,
                               VBC_YELLOW, VBC_RESET, host,
                               endpoints > 1 ? "all its endpoints must go to the guest together"
                                             : "bind it to pass it");

                for (; i < j; i++) {
                        fputs("  ", stdout);
                        for (int c = 0; c < _COL_MAX; c++) {
                                const char *color = c == COL_MARKS ? VBC_YELLOW : c == COL_DRIVER ? VBC_DIM : "";
                                bool last = c == _COL_MAX - 1 || (c == _COL_MAX - 2 && !*rows[i].cells[_COL_MAX - 1]);
                                fputs(color, stdout);
                                if (last)
                                        fputs(rows[i].cells[c], stdout);
                                else
                                        vbc_print_padded(stdout, rows[i].cells[c], width[c]);
                                fputs(*color ? VBC_RESET : "", stdout);
                                if (last)
                                        break;
                                fputs("  ", stdout);
                        }
                        fputc('\n', stdout);
                }
                /* Why the kernel put them together. */
                {
                        _cleanup_(vb_group_why_list_done) VbGroupWhyList why = {};
                        if (vb_snapshot_group_why(&snapshot, g, &why) < 0) {
                                oom = true;
                                goto finish;
                        }
                        for (size_t k = 0; k < why.n; k++)
                                printf("    why together: %s\n", why.items[k].text);
                }
                /* Why the host uses them, under the group. */
                for (size_t k = 0; k < n; k++) {
                        const VbPciDevice *d = rows[k].device;
                        _cleanup_free_ char *why = NULL;

                        if (d->iommu_group != g || !vb_holds_has(&snapshot.holds, &d->address, mask))
                                continue;
                        if (vb_holds_describe(&snapshot.holds, &d->address, mask, &why) < 0) {
                                oom = true;
                                goto finish;
                        }
                        printf("    %s%s is used by the host: %s%s\n", VBC_YELLOW, VB_PCI_ADDRESS_STR(&d->address),
                               strempty(why), VBC_RESET);
                }
        }

finish:
        for (size_t i = 0; rows && i < n; i++)
                for (int c = 0; c < _COL_MAX; c++)
                        free(rows[i].cells[c]);
        free(rows);
        vbc_names_free(names);
        if (oom)
                fprintf(stderr, "vfio-bind: Out of memory\n");
        return oom || !snapshot.iommu_enabled ? 1 : 0;
}
