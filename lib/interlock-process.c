/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc-util.h"
#include "driver.h"
#include "interlock-process.h"
#include "macro.h"
#include "sysfs-link.h"
#include "sysfs.h"

/* A device node of one of the devices: the path an open descriptor's link names. */
typedef struct Node {
        char *path;    /* "/dev/dri/card0" */
        size_t device; /* index in the device list */
        bool shared;   /* shared by every NVIDIA GPU (/dev/nvidiactl) */
} Node;

typedef struct Nodes {
        Node *nodes;
        size_t n, allocated;
} Nodes;

static void nodes_done(Nodes *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->nodes[i].path);
        free(l->nodes);
        *l = (Nodes) {};
}

static int nodes_add(Nodes *l, char *path, size_t device, bool shared) {
        if (!path)
                return -ENOMEM;
        if (!VB_GREEDY_REALLOC(l->nodes, l->allocated, l->n + 1)) {
                free(path);
                return -ENOMEM;
        }
        l->nodes[l->n++] = (Node) { .path = path, .device = device, .shared = shared };
        return 0;
}

static char *strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strdup_printf(const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

/* The node of the class device at DIR (sysfs): /dev/ and the DEVNAME of its uevent, if it has
 * one ("dri/card0", "snd/pcmC0D0p", "vfio/devices/vfio0"). */
static int class_device_node(VbContext *ctx, const char *dir, size_t device, Nodes *l) {
        _cleanup_free_ char *path = NULL, *uevent = NULL;
        const char *p;
        size_t n;

        if (asprintf(&path, "%s/uevent", dir) < 0)
                return -ENOMEM;
        if (vb_sysfs_read(ctx, path, &uevent) < 0)
                return 0;
        for (p = uevent; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strneq(p, "DEVNAME=", 8))
                        break;
        if (!p)
                return 0;
        p += 8;
        n = strcspn(p, "\n");
        /* a name below /dev, nothing that climbs out of it */
        if (n == 0 || p[0] == '/' || memmem(p, n, "..", 2))
                return 0;
        return nodes_add(l, strdup_printf("/dev/%.*s", (int) n, p), device, false);
}

/* The class devices below SUB of device D (drm/card0, vfio-dev/vfio0), and with DEPTH 2 those
 * one level further down (sound/card0/pcmC0D0p). */
static int class_nodes(VbContext *ctx, const VbPciDevice *d, const char *sub, int depth, size_t device, Nodes *l) {
        _cleanup_strv_free_ char **entries = NULL;
        const char *base = VB_PCI_DEVICE_PATH(&d->address, sub);
        int r;

        if (!base || vb_sysfs_list(ctx, base, &entries) < 0)
                return 0;
        for (char **e = entries; *e; e++) {
                _cleanup_free_ char *dir = NULL;

                if (!vb_sysfs_link_name_is_safe(*e))
                        continue;
                if (asprintf(&dir, "%s/%s", base, *e) < 0)
                        return -ENOMEM;
                if (depth > 1) {
                        _cleanup_strv_free_ char **children = NULL;

                        if (!strneq(*e, "card", 4) || vb_sysfs_list(ctx, dir, &children) < 0)
                                continue;
                        for (char **c = children; *c; c++) {
                                _cleanup_free_ char *child = NULL;

                                if (!vb_sysfs_link_name_is_safe(*c))
                                        continue;
                                if (asprintf(&child, "%s/%s", dir, *c) < 0)
                                        return -ENOMEM;
                                r = class_device_node(ctx, child, device, l);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                r = class_device_node(ctx, dir, device, l);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The minor the NVIDIA driver gave the GPU at A ("Device Minor: 0" in its information file). */
static int nvidia_minor(VbContext *ctx, const VbPciAddress *a, unsigned *ret) {
        _cleanup_free_ char *path = NULL, *info = NULL;
        const char *p;

        if (asprintf(&path, "driver/nvidia/gpus/%s/information", VB_PCI_ADDRESS_STR(a)) < 0)
                return -ENOMEM;
        if (vb_procfs_read(ctx, path, &info) < 0)
                return -ENOENT;
        p = strstr(info, "Device Minor:");
        if (!p || sscanf(p, "Device Minor: %u", ret) != 1)
                return -ENOENT;
        return 0;
}

static int device_nodes(VbContext *ctx, const VbPciDevice *d, size_t device, Nodes *l) {
        unsigned minor;
        int r;

        r = class_nodes(ctx, d, "drm", 1, device, l);
        if (r < 0)
                return r;
        r = class_nodes(ctx, d, "sound", 2, device, l);
        if (r < 0)
                return r;
        r = class_nodes(ctx, d, "vfio-dev", 1, device, l);
        if (r < 0)
                return r;
        if (vb_driver_is_vfio(d->driver) && d->iommu_group >= 0) {
                r = nodes_add(l, strdup_printf("/dev/vfio/%d", d->iommu_group), device, false);
                if (r < 0)
                        return r;
        }
        if (streq_ptr(d->driver, "nvidia")) {
                static const char *const shared[] = { "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-modeset" };

                if (nvidia_minor(ctx, &d->address, &minor) >= 0) {
                        r = nodes_add(l, strdup_printf("/dev/nvidia%u", minor), device, false);
                        if (r < 0)
                                return r;
                }
                for (size_t i = 0; i < ELEMENTSOF(shared); i++) {
                        r = nodes_add(l, strdup(shared[i]), device, true);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int cmp_number(const void *a, const void *b) {
        unsigned long x = strtoul(*(char *const *) a, NULL, 10), y = strtoul(*(char *const *) b, NULL, 10);
        return x < y ? -1 : x > y;
}

/* The names in DIRFD that are numbers (PIDs, descriptors), in numeric order: a report that reads
 * the same on every run. */
static int list_numbers(int dirfd, const char *path, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0, allocated = 0;
        DIR *d;
        int fd;

        fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -ENOMEM;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '\0' || de->d_name[strspn(de->d_name, "0123456789")] != '\0')
                        continue;
                if (!VB_GREEDY_REALLOC(l, allocated, n + 2) || !(l[n] = strdup(de->d_name))) {
                        closedir(d);
                        return -ENOMEM;
                }
                l[++n] = NULL;
        }
        closedir(d);
        if (!l && !(l = calloc(1, sizeof(char *))))
                return -ENOMEM;
        qsort(l, n, sizeof(char *), cmp_number);
        *ret = TAKE_PTR(l);
        return 0;
}

/* One process: what it is called, and its unit, read once it holds something. */
typedef struct Process {
        const char *pid;
        bool known;
        char *comm;
        char *unit;
} Process;

static void process_done(Process *p) {
        free(p->comm);
        free(p->unit);
}

/* The last component of a cgroup path that names a unit: "…/user@1000.service/app.slice/
 * app-firefox-1234.scope" → "app-firefox-1234.scope". */
static int cgroup_unit(const char *cgroup, char **ret) {
        const char *line = cgroup, *best = NULL;
        size_t best_n = 0;

        /* the unified hierarchy's line ("0::/system.slice/x.service"), else the first */
        for (const char *p = cgroup; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strneq(p, "0::", 3)) {
                        line = p;
                        break;
                }
        line = strchr(line, ':');
        line = line ? strchr(line + 1, ':') : NULL;
        *ret = NULL;
        if (!line)
                return 0;
        for (const char *p = line + 1; *p && *p != '\n';) {
                size_t n;

                p += strspn(p, "/");
                n = strcspn(p, "/\n");
                if ((n > 8 && strneq(p + n - 8, ".service", 8)) || (n > 6 && strneq(p + n - 6, ".scope", 6))) {
                        best = p;
                        best_n = n;
                }
                p += n;
        }
        if (best && !(*ret = strndup(best, best_n)))
                return -ENOMEM;
        return 0;
}

static int process_learn(VbContext *ctx, Process *p) {
        _cleanup_free_ char *path = NULL, *cgroup = NULL;

        if (p->known)
                return 0;
        p->known = true;
        if (asprintf(&path, "%s/comm", p->pid) < 0)
                return -ENOMEM;
        if (vb_procfs_read(ctx, path, &p->comm) == -ENOMEM)
                return -ENOMEM;
        free(path);
        if (asprintf(&path, "%s/cgroup", p->pid) < 0)
                return -ENOMEM;
        if (vb_procfs_read(ctx, path, &cgroup) == -ENOMEM)
                return -ENOMEM;
        return cgroup ? cgroup_unit(cgroup, &p->unit) : 0;
}

/* "/dev/dri/card0 is open in PID 812 (Xorg, display-manager.service)" */
static int process_hold(VbContext *ctx, Process *p, const VbPciAddress *a, const char *what, VbHolds *h) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = process_learn(ctx, p);
        if (r < 0)
                return r;
        if (asprintf(&text, "%s in PID %s (%s%s%s)", what, p->pid, p->comm ?: "?", p->unit ? ", " : "",
                     strempty(p->unit)) < 0)
                return -ENOMEM;
        r = vb_holds_add(h, a, VB_HOLD_PROGRAM, text);
        return r < 0 ? r : vb_holds_add_unit(h, a, VB_HOLD_PROGRAM, p->unit);
}

/* The target of a descriptor's link: the link's text, or in a replayed dump (which keeps no link
 * to an absolute path) the file's. */
static int fd_target(int dirfd, const char *name, char *buf, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        n = readlinkat(dirfd, name, buf, size - 1);
        if (n < 0 && errno == EINVAL) {
                fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
                if (fd < 0)
                        return -errno;
                n = read(fd, buf, size - 1);
        }
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return 0;
}

static int scan_fds(VbContext *ctx, int procfd, Process *p, const VbPciList *devices, const Nodes *nodes, VbHolds *h) {
        _cleanup_strv_free_ char **fds = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        _cleanup_free_ char *dir = NULL;
        int r = 0;

        if (asprintf(&dir, "%s/fd", p->pid) < 0)
                return -ENOMEM;
        dirfd = openat(procfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return 0; /* gone, or not ours to look at */
        r = list_numbers(dirfd, ".", &fds);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        for (char **fd = fds; r >= 0 && *fd; fd++) {
                char target[PATH_MAX];

                if (fd_target(dirfd, *fd, target, sizeof(target)) < 0)
                        continue;
                for (size_t i = 0; i < nodes->n && r >= 0; i++) {
                        const Node *node = &nodes->nodes[i];
                        _cleanup_free_ char *what = NULL, *link = NULL;

                        if (!streq(node->path, target))
                                continue;
                        if (asprintf(&what, "%s%s is open", node->path,
                                     node->shared ? " (shared by every NVIDIA GPU)" : "") < 0 ||
                            asprintf(&link, "%s/%s", dir, *fd) < 0)
                                return -ENOMEM;
                        vb_context_record(ctx, VB_RECORD_PROCFS, VB_RECORD_LINK, link, NULL, 0);
                        r = process_hold(ctx, p, &devices->devices[node->device].address, what, h);
                }
        }
        return r;
}

/* The device whose resource file a maps line names ("… /sys/devices/pci0000:00/0000:00:01.0/
 * 0000:01:00.0/resource0"), and the file's name. */
static const VbPciDevice *maps_line_device(const VbPciList *devices, const char *line, const char **ret_file) {
        const char *file = strstr(line, "/resource"), *start;
        char addr[32];
        VbPciAddress a;

        if (!file || file == line)
                return NULL;
        for (start = file - 1; start > line && start[-1] != '/'; start--)
                ;
        if ((size_t) (file - start) >= sizeof(addr))
                return NULL;
        memcpy(addr, start, (size_t) (file - start));
        addr[file - start] = '\0';
        if (vb_pci_address_parse(addr, &a) < 0)
                return NULL;
        *ret_file = file + 1;
        return vb_pci_list_find(devices, &a);
}

/* Is the process in uninterruptible sleep ("PID (comm) D …" in its stat)? */
static bool process_in_d_state(int procfd, const char *pid) {
        char path[64], buf[512];
        _cleanup_close_ int fd = -EBADF;
        const char *p;
        ssize_t n;

        snprintf(path, sizeof(path), "%s/stat", pid);
        fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        p = strrchr(buf, ')');
        return p && p[1] == ' ' && p[2] == 'D';
}

static int scan_maps(VbContext *ctx, int procfd, Process *p, const VbPciList *devices, VbHolds *h) {
        _cleanup_free_ char *path = NULL, *line = NULL, *kept = NULL;
        size_t size = 0, kept_size = 0, kept_allocated = 0;
        FILE *f;
        int fd, r = 0;

        if (process_in_d_state(procfd, p->pid)) {
                vb_debug(ctx, "PID %s is in uninterruptible sleep: its mappings are not read", p->pid);
                return 0;
        }
        if (asprintf(&path, "%s/maps", p->pid) < 0)
                return -ENOMEM;
        fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        f = fdopen(fd, "re");
        if (!f) {
                close(fd);
                return -ENOMEM;
        }
        while (r >= 0 && getline(&line, &size, f) > 0) {
                _cleanup_free_ char *what = NULL;
                const VbPciDevice *d;
                const char *file;
                size_t n;

                if (!strstr(line, "/resource") || !(d = maps_line_device(devices, line, &file)))
                        continue;
                n = strlen(line);
                if (!VB_GREEDY_REALLOC(kept, kept_allocated, kept_size + n + 1)) {
                        r = -ENOMEM;
                        break;
                }
                memcpy(kept + kept_size, line, n + 1);
                kept_size += n;
                if (asprintf(&what, "%.*s is mapped", (int) strcspn(file, "\n"), file) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = process_hold(ctx, p, &d->address, what, h);
        }
        fclose(f);
        /* a dump keeps only the lines that name a device's resource */
        if (r >= 0 && kept)
                vb_context_record(ctx, VB_RECORD_PROCFS, VB_RECORD_READ, path, kept, kept_size);
        return r;
}

int vb_interlock_read_processes(VbContext *ctx, const VbPciList *devices, VbHolds *h) {
        _cleanup_(nodes_done) Nodes nodes = {};
        _cleanup_strv_free_ char **pids = NULL;
        int procfd = vb_context_procfs_fd(ctx), r = 0;

        if (procfd < 0)
                return -ENOENT;
        for (size_t i = 0; i < devices->n; i++) {
                if (vb_pci_device_is_bridge(&devices->devices[i]))
                        continue;
                r = device_nodes(ctx, &devices->devices[i], i, &nodes);
                if (r < 0)
                        return r;
        }

        r = list_numbers(procfd, ".", &pids);
        if (r < 0)
                return r;
        for (char **pid = pids; r >= 0 && *pid; pid++) {
                _cleanup_(process_done) Process p = { .pid = *pid };

                if (nodes.n > 0)
                        r = scan_fds(ctx, procfd, &p, devices, &nodes, h);
                if (r >= 0)
                        r = scan_maps(ctx, procfd, &p, devices, h);
        }
        return r;
}
