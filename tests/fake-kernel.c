/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf, strerrorname_np, nftw */
#endif
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fake-kernel.h"
#include "macro.h"

#define LOG_FILE "fake-kernel.log"
#define CONF_FILE "fake-kernel.conf"

typedef struct Match {
        uint16_t vendor, device;
        char *driver;
} Match;

typedef struct Refuse {
        char *driver;
        char *addr;
} Refuse;

typedef struct Fail {
        char *path;
        int error;
        int remaining; /* -1: always */
} Fail;

typedef struct Hang {
        char *path;
        unsigned msec;
} Hang;

typedef struct Vanish {
        char *addr;
        char *path;
} Vanish;

typedef struct Hotplug {
        char *addr;
        char *parent;
        int group;
} Hotplug;

struct FakeKernel {
        char *dir;
        char *sys;  /* realpath of DIR/sys */
        char *proc; /* DIR/proc */
        int sys_fd;

        Match *matches;
        size_t n_matches;
        char **modules; /* NULL-terminated */
        size_t n_modules;
        Refuse *refusals;
        size_t n_refusals;
        Fail *fails;
        size_t n_fails;
        Vanish *vanishes;
        size_t n_vanishes;
        Hang *hangs;
        size_t n_hangs;
        Hotplug *hotplugs;
        size_t n_hotplugs;

        /* The daemon binds in worker threads and carries on when one hangs in a write: calls
         * may come from several threads at once. */
        pthread_mutex_t lock;

        FakeOp *ops;
        size_t n_ops;
        char **violations;
        size_t n_violations;
};

/* ---- small helpers ------------------------------------------------------------------------ */

static char *xasprintf(const char *format, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *format, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

static int grow(void *array, size_t *n, size_t size) {
        void **a = array;
        void *p = realloc(*a, (*n + 1) * size);

        if (!p)
                return -ENOMEM;
        memset((char *) p + *n * size, 0, size);
        *a = p;
        (*n)++;
        return 0;
}

static const char *errno_name(int error) {
        const char *s = strerrorname_np(error);
        return s ?: "E?";
}

static int errno_from_name(const char *s) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno == 0 && end != s && *end == '\0' && v > 0 && v < 4096)
                return (int) v;
        for (int e = 1; e < 200; e++) {
                const char *n = strerrorname_np(e);
                if (n && streq(n, s))
                        return e;
        }
        return -EINVAL;
}

static int parse_hex16(const char *s, uint16_t *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 16);
        if (errno != 0 || end == s || *end != '\0' || v > 0xffff)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

/* Read a small file relative to the sys fd; trailing newlines removed. */
static char *read_at(int dirfd, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        char buf[8192];
        ssize_t n;

        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return NULL;
        buf[n] = '\0';
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        return strdup(buf);
}

static int write_at(int dirfd, const char *path, const char *value) {
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(value);

        fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        if (write(fd, value, len) != (ssize_t) len)
                return -EIO;
        return 0;
}

static char *readlink_basename_at(int dirfd, const char *path) {
        char buf[PATH_MAX];
        const char *b;
        ssize_t n;

        n = readlinkat(dirfd, path, buf, sizeof(buf) - 1);
        if (n < 0)
                return NULL;
        buf[n] = '\0';
        b = strrchr(buf, '/');
        return strdup(b ? b + 1 : buf);
}

/* "../" for every component of PATH: the way back from PATH to sys/. */
static char *up_path(const char *path) {
        size_t depth = 1;
        char *s;

        for (const char *p = path; *p; p++)
                if (*p == '/')
                        depth++;
        s = malloc(depth * 3);
        if (!s)
                return NULL;
        s[0] = '\0';
        for (size_t i = 0; i < depth; i++)
                strcat(s, i + 1 < depth ? "../" : "..");
        return s;
}

static const char *basename_of(const char *path) {
        const char *b = strrchr(path, '/');
        return b ? b + 1 : path;
}

/* A value as the kernel's store methods see it: one trailing newline does not count. */
static char *value_strip(const char *value) {
        size_t n = strlen(value);

        if (n > 0 && value[n - 1] == '\n')
                n--;
        return strndup(value, n);
}

/* ---- recording ------------------------------------------------------------------------------ */

static char *op_format(const FakeOp *op) {
        _cleanup_free_ char *v = value_strip(op->value ?: "");
        _cleanup_free_ char *res = NULL;

        if (!v)
                return NULL;
        if (op->result < 0)
                res = xasprintf(" -> -%s", errno_name(-op->result));
        if (op->type == FAKE_OP_LOAD)
                return res ? xasprintf("load %s%s", v, res) : xasprintf("load %s -> %d", v, op->result);
        return xasprintf("%s=%s%s", op->normalized ?: op->path, v, res ?: "");
}

static void log_line(FakeKernel *k, const char *line) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *path = xasprintf("%s/%s", k->dir, LOG_FILE);
        _cleanup_free_ char *s = xasprintf("%s\n", line);

        if (!path || !s)
                return;
        /* O_APPEND: the test and the daemon it runs may log into one file. */
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        (void) !write(fd, s, strlen(s));
}

