/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "interlock.h"
#include "macro.h"
#include "sysfs.h"

/* Block devices stack (a partition on LUKS on LVM on RAID …); stop somewhere. */
#define BLOCK_DEPTH_MAX 8
/* Network interfaces stack too (VLAN on a bond on NICs). */
#define NET_DEPTH_MAX 8
/* Texts merged into one hold before "and more". */
#define HOLD_TEXTS_MAX 3
/* Interface names are at most 15 bytes (IFNAMSIZ 16); read a little more and compare. */
#define IFNAME_MAX 32
#define IFNAME_SCAN "%31s"

static const char *const hold_kind_table[_VB_HOLD_KIND_MAX] = {
        [VB_HOLD_MOUNT] = "mount",
        [VB_HOLD_SWAP] = "swap",
        [VB_HOLD_NETWORK] = "network",
        [VB_HOLD_CONSOLE] = "console",
};

const char *vb_hold_kind_to_string(VbHoldKind k) {
        return k >= 0 && k < _VB_HOLD_KIND_MAX ? hold_kind_table[k] : NULL;
}

VbHoldKind vb_hold_kind_from_string(const char *s) {
        for (size_t i = 0; s && i < _VB_HOLD_KIND_MAX; i++)
                if (streq(hold_kind_table[i], s))
                        return (VbHoldKind) i;
        return _VB_HOLD_KIND_INVALID;
}

/* ---- the list of holds ---- */

void vb_holds_done(VbHolds *h) {
        if (!h)
                return;
        for (size_t i = 0; i < h->n; i++)
                free(h->holds[i].what);
        free(h->holds);
        *h = (VbHolds) {};
}

/* Is ITEM one of the ", "-separated texts of LIST? */
static bool list_has(const char *list, const char *item) {
        size_t n = strlen(item);

        for (const char *p = list; (p = strstr(p, item)); p++)
                if ((p == list || (p >= list + 2 && strneq(p - 2, ", ", 2))) && (p[n] == '\0' || strneq(p + n, ", ", 2)))
                        return true;
        return false;
}

static size_t count_texts(const char *what) {
        size_t n = 1;
        for (const char *p = what; (p = strstr(p, ", ")); p += 2)
                n++;
        return n;
}

int vb_holds_add(VbHolds *h, const VbPciAddress *a, VbHoldKind kind, const char *what) {
        VbHold *n;
        char *s;

        if (kind < 0 || kind >= _VB_HOLD_KIND_MAX || !what)
                return -EINVAL;

        for (size_t i = 0; i < h->n; i++) {
                VbHold *o = &h->holds[i];

                if (o->kind != kind || !vb_pci_address_equal(&o->address, a))
                        continue;
                /* The same text twice (a file system mounted twice on one place, bind mounts of
                 * one device): once is enough. */
                if (list_has(o->what, what))
                        return 0;
                if (strstr(o->what, ", and more"))
                        return 0;
                if (count_texts(o->what) >= HOLD_TEXTS_MAX) {
                        if (asprintf(&s, "%s, and more", o->what) < 0)
                                return -ENOMEM;
                } else if (asprintf(&s, "%s, %s", o->what, what) < 0)
                        return -ENOMEM;
                free(o->what);
                o->what = s;
                return 0;
        }

        s = strdup(what);
        if (!s)
                return -ENOMEM;
        n = realloc(h->holds, (h->n + 1) * sizeof(VbHold));
        if (!n) {
                free(s);
                return -ENOMEM;
        }
        h->holds = n;
        h->holds[h->n++] = (VbHold) { .address = *a, .kind = kind, .what = s };
        return 0;
}

bool vb_holds_has(const VbHolds *h, const VbPciAddress *a, unsigned mask) {
        for (size_t i = 0; h && i < h->n; i++)
                if ((mask & VB_HOLD_MASK(h->holds[i].kind)) && vb_pci_address_equal(&h->holds[i].address, a))
                        return true;
        return false;
}

