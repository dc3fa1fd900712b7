/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf, strerrorname_np, nftw */
#endif
#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fake-kernel.h"
#include "io-util.h"
#include "macro.h"
#include "modalias.h"

#define LOG_FILE "fake-kernel.log"
#define CONF_FILE "fake-kernel.conf"
#define KILLED_FILE "fake-kernel.killed"

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

/* "kill-after PATH [N]": SIGKILL once the N-th matching call has been carried out. */
typedef struct Kill {
        char *path; /* as written or normalized, or "load:DRIVER" */
        unsigned nth;
        unsigned seen;
} Kill;

typedef struct Hotplug {
        char *addr;
        char *parent;
        int group;
} Hotplug;

#define SRIOV_GROUP_NONE (-1)
#define SRIOV_GROUP_PF (-2)

typedef struct Sriov {
        char *addr;
        int group; /* VF i joins group GROUP+i, or SRIOV_GROUP_NONE / SRIOV_GROUP_PF */
} Sriov;

struct FakeKernel {
        char *dir;
        char *sys;  /* realpath of DIR/sys */
        char *proc; /* DIR/proc */
        int sys_fd;

        Match *matches;
        size_t n_matches;
        char **modules; /* NULL-terminated */
        size_t n_modules;
        char **module_names; /* parallel to modules: each one's module name */
        char *aliases;       /* "alias PATTERN MODULE" lines: the module index */
        bool no_index;       /* "no-module-index": there is none */
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
        Kill *kills;
        size_t n_kills;
        Sriov *sriovs;
        size_t n_sriovs;
        char **keep_vfs;
        size_t n_keep_vfs;

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

/* A module's name as the kernel spells it: '-' becomes '_'. */
static char *module_name(const char *s) {
        char *m = strdup(s);
        if (!m)
                abort();
        for (char *c = m; *c; c++)
                if (*c == '-')
                        *c = '_';
        return m;
}

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
                } else if (streq(w[0], "module") && (n == 2 || n == 3)) {
                        size_t n_names = k->n_modules;

                        if (grow(&k->modules, &k->n_modules, sizeof(char *)) < 0 ||
                            grow(&k->module_names, &n_names, sizeof(char *)) < 0)
                                abort();
                        k->modules[k->n_modules - 1] = strdup(w[1]);
                        k->module_names[k->n_modules - 1] = module_name(n == 3 ? w[2] : w[1]);
                } else if (streq(w[0], "alias") && n == 3) {
                        char *a = xasprintf("%salias %s %s\n", strempty(k->aliases), w[1], w[2]);
                        free(k->aliases);
                        k->aliases = a;
                } else if (streq(w[0], "no-module-index") && n == 1) {
                        k->no_index = true;
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
                } else if (streq(w[0], "kill-after") && (n == 2 || n == 3)) {
                        char *end = NULL;
                        long nth = n == 3 ? strtol(w[2], &end, 10) : 1;

                        if ((end && *end) || nth < 1 || nth > 100000) {
                                r = conf_error(path, lineno, "kill-after wants PATH [N] (N from 1)");
                                goto finish;
                        }
                        if (grow(&k->kills, &k->n_kills, sizeof(Kill)) < 0)
                                abort();
                        k->kills[k->n_kills - 1] = (Kill) { strdup(w[1]), (unsigned) nth, 0 };
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
                } else if (streq(w[0], "sriov") && n == 3) {
                        char *end = NULL;
                        long g = strtol(w[2], &end, 10);

                        if (streq(w[2], "pf"))
                                g = SRIOV_GROUP_PF;
                        else if (*end || g < -1 || g > 100000) {
                                r = conf_error(path, lineno, "sriov wants ADDR FIRST_GROUP (a number, -1 or pf)");
                                goto finish;
                        }
                        if (grow(&k->sriovs, &k->n_sriovs, sizeof(Sriov)) < 0)
                                abort();
                        k->sriovs[k->n_sriovs - 1] = (Sriov) { strdup(w[1]), (int) g };
                } else if (streq(w[0], "keep-vfs") && n == 2) {
                        if (grow(&k->keep_vfs, &k->n_keep_vfs, sizeof(char *)) < 0)
                                abort();
                        k->keep_vfs[k->n_keep_vfs - 1] = strdup(w[1]);
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

/* A decimal attribute (sriov_numvfs, sriov_offset, …); -EIO if missing or not a number. */
static int dev_uint(const FakeKernel *k, const char *devpath, const char *attr, unsigned *ret) {
        _cleanup_free_ char *s = dev_attr(k, devpath, attr);
        unsigned long v;
        char *end;

        if (!s)
                return -EIO;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v > 0xffff)
                return -EIO;
        *ret = (unsigned) v;
        return 0;
}

