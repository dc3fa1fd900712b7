/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "alloc-util.h"
#include "group-why.h"
#include "macro.h"
#include "strv.h"
#include "sysfs-link.h"
#include "sysfs.h"

void vb_group_look_done(VbGroupLook *l) {
        if (!l)
                return;
        free(l->facts);
        *l = (VbGroupLook) {};
}

void vb_group_why_list_done(VbGroupWhyList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i].text);
        free(l->items);
        *l = (VbGroupWhyList) {};
}

static ssize_t find_index(const VbPciList *devices, const VbPciAddress *a) {
        const VbPciDevice *d = vb_pci_list_find(devices, a);
        return d ? d - devices->devices : -1;
}

static bool same_slot(const VbPciAddress *a, const VbPciAddress *b) {
        return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

static size_t group_size(const VbPciList *devices, int group) {
        size_t n = 0;
        for (size_t i = 0; i < devices->n; i++)
                n += group >= 0 && devices->devices[i].iommu_group == group;
        return n;
}

/* pcie_acs_override= as a word of the command line. */
static bool cmdline_has_override(const char *cmdline) {
        static const char key[] = "pcie_acs_override=";
        for (const char *p = cmdline; (p = strstr(p, key)); p += sizeof(key) - 1)
                if (p == cmdline || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n')
                        return true;
        return false;
}

int vb_group_look_read(VbContext *ctx, const VbPciList *devices, VbGroupLook *ret) {
        _cleanup_free_ VbGroupFacts *facts = NULL;
        _cleanup_free_ bool *want = NULL;
        _cleanup_free_ char *cmdline = NULL;
        bool more = true;

        facts = calloc(devices->n ?: 1, sizeof(VbGroupFacts));
        want = calloc(devices->n ?: 1, sizeof(bool));
        if (!facts || !want)
                return -ENOMEM;

        /* The members of groups of several, and the other functions of their slots. */
        for (size_t i = 0; i < devices->n; i++) {
                const VbPciDevice *d = &devices->devices[i];
                if (d->iommu_group < 0 || group_size(devices, d->iommu_group) < 2)
                        continue;
                want[i] = true;
                for (size_t j = 0; j < devices->n; j++)
                        if (same_slot(&devices->devices[j].address, &d->address))
                                want[j] = true;
        }
        /* And every bridge above them, found from each device's place. */
        while (more) {
                more = false;
                for (size_t i = 0; i < devices->n; i++) {
                        _cleanup_free_ char *link = NULL;
                        const VbPciAddress *a = &devices->devices[i].address;
                        ssize_t p;

                        if (!want[i] || facts[i].read)
                                continue;
                        facts[i].read = true;
                        if (vb_sysfs_readlink(ctx, VB_PCI_DEVICE_PATH(a, NULL), &link) == -ENOMEM)
                                return -ENOMEM;
                        facts[i].has_parent = link && vb_sysfs_link_pci_parent(link, &facts[i].parent);
                        facts[i].config_error = vb_pci_config_read(ctx, a, &facts[i].config);
                        if (facts[i].config_error == -ENOMEM)
                                return -ENOMEM;
                        if (facts[i].config_error == 0 && !facts[i].config.complete)
                                facts[i].config_error = -EACCES; /* 64 bytes: not root */
                        p = facts[i].has_parent ? find_index(devices, &facts[i].parent) : -1;
                        if (p >= 0 && !want[p]) {
                                want[p] = true;
                                more = true;
                        }
                }
        }
        if (vb_procfs_read(ctx, "cmdline", &cmdline) == -ENOMEM)
                return -ENOMEM;

        *ret = (VbGroupLook) {
                .facts = TAKE_PTR(facts),
                .n = devices->n,
                .acs_override = cmdline && cmdline_has_override(cmdline),
        };
        return 0;
}

/* ---- the kernel's rules, on the facts ---------------------------------------------------- */

typedef enum Tri {
        TRI_NO,
        TRI_YES,
        TRI_UNKNOWN,
} Tri;

typedef struct Rules {
        const VbPciList *devices;
        const VbGroupLook *look;
} Rules;

static const VbGroupFacts *facts_of(const Rules *r, ssize_t i) {
        return i >= 0 && (size_t) i < r->look->n && r->look->facts[i].read ? &r->look->facts[i] : NULL;
}

static bool config_known(const Rules *r, ssize_t i) {
        const VbGroupFacts *f = facts_of(r, i);
        return f && f->config_error == 0;
}

static ssize_t parent_of(const Rules *r, ssize_t i) {
        const VbGroupFacts *f = facts_of(r, i);
        return f && f->has_parent ? find_index(r->devices, &f->parent) : -1;
}

/* pci_acs_enabled(dev, REQ_ACS_FLAGS) without the kernel's device quirks. */
static Tri acs_enabled(const Rules *r, ssize_t i) {
        const VbPciConfig *c;

        if (!config_known(r, i))
                return TRI_UNKNOWN;
        c = &r->look->facts[i].config;
        if (!c->pcie)
                return TRI_NO;
        switch (c->pcie_type) {
        case VB_PCI_TO_PCIE_BRIDGE:
        case VB_PCIE_TO_PCI_BRIDGE:
        case VB_PCIE_RC_EVENT_COLLECTOR:
                return TRI_NO;
        case VB_PCIE_DOWNSTREAM_PORT:
        case VB_PCIE_ROOT_PORT:
                return vb_pci_config_acs_missing(c) == 0 ? TRI_YES : TRI_NO;
        case VB_PCIE_ENDPOINT:
        case VB_PCIE_UPSTREAM_PORT:
        case VB_PCIE_LEGACY_ENDPOINT:
        case VB_PCIE_RC_ENDPOINT:
                if (!c->multifunction)
                        return TRI_YES;
                return vb_pci_config_acs_missing(c) == 0 ? TRI_YES : TRI_NO;
        }
        return TRI_YES;
}

/* Is the path from bridge B to the root isolated (pci_acs_path_enabled())? If not (or not
 * known), *RET_AT is where it stops (or what could not be read). */
static Tri path_isolated(const Rules *r, ssize_t b, ssize_t *ret_at) {
        for (ssize_t x = b, hops = 0; x >= 0 && hops < 256; hops++) {
                Tri t = acs_enabled(r, x);
                if (t != TRI_YES) {
                        *ret_at = x;
                        return t;
                }
                if (!facts_of(r, x)->has_parent)
                        return TRI_YES;
                x = parent_of(r, x);
        }
        *ret_at = b;
        return TRI_UNKNOWN;
}

static bool is_alias_bridge(const VbPciConfig *c) {
        return !c->pcie || c->pcie_type == VB_PCIE_TO_PCI_BRIDGE || c->pcie_type == VB_PCI_TO_PCIE_BRIDGE;
}

/* A reason that joins a device to another (or that cannot be told). */
typedef struct Link {
        VbGroupWhyKind kind;
        ssize_t to; /* the device joined (bridge, other function), -1 for UNKNOWN */
        ssize_t at; /* NOT_ISOLATED: where isolation stops; UNKNOWN: what could not be read */
} Link;

typedef struct Links {
        Link *links;
        size_t n, allocated;
} Links;

static void links_done(Links *l) {
        free(l->links);
}

static int links_add(Links *l, Link x) {
        if (!VB_GREEDY_REALLOC(l->links, l->allocated, l->n + 1))
                return -ENOMEM;
        l->links[l->n++] = x;
        return 0;
}

/* The lowest function of I's slot in the list: what a multifunction line is keyed by. */
static ssize_t slot_head(const Rules *r, ssize_t i) {
        for (size_t j = 0; j < r->devices->n; j++)
                if (same_slot(&r->devices->devices[j].address, &r->devices->devices[i].address))
                        return (ssize_t) j;
        return i;
}

/* pci_device_group() for device I: what it joins, and why. UPSTREAM_ISOLATED: take what is above
 * I as isolating it (the kernel evidently did), and look at its slot only. */
static int device_links(const Rules *r, ssize_t i, bool upstream_isolated, Links *l) {
        const VbPciAddress *a = &r->devices->devices[i].address;
        ssize_t b = upstream_isolated ? -1 : parent_of(r, i), at = -1;
        Tri t;

        /* Requester-ID aliases: the nearest PCIe-to-PCI or conventional bridge above. */
        for (ssize_t x = b, hops = 0; x >= 0 && hops < 256; x = parent_of(r, x), hops++) {
                if (!config_known(r, x))
                        return links_add(l, (Link) { VB_GROUP_WHY_UNKNOWN, -1, x });
                if (is_alias_bridge(&r->look->facts[x].config))
                        return links_add(l, (Link) { VB_GROUP_WHY_ALIAS, x, x });
        }
        /* The bridge above, unless the path from it to the root isolates by ACS. */
        if (b >= 0) {
                t = path_isolated(r, b, &at);
                if (t == TRI_UNKNOWN)
                        return links_add(l, (Link) { VB_GROUP_WHY_UNKNOWN, -1, at });
                if (t == TRI_NO)
                        return links_add(l, (Link) { VB_GROUP_WHY_NOT_ISOLATED, b, at });
        }
        /* The other functions of a multifunction device, where neither side has ACS. */
        for (size_t j = 0; j < r->devices->n; j++) {
                int k;
                if ((ssize_t) j == i || !same_slot(&r->devices->devices[j].address, a))
                        continue;
                t = acs_enabled(r, i);
                if (t == TRI_UNKNOWN)
                        return links_add(l, (Link) { VB_GROUP_WHY_UNKNOWN, -1, i });
                if (t == TRI_YES || !r->look->facts[i].config.multifunction)
                        return 0;
                t = acs_enabled(r, (ssize_t) j);
                if (t == TRI_YES)
                        continue;
                k = links_add(l, t == TRI_UNKNOWN ? (Link) { VB_GROUP_WHY_UNKNOWN, -1, (ssize_t) j }
                                                  : (Link) { VB_GROUP_WHY_FUNCTIONS, (ssize_t) j, slot_head(r, i) });
                if (k < 0)
                        return k;
        }
        return 0;
}

/* ---- the text ----------------------------------------------------------------------------- */

static const char *name_of(const Rules *r, ssize_t i, char buf[static VB_PCI_ADDRESS_MAX]) {
        return vb_pci_address_format(&r->devices->devices[i].address, buf);
}

/* "downstream port", "PCI bridge", "conventional PCI device": what X is. */
static const char *kind_of(const Rules *r, ssize_t x) {
        const VbPciConfig *c = &r->look->facts[x].config;
        if (c->pcie)
                return vb_pcie_type_to_string(c->pcie_type);
        return c->header_type == 1 ? "PCI bridge" : "conventional PCI";
}

/* Why X does not isolate: "has no ACS capability", … */
static int lacks(const Rules *r, ssize_t x, char **ret) {
        const VbPciConfig *c = &r->look->facts[x].config;
        char flags[VB_PCI_ACS_FLAGS_MAX];

        if (!c->pcie)
                return asprintf(ret, "is conventional PCI, which has no ACS") < 0 ? -ENOMEM : 0;
        if (c->pcie_type == VB_PCIE_TO_PCI_BRIDGE || c->pcie_type == VB_PCI_TO_PCIE_BRIDGE ||
            c->pcie_type == VB_PCIE_RC_EVENT_COLLECTOR)
                return asprintf(ret, "is a %s, to which ACS never applies", vb_pcie_type_to_string(c->pcie_type)) < 0
                               ? -ENOMEM
                               : 0;
        if (!c->acs)
                return asprintf(ret, "has no ACS capability%s", c->multifunction ? " (multifunction)" : "") < 0
                               ? -ENOMEM
                               : 0;
        return asprintf(ret, "has ACS without %s enabled",
                        vb_pci_acs_flags_format(vb_pci_config_acs_missing(c), flags, sizeof(flags))) < 0
                       ? -ENOMEM
                       : 0;
}

/* One line being gathered: a kind, its key devices, and the members it covers. */
typedef struct Line {
        VbGroupWhyKind kind;
        ssize_t to, at;
        ssize_t *members;
        size_t n_members, members_allocated;
} Line;

typedef struct Lines {
        Line *lines;
        size_t n, allocated;
} Lines;

static void lines_done(Lines *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->lines[i].members);
        free(l->lines);
}

static int lines_add(Lines *l, const Link *k, ssize_t member) {
        Line *x = NULL;

        for (size_t i = 0; i < l->n && !x; i++)
                if (l->lines[i].kind == k->kind && l->lines[i].at == k->at &&
                    (k->kind == VB_GROUP_WHY_FUNCTIONS || l->lines[i].to == k->to))
                        x = &l->lines[i];
        if (!x) {
                if (!VB_GREEDY_REALLOC(l->lines, l->allocated, l->n + 1))
                        return -ENOMEM;
                x = &l->lines[l->n++];
                *x = (Line) { .kind = k->kind, .to = k->to, .at = k->at };
        }
        for (size_t i = 0; i < x->n_members; i++)
                if (x->members[i] == member)
                        return 0;
        if (!VB_GREEDY_REALLOC(x->members, x->members_allocated, x->n_members + 1))
                return -ENOMEM;
        x->members[x->n_members++] = member;
        return 0;
}

static int cmp_index(const void *a, const void *b) {
        ssize_t x = *(const ssize_t *) a, y = *(const ssize_t *) b;
        return x < y ? -1 : x > y;
}

/* "0000:06:00.0, 0000:06:00.1" (at most four, then "and N more"). */
static char *members_text(const Rules *r, ssize_t *m, size_t n) {
        _cleanup_free_ char *s = NULL;

        qsort(m, n, sizeof(ssize_t), cmp_index);
        for (size_t i = 0; i < n && i < 4; i++) {
                char a[VB_PCI_ADDRESS_MAX];
                if (vb_join_append(&s, ", ", "%s", name_of(r, m[i], a)) < 0)
                        return NULL;
        }
        if (n > 4 && vb_join_append(&s, " ", "and %zu more", n - 4) < 0)
                return NULL;
        return s ? TAKE_PTR(s) : strdup("");
}

static int line_text(const Rules *r, const Line *x, bool override, char **ret) {
        _cleanup_free_ char *who = NULL, *why = NULL;
        char to[VB_PCI_ADDRESS_MAX], at[VB_PCI_ADDRESS_MAX];
        int k = 0;

        who = members_text(r, x->members, x->n_members);
        if (!who)
                return -ENOMEM;
        switch (x->kind) {
        case VB_GROUP_WHY_FUNCTIONS:
                /* Both functions of each link are members of the line. */
                k = asprintf(ret, "%s: functions of one multifunction device without ACS", who);
                break;
        case VB_GROUP_WHY_ALIAS:
                k = asprintf(ret, "%s: behind the %s %s (one requester ID for all behind it)", who,
                             r->look->facts[x->to].config.pcie ? "PCIe-to-PCI bridge" : "PCI bridge",
                             name_of(r, x->to, to));
                break;
        case VB_GROUP_WHY_NOT_ISOLATED:
                if (lacks(r, x->at, &why) < 0)
                        return -ENOMEM;
                if (x->at == x->to)
                        k = asprintf(ret, "%s: below the %s %s, which %s", who, kind_of(r, x->to),
                                     name_of(r, x->to, to), why);
                else
                        k = asprintf(ret, "%s: below %s, not isolated from the root: the %s %s above it %s", who,
                                     name_of(r, x->to, to), kind_of(r, x->at), name_of(r, x->at, at), why);
                break;
        case VB_GROUP_WHY_UNKNOWN:
                if (r->look->facts[x->at].config_error == 0)
                        k = asprintf(ret, "%s: cannot tell why: the bridge above %s is not among the PCI devices", who,
                                     name_of(r, x->at, at));
                else if (r->look->facts[x->at].config_error == -ENODEV)
                        k = asprintf(ret, "%s: cannot tell why: the config space of %s is not there", who,
                                     name_of(r, x->at, at));
                else if (r->look->facts[x->at].config_error == -EACCES)
                        k = asprintf(
                                ret,
                                "%s: cannot tell why: the config space of %s could not be read whole (only root can)",
                                who, name_of(r, x->at, at));
                else
                        k = asprintf(ret, "%s: cannot tell why: the config space of %s could not be read: %s", who,
                                     name_of(r, x->at, at), strerror(-r->look->facts[x->at].config_error));
                break;
        case VB_GROUP_WHY_QUIRK_SPLITS:
                k = asprintf(ret, "%s: ACS and the topology would join %s (%s), which the kernel keeps apart: %s", who,
                             name_of(r, x->to, to), config_known(r, x->to) ? kind_of(r, x->to) : "a bridge",
                             override ? "pcie_acs_override= is on the kernel command line, which claims isolation "
                                        "the hardware does not show"
                                      : "a device quirk of the kernel declares isolation without ACS");
                break;
        case VB_GROUP_WHY_QUIRK_JOINS:
                k = asprintf(ret,
                             "%s: nothing in ACS or the topology joins them to the rest of the group: a kernel quirk "
                             "(a DMA alias) does",
                             who);
                break;
        default:
                return -EINVAL;
        }
        return k < 0 ? -ENOMEM : 0;
}

/* Union-find over the group's members, to tell whether the reasons join them all. */
static ssize_t root_of(ssize_t *up, ssize_t i) {
        while (up[i] != i)
                i = up[i] = up[up[i]];
        return i;
}

int vb_group_why_explain(const VbPciList *devices, const VbGroupLook *look, int group, VbGroupWhyList *ret) {
        const Rules r = { devices, look };
        _cleanup_free_ ssize_t *up = NULL;
        _cleanup_(lines_done) Lines lines = {};
        size_t roots = 0, items_allocated = 0;
        VbGroupWhyList out = {};
        bool unknown = false;
        int k = 0;

        *ret = (VbGroupWhyList) {};
        if (group < 0 || group_size(devices, group) < 2 || !look || look->n != devices->n)
                return 0;
        up = calloc(devices->n, sizeof(ssize_t));
        if (!up)
                return -ENOMEM;
        for (size_t i = 0; i < devices->n; i++)
                up[i] = (ssize_t) i;

        for (size_t i = 0; i < devices->n && k >= 0; i++) {
                _cleanup_(links_done) Links links = {};

                if (devices->devices[i].iommu_group != group)
                        continue;
                k = device_links(&r, (ssize_t) i, false, &links);
                for (size_t j = 0; j < links.n && k >= 0; j++) {
                        Link x = links.links[j];
                        if (x.kind == VB_GROUP_WHY_UNKNOWN) {
                                unknown = true;
                                x.to = -1;
                        } else if (devices->devices[x.to].iommu_group != group) {
                                /* The rules join what the kernel keeps apart: it took the way up as
                                 * isolated, and went on to the other functions of the slot. */
                                if (x.kind != VB_GROUP_WHY_FUNCTIONS)
                                        k = device_links(&r, (ssize_t) i, true, &links);
                                x = (Link) { VB_GROUP_WHY_QUIRK_SPLITS, x.to, x.to };
                        } else
                                up[root_of(up, (ssize_t) i)] = root_of(up, x.to);
                        k = lines_add(&lines, &x, (ssize_t) i);
                        /* A multifunction line names both functions. */
                        if (k >= 0 && x.kind == VB_GROUP_WHY_FUNCTIONS)
                                k = lines_add(&lines, &x, x.to);
                }
        }
        /* What the reasons leave apart, with nothing unknown, a quirk joined. */
        for (size_t i = 0; i < devices->n && k >= 0; i++)
                if (devices->devices[i].iommu_group == group && root_of(up, (ssize_t) i) == (ssize_t) i)
                        roots++;
        if (k >= 0 && roots > 1 && !unknown) {
                /* Name the members outside the largest part: those joined by the quirk. */
                ssize_t main = -1;
                size_t best = 0;
                for (size_t i = 0; i < devices->n; i++) {
                        size_t c = 0;
                        if (devices->devices[i].iommu_group != group || root_of(up, (ssize_t) i) != (ssize_t) i)
                                continue;
                        for (size_t j = 0; j < devices->n; j++)
                                c += devices->devices[j].iommu_group == group &&
                                     root_of(up, (ssize_t) j) == (ssize_t) i;
                        if (c > best) {
                                best = c;
                                main = (ssize_t) i;
                        }
                }
                for (size_t i = 0; i < devices->n && k >= 0; i++)
                        if (devices->devices[i].iommu_group == group && root_of(up, (ssize_t) i) != main)
                                k = lines_add(&lines, &(Link) { VB_GROUP_WHY_QUIRK_JOINS, -1, -1 }, (ssize_t) i);
        }

        /* In the order of the kinds, then as found. */
        for (int kind = 0; kind < _VB_GROUP_WHY_KIND_MAX && k >= 0; kind++)
                for (size_t i = 0; i < lines.n && k >= 0; i++) {
                        const Line *x = &lines.lines[i];
                        if ((int) x->kind != kind)
                                continue;
                        if (!VB_GREEDY_REALLOC(out.items, items_allocated, out.n + 1)) {
                                k = -ENOMEM;
                                break;
                        }
                        out.items[out.n] = (VbGroupWhy) { .kind = x->kind };
                        k = line_text(&r, x, look->acs_override, &out.items[out.n].text);
                        if (k >= 0)
                                out.n++;
                }
        if (k < 0) {
                vb_group_why_list_done(&out);
                return k;
        }
        *ret = out;
        return 0;
}

int vb_group_why_advice(const VbGroupWhyList *l, char ***ret) {
        _cleanup_strv_free_ char **advice = NULL;
        bool seen[_VB_GROUP_WHY_KIND_MAX] = {}, hardware = false;
        size_t n = 0;

        for (size_t i = 0; i < l->n; i++)
                seen[l->items[i].kind] = true;
        if (seen[VB_GROUP_WHY_FUNCTIONS] &&
            strv_extend_printf(&advice, &n,
                               "the functions of one device go to a guest together: Group=take passes the group "
                               "whole; no slot or setting parts them") < 0)
                return -ENOMEM;
        if (seen[VB_GROUP_WHY_ALIAS] &&
            strv_extend_printf(&advice, &n,
                               "devices behind a PCIe-to-PCI or PCI bridge share its requester ID: they go "
                               "together (Group=take), or the card needs a PCIe slot of its own") < 0)
                return -ENOMEM;
        if (seen[VB_GROUP_WHY_NOT_ISOLATED] &&
            strv_extend_printf(&advice, &n,
                               "another slot may isolate it: one below a root port or switch port with ACS (the "
                               "slots whose devices vfio-bind groups lists alone); or pass the whole group with "
                               "Group=take") < 0)
                return -ENOMEM;
        hardware = seen[VB_GROUP_WHY_FUNCTIONS] || seen[VB_GROUP_WHY_ALIAS] || seen[VB_GROUP_WHY_NOT_ISOLATED];
        if (hardware &&
            strv_extend_printf(&advice, &n,
                               "the out-of-tree ACS override patch (pcie_acs_override=) only pretends this isolation: "
                               "the devices could still reach each other's memory by peer-to-peer DMA that the "
                               "IOMMU never sees") < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(advice);
        return 0;
}