int vb_holds_describe(const VbHolds *h, const VbPciAddress *a, unsigned mask, char **ret) {
        char *s = NULL;

        /* In the order of the kinds, so that the text does not depend on reading order. */
        for (int k = 0; k < _VB_HOLD_KIND_MAX; k++) {
                if (!(mask & VB_HOLD_MASK(k)))
                        continue;
                for (size_t i = 0; h && i < h->n; i++) {
                        const VbHold *o = &h->holds[i];
                        char *n;

                        if ((int) o->kind != k || !vb_pci_address_equal(&o->address, a))
                                continue;
                        if (asprintf(&n, "%s%s%s", strempty(s), s ? "; " : "", o->what) < 0) {
                                free(s);
                                return -ENOMEM;
                        }
                        free(s);
                        s = n;
                }
        }
        *ret = s;
        return 0;
}

/* ---- paths ---- */

/* The last component of PATH that is a PCI address: the nearest PCI ancestor of whatever PATH
 * names ("../../devices/pci0000:00/0000:00:1f.2/ata1/host0/…/block/sda/sda2" → 0000:00:1f.2). */
static bool path_pci_ancestor(const char *path, VbPciAddress *ret) {
        bool found = false;
        const char *p = path;

        while (*p) {
                char comp[VB_PCI_ADDRESS_MAX];
                size_t n = strcspn(p, "/");
                VbPciAddress a;

                if (n < VB_PCI_ADDRESS_MAX) {
                        memcpy(comp, p, n);
                        comp[n] = '\0';
                        if (vb_pci_address_parse(comp, &a) >= 0) {
                                *ret = a;
                                found = true;
                        }
                }
                p += n;
                p += strspn(p, "/");
        }
        return found;
}