/* A PF's sriov_numvfs; 0 for a device without SR-IOV. */
static unsigned dev_num_vfs(const FakeKernel *k, const char *devpath) {
        unsigned n;

        return dev_uint(k, devpath, "sriov_numvfs", &n) < 0 ? 0 : n;
}

/* The PF of a VF (through its physfn link); NULL if DEVPATH is no VF. */
static char *dev_physfn(const FakeKernel *k, const char *devpath) {
        _cleanup_free_ char *p = xasprintf("%s/physfn", devpath);
        _cleanup_free_ char *pf = p ? readlink_basename_at(k->sys_fd, p) : NULL;

        return pf ? pci_devpath(k, pf) : NULL;
}

/* pci_device_can_probe(): a VF whose PF has sriov_drivers_autoprobe 0 is probed only when its
 * driver_override is set; pci_device_probe() returns -ENODEV before any driver sees it. */
static bool device_can_probe(const FakeKernel *k, const char *devpath) {
        _cleanup_free_ char *pf = dev_physfn(k, devpath), *autoprobe = NULL, *override = NULL;

        if (!pf)
                return true;
        autoprobe = dev_attr(k, pf, "sriov_drivers_autoprobe");
        if (!autoprobe || !streq(autoprobe, "0"))
                return true;
        override = dev_override(k, devpath);
        return override != NULL;
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

        if (!device_can_probe(k, devpath))
                return -ENODEV;
        for (size_t i = 0; i < k->n_refusals; i++)
                if (streq(k->refusals[i].driver, driver) && streq(k->refusals[i].addr, addr))
                        return -EINVAL;
        if (is_vfio_driver(driver)) {
                /* vfio-pci: "if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL) return -EINVAL",
                 * and no IOMMU group means no vfio group. */
                if (dev_header_type(k, devpath) != 0)
                        return -EINVAL;
                /* vfio_pci_core_register_device(): "Cannot bind to PF with SR-IOV enabled" (the
                 * VFs might be in use; vfio cannot capture them). */
                if (dev_num_vfs(k, devpath) > 0)
                        return -EBUSY;
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

/* iommu_group_release(): a group goes with its last device. */
static void group_release_if_empty(FakeKernel *k, const char *group) {
        _cleanup_free_ char *devices = xasprintf("kernel/iommu_groups/%s/devices", group);
        _cleanup_free_ char *full = xasprintf("%s/kernel/iommu_groups/%s", k->sys, group);
        _cleanup_close_ int fd = -EBADF;
        bool empty = true;
        DIR *d;

        if (!devices || !full || strchr(group, '/') || group[0] == '.')
                return;
        fd = openat(k->sys_fd, devices, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        d = fdopendir(TAKE_FD(fd));
        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        empty = false;
        closedir(d);
        if (empty)
                (void) nftw(full, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int sriov_disable(FakeKernel *k, const char *pfpath);

static int remove_device(FakeKernel *k, const char *addr) {
        _cleanup_free_ char *devpath = pci_devpath(k, addr);
        _cleanup_free_ char *drv = NULL, *group = NULL, *full = NULL, *p = NULL;

        if (!devpath)
                return -ENODEV;
        /* A PF's VFs go first: they sit on its bus, added after it, and the bus is torn down in
         * reverse order (whatever the PF's driver would do). */
        if (dev_num_vfs(k, devpath) > 0)
                (void) sriov_disable(k, devpath);
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
                group_release_if_empty(k, group);
        }
        p = xasprintf("bus/pci/devices/%s", addr);
        (void) unlinkat(k->sys_fd, p, 0);
        full = xasprintf("%s/%s", k->sys, devpath);
        if (!full || nftw(full, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                return -EIO;
        return 0;
}

/* device_add(): the device's subsystem link and bus/pci/devices/ADDR. */
static int add_bus_links(FakeKernel *k, const char *devpath) {
        _cleanup_free_ char *up = up_path(devpath);
        _cleanup_free_ char *sub_target = xasprintf("%s/bus/pci", up ?: "");
        _cleanup_free_ char *sub = xasprintf("%s/subsystem", devpath);
        _cleanup_free_ char *bus_target = xasprintf("../../../%s", devpath);
        _cleanup_free_ char *bus = xasprintf("bus/pci/devices/%s", basename_of(devpath));

        if (!up || !sub_target || !sub || !bus_target || !bus)
                return -ENOMEM;
        if (symlinkat(sub_target, k->sys_fd, sub) < 0 || symlinkat(bus_target, k->sys_fd, bus) < 0)
                return -EIO;
        return 0;
}

/* iommu_probe_device(): the device joins IOMMU group GROUP, which is created (with its type) if
 * it is new. No group if GROUP < 0 or without IOMMU (no kernel/iommu_groups). */
static int join_group(FakeKernel *k, const char *devpath, int group) {
        _cleanup_free_ char *up = NULL, *g = NULL, *gd = NULL, *gl = NULL, *gt = NULL, *il = NULL, *it = NULL;

        if (group < 0 || faccessat(k->sys_fd, "kernel/iommu_groups", F_OK, 0) < 0)
                return 0;
        up = up_path(devpath);
        g = xasprintf("kernel/iommu_groups/%d", group);
        gd = xasprintf("%s/devices", g ?: "");
        gl = xasprintf("%s/%s", gd ?: "", basename_of(devpath));
        gt = xasprintf("../../../../%s", devpath);
        il = xasprintf("%s/iommu_group", devpath);
        it = xasprintf("%s/%s", up ?: "", g ?: "");
        if (!up || !g || !gd || !gl || !gt || !il || !it)
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
        return 0;
}

/* ---- SR-IOV (drivers/pci/iov.c) --------------------------------------------------------------- */

/* The last "sriov" line for ADDR: a test may append one to a copied tree's. */
static const Sriov *sriov_rule(const FakeKernel *k, const char *addr) {
        for (size_t i = k->n_sriovs; i-- > 0;)
                if (streq(k->sriovs[i].addr, addr))
                        return &k->sriovs[i];
        return NULL;
}

static bool driver_keeps_vfs(const FakeKernel *k, const char *driver) {
        for (size_t i = 0; i < k->n_keep_vfs; i++)
                if (streq(k->keep_vfs[i], driver))
                        return true;
        return false;
}

/* kstrtou16(s, 0, …) as sriov_numvfs_store() calls it: an optional "+", then decimal, "0x" hex or
 * "0" octal, at most one trailing newline, nothing else (no spaces, no sign). */
static int kstrtou16(const char *s, uint16_t *ret) {
        unsigned base = 10, digits = 0;
        bool overflow = false;
        uint32_t v = 0;

        if (*s == '+')
                s++;
        if (s[0] == '0') {
                if ((s[1] == 'x' || s[1] == 'X') && isxdigit((unsigned char) s[2])) {
                        base = 16;
                        s += 2;
                } else
                        base = 8;
        }
        for (;; s++, digits++) {
                unsigned d;

                if (*s >= '0' && *s <= '9')
                        d = (unsigned) (*s - '0');
                else if (*s >= 'a' && *s <= 'f')
                        d = (unsigned) (*s - 'a' + 10);
                else if (*s >= 'A' && *s <= 'F')
                        d = (unsigned) (*s - 'A' + 10);
                else
                        break;
                if (d >= base)
                        break;
                if (!overflow)
                        v = v * base + d;
                if (v > 0xffff)
                        overflow = true;
        }
        if (digits == 0)
                return -EINVAL;
        if (*s == '\n')
                s++;
        if (*s != '\0')
                return -EINVAL;
        if (overflow)
                return -ERANGE;
        *ret = (uint16_t) v;
        return 0;
}

/* kstrtobool(): the first character decides (y Y 1 / n N 0), or "on"/"off" (any case). */
static int kstrtobool(const char *s, bool *ret) {
        switch (s[0]) {
        case 'y':
        case 'Y':
        case '1':
                *ret = true;
                return 0;
        case 'n':
        case 'N':
        case '0':
                *ret = false;
                return 0;
        case 'o':
        case 'O':
                if (s[1] == 'n' || s[1] == 'N') {
                        *ret = true;
                        return 0;
                }
                if (s[1] == 'f' || s[1] == 'F') {
                        *ret = false;
                        return 0;
                }
                return -EINVAL;
        default:
                return -EINVAL;
        }
}

/* What pci_iov_add_virtfn() takes from the PF for its VFs. */
typedef struct PfInfo {
        unsigned domain, rid; /* rid: the routing ID, bus << 8 | devfn */
        unsigned total, offset, stride;
        uint16_t vendor, vf_device, sub_vendor, sub_device;
        uint32_t class;
        int group; /* the PF's own group, -1: none */
        unsigned char config[4096];
        size_t config_size;
        uint64_t iov_res[6][3]; /* resource lines 7..12: the VF BARs (start, end, flags) */
} PfInfo;

static int hex_attr(const FakeKernel *k, const char *devpath, const char *attr, bool prefix, uint32_t max,
                    uint32_t *ret) {
        _cleanup_free_ char *s = dev_attr(k, devpath, attr);
        unsigned long v;
        char *end;

        if (!s || (prefix && !strneq(s, "0x", 2)))
                return -EIO;
        errno = 0;
        v = strtoul(s + (prefix ? 2 : 0), &end, 16);
        if (errno != 0 || end == s + (prefix ? 2 : 0) || *end != '\0' || v > max)
                return -EIO;
        *ret = (uint32_t) v;
        return 0;
}

static int pf_info(const FakeKernel *k, const char *pfpath, PfInfo *ret) {
        _cleanup_free_ char *cfg = xasprintf("%s/config", pfpath), *res = NULL, *gl = NULL, *g = NULL;
        _cleanup_close_ int fd = -EBADF;
        unsigned dom, bus, dev, fn;
        uint32_t v[5];
        unsigned line = 0;
        ssize_t n;
        int used = 0;

        if (!cfg)
                return -ENOMEM;
        if (sscanf(basename_of(pfpath), "%x:%2x:%2x.%1u%n", &dom, &bus, &dev, &fn, &used) != 4 ||
            basename_of(pfpath)[used] != '\0' || dev > 0x1f || fn > 7)
                return -EIO;
        *ret = (PfInfo) { .domain = dom, .rid = bus << 8 | dev << 3 | fn, .group = -1 };
        if (dev_uint(k, pfpath, "sriov_totalvfs", &ret->total) < 0 ||
            dev_uint(k, pfpath, "sriov_offset", &ret->offset) < 0 ||
            dev_uint(k, pfpath, "sriov_stride", &ret->stride) < 0)
                return -EIO;
        if (hex_attr(k, pfpath, "vendor", true, 0xffff, &v[0]) < 0 ||
            hex_attr(k, pfpath, "sriov_vf_device", false, 0xffff, &v[1]) < 0 ||
            hex_attr(k, pfpath, "subsystem_vendor", true, 0xffff, &v[2]) < 0 ||
            hex_attr(k, pfpath, "subsystem_device", true, 0xffff, &v[3]) < 0 ||
            hex_attr(k, pfpath, "class", true, 0xffffff, &v[4]) < 0)
                return -EIO;
        ret->vendor = (uint16_t) v[0];
        ret->vf_device = (uint16_t) v[1];
        ret->sub_vendor = (uint16_t) v[2];
        ret->sub_device = (uint16_t) v[3];
        ret->class = v[4];

        fd = openat(k->sys_fd, cfg, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -EIO;
        n = read(fd, ret->config, sizeof(ret->config));
        if (n < 64)
                return -EIO;
        ret->config_size = (size_t) n;

        res = dev_attr(k, pfpath, "resource");
        if (!res)
                return -EIO;
        for (char *save = NULL, *l = strtok_r(res, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line++) {
                uint64_t *r;

                if (line < 7 || line > 12)
                        continue;
                r = ret->iov_res[line - 7];
                if (sscanf(l, "%" SCNx64 " %" SCNx64 " %" SCNx64, &r[0], &r[1], &r[2]) != 3)
                        return -EIO;
        }

        gl = xasprintf("%s/iommu_group", pfpath);
        g = gl ? readlink_basename_at(k->sys_fd, gl) : NULL;
        if (g) {
                char *end;
                long gv = strtol(g, &end, 10);

                if (*end == '\0' && gv >= 0 && gv <= INT_MAX)
                        ret->group = (int) gv;
        }
        return 0;
}

static int create_attr(FakeKernel *k, const char *devpath, const char *attr, const void *data, size_t len) {
        _cleanup_free_ char *p = xasprintf("%s/%s", devpath, attr);
        _cleanup_close_ int fd = -EBADF;

        if (!p)
                return -ENOMEM;
        fd = openat(k->sys_fd, p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return negative_errno();
        if (write(fd, data, len) != (ssize_t) len)
                return -EIO;
        return 0;
}

static int create_attrf(FakeKernel *k, const char *devpath, const char *attr, const char *format, ...)
        __attribute__((format(printf, 4, 5)));
static int create_attrf(FakeKernel *k, const char *devpath, const char *attr, const char *format, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return create_attr(k, devpath, attr, s, strlen(s));
}

/* pci_iov_add_virtfn(): VF I of the PF at PFPATH, at VFPATH (a sibling of the PF: the VF's parent
 * is the PF's parent, whatever bus it is on), in IOMMU group GROUP. Not probed yet. */
static int vf_add(FakeKernel *k, const char *pfpath, const PfInfo *pf, unsigned i, const char *vfpath, int group) {
        const char *vfaddr = basename_of(vfpath);
        _cleanup_free_ char *resource = NULL, *physfn = NULL, *physfn_target = NULL, *virtfn = NULL,
                            *virtfn_target = NULL;
        unsigned char config[sizeof(pf->config)];
        unsigned cls = pf->class >> 16, sub = (pf->class >> 8) & 0xff, pi = pf->class & 0xff;
        int r;

        if (mkdirat(k->sys_fd, vfpath, 0755) < 0)
                return negative_errno();
        r = create_attrf(k, vfpath, "vendor", "0x%04x\n", pf->vendor);
        if (r >= 0)
                r = create_attrf(k, vfpath, "device", "0x%04x\n", pf->vf_device);
        if (r >= 0)
                r = create_attrf(k, vfpath, "subsystem_vendor", "0x%04x\n", pf->sub_vendor);
        if (r >= 0)
                r = create_attrf(k, vfpath, "subsystem_device", "0x%04x\n", pf->sub_device);
        if (r >= 0)
                r = create_attrf(k, vfpath, "class", "0x%06x\n", pf->class);
        if (r >= 0)
                r = create_attrf(k, vfpath, "driver_override", "(null)\n");
        if (r >= 0)
                r = create_attrf(k, vfpath, "enable", "1\n");
        if (r >= 0 && cls == 3)
                r = create_attrf(k, vfpath, "boot_vga", "0\n");
        if (r < 0)
                return r;

        /* A VF's config space: its Vendor and Device ID registers read 0xffff (PCIe SR-IOV spec
         * 3.4.1.1/2; the IDs are in the vendor and device files), header type 0 (no
         * multi-function bit), the rest as the PF's. */
        memcpy(config, pf->config, pf->config_size);
        memset(config, 0xff, 4);
        config[0x0e] = 0;
        r = create_attr(k, vfpath, "config", config, pf->config_size);
        if (r < 0)
                return r;

        /* 13 lines; BAR j is the I-th slice of the PF's VF BAR j (pci_iov_resource_size()). */
        resource = strdup("");
        for (unsigned j = 0; resource && j < 13; j++) {
                uint64_t start = 0, end = 0, flags = 0;
                char *t;

                if (j < 6 && pf->iov_res[j][1] > pf->iov_res[j][0] && pf->total > 0) {
                        uint64_t size = (pf->iov_res[j][1] - pf->iov_res[j][0] + 1) / pf->total;

                        start = pf->iov_res[j][0] + i * size;
                        end = start + size - 1;
                        flags = pf->iov_res[j][2];
                }
                t = xasprintf("%s0x%016" PRIx64 " 0x%016" PRIx64 " 0x%016" PRIx64 "\n", resource, start, end, flags);
                free(resource);
                resource = t;
        }
        if (!resource)
                return -ENOMEM;
        r = create_attr(k, vfpath, "resource", resource, strlen(resource));
        if (r < 0)
                return r;

        /* As make-trees.sh writes it for every device (the kernel's pci_uevent()). */
        r = create_attrf(k, vfpath, "uevent",
                         "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\n"
                         "MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n",
                         pf->class, pf->vendor, pf->vf_device, pf->sub_vendor, pf->sub_device, vfaddr, pf->vendor,
                         pf->vf_device, pf->sub_vendor, pf->sub_device, cls, sub, pi);
        if (r < 0)
                return r;

        r = add_bus_links(k, vfpath);
        if (r < 0)
                return r;
        r = join_group(k, vfpath, group);
        if (r < 0)
                return r;

        /* pci_iov_sysfs_link(): PF/virtfnI → VF, VF/physfn → PF. */
        virtfn = xasprintf("%s/virtfn%u", pfpath, i);
        virtfn_target = xasprintf("../%s", vfaddr);
        physfn = xasprintf("%s/physfn", vfpath);
        physfn_target = xasprintf("../%s", basename_of(pfpath));
        if (!virtfn || !virtfn_target || !physfn || !physfn_target)
                return -ENOMEM;
        if (symlinkat(virtfn_target, k->sys_fd, virtfn) < 0 || symlinkat(physfn_target, k->sys_fd, physfn) < 0)
                return -EIO;
        return 0;
}

/* pci_iov_remove_virtfn() for VFs N-1 down to 0: links first, then the device (unbound from its
 * driver, out of its group, gone). */
static void sriov_remove_vfs(FakeKernel *k, const char *pfpath, unsigned n) {
        for (unsigned i = n; i-- > 0;) {
                _cleanup_free_ char *link = xasprintf("%s/virtfn%u", pfpath, i);
                _cleanup_free_ char *vf = link ? readlink_basename_at(k->sys_fd, link) : NULL;

                if (!vf)
                        continue;
                (void) unlinkat(k->sys_fd, link, 0);
                (void) remove_device(k, vf);
        }
}

/* pci_disable_sriov(). */
static int sriov_disable(FakeKernel *k, const char *pfpath) {
        _cleanup_free_ char *p = xasprintf("%s/sriov_numvfs", pfpath);

        if (!p)
                return -ENOMEM;
        sriov_remove_vfs(k, pfpath, dev_num_vfs(k, pfpath));
        return write_at(k->sys_fd, p, "0\n");
}

/* pci_enable_sriov(): create VFs 0..N-1, each probed as it is added (pci_bus_add_device()). */
static int sriov_enable(FakeKernel *k, const char *pfpath, unsigned n) {
        _cleanup_free_ char *parent = strndup(pfpath, (size_t) (basename_of(pfpath) - pfpath - 1));
        _cleanup_free_ char *p = xasprintf("%s/sriov_numvfs", pfpath);
        _cleanup_free_ PfInfo *pf = malloc(sizeof(PfInfo));
        const Sriov *rule = sriov_rule(k, basename_of(pfpath));
        char count[16];
        int r;

        if (!parent || !p || !pf)
                return -ENOMEM;
        if (!rule) {
                fprintf(stderr, "fake-kernel: no \"sriov %s FIRST_GROUP\" line in fake-kernel.conf\n",
                        basename_of(pfpath));
                return -EIO;
        }
        r = pf_info(k, pfpath, pf);
        if (r < 0)
                return r;
        /* sriov_enable(): "can't enable %d VFs (bus %02x out of range of %pR)". A VF may be on a
         * later bus than the PF (devfn overflowing 0xff), but not beyond bus 0xff. */
        if (pf->rid + pf->offset + (n - 1) * pf->stride > 0xffff)
                return -ENOMEM;

        for (unsigned i = 0; i < n; i++) {
                unsigned rid = pf->rid + pf->offset + i * pf->stride;
                int group = rule->group == SRIOV_GROUP_PF     ? pf->group
                            : rule->group == SRIOV_GROUP_NONE ? -1
                                                              : rule->group + (int) i;
                _cleanup_free_ char *vfpath = xasprintf("%s/%04x:%02x:%02x.%u", parent, pf->domain, rid >> 8,
                                                        (rid >> 3) & 0x1f, rid & 7);

                if (!vfpath)
                        return -ENOMEM;
                r = vf_add(k, pfpath, pf, i, vfpath, group);
                if (r < 0) {
                        /* sriov_add_vfs() undoes what it added. */
                        (void) remove_device(k, basename_of(vfpath));
                        sriov_remove_vfs(k, pfpath, i + 1);
                        return r;
                }
                (void) device_attach(k, vfpath);
        }
        /* iov->num_VFs is set once all are added. */
        snprintf(count, sizeof(count), "%u\n", n);
        return write_at(k->sys_fd, p, count);
}

/* sriov_numvfs_store(), with the PF driver's sriov_configure() behind it. */
static int sriov_numvfs_store(FakeKernel *k, const char *pfpath, const char *value) {
        _cleanup_free_ char *drv = NULL;
        unsigned total, cur;
        uint16_t n;

        /* sysfs_kf_write(): an empty write reaches no store method. */
        if (value[0] == '\0')
                return 0;
        if (kstrtou16(value, &n) < 0)
                return -EINVAL;
        if (dev_uint(k, pfpath, "sriov_totalvfs", &total) < 0 || dev_uint(k, pfpath, "sriov_numvfs", &cur) < 0)
                return -EIO;
        if (n > total)
                return -ERANGE;
        if (n == cur)
                return 0;
        /* "no driver bound to device; cannot configure SR-IOV" */
        drv = dev_driver(k, pfpath);
        if (!drv)
                return -ENOENT;
        /* vfio-pci's sriov_configure() is -ENOENT unless loaded with enable_sriov=1 (off by
         * default, and not modelled). */
        if (is_vfio_driver(drv))
                return -ENOENT;
        if (n == 0)
                return sriov_disable(k, pfpath);
        /* "%d VFs already enabled. Disable before enabling %d VFs" */
        if (cur != 0)
                return -EBUSY;
        return sriov_enable(k, pfpath, n);
}

static int sriov_autoprobe_store(FakeKernel *k, const char *pfpath, const char *value) {
        _cleanup_free_ char *p = xasprintf("%s/sriov_drivers_autoprobe", pfpath);
        bool b;

        if (!p)
                return -ENOMEM;
        if (value[0] == '\0')
                return 0;
        if (kstrtobool(value, &b) < 0)
                return -EINVAL;
        return write_at(k->sys_fd, p, b ? "1\n" : "0\n");
}

/* A PF's SR-IOV attributes without a store method: kernfs refuses to open them for writing. */
static bool sriov_attr_read_only(const char *attr) {
        return streq(attr, "sriov_totalvfs") || streq(attr, "sriov_offset") || streq(attr, "sriov_stride") ||
               streq(attr, "sriov_vf_device");
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
        /* A PF driver's remove disables SR-IOV (igb_remove() → igb_disable_sriov()), which takes
         * the VFs away first; a "keep-vfs" driver leaves them ("driver left SR-IOV enabled after
         * remove", like nvme). */
        if (dev_num_vfs(k, devpath) > 0 && !driver_keeps_vfs(k, driver))
                (void) sriov_disable(k, devpath);
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

/* A "kill-after" rule for this call: the process dies the way SIGKILL kills it (no cleanup, no
 * atexit), once per tree: DIR/fake-kernel.killed is created first, holding the rule, and a tree
 * that has it kills no more (the daemon started again runs on). */
static void kill_rule(FakeKernel *k, const char *path, const char *normalized) {
        for (size_t i = 0; i < k->n_kills; i++) {
                Kill *kl = &k->kills[i];
                _cleanup_free_ char *marker = NULL, *line = NULL;
                _cleanup_close_ int fd = -EBADF;

                if (!streq(kl->path, path) && !streq_ptr(kl->path, normalized))
                        continue;
                if (++kl->seen != kl->nth)
                        continue;
                marker = xasprintf("%s/%s", k->dir, KILLED_FILE);
                line = xasprintf("kill-after %s %u\n", kl->path, kl->nth);
                if (!marker || !line)
                        abort();
                fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0)
                        continue; /* killed once already */
                (void) !write(fd, line, strlen(line));
                (void) raise(SIGKILL);
        }
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
        else if (is_pci_device_dir(k, dir) && streq(base, "sriov_numvfs"))
                r = sriov_numvfs_store(k, dir, value);
        else if (is_pci_device_dir(k, dir) && streq(base, "sriov_drivers_autoprobe"))
                r = sriov_autoprobe_store(k, dir, value);
        else if (is_pci_device_dir(k, dir) && sriov_attr_read_only(base))
                r = -EACCES;
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
        kill_rule(k, path, normalized);
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

/* sys/module/MODULE/drivers/pci:DRIVER, as the driver core links a registered driver. */
static void link_module(FakeKernel *k, const char *module, const char *driver) {
        _cleanup_free_ char *dir = xasprintf("%s/module/%s/drivers", k->sys, module);
        _cleanup_free_ char *link = xasprintf("%s/pci:%s", dir, driver);
        _cleanup_free_ char *target = xasprintf("../../../bus/pci/drivers/%s", driver);
        _cleanup_free_ char *cmd = xasprintf("mkdir -p '%s'", dir);

        if (system(cmd) != 0)
                abort();
        if (symlink(target, link) < 0 && errno != EEXIST)
                abort();
}

static int fake_load_driver(void *userdata, VbContext *ctx, const char *name) {
        FakeKernel *k = userdata;
        _cleanup_free_ char *as_module = module_name(name);
        int r = -ENOENT;

        assert(k);
        pthread_mutex_lock(&k->lock);
        /* modprobe takes a driver's name ("vfio-pci") as well as its module's ("vfio_pci"). */
        for (size_t i = 0; i < k->n_modules; i++) {
                if (!streq(k->modules[i], name) && !streq(k->module_names[i], as_module))
                        continue;
                if (fake_kernel_driver_loaded(k, k->modules[i]))
                        r = 0;
                else {
                        r = driver_register(k, k->modules[i]);
                        if (r >= 0) {
                                link_module(k, k->module_names[i], k->modules[i]);
                                r = 1;
                        }
                }
                break;
        }
        if (r == -ENOENT && fake_kernel_driver_loaded(k, name))
                r = 0;
        record(k, FAKE_OP_LOAD, NULL, NULL, name, r);
        {
                _cleanup_free_ char *key = xasprintf("load:%s", name);
                if (key)
                        kill_rule(k, key, NULL);
        }
        pthread_mutex_unlock(&k->lock);
        return r;
}

/* The module index: the "alias" lines, and vfio_pci's own alias (every kernel with vfio-pci as
 * a module has it), unless "no-module-index". */
static int fake_find_aliases(void *userdata, VbContext *ctx, const char *alias, VbModaliasFn fn, void *fn_userdata) {
        FakeKernel *k = userdata;
        _cleanup_free_ char *text = NULL;

        if (k->no_index)
                return -ENOENT;
        text = xasprintf("alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n%s", strempty(k->aliases));
        return vb_modalias_text_find(text, alias, fn, fn_userdata);
}

const VbKernelOps fake_kernel_ops = {
        .write_attr = fake_write_attr,
        .load_driver = fake_load_driver,
        .find_aliases = fake_find_aliases,
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
        for (size_t i = 0; i < k->n_modules; i++) {
                free(k->modules[i]);
                free(k->module_names[i]);
        }
        free(k->modules);
        free(k->module_names);
        free(k->aliases);
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
        for (size_t i = 0; i < k->n_kills; i++)
                free(k->kills[i].path);
        free(k->kills);
        for (size_t i = 0; i < k->n_sriovs; i++)
                free(k->sriovs[i].addr);
        free(k->sriovs);
        for (size_t i = 0; i < k->n_keep_vfs; i++)
                free(k->keep_vfs[i]);
        free(k->keep_vfs);
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
        char *buf;

        if (!path)
                return NULL;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? strdup("") : NULL;
        return vb_read_full_fd(fd, SIZE_MAX, 0, &buf, NULL) < 0 ? NULL : buf;
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
        _cleanup_free_ char *parent = NULL, *devpath = NULL, *staged = NULL;
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

        r = add_bus_links(k, devpath);
        if (r < 0)
                return r;
        r = join_group(k, devpath, h->group);
        if (r < 0)
                return r;

        r = device_attach(k, devpath);
        if (ret_devpath)
                *ret_devpath = TAKE_PTR(devpath);
        return r;
}

int fake_kernel_unplug(FakeKernel *k, const char *addr) {
        return remove_device(k, addr);
}
