/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The storage interlocks: mounted file systems and active swap, walked from their block devices
 * to the PCI controllers they are on. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "alloc-util.h"
#include "interlock-storage.h"
#include "macro.h"
#include "sysfs-link.h"
#include "sysfs.h"

/* Block devices stack (a partition on LUKS on LVM on RAID …); stop somewhere. */
#define BLOCK_DEPTH_MAX 8

/* Undo the octal escapes of /proc/self/mountinfo and /proc/swaps ("\040" for a space) in place. */
static char *unescape_octal(char *s) {
        char *o = s;

        for (const char *i = s; *i;) {
                if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' && i[2] <= '7' && i[3] >= '0' &&
                    i[3] <= '7') {
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
        size_t n, allocated;
} AddressSet;

static int address_set_add(AddressSet *s, const VbPciAddress *a) {
        for (size_t i = 0; i < s->n; i++)
                if (vb_pci_address_equal(&s->a[i], a))
                        return 0;
        if (!VB_GREEDY_REALLOC(s->a, s->allocated, s->n + 1))
                return -ENOMEM;
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

        if (depth > BLOCK_DEPTH_MAX || !vb_sysfs_link_name_is_safe(name))
                return 0;
        if (asprintf(&path, "class/block/%s", name) < 0)
                return -ENOMEM;
        r = vb_sysfs_readlink(ctx, path, &link);
        if (r == -ENOENT || r == -EINVAL)
                return 0; /* not a block device we know (or not a link) */
        if (r < 0)
                return r;
        if (vb_sysfs_link_pci_ancestor(link, &a)) {
                VbPciAddress host;

                r = address_set_add(set, &a);
                /* Behind a VMD controller: the controller takes the disk with it. */
                if (r >= 0 && vb_sysfs_link_bus_host(link, &host))
                        r = address_set_add(set, &host);
                return r;
        }

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
        if (!vb_sysfs_link_name_is_safe(base))
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
                r = vb_sysfs_readlink(ctx, path, &link);
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

void vb_mounts_free(VbMount *m, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(m[i].majmin);
                free(m[i].mountpoint);
                free(m[i].fstype);
                free(m[i].source);
        }
        free(m);
}

int vb_interlock_mountinfo_parse(const char *text, VbMount **ret, size_t *ret_n) {
        _cleanup_free_ char *copy = NULL;
        VbMount *m = NULL;
        size_t n = 0, allocated = 0;
        char *line, *save = NULL;

        assert(text);
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *field[6], *sep, *fs_save = NULL, *after[2];
                size_t nf = 0;

                sep = strstr(line, " - ");
                if (!sep)
                        continue;
                *sep = '\0';
                for (char *f = strtok_r(line, " ", &fs_save); f && nf < ELEMENTSOF(field);
                     f = strtok_r(NULL, " ", &fs_save))
                        field[nf++] = f;
                if (nf < 5)
                        continue;
                fs_save = NULL;
                after[0] = strtok_r(sep + 3, " ", &fs_save);
                after[1] = after[0] ? strtok_r(NULL, " ", &fs_save) : NULL;
                if (!after[0] || !after[1])
                        continue;

                if (!VB_GREEDY_REALLOC(m, allocated, n + 1)) {
                        vb_mounts_free(m, n);
                        return -ENOMEM;
                }
                m[n] = (VbMount) {
                        .majmin = strdup(field[2]),
                        .mountpoint = strdup(unescape_octal(field[4])),
                        .fstype = strdup(after[0]),
                        .source = strdup(unescape_octal(after[1])),
                };
                n++;
                if (!m[n - 1].majmin || !m[n - 1].mountpoint || !m[n - 1].fstype || !m[n - 1].source) {
                        vb_mounts_free(m, n);
                        return -ENOMEM;
                }
        }
        *ret = m;
        *ret_n = n;
        return 0;
}

/* /proc/self/mountinfo, read and parsed. */
static int read_mounts(VbContext *ctx, VbMount **ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = vb_procfs_read(ctx, "self/mountinfo", &text);
        if (r < 0)
                return r;
        return vb_interlock_mountinfo_parse(text, ret, ret_n);
}

void vb_swaps_free(VbSwap *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(s[i].file);
                free(s[i].type);
        }
        free(s);
}

int vb_interlock_swaps_parse(const char *text, VbSwap **ret, size_t *ret_n) {
        _cleanup_free_ char *copy = NULL;
        VbSwap *l = NULL;
        char *line, *save = NULL;
        bool header = true;
        size_t n = 0, allocated = 0;

        assert(text);
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *file, *type, *f_save = NULL;

                if (header) { /* "Filename  Type  Size  Used  Priority" */
                        header = false;
                        continue;
                }
                file = strtok_r(line, " \t", &f_save);
                type = file ? strtok_r(NULL, " \t", &f_save) : NULL;
                if (!file || !type)
                        continue;

                if (!VB_GREEDY_REALLOC(l, allocated, n + 1)) {
                        vb_swaps_free(l, n);
                        return -ENOMEM;
                }
                l[n] = (VbSwap) {
                        .file = strdup(unescape_octal(file)),
                        .type = strdup(type),
                };
                n++;
                if (!l[n - 1].file || !l[n - 1].type) {
                        vb_swaps_free(l, n);
                        return -ENOMEM;
                }
        }
        *ret = l;
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
static const VbMount *mount_of_path(const VbMount *m, size_t n, const char *path) {
        const VbMount *best = NULL;
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

int vb_interlock_hold_swaps(VbContext *ctx, const VbSwap *swaps, size_t n, const VbMount *mounts, size_t n_mounts,
                            VbHolds *h) {
        int r;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *name = NULL, *what = NULL;
                const char *file = swaps[i].file;

                if (streq(swaps[i].type, "file")) {
                        const VbMount *m = mount_of_path(mounts, n_mounts, file);
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

static int read_swaps(VbContext *ctx, VbHolds *h, const VbMount *mounts, size_t n_mounts) {
        _cleanup_free_ char *text = NULL;
        VbSwap *swaps = NULL;
        size_t n = 0;
        int r;

        r = vb_procfs_read(ctx, "swaps", &text);
        if (r < 0)
                return r;
        r = vb_interlock_swaps_parse(text, &swaps, &n);
        if (r < 0)
                return r;
        r = vb_interlock_hold_swaps(ctx, swaps, n, mounts, n_mounts, h);
        vb_swaps_free(swaps, n);
        return r;
}

int vb_interlock_hold_mounts(VbContext *ctx, const VbMount *mounts, size_t n, VbHolds *h) {
        int r;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *name = NULL, *what = NULL;

                r = mount_block_name(ctx, mounts[i].majmin, mounts[i].source, &name);
                if (r < 0)
                        return r;
                if (!name)
                        continue;
                if (asprintf(&what, "%s is mounted on %s", mounts[i].source, mounts[i].mountpoint) < 0)
                        return -ENOMEM;
                r = hold_block(ctx, h, name, VB_HOLD_MOUNT, what);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vb_interlock_read_storage(VbContext *ctx, VbHolds *h) {
        VbMount *mounts = NULL;
        size_t n = 0;
        int r;

        r = read_mounts(ctx, &mounts, &n);
        if (r < 0 && r != -ENOENT)
                return r;

        r = vb_interlock_hold_mounts(ctx, mounts, n, h);
        if (r < 0)
                goto finish;
        r = read_swaps(ctx, h, mounts, n);
        if (r == -ENOENT)
                r = 0;
finish:
        vb_mounts_free(mounts, n);
        return r;
}