static void record(FakeKernel *k, FakeOpType type, const char *path, const char *normalized, const char *value,
                   int result) {
        _cleanup_free_ char *line = NULL;
        FakeOp *op;

        if (grow(&k->ops, &k->n_ops, sizeof(FakeOp)) < 0)
                abort();
        op = &k->ops[k->n_ops - 1];
        op->type = type;
        op->path = path ? strdup(path) : NULL;
        op->normalized = normalized ? strdup(normalized) : NULL;
        op->value = strdup(value);
        op->result = result;
        line = op_format(op);
        if (line)
                log_line(k, line);
}

static void violation(FakeKernel *k, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void violation(FakeKernel *k, const char *format, ...) {
        _cleanup_free_ char *line = NULL;
        va_list ap;
        char *s;

        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0)
                abort();
        va_end(ap);
        if (grow(&k->violations, &k->n_violations, sizeof(char *)) < 0)
                abort();
        k->violations[k->n_violations - 1] = s;
        fprintf(stderr, "fake-kernel: VIOLATION %s\n", s);
        line = xasprintf("VIOLATION %s", s);
        if (line)
                log_line(k, line);
}

static int create_driver_dir(FakeKernel *k, const char *driver);

/* ---- configuration ---------------------------------------------------------------------------- */

static int conf_error(const char *file, unsigned line, const char *what) {
        fprintf(stderr, "%s:%u: %s\n", file, line, what);
        return -EINVAL;
}