static int readlink_sysfs(VbContext *ctx, const char *path, char **ret) {
        char buf[PATH_MAX];
        ssize_t n;
        char *s;

        n = readlinkat(vb_context_sysfs_fd(ctx), path, buf, sizeof(buf) - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        s = strdup(buf);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* A name that is one path component and safe to put into a sysfs path. */
static bool name_is_safe(const char *s) {
        return s && *s && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..") && strlen(s) < NAME_MAX;
}

/* Undo the octal escapes of /proc/self/mountinfo and /proc/swaps ("\040" for a space) in place. */
static char *unescape_octal(char *s) {
        char *o = s;

        for (const char *i = s; *i;) {
                if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' && i[2] <= '7' &&
                    i[3] >= '0' && i[3] <= '7') {
                        char c = (char) (((i[1] - '0') << 6) | ((i[2] - '0') << 3) | (i[3] - '0'));
                        if (c != '\0') {
                                *o++ = c;
                                i += 4;
                                continue;
                        }
                }
                *o++ = *i++;
        }
        *o = '\0';
        return s;
}

/* ---- block devices ---- */

typedef struct AddressSet {
        VbPciAddress *a;
        size_t n;
} AddressSet;

static int address_set_add(AddressSet *s, const VbPciAddress *a) {
        VbPciAddress *n;

        for (size_t i = 0; i < s->n; i++)
                if (vb_pci_address_equal(&s->a[i], a))
                        return 0;
        n = realloc(s->a, (s->n + 1) * sizeof(VbPciAddress));
        if (!n)
                return -ENOMEM;
        s->a = n;
        s->a[s->n++] = *a;
        return 0;
}

static int cmp_address(const void *x, const void *y) {
        return vb_pci_address_compare(x, y);
}

/* The PCI devices under block device NAME (a name in /sys/class/block). */
static int block_walk(VbContext *ctx, const char *name, unsigned depth, AddressSet *set) {
        _cleanup_free_ char *link = NULL, *path = NULL, *slaves_path = NULL, *parent_slaves = NULL;
        _cleanup_strv_free_ char **slaves = NULL;
        VbPciAddress a;
        int r;

        if (depth > BLOCK_DEPTH_MAX || !name_is_safe(name))
                return 0;
        if (asprintf(&path, "class/block/%s", name) < 0)
                return -ENOMEM;
        r = readlink_sysfs(ctx, path, &link);
        if (r == -ENOENT || r == -EINVAL)
                return 0; /* not a block device we know (or not a link) */
        if (r < 0)
                return r;
        if (path_pci_ancestor(link, &a))
                return address_set_add(set, &a);

        /* Virtual (dm-N, mdN, loop): follow what it is stacked on. A partition of a virtual
         * device lists no slaves itself: its parent does. */
        if (asprintf(&slaves_path, "%s/slaves", path) < 0)
                return -ENOMEM;
        r = vb_sysfs_list(ctx, slaves_path, &slaves);
        if (r == -ENOENT || r == -ENOTDIR) {
                _cleanup_free_ char *partition = NULL;

                if (asprintf(&partition, "%s/partition", path) < 0)
                        return -ENOMEM;
                if (!vb_sysfs_exists(ctx, partition))
                        return 0;
                /* ".../block/dm-0/dm-0p1": the parent is the link's second-to-last component. */
                const char *end = strrchr(link, '/');
                if (!end)
                        return 0;
                const char *start = end;
                while (start > link && start[-1] != '/')
                        start--;
                if (start == end)
                        return 0;
                parent_slaves = strndup(start, (size_t) (end - start));
                if (!parent_slaves)
                        return -ENOMEM;
                return block_walk(ctx, parent_slaves, depth + 1, set);
        }
        if (r < 0)
                return r;
        for (char **s = slaves; *s; s++) {
                r = block_walk(ctx, *s, depth + 1, set);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vb_interlock_block_devices(VbContext *ctx, const char *name, VbPciAddress **ret, size_t *ret_n) {
        AddressSet set = {};
        int r;

        r = block_walk(ctx, name, 0, &set);
        if (r < 0) {
                free(set.a);
                return r;
        }
        if (set.n > 1)
                qsort(set.a, set.n, sizeof(VbPciAddress), cmp_address);
        *ret = set.a;
        *ret_n = set.n;
        return 0;
}

/* The block device name for a device node path: "/dev/sda2" → "sda2", "/dev/mapper/root" → the
 * dm-N whose dm/name is "root". NULL if it names no block device we can see. */
static int block_name_from_node(VbContext *ctx, const char *node, char **ret) {
        _cleanup_strv_free_ char **names = NULL;
        const char *base;
        int r;

        *ret = NULL;
        if (!strneq(node, "/dev/", 5))
                return 0;
        if (strneq(node, "/dev/mapper/", 12)) {
                const char *dm = node + 12;

                r = vb_sysfs_list(ctx, "class/block", &names);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
                for (char **n = names; *n; n++) {
                        _cleanup_free_ char *p = NULL, *v = NULL;

                        if (!strneq(*n, "dm-", 3))
                                continue;
                        if (asprintf(&p, "class/block/%s/dm/name", *n) < 0)
                                return -ENOMEM;
                        if (vb_sysfs_read(ctx, p, &v) >= 0 && streq(v, dm)) {
                                *ret = strdup(*n);
                                return *ret ? 0 : -ENOMEM;
                        }
                }
                return 0;
        }
        base = strrchr(node, '/') + 1;
        if (!name_is_safe(base))
                return 0;
        *ret = strdup(base);
        return *ret ? 0 : -ENOMEM;
}

/* The block device of a mount: its st_dev (MAJ:MIN, through /sys/dev/block) if that is a block
 * device, else its source if that is a device node (btrfs reports an anonymous st_dev). */
static int mount_block_name(VbContext *ctx, const char *majmin, const char *source, char **ret) {
        _cleanup_free_ char *path = NULL, *link = NULL;
        unsigned maj, min;
        int r;

        *ret = NULL;
        if (sscanf(majmin, "%u:%u", &maj, &min) == 2 && maj != 0) {
                if (asprintf(&path, "dev/block/%u:%u", maj, min) < 0)
                        return -ENOMEM;
                r = readlink_sysfs(ctx, path, &link);
                if (r >= 0) {
                        const char *base = strrchr(link, '/');
                        *ret = strdup(base ? base + 1 : link);
                        return *ret ? 0 : -ENOMEM;
                }
                if (r != -ENOENT && r != -EINVAL)
                        return r;
        }
        return block_name_from_node(ctx, source, ret);
}

typedef struct Mount {
        char *majmin;
        char *mountpoint;
        char *fstype;
        char *source;
} Mount;

static void mounts_free(Mount *m, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(m[i].majmin);
                free(m[i].mountpoint);
                free(m[i].fstype);
                free(m[i].source);
        }
        free(m);
}

/* /proc/self/mountinfo: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw". Lines
 * that do not parse are skipped. */
static int read_mounts(VbContext *ctx, Mount **ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL;
        Mount *m = NULL;
        size_t n = 0;
        char *line, *save = NULL;
        int r;

        r = vb_procfs_read(ctx, "self/mountinfo", &text);
        if (r < 0)
                return r;

        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *field[6], *sep, *fs_save = NULL, *after[2];
                size_t nf = 0;
                Mount *nm;

                sep = strstr(line, " - ");
                if (!sep)
                        continue;
                *sep = '\0';
                for (char *f = strtok_r(line, " ", &fs_save); f && nf < ELEMENTSOF(field); f = strtok_r(NULL, " ", &fs_save))
                        field[nf++] = f;
                if (nf < 5)
                        continue;
                fs_save = NULL;
                after[0] = strtok_r(sep + 3, " ", &fs_save);
                after[1] = after[0] ? strtok_r(NULL, " ", &fs_save) : NULL;
                if (!after[0] || !after[1])
                        continue;

                nm = realloc(m, (n + 1) * sizeof(Mount));
                if (!nm) {
                        mounts_free(m, n);
                        return -ENOMEM;
                }
                m = nm;
                m[n] = (Mount) {
                        .majmin = strdup(field[2]),
                        .mountpoint = strdup(unescape_octal(field[4])),
                        .fstype = strdup(after[0]),
                        .source = strdup(unescape_octal(after[1])),
                };
                n++;
                if (!m[n - 1].majmin || !m[n - 1].mountpoint || !m[n - 1].fstype || !m[n - 1].source) {
                        mounts_free(m, n);
                        return -ENOMEM;
                }
        }
        *ret = m;
        *ret_n = n;
        return 0;
}

/* Hold every PCI device under block device NAME with TEXT. */
static int hold_block(VbContext *ctx, VbHolds *h, const char *name, VbHoldKind kind, const char *text) {
        _cleanup_free_ VbPciAddress *a = NULL;
        size_t n = 0;
        int r;

        r = vb_interlock_block_devices(ctx, name, &a, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = vb_holds_add(h, &a[i], kind, text);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The mount whose mount point is the longest prefix of PATH (for a swap file). */
static const Mount *mount_of_path(const Mount *m, size_t n, const char *path) {
        const Mount *best = NULL;
        size_t best_len = 0;

        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(m[i].mountpoint);

                if (streq(m[i].mountpoint, "/"))
                        l = 0;
                else if (!strneq(path, m[i].mountpoint, l) || (path[l] != '/' && path[l] != '\0'))
                        continue;
                if (!best || l >= best_len) {
                        best = &m[i];
                        best_len = l;
                }
        }
        return best;
}

static int read_swaps(VbContext *ctx, VbHolds *h, const Mount *mounts, size_t n_mounts) {
        _cleanup_free_ char *text = NULL;
        char *line, *save = NULL;
        bool header = true;
        int r;

        r = vb_procfs_read(ctx, "swaps", &text);
        if (r < 0)
                return r;

        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *name = NULL, *what = NULL;
                char *file, *type, *f_save = NULL;

                if (header) { /* "Filename  Type  Size  Used  Priority" */
                        header = false;
                        continue;
                }
                file = strtok_r(line, " \t", &f_save);
                type = file ? strtok_r(NULL, " \t", &f_save) : NULL;
                if (!file || !type)
                        continue;
                unescape_octal(file);

                if (streq(type, "file")) {
                        const Mount *m = mount_of_path(mounts, n_mounts, file);
                        if (!m)
                                continue;
                        r = mount_block_name(ctx, m->majmin, m->source, &name);
                        if (r < 0)
                                return r;
                        if (asprintf(&what, "swap file %s on %s is active", file, m->source) < 0)
                                return -ENOMEM;
                } else {
                        r = block_name_from_node(ctx, file, &name);
                        if (r < 0)
                                return r;
                        if (asprintf(&what, "swap on %s is active", file) < 0)
                                return -ENOMEM;
                }
                if (!name)
                        continue;
                r = hold_block(ctx, h, name, VB_HOLD_SWAP, what);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vb_interlock_read_storage(VbContext *ctx, VbHolds *h) {
        Mount *mounts = NULL;
        size_t n = 0;
        int r;

        r = read_mounts(ctx, &mounts, &n);
        if (r < 0 && r != -ENOENT)
                return r;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *name = NULL, *what = NULL;

                r = mount_block_name(ctx, mounts[i].majmin, mounts[i].source, &name);
                if (r < 0)
                        goto finish;
                if (!name)
                        continue;
                if (asprintf(&what, "%s is mounted on %s", mounts[i].source, mounts[i].mountpoint) < 0) {
                        r = -ENOMEM;
                        goto finish;
                }
                r = hold_block(ctx, h, name, VB_HOLD_MOUNT, what);
                if (r < 0)
                        goto finish;
        }

        r = read_swaps(ctx, h, mounts, n);
        if (r == -ENOENT)
                r = 0;
finish:
        mounts_free(mounts, n);
        return r;
}

/* ---- network ---- */

/* IPv6 addresses per interface from /proc/net/if_inet6, without link-local and host scope:
 * "fe800000000000000000000000000001 02 40 20 80 eth0" (address, index, prefix, scope, flags,
 * name). Returns 1 and the first address (formatted) if NAME has one. */
static int inet6_address(const char *if_inet6, const char *name, char **ret) {
        const char *p = if_inet6;

        while (p && *p) {
                const char *eol = strchrnul(p, '\n');
                char addr[33], ifname[IFNAME_MAX];
                unsigned idx, plen, scope, flags;

                if (sscanf(p, "%32s %x %x %x %x " IFNAME_SCAN, addr, &idx, &plen, &scope, &flags, ifname) == 6 &&
                    streq(ifname, name) && strlen(addr) == 32 && scope != 0x20 && scope != 0x10) {
                        unsigned char bytes[16];
                        char out[INET6_ADDRSTRLEN];
                        bool ok = true;

                        for (int i = 0; i < 16 && ok; i++) {
                                unsigned b = 0;
                                ok = sscanf(addr + 2 * i, "%2x", &b) == 1;
                                bytes[i] = (unsigned char) b;
                        }
                        if (!ok || !inet_ntop(AF_INET6, bytes, out, sizeof(out)))
                                snprintf(out, sizeof(out), "%s", addr);
                        if (asprintf(ret, "%s/%u", out, plen) < 0)
                                return -ENOMEM;
                        return 1;
                }
                p = *eol ? eol + 1 : NULL;
        }
        return 0;
}

static int inet4_route_pass(const char *route, const char *name, bool subnet_only, char **ret) {
        const char *p = route;
        bool header = true;

        while (p && *p) {
                const char *eol = strchrnul(p, '\n');
                char ifname[IFNAME_MAX];
                unsigned dest, gw, flags, refcnt, use, metric, mask;

                if (header)
                        header = false;
                else if (sscanf(p, IFNAME_SCAN " %x %x %x %u %u %u %x", ifname, &dest, &gw, &flags, &refcnt, &use,
                                &metric, &mask) == 8 &&
                         streq(ifname, name) && (!subnet_only || mask != 0)) {
                        const unsigned char *d = (const unsigned char *) &dest;
                        unsigned bits = (unsigned) __builtin_popcount(mask);

                        if (asprintf(ret, "%u.%u.%u.%u/%u", d[0], d[1], d[2], d[3], bits) < 0)
                                return -ENOMEM;
                        return 1;
                }
                p = *eol ? eol + 1 : NULL;
        }
        return 0;
}

/* An IPv4 route through NAME from /proc/net/route ("Iface Destination Gateway Flags RefCnt Use
 * Metric Mask …", the address as the kernel holds it, printed in hex): an interface with an IPv4
 * address has at least the route of its subnet. Returns 1 and a route as "10.0.2.0/24" if NAME
 * has one, preferring a subnet to the default route. */
static int inet4_route(const char *route, const char *name, char **ret) {
        int r = inet4_route_pass(route, name, true, ret);
        return r != 0 ? r : inet4_route_pass(route, name, false, ret);
}

/* Hold the PCI device of interface NAME, or of the interfaces it is stacked on (lower_*). */
static int net_hold(VbContext *ctx, VbHolds *h, const char *name, const char *text, unsigned depth) {
        _cleanup_free_ char *path = NULL, *link = NULL;
        _cleanup_strv_free_ char **entries = NULL;
        VbPciAddress a;
        int r;

        if (depth > NET_DEPTH_MAX || !name_is_safe(name))
                return 0;
        if (asprintf(&path, "class/net/%s", name) < 0)
                return -ENOMEM;
        r = readlink_sysfs(ctx, path, &link);
        if (r == -ENOENT || r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        if (path_pci_ancestor(link, &a))
                return vb_holds_add(h, &a, VB_HOLD_NETWORK, text);

        r = vb_sysfs_list(ctx, path, &entries);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        for (char **e = entries; *e; e++) {
                if (!strneq(*e, "lower_", 6))
                        continue;
                r = net_hold(ctx, h, *e + 6, text, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vb_interlock_read_network(VbContext *ctx, VbHolds *h) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *if_inet6 = NULL, *route = NULL;
        int r;

        r = vb_sysfs_list(ctx, "class/net", &names);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = vb_procfs_read(ctx, "net/if_inet6", &if_inet6);
        if (r < 0 && r != -ENOENT)
                return r;
        r = vb_procfs_read(ctx, "net/route", &route);
        if (r < 0 && r != -ENOENT)
                return r;

        for (char **n = names; *n; n++) {
                _cleanup_free_ char *flags_path = NULL, *addr6 = NULL, *addr4 = NULL, *what = NULL;
                uint32_t flags = 0;

                if (!name_is_safe(*n))
                        continue;
                if (asprintf(&flags_path, "class/net/%s/flags", *n) < 0)
                        return -ENOMEM;
                if (vb_sysfs_read_u32(ctx, flags_path, &flags) < 0 || !(flags & 0x1 /* IFF_UP */))
                        continue;
                r = if_inet6 ? inet6_address(if_inet6, *n, &addr6) : 0;
                if (r < 0)
                        return r;
                r = route ? inet4_route(route, *n, &addr4) : 0;
                if (r < 0)
                        return r;
                if (!addr6 && !addr4)
                        continue;
                if (asprintf(&what, "network interface %s is up with %s%s%s", *n, strempty(addr4),
                             addr4 && addr6 ? " and " : "", strempty(addr6)) < 0)
                        return -ENOMEM;
                r = net_hold(ctx, h, *n, what, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- console ---- */

int vb_interlock_add_console(const VbConsoleState *console, const VbPciList *devices, VbHolds *h) {
        _cleanup_free_ char *held = NULL;

        if (!console || !vb_console_is_held(console))
                return 0;

        for (size_t i = 0; i < console->n_vtconsoles; i++) {
                const VbVtconsole *v = &console->vtconsoles[i];
                char *n;

                if (!v->framebuffer || !v->bound)
                        continue;
                if (asprintf(&n, "%s%svtcon%u", strempty(held), held ? ", " : "", v->index) < 0)
                        return -ENOMEM;
                free(held);
                held = n;
        }
        for (size_t i = 0; i < console->n_framebuffers; i++) {
                const VbFramebuffer *fb = &console->framebuffers[i];
                char *n;

                if (!fb->driver)
                        continue;
                if (asprintf(&n, "%s%s%s", strempty(held), held ? ", " : "", fb->name) < 0)
                        return -ENOMEM;
                free(held);
                held = n;
        }

        for (size_t i = 0; i < devices->n; i++) {
                const VbPciDevice *d = &devices->devices[i];
                _cleanup_free_ char *what = NULL;
                const char *why = NULL;
                int r;

                if (!vb_console_owned_by(console, d, &why))
                        continue;
                if (asprintf(&what, "the console in use (%s) is on it: %s", strna(held), strna(why)) < 0)
                        return -ENOMEM;
                r = vb_holds_add(h, &d->address, VB_HOLD_CONSOLE, what);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vb_interlock_read(VbContext *ctx, const VbConsoleState *console, const VbPciList *devices, VbHolds *ret) {
        int r, first = 0;

        *ret = (VbHolds) {};
        r = vb_interlock_add_console(console, devices, ret);
        if (r < 0)
                return r;
        /* One source that cannot be read must not hide the others. */
        r = vb_interlock_read_storage(ctx, ret);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                vb_debug(ctx, "cannot tell which storage the host uses: %s", strerror(-r));
                first = r;
        }
        r = vb_interlock_read_network(ctx, ret);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                vb_debug(ctx, "cannot tell which network interfaces the host uses: %s", strerror(-r));
                if (first == 0)
                        first = r;
        }
        return first;
}