static int conf_load(FakeKernel *k) {
        _cleanup_free_ char *path = xasprintf("%s/%s", k->dir, CONF_FILE);
        _cleanup_free_ char *buf = NULL;
        size_t bufsize = 0;
        unsigned lineno = 0;
        FILE *f;
        int r = 0;

        if (!path)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : negative_errno();

        while (getline(&buf, &bufsize, f) >= 0) {
                char *w[5] = {};
                size_t n = 0;
                char *save = NULL;

                lineno++;
                for (char *t = strtok_r(buf, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
                        if (t[0] == '#' && n == 0)
                                break;
                        if (n == ELEMENTSOF(w)) {
                                r = conf_error(path, lineno, "too many words");
                                goto finish;
                        }
                        w[n++] = t;
                }
                if (n == 0)
                        continue;

                if (streq(w[0], "match") && n == 3) {
                        char *colon = strchr(w[1], ':');
                        Match *m;

                        if (!colon) {
                                r = conf_error(path, lineno, "match wants VVVV:DDDD DRIVER");
                                goto finish;
                        }
                        *colon = '\0';
                        if (grow(&k->matches, &k->n_matches, sizeof(Match)) < 0)
                                abort();
                        m = &k->matches[k->n_matches - 1];
                        if (parse_hex16(w[1], &m->vendor) < 0 || parse_hex16(colon + 1, &m->device) < 0) {
                                r = conf_error(path, lineno, "bad vendor:device");
                                goto finish;
                        }
                        m->driver = strdup(w[2]);
                } else if (streq(w[0], "module") && n == 2) {
                        if (grow(&k->modules, &k->n_modules, sizeof(char *)) < 0)
                                abort();
                        k->modules[k->n_modules - 1] = strdup(w[1]);
                } else if (streq(w[0], "builtin") && n == 2) {
                        /* Present since boot; a test may add the line to a copied tree. */
                        if (!fake_kernel_driver_loaded(k, w[1])) {
                                r = create_driver_dir(k, w[1]);
                                if (r < 0)
                                        goto finish;
                        }
                } else if (streq(w[0], "refuse") && n == 3) {
                        if (grow(&k->refusals, &k->n_refusals, sizeof(Refuse)) < 0)
                                abort();
                        k->refusals[k->n_refusals - 1] = (Refuse) { strdup(w[1]), strdup(w[2]) };
                } else if (streq(w[0], "fail") && (n == 3 || n == 4)) {
                        int e = errno_from_name(w[2]);
                        long times = -1;

                        if (e < 0) {
                                r = conf_error(path, lineno, "unknown errno");
                                goto finish;
                        }
                        if (n == 4) {
                                char *end;
                                times = strtol(w[3], &end, 10);
                                if (*end || times < 1 || times > 1000) {
                                        r = conf_error(path, lineno, "bad count");
                                        goto finish;
                                }
                        }
                        if (grow(&k->fails, &k->n_fails, sizeof(Fail)) < 0)
                                abort();
                        k->fails[k->n_fails - 1] = (Fail) { strdup(w[1]), e, (int) times };
                } else if (streq(w[0], "hang") && n == 3) {
                        char *end;
                        long ms = strtol(w[2], &end, 10);

                        if (*end || ms < 1 || ms > 600000) {
                                r = conf_error(path, lineno, "bad milliseconds");
                                goto finish;
                        }
                        if (grow(&k->hangs, &k->n_hangs, sizeof(Hang)) < 0)
                                abort();
                        k->hangs[k->n_hangs - 1] = (Hang) { strdup(w[1]), (unsigned) ms };
                } else if (streq(w[0], "vanish") && n == 3) {
                        if (grow(&k->vanishes, &k->n_vanishes, sizeof(Vanish)) < 0)
                                abort();
                        k->vanishes[k->n_vanishes - 1] = (Vanish) { strdup(w[1]), strdup(w[2]) };
                } else if (streq(w[0], "hotplug") && n == 4) {
                        char *end;
                        long g = strtol(w[3], &end, 10);

                        if (*end || g < -1 || g > 100000) {
                                r = conf_error(path, lineno, "bad group");
                                goto finish;
                        }
                        if (grow(&k->hotplugs, &k->n_hotplugs, sizeof(Hotplug)) < 0)
                                abort();
                        k->hotplugs[k->n_hotplugs - 1] = (Hotplug) { strdup(w[1]), strdup(w[2]), (int) g };
                } else {
                        r = conf_error(path, lineno, "unknown rule or wrong number of words");
                        goto finish;
                }
        }
finish:
        fclose(f);
        return r;
}

/* ---- the machine's state ---------------------------------------------------------------------- */

/* Path of a PCI device relative to sys/ ("devices/pci0000:00/…/ADDR"), NULL if it is not
 * there. */
static char *pci_devpath(const FakeKernel *k, const char *addr) {
        _cleanup_free_ char *link = xasprintf("%s/bus/pci/devices/%s", k->sys, addr);
        char real[PATH_MAX];
        size_t n = strlen(k->sys);

        if (!link || strchr(addr, '/') || !realpath(link, real))
                return NULL;
        if (!strneq(real, k->sys, n) || real[n] != '/')
                return NULL;
        return strdup(real + n + 1);
}

static char *dev_attr(const FakeKernel *k, const char *devpath, const char *attr) {
        _cleanup_free_ char *p = xasprintf("%s/%s", devpath, attr);
        return p ? read_at(k->sys_fd, p) : NULL;
}

static char *dev_driver(const FakeKernel *k, const char *devpath) {
        _cleanup_free_ char *p = xasprintf("%s/driver", devpath);
        return p ? readlink_basename_at(k->sys_fd, p) : NULL;
}

static char *dev_override(const FakeKernel *k, const char *devpath) {
        char *s = dev_attr(k, devpath, "driver_override");

        if (s && (streq(s, "(null)") || s[0] == '\0')) {
                free(s);
                return NULL;
        }
        return s;
}

static int dev_ids(const FakeKernel *k, const char *devpath, uint16_t *vendor, uint16_t *device) {
        _cleanup_free_ char *v = dev_attr(k, devpath, "vendor"), *d = dev_attr(k, devpath, "device");

        if (!v || !d || !strneq(v, "0x", 2) || !strneq(d, "0x", 2))
                return -EIO;
        if (parse_hex16(v + 2, vendor) < 0 || parse_hex16(d + 2, device) < 0)
                return -EIO;
        return 0;
}

/* Header type from config space byte 0x0e, as vfio-pci's probe reads it. */
static int dev_header_type(const FakeKernel *k, const char *devpath) {
        _cleanup_free_ char *p = xasprintf("%s/config", devpath);
        _cleanup_close_ int fd = -EBADF;
        unsigned char b;

        if (!p)
                return -ENOMEM;
        fd = openat(k->sys_fd, p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (pread(fd, &b, 1, 0x0e) != 1)
                return -EIO;
        return b & 0x7f;
}

static bool dev_has_group(const FakeKernel *k, const char *devpath) {
        _cleanup_free_ char *p = xasprintf("%s/iommu_group", devpath);
        return p && faccessat(k->sys_fd, p, F_OK, 0) == 0;
}

bool fake_kernel_driver_loaded(const FakeKernel *k, const char *driver) {
        _cleanup_free_ char *p = xasprintf("bus/pci/drivers/%s", driver);
        struct stat st;

        if (!p || strchr(driver, '/') || !driver[0] || driver[0] == '.')
                return false;
        return fstatat(k->sys_fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Set or remove DRIVER= in the device's uevent file, which the real kernel generates on read. */
static int uevent_set_driver(FakeKernel *k, const char *devpath, const char *driver) {
        _cleanup_free_ char *p = xasprintf("%s/uevent", devpath);
        _cleanup_free_ char *old = NULL;
        char *out, *o;

        if (!p)
                return -ENOMEM;
        old = read_at(k->sys_fd, p);
        if (!old)
                return -EIO;
        out = malloc(strlen(old) + (driver ? strlen(driver) : 0) + 16);
        if (!out)
                return -ENOMEM;
        o = out;
        if (driver)
                o += sprintf(o, "DRIVER=%s\n", driver);
        for (char *save = NULL, *l = strtok_r(old, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (strneq(l, "DRIVER=", 7))
                        continue;
                o += sprintf(o, "%s\n", l);
        }
        int r = write_at(k->sys_fd, p, out);
        free(out);
        return r;
}

/* BUS is "pci" or "platform"; NAME is the device's name on the bus. */
static int link_driver(FakeKernel *k, const char *bus, const char *devpath, const char *driver) {
        _cleanup_free_ char *up = up_path(devpath);
        if (!up)
                return -ENOMEM;
        _cleanup_free_ char *target = xasprintf("%s/bus/%s/drivers/%s", up, bus, driver);
        _cleanup_free_ char *link = xasprintf("%s/driver", devpath);
        _cleanup_free_ char *back_target = xasprintf("../../../../%s", devpath);
        _cleanup_free_ char *back = xasprintf("bus/%s/drivers/%s/%s", bus, driver, basename_of(devpath));

        if (!up || !target || !link || !back_target || !back)
                return -ENOMEM;
        if (symlinkat(target, k->sys_fd, link) < 0)
                return negative_errno();
        if (symlinkat(back_target, k->sys_fd, back) < 0)
                return negative_errno();
        return uevent_set_driver(k, devpath, driver);
}

static int unlink_driver(FakeKernel *k, const char *bus, const char *devpath, const char *driver) {
        _cleanup_free_ char *link = xasprintf("%s/driver", devpath);
        _cleanup_free_ char *back = xasprintf("bus/%s/drivers/%s/%s", bus, driver, basename_of(devpath));

        if (!link || !back)
                return -ENOMEM;
        if (unlinkat(k->sys_fd, link, 0) < 0)
                return negative_errno();
        (void) unlinkat(k->sys_fd, back, 0);
        return uevent_set_driver(k, devpath, NULL);
}

static bool is_vfio_driver(const char *driver) {
        return strneq(driver, "vfio", 4);
}

/* Does DRIVER match the device, as pci_match_device() decides (override first)? */
static bool driver_matches(const FakeKernel *k, const char *devpath, const char *driver) {
        _cleanup_free_ char *override = dev_override(k, devpath);
        uint16_t vendor, device;

        if (override)
                return streq(override, driver);
        if (dev_ids(k, devpath, &vendor, &device) < 0)
                return false;
        for (size_t i = 0; i < k->n_matches; i++)
                if (k->matches[i].vendor == vendor && k->matches[i].device == device &&
                    streq(k->matches[i].driver, driver))
                        return true;
        return false;
}

/* The driver's probe: 0 if it takes the device, negative errno if it refuses. */
static int driver_probe(const FakeKernel *k, const char *devpath, const char *driver) {
        const char *addr = basename_of(devpath);

        for (size_t i = 0; i < k->n_refusals; i++)
                if (streq(k->refusals[i].driver, driver) && streq(k->refusals[i].addr, addr))
                        return -EINVAL;
        if (is_vfio_driver(driver)) {
                /* vfio-pci: "if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL) return -EINVAL",
                 * and no IOMMU group means no vfio group. */
                if (dev_header_type(k, devpath) != 0)
                        return -EINVAL;
                if (!dev_has_group(k, devpath))
                        return -EINVAL;
        }
        return 0;
}

/* Try DRIVER on an unbound device: 1 bound, 0 no match, negative errno if its probe failed. */
static int try_driver(FakeKernel *k, const char *devpath, const char *driver) {
        int r;

        if (!fake_kernel_driver_loaded(k, driver) || !driver_matches(k, devpath, driver))
                return 0;
        r = driver_probe(k, devpath, driver);
        if (r < 0)
                return r;
        r = link_driver(k, "pci", devpath, driver);
        return r < 0 ? r : 1;
}

/* device_attach(): bind an unbound device to the first driver that matches and takes it.
 * Returns 1 if bound, 0 if not (which the kernel does not report as an error). */
static int device_attach(FakeKernel *k, const char *devpath) {
        _cleanup_free_ char *drv = dev_driver(k, devpath);
        _cleanup_free_ char *override = NULL;
        uint16_t vendor, device;

        if (drv)
                return 0;
        override = dev_override(k, devpath);
        if (override)
                return try_driver(k, devpath, override) > 0;
        if (dev_ids(k, devpath, &vendor, &device) < 0)
                return 0;
        for (size_t i = 0; i < k->n_matches; i++)
                if (k->matches[i].vendor == vendor && k->matches[i].device == device &&
                    try_driver(k, devpath, k->matches[i].driver) > 0)
                        return 1;
        return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static int remove_device(FakeKernel *k, const char *addr) {
        _cleanup_free_ char *devpath = pci_devpath(k, addr);
        _cleanup_free_ char *drv = NULL, *group = NULL, *full = NULL, *p = NULL;

        if (!devpath)
                return -ENODEV;
        drv = dev_driver(k, devpath);
        if (drv) {
                p = xasprintf("bus/pci/drivers/%s/%s", drv, addr);
                (void) unlinkat(k->sys_fd, p, 0);
                free(p);
        }
        p = xasprintf("%s/iommu_group", devpath);
        group = readlink_basename_at(k->sys_fd, p);
        free(p);
        if (group) {
                p = xasprintf("kernel/iommu_groups/%s/devices/%s", group, addr);
                (void) unlinkat(k->sys_fd, p, 0);
                free(p);
        }
        p = xasprintf("bus/pci/devices/%s", addr);
        (void) unlinkat(k->sys_fd, p, 0);
        full = xasprintf("%s/%s", k->sys, devpath);
        if (!full || nftw(full, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                return -EIO;
        return 0;
}

/* ---- the kernel's reactions to writes --------------------------------------------------------- */

static int pci_override_store(FakeKernel *k, const char *devpath, const char *value) {
        _cleanup_free_ char *v = strdup(value);
        _cleanup_free_ char *p = xasprintf("%s/driver_override", devpath);
        _cleanup_free_ char *content = NULL;
        char *nl;

        if (!v || !p)
                return -ENOMEM;
        /* driver_set_override(): the name ends at the first newline; empty clears. */
        nl = strchr(v, '\n');
        if (nl)
                *nl = '\0';
        content = xasprintf("%s\n", v[0] ? v : "(null)");
        if (!content)
                return -ENOMEM;
        return write_at(k->sys_fd, p, content);
}

static int pci_driver_unbind(FakeKernel *k, const char *driver, const char *addr) {
        _cleanup_free_ char *devpath = pci_devpath(k, addr);
        _cleanup_free_ char *cur = NULL;

        if (!devpath)
                return -ENODEV;
        cur = dev_driver(k, devpath);
        if (!cur || !streq(cur, driver))
                return -ENODEV;
        return unlink_driver(k, "pci", devpath, driver);
}

static int pci_driver_bind(FakeKernel *k, const char *driver, const char *addr) {
        _cleanup_free_ char *devpath = pci_devpath(k, addr);
        _cleanup_free_ char *cur = NULL;
        int r;

        if (!devpath)
                return -ENODEV;
        cur = dev_driver(k, devpath);
        if (cur)
                return -EBUSY;
        if (!driver_matches(k, devpath, driver))
                return -ENODEV;
        r = driver_probe(k, devpath, driver);
        if (r < 0)
                return r;
        return link_driver(k, "pci", devpath, driver);
}

static int pci_drivers_probe(FakeKernel *k, const char *addr) {
        _cleanup_free_ char *devpath = pci_devpath(k, addr);

        if (!devpath)
                return -ENODEV;
        /* bus_rescan_devices_helper(): success whether or not anything bound. */
        (void) device_attach(k, devpath);
        return 0;
}

static char *platform_devpath(const FakeKernel *k, const char *name) {
        _cleanup_free_ char *link = xasprintf("%s/bus/platform/devices/%s", k->sys, name);
        char real[PATH_MAX];
        size_t n = strlen(k->sys);

        if (!link || strchr(name, '/') || !realpath(link, real))
                return NULL;
        if (!strneq(real, k->sys, n) || real[n] != '/')
                return NULL;
        return strdup(real + n + 1);
}

static int platform_driver_store(FakeKernel *k, const char *driver, const char *attr, const char *name) {
        _cleanup_free_ char *devpath = platform_devpath(k, name);
        _cleanup_free_ char *cur = NULL;

        if (!devpath)
                return -ENODEV;
        cur = dev_driver(k, devpath);
        if (streq(attr, "unbind")) {
                if (!cur || !streq(cur, driver))
                        return -ENODEV;
                return unlink_driver(k, "platform", devpath, driver);
        }
        if (cur)
                return -EBUSY;
        return link_driver(k, "platform", devpath, driver);
}

static int vtcon_bind_store(FakeKernel *k, const char *dir, const char *value) {
        _cleanup_free_ char *name = dev_attr(k, dir, "name");
        _cleanup_free_ char *p = xasprintf("%s/bind", dir);

        if (!name || !p)
                return -EIO;
        if (streq(value, "1"))
                return write_at(k->sys_fd, p, "1\n");
        if (!streq(value, "0"))
                return -EINVAL;
        /* Only a console driver registered as a module ("(M)", fbcon) can be unbound. */
        if (!strneq(name, "(M)", 3))
                return -EINVAL;
        return write_at(k->sys_fd, p, "0\n");
}

/* Is DIR (relative to sys/) a PCI device? */
static bool is_pci_device_dir(const FakeKernel *k, const char *dir) {
        _cleanup_free_ char *p = xasprintf("%s/subsystem", dir);
        _cleanup_free_ char *sub = NULL;

        if (!p || !strneq(dir, "devices/", 8))
                return false;
        sub = readlink_basename_at(k->sys_fd, p);
        return sub && streq(sub, "pci");
}

/* "bus/pci/drivers/D" → D (DIR has exactly that shape). */
static const char *driver_dir_name(const char *dir, const char *prefix) {
        size_t n = strlen(prefix);

        if (!strneq(dir, prefix, n) || !dir[n] || strchr(dir + n, '/'))
                return NULL;
        return dir + n;
}

static bool fail_rule(FakeKernel *k, const char *path, const char *normalized, int *ret) {
        for (size_t i = 0; i < k->n_fails; i++) {
                Fail *f = &k->fails[i];

                if (!streq(f->path, path) && !streq_ptr(f->path, normalized))
                        continue;
                if (f->remaining == 0)
                        continue;
                if (f->remaining > 0)
                        f->remaining--;
                *ret = -f->error;
                return true;
        }
        return false;
}

static void vanish_rule(FakeKernel *k, const char *path, const char *normalized) {
        for (size_t i = 0; i < k->n_vanishes; i++)
                if (streq(k->vanishes[i].path, path) || streq_ptr(k->vanishes[i].path, normalized))
                        (void) remove_device(k, k->vanishes[i].addr);
}

static bool path_is_clean(const char *path) {
        if (!path[0] || path[0] == '/')
                return false;
        for (const char *p = path; p; p = strchr(p, '/')) {
                if (*p == '/')
                        p++;
                if (strneq(p, "..", 2) && (p[2] == '/' || p[2] == '\0'))
                        return false;
                if (*p == '/' || *p == '\0')
                        return false; /* "a//b", trailing "/" */
        }
        return true;
}

/* Resolve the directory part of PATH (links followed, like the VFS) into RET_DIR, relative to
 * sys/; the last component is not followed. */
static int resolve(FakeKernel *k, const char *path, char **ret_dir, const char **ret_base) {
        _cleanup_free_ char *full = NULL;
        const char *base = basename_of(path);
        char real[PATH_MAX];
        size_t n = strlen(k->sys);

        if (base == path)
                full = strdup(k->sys);
        else
                full = xasprintf("%s/%.*s", k->sys, (int) (base - path - 1), path);
        if (!full)
                return -ENOMEM;
        if (!realpath(full, real))
                return negative_errno();
        if (streq(real, k->sys))
                *ret_dir = strdup("");
        else if (strneq(real, k->sys, n) && real[n] == '/')
                *ret_dir = strdup(real + n + 1);
        else
                return -EXDEV;
        *ret_base = base;
        return *ret_dir ? 0 : -ENOMEM;
}

static int write_attr_locked(FakeKernel *k, int rootfd, const char *path, const char *value) {
        _cleanup_free_ char *dir = NULL, *normalized = NULL, *rel = NULL, *v = NULL;
        const char *base = NULL, *drv;
        struct stat st_root, st_sys, st;
        int r;

        assert(k);
        if (fstat(rootfd, &st_root) < 0 || fstat(k->sys_fd, &st_sys) < 0 || st_root.st_dev != st_sys.st_dev ||
            st_root.st_ino != st_sys.st_ino)
                violation(k, "write_attr(%s) with a root fd that is not the tree's sys/", path);

        if (!path_is_clean(path)) {
                violation(k, "unclean path written: \"%s\"", path);
                record(k, FAKE_OP_WRITE, path, NULL, value, -EINVAL);
                return -EINVAL;
        }
        v = value_strip(value);
        if (!v)
                return -ENOMEM;

        r = resolve(k, path, &dir, &base);
        if (r == -EXDEV)
                violation(k, "path leaves sys/: %s", path);
        if (r < 0) {
                record(k, FAKE_OP_WRITE, path, NULL, value, r);
                return r;
        }
        rel = dir[0] ? xasprintf("%s/%s", dir, base) : strdup(base);
        if (!rel)
                return -ENOMEM;

        /* The spelling tests compare against. */
        if (is_pci_device_dir(k, dir))
                normalized = xasprintf("bus/pci/devices/%s/%s", basename_of(dir), base);
        else if (strneq(dir, "devices/virtual/vtconsole/", 26))
                normalized = xasprintf("class/vtconsole/%s/%s", basename_of(dir), base);
        else
                normalized = strdup(rel);
        if (!normalized)
                return -ENOMEM;

        if (streq(base, "new_id") || streq(base, "remove_id")) {
                violation(k, "%s written: %s=%s", base, normalized, v);
                record(k, FAKE_OP_WRITE, path, normalized, value, 0);
                return 0;
        }

        if (fail_rule(k, path, normalized, &r)) {
                record(k, FAKE_OP_WRITE, path, normalized, value, r);
                return r;
        }
        vanish_rule(k, path, normalized);

        /* open(O_WRONLY | O_NOFOLLOW) of the attribute itself. */
        if (fstatat(k->sys_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                r = negative_errno();
        else if (S_ISLNK(st.st_mode))
                r = -ELOOP;
        else if (S_ISDIR(st.st_mode))
                r = -EISDIR;
        else if (!S_ISREG(st.st_mode))
                r = -EACCES;
        else if (is_pci_device_dir(k, dir) && streq(base, "driver_override"))
                r = pci_override_store(k, dir, value);
        else if (streq(rel, "bus/pci/drivers_probe"))
                r = pci_drivers_probe(k, v);
        else if ((drv = driver_dir_name(dir, "bus/pci/drivers/")) && streq(base, "unbind"))
                r = pci_driver_unbind(k, drv, v);
        else if ((drv = driver_dir_name(dir, "bus/pci/drivers/")) && streq(base, "bind"))
                r = pci_driver_bind(k, drv, v);
        else if ((drv = driver_dir_name(dir, "bus/platform/drivers/")) &&
                 (streq(base, "bind") || streq(base, "unbind")))
                r = platform_driver_store(k, drv, base, v);
        else if (strneq(dir, "devices/virtual/vtconsole/", 26) && streq(base, "bind"))
                r = vtcon_bind_store(k, dir, v);
        else
                r = write_at(k->sys_fd, rel, value);

        record(k, FAKE_OP_WRITE, path, normalized, value, r);
        return r;
}

static int create_driver_dir(FakeKernel *k, const char *driver) {
        static const char *const files[] = { "bind", "unbind", "new_id", "remove_id", "uevent" };
        _cleanup_free_ char *d = xasprintf("bus/pci/drivers/%s", driver);

        if (!d)
                return -ENOMEM;
        if (mkdirat(k->sys_fd, d, 0755) < 0)
                return negative_errno();
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", d, files[i]);
                _cleanup_close_ int fd = -EBADF;

                if (!p)
                        return -ENOMEM;
                fd = openat(k->sys_fd, p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0)
                        return negative_errno();
                if (streq(files[i], "uevent"))
                        dprintf(fd, "DRIVER=%s\n", driver);
        }
        return 0;
}

/* A driver registering: it attaches to every unbound device it matches. */
static int driver_register(FakeKernel *k, const char *driver) {
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        int r;

        r = create_driver_dir(k, driver);
        if (r < 0)
                return r;
        fd = openat(k->sys_fd, "bus/pci/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        d = fdopendir(TAKE_FD(fd));
        if (!d)
                return negative_errno();
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *devpath = NULL, *cur = NULL;

                if (de->d_name[0] == '.')
                        continue;
                devpath = pci_devpath(k, de->d_name);
                if (!devpath)
                        continue;
                cur = dev_driver(k, devpath);
                if (!cur)
                        (void) try_driver(k, devpath, driver);
        }
        closedir(d);
        return 0;
}

static int fake_write_attr(void *userdata, int rootfd, const char *path, const char *value) {
        FakeKernel *k = userdata;
        int r;

        assert(k);
        /* A driver that hangs in its probe or remove: the write does not return for a while
         * (the kernel holds the device lock meanwhile; other devices carry on). */
        for (size_t i = 0; i < k->n_hangs; i++)
                if (streq(k->hangs[i].path, path))
                        usleep(k->hangs[i].msec * 1000);
        pthread_mutex_lock(&k->lock);
        r = write_attr_locked(k, rootfd, path, value);
        pthread_mutex_unlock(&k->lock);
        return r;
}

static int fake_load_driver(void *userdata, VbContext *ctx, const char *driver) {
        FakeKernel *k = userdata;
        int r = -ENOENT;

        assert(k);
        pthread_mutex_lock(&k->lock);
        if (fake_kernel_driver_loaded(k, driver))
                r = 0;
        else
                for (size_t i = 0; i < k->n_modules; i++)
                        if (streq(k->modules[i], driver)) {
                                r = driver_register(k, driver);
                                if (r >= 0)
                                        r = 1;
                                break;
                        }
        record(k, FAKE_OP_LOAD, NULL, NULL, driver, r);
        pthread_mutex_unlock(&k->lock);
        return r;
}

const VbKernelOps fake_kernel_ops = {
        .write_attr = fake_write_attr,
        .load_driver = fake_load_driver,
};

/* ---- public ------------------------------------------------------------------------------------ */

int fake_kernel_new(FakeKernel **ret, const char *dir) {
        _cleanup_(fake_kernel_freep) FakeKernel *k = NULL;
        _cleanup_free_ char *sys = NULL;
        char real[PATH_MAX];
        int r;

        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        k->sys_fd = -EBADF;
        pthread_mutex_init(&k->lock, NULL);
        k->dir = strdup(dir);
        sys = xasprintf("%s/sys", dir);
        k->proc = xasprintf("%s/proc", dir);
        if (!k->dir || !sys || !k->proc)
                return -ENOMEM;
        if (!realpath(sys, real))
                return negative_errno();
        k->sys = strdup(real);
        if (!k->sys)
                return -ENOMEM;
        k->sys_fd = open(k->sys, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (k->sys_fd < 0)
                return negative_errno();
        r = conf_load(k);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(k);
        return 0;
}

static void op_done(FakeOp *op) {
        free(op->path);
        free(op->normalized);
        free(op->value);
}

void fake_kernel_forget(FakeKernel *k) {
        for (size_t i = 0; i < k->n_ops; i++)
                op_done(&k->ops[i]);
        free(k->ops);
        k->ops = NULL;
        k->n_ops = 0;
        for (size_t i = 0; i < k->n_violations; i++)
                free(k->violations[i]);
        free(k->violations);
        k->violations = NULL;
        k->n_violations = 0;
}

FakeKernel *fake_kernel_free(FakeKernel *k) {
        if (!k)
                return NULL;
        fake_kernel_forget(k);
        for (size_t i = 0; i < k->n_matches; i++)
                free(k->matches[i].driver);
        free(k->matches);
        for (size_t i = 0; i < k->n_modules; i++)
                free(k->modules[i]);
        free(k->modules);
        for (size_t i = 0; i < k->n_refusals; i++) {
                free(k->refusals[i].driver);
                free(k->refusals[i].addr);
        }
        free(k->refusals);
        for (size_t i = 0; i < k->n_fails; i++)
                free(k->fails[i].path);
        free(k->fails);
        for (size_t i = 0; i < k->n_vanishes; i++) {
                free(k->vanishes[i].addr);
                free(k->vanishes[i].path);
        }
        free(k->vanishes);
        for (size_t i = 0; i < k->n_hangs; i++)
                free(k->hangs[i].path);
        free(k->hangs);
        pthread_mutex_destroy(&k->lock);
        for (size_t i = 0; i < k->n_hotplugs; i++) {
                free(k->hotplugs[i].addr);
                free(k->hotplugs[i].parent);
        }
        free(k->hotplugs);
        closep(&k->sys_fd);
        free(k->dir);
        free(k->sys);
        free(k->proc);
        free(k);
        return NULL;
}

void fake_kernel_install(FakeKernel *k, VbContext *ctx) {
        vb_context_set_kernel_ops(ctx, &fake_kernel_ops, k);
}

int fake_kernel_new_context(FakeKernel *k, VbContext **ret) {
        VbContext *ctx;
        int r;

        r = vb_context_new(&ctx, k->sys, k->proc);
        if (r < 0)
                return r;
        fake_kernel_install(k, ctx);
        *ret = ctx;
        return 0;
}

const char *fake_kernel_dir(const FakeKernel *k) {
        return k->dir;
}

const char *fake_kernel_sysfs_root(const FakeKernel *k) {
        return k->sys;
}

const char *fake_kernel_procfs_root(const FakeKernel *k) {
        return k->proc;
}

size_t fake_kernel_n_ops(const FakeKernel *k) {
        return k->n_ops;
}

const FakeOp *fake_kernel_op(const FakeKernel *k, size_t i) {
        return i < k->n_ops ? &k->ops[i] : NULL;
}

char *fake_kernel_history(const FakeKernel *k) {
        char *s = strdup("");

        for (size_t i = 0; s && i < k->n_ops; i++) {
                _cleanup_free_ char *line = op_format(&k->ops[i]);
                char *t = line ? xasprintf("%s%s\n", s, line) : NULL;

                free(s);
                s = t;
        }
        return s;
}

size_t fake_kernel_n_violations(const FakeKernel *k) {
        return k->n_violations;
}

const char *fake_kernel_violation(const FakeKernel *k, size_t i) {
        return i < k->n_violations ? k->violations[i] : NULL;
}

char *fake_kernel_read_log(const char *dir) {
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, LOG_FILE);
        _cleanup_close_ int fd = -EBADF;
        char *buf = NULL;
        size_t size = 0;

        if (!path)
                return NULL;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? strdup("") : NULL;
        for (;;) {
                char chunk[4096];
                ssize_t n = read(fd, chunk, sizeof(chunk));
                char *p;

                if (n < 0) {
                        free(buf);
                        return NULL;
                }
                if (n == 0)
                        break;
                p = realloc(buf, size + (size_t) n + 1);
                if (!p) {
                        free(buf);
                        return NULL;
                }
                buf = p;
                memcpy(buf + size, chunk, (size_t) n);
                size += (size_t) n;
                buf[size] = '\0';
        }
        return buf ?: strdup("");
}

char *fake_kernel_driver(const FakeKernel *k, const char *addr) {
        _cleanup_free_ char *devpath = pci_devpath(k, addr);
        return devpath ? dev_driver(k, devpath) : NULL;
}

char *fake_kernel_override(const FakeKernel *k, const char *addr) {
        _cleanup_free_ char *devpath = pci_devpath(k, addr);
        return devpath ? dev_override(k, devpath) : NULL;
}

char *fake_kernel_platform_driver(const FakeKernel *k, const char *name) {
        _cleanup_free_ char *devpath = platform_devpath(k, name);
        return devpath ? dev_driver(k, devpath) : NULL;
}

char *fake_kernel_read(const FakeKernel *k, const char *path) {
        return path_is_clean(path) ? read_at(k->sys_fd, path) : NULL;
}

bool fake_kernel_device_exists(const FakeKernel *k, const char *addr) {
        _cleanup_free_ char *devpath = pci_devpath(k, addr);
        return devpath != NULL;
}

int fake_kernel_plug(FakeKernel *k, const char *addr, char **ret_devpath) {
        _cleanup_free_ char *parent = NULL, *devpath = NULL, *staged = NULL, *up = NULL, *p = NULL, *t = NULL;
        const Hotplug *h = NULL;
        int r;

        for (size_t i = 0; i < k->n_hotplugs; i++)
                if (streq(k->hotplugs[i].addr, addr))
                        h = &k->hotplugs[i];
        if (!h)
                return -ENOENT;
        if (fake_kernel_device_exists(k, addr))
                return -EEXIST;
        parent = pci_devpath(k, h->parent);
        if (!parent)
                return -ENODEV;
        devpath = xasprintf("%s/%s", parent, addr);
        staged = xasprintf("%s/hotplug/%s", k->dir, addr);
        if (!devpath || !staged)
                return -ENOMEM;
        if (renameat(AT_FDCWD, staged, k->sys_fd, devpath) < 0)
                return negative_errno();

        up = up_path(devpath);
        if (!up)
                return -ENOMEM;
        t = xasprintf("%s/bus/pci", up);
        p = xasprintf("%s/subsystem", devpath);
        if (!t || !p || symlinkat(t, k->sys_fd, p) < 0)
                return -EIO;
        free(t);
        free(p);
        t = xasprintf("../../../%s", devpath);
        p = xasprintf("bus/pci/devices/%s", addr);
        if (!t || !p || symlinkat(t, k->sys_fd, p) < 0)
                return -EIO;

        /* Without IOMMU (no kernel/iommu_groups) there are no groups to join. */
        if (h->group >= 0 && faccessat(k->sys_fd, "kernel/iommu_groups", F_OK, 0) == 0) {
                _cleanup_free_ char *g = xasprintf("kernel/iommu_groups/%d", h->group);
                _cleanup_free_ char *gd = xasprintf("%s/devices", g ?: "");
                _cleanup_free_ char *gl = xasprintf("%s/%s", gd ?: "", addr);
                _cleanup_free_ char *gt = xasprintf("../../../../%s", devpath);
                _cleanup_free_ char *il = xasprintf("%s/iommu_group", devpath);
                _cleanup_free_ char *it = xasprintf("%s/%s", up, g ?: "");

                if (!g || !gd || !gl || !gt || !il || !it)
                        return -ENOMEM;
                if (mkdirat(k->sys_fd, g, 0755) >= 0) {
                        /* A new group. */
                        _cleanup_free_ char *type = xasprintf("%s/type", g);
                        _cleanup_close_ int fd = -EBADF;

                        if (!type)
                                return -ENOMEM;
                        fd = openat(k->sys_fd, type, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                        if (fd < 0 || write(fd, "DMA\n", 4) != 4)
                                return -EIO;
                }
                (void) mkdirat(k->sys_fd, gd, 0755);
                if (symlinkat(gt, k->sys_fd, gl) < 0 || symlinkat(it, k->sys_fd, il) < 0)
                        return -EIO;
        }

        r = device_attach(k, devpath);
        if (ret_devpath)
                *ret_devpath = TAKE_PTR(devpath);
        return r;
}

int fake_kernel_unplug(FakeKernel *k, const char *addr) {
        return remove_device(k, addr);
}
