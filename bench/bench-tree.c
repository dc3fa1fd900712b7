/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fake-tree half of the benchmarks (see bench/README.md).
 *
 *   bench-tree gen N DIR     write a fake machine with N PCI endpoint functions into DIR (a case
 *                            directory as tests/fake-kernel.h describes: sys/, proc/,
 *                            fake-kernel.conf), plus selected (the N/4 addresses to bind, one a
 *                            line), id.conf (one vendor:device selector that picks them) and
 *                            addr.conf (one Device= line per address)
 *   bench-tree floor DIR     the floor: through the same fake kernel, load vfio-pci once and
 *                            write driver_override and drivers_probe for each selected address,
 *                            nothing else (no scan, no plan, no verification)
 *   bench-tree verify DIR    exit 0 if every selected function is on vfio-pci and every other
 *                            endpoint is still on its host driver, 1 (with the first offender
 *                            on stderr) if not
 *
 * The machine: a host bridge, one root port per bus, and behind each root port eight slots of
 * four functions each (a GPU-like 3D controller at .0, unbound, that is selected; a NIC, an NVMe
 * controller and a USB controller at .1-.3, bound to their host drivers). Every function has its
 * own IOMMU group, as behind ACS-capable ports. The GPU functions are display class (0x0302),
 * so the library reads their BARs too, like on a real machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context.h"
#include "fake-kernel.h"
#include "macro.h"

#define FUNCTIONS_PER_SLOT 4
#define SLOTS_PER_BUS 8
#define FUNCTIONS_PER_BUS (FUNCTIONS_PER_SLOT * SLOTS_PER_BUS)
#define N_MAX (FUNCTIONS_PER_BUS * 240) /* root ports on bus 0: slots 01-1e, 8 functions each */

typedef struct Kind {
        unsigned vendor, device, class;
        const char *driver; /* NULL: unbound */
} Kind;

static const Kind kinds[FUNCTIONS_PER_SLOT] = {
        { 0x10de, 0x2204, 0x030200, NULL },       /* selected: a 3D controller nobody drives yet */
        { 0x8086, 0x1521, 0x020000, "igb" },      /* NIC */
        { 0x144d, 0xa808, 0x010802, "nvme" },     /* NVMe */
        { 0x1b21, 0x2142, 0x0c0330, "xhci_hcd" }, /* USB */
};

static int put(int dirfd, const char *path, const char *format, ...) _printf_(3, 4);
static int put(int dirfd, const char *path, const char *format, ...) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int n;

        va_start(ap, format);
        n = vasprintf(&s, format, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (write(fd, s, (size_t) n) != n)
                return -EIO;
        return 0;
}

static int put_bytes(int dirfd, const char *path, const void *data, size_t size) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (write(fd, data, size) != (ssize_t) size)
                return -EIO;
        return 0;
}

/* mkdir -p PATH relative to DIRFD. */
static int mkdirs(int dirfd, const char *path) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
                if (s)
                        *s = '\0';
                if (mkdirat(dirfd, p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (!s)
                        return 0;
                *s = '/';
        }
}

static int link_at(int dirfd, const char *target, const char *path) {
        return symlinkat(target, dirfd, path) < 0 ? -errno : 0;
}

/* "../" once per component of PATH: from PATH back to sys/. */
static void up(const char *path, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = '\0';
        for (const char *p = path; p; p = strchr(p + 1, '/'))
                n += (size_t) snprintf(buf + n, size - n, "../");
        if (n > 0)
                buf[n - 1] = '\0';
}

static int pci_driver_dir(int sys, const char *driver) {
        char path[256];
        int r;

        snprintf(path, sizeof(path), "bus/pci/drivers/%s", driver);
        if (faccessat(sys, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        r = mkdirs(sys, path);
        if (r < 0)
                return r;
        static const char *const files[] = { "bind", "unbind", "new_id", "remove_id" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                char p[300];
                snprintf(p, sizeof(p), "%s/%s", path, files[i]);
                r = put(sys, p, "%s", "");
                if (r < 0)
                        return r;
        }
        snprintf(path, sizeof(path), "bus/pci/drivers/%s/uevent", driver);
        return put(sys, path, "DRIVER=%s\n", driver);
}

/* One function: its attributes, its links, its driver and IOMMU group. PARENT is relative to
 * sys/. */
static int add_function(int sys, const char *parent, const char *addr, unsigned vendor, unsigned device, unsigned class,
                        unsigned header, const char *driver, int group) {
        char path[256], u[256], p[512], t[512];
        uint8_t config[64] = {};
        int r;

        snprintf(path, sizeof(path), "%s/%s", parent, addr);
        up(path, u, sizeof(u));
        r = mkdirs(sys, path);
        if (r < 0)
                return r;

#define PUT(attr, ...)                                    \
        do {                                              \
                snprintf(p, sizeof(p), "%s/" attr, path); \
                r = put(sys, p, __VA_ARGS__);             \
                if (r < 0)                                \
                        return r;                         \
        } while (0)

        PUT("vendor", "0x%04x\n", vendor);
        PUT("device", "0x%04x\n", device);
        PUT("subsystem_vendor", "0x1af4\n");
        PUT("subsystem_device", "0x1100\n");
        PUT("class", "0x%06x\n", class);
        PUT("driver_override", "(null)\n");
        PUT("enable", "1\n");
        if ((class >> 16) == 0x03)
                PUT("boot_vga", "0\n");
        {
                char res[17 * 60];
                size_t n = 0, lines = header == 0 ? 13 : 17;

                for (size_t i = 0; i < lines; i++) {
                        uint64_t start = 0, end = 0, flags = 0;
                        if (header == 0 && i == 0) {
                                /* a 16 MiB memory BAR somewhere above 4 GiB, distinct per function */
                                start = 0x4000000000ULL + ((uint64_t) (group & 0xffff) << 24);
                                end = start + 0xffffff;
                                flags = 0x40200;
                        }
                        n += (size_t) snprintf(res + n, sizeof(res) - n, "0x%016llx 0x%016llx 0x%016llx\n",
                                               (unsigned long long) start, (unsigned long long) end,
                                               (unsigned long long) flags);
                }
                PUT("resource", "%s", res);
        }
        PUT("uevent", "%s%s%sPCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=1AF4:1100\nPCI_SLOT_NAME=%s\n",
            driver ? "DRIVER=" : "", driver ?: "", driver ? "\n" : "", class, vendor, device, addr);
#undef PUT

        config[0] = vendor & 0xff;
        config[1] = vendor >> 8;
        config[2] = device & 0xff;
        config[3] = device >> 8;
        config[9] = class & 0xff;
        config[10] = (class >> 8) & 0xff;
        config[11] = class >> 16;
        config[14] = (uint8_t) header;
        snprintf(p, sizeof(p), "%s/config", path);
        r = put_bytes(sys, p, config, sizeof(config));
        if (r < 0)
                return r;

        snprintf(p, sizeof(p), "%s/subsystem", path);
        snprintf(t, sizeof(t), "%s/bus/pci", u);
        if ((r = link_at(sys, t, p)) < 0)
                return r;
        snprintf(p, sizeof(p), "bus/pci/devices/%s", addr);
        snprintf(t, sizeof(t), "../../../%s", path);
        if ((r = link_at(sys, t, p)) < 0)
                return r;
        if (driver) {
                if ((r = pci_driver_dir(sys, driver)) < 0)
                        return r;
                snprintf(p, sizeof(p), "%s/driver", path);
                snprintf(t, sizeof(t), "%s/bus/pci/drivers/%s", u, driver);
                if ((r = link_at(sys, t, p)) < 0)
                        return r;
                snprintf(p, sizeof(p), "bus/pci/drivers/%s/%s", driver, addr);
                snprintf(t, sizeof(t), "../../../../%s", path);
                if ((r = link_at(sys, t, p)) < 0)
                        return r;
        }
        if (group >= 0) {
                snprintf(p, sizeof(p), "kernel/iommu_groups/%d/devices", group);
                if ((r = mkdirs(sys, p)) < 0)
                        return r;
                snprintf(p, sizeof(p), "kernel/iommu_groups/%d/type", group);
                if ((r = put(sys, p, "DMA\n")) < 0)
                        return r;
                snprintf(p, sizeof(p), "kernel/iommu_groups/%d/devices/%s", group, addr);
                snprintf(t, sizeof(t), "../../../../%s", path);
                if ((r = link_at(sys, t, p)) < 0)
                        return r;
                snprintf(p, sizeof(p), "%s/iommu_group", path);
                snprintf(t, sizeof(t), "%s/kernel/iommu_groups/%d", u, group);
                if ((r = link_at(sys, t, p)) < 0)
                        return r;
        }
        return 0;
}

static int gen(unsigned n, const char *dir) {
        _cleanup_close_ int dfd = -EBADF, sys = -EBADF;
        _cleanup_free_ char *selected = NULL, *addr_conf = NULL;
        size_t selected_len = 0, addr_conf_len = 0;
        FILE *sel, *ac;
        unsigned buses, group = 0;
        int r;

        if (n < FUNCTIONS_PER_SLOT || n % FUNCTIONS_PER_SLOT || n > N_MAX) {
                fprintf(stderr, "bench-tree: N must be a multiple of %d between %d and %d\n", FUNCTIONS_PER_SLOT,
                        FUNCTIONS_PER_SLOT, N_MAX);
                return -EINVAL;
        }
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (mkdirat(dfd, "sys", 0755) < 0)
                return -errno; /* EEXIST too: generate into a fresh directory */
        sys = openat(dfd, "sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sys < 0)
                return -errno;

        static const char *const dirs[] = {
                "bus/pci/devices",
                "bus/pci/drivers",
                "devices/pci0000:00",
                "kernel/iommu_groups",
                "class/iommu",
                "devices/virtual/iommu/dmar0",
                "devices/virtual/vtconsole/vtcon0",
                "class/vtconsole",
                "bus/platform/devices",
                "class/block",
                "class/net",
        };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if ((r = mkdirs(sys, dirs[i])) < 0)
                        return r;
        if ((r = put(sys, "bus/pci/drivers_probe", "%s", "")) < 0 ||
            (r = put(sys, "bus/pci/drivers_autoprobe", "1\n")) < 0 || (r = put(sys, "bus/pci/rescan", "%s", "")) < 0 ||
            (r = put(sys, "devices/pci0000:00/uevent", "\n")) < 0 ||
            (r = put(sys, "devices/virtual/iommu/dmar0/uevent", "\n")) < 0 ||
            (r = link_at(sys, "../../devices/virtual/iommu/dmar0", "class/iommu/dmar0")) < 0 ||
            (r = put(sys, "devices/virtual/vtconsole/vtcon0/name", "(S) dummy device\n")) < 0 ||
            (r = put(sys, "devices/virtual/vtconsole/vtcon0/bind", "1\n")) < 0 ||
            (r = link_at(sys, "../../devices/virtual/vtconsole/vtcon0", "class/vtconsole/vtcon0")) < 0)
                return r;

        sel = open_memstream(&selected, &selected_len);
        ac = open_memstream(&addr_conf, &addr_conf_len);
        if (!sel || !ac)
                return -ENOMEM;
        fprintf(ac, "# bench-tree: the %u selected functions of a %u-function tree, by address\n[Bind]\n",
                n / FUNCTIONS_PER_SLOT, n);

        r = add_function(sys, "devices/pci0000:00", "0000:00:00.0", 0x8086, 0x29c0, 0x060000, 0, NULL, (int) group++);
        buses = (n + FUNCTIONS_PER_BUS - 1) / FUNCTIONS_PER_BUS;
        for (unsigned b = 1; r >= 0 && b <= buses; b++) {
                char port[16], parent[64];

                snprintf(port, sizeof(port), "0000:00:%02x.%u", 1 + (b - 1) / 8, (b - 1) % 8);
                r = add_function(sys, "devices/pci0000:00", port, 0x8086, 0x7c90, 0x060400, 1, "pcieport",
                                 (int) group++);
                snprintf(parent, sizeof(parent), "devices/pci0000:00/%s", port);
                for (unsigned i = (b - 1) * FUNCTIONS_PER_BUS; r >= 0 && i < b * FUNCTIONS_PER_BUS && i < n; i++) {
                        const Kind *k = &kinds[i % FUNCTIONS_PER_SLOT];
                        char addr[16];

                        snprintf(addr, sizeof(addr), "0000:%02x:%02x.%u", b,
                                 (i % FUNCTIONS_PER_BUS) / FUNCTIONS_PER_SLOT, i % FUNCTIONS_PER_SLOT);
                        r = add_function(sys, parent, addr, k->vendor, k->device, k->class, 0, k->driver,
                                         (int) group++);
                        if (!k->driver) {
                                fprintf(sel, "%s\n", addr);
                                fprintf(ac, "Device=%s\n", addr);
                        }
                }
        }
        fclose(sel);
        fclose(ac);
        if (r < 0)
                return r;

        if ((r = put(dfd, "selected", "%s", selected)) < 0 || (r = put(dfd, "addr.conf", "%s", addr_conf)) < 0 ||
            (r = put(dfd, "id.conf",
                     "# bench-tree: the %u selected functions of a %u-function tree, by ID\n"
                     "[Bind]\nDevice=%04x:%04x\n",
                     n / FUNCTIONS_PER_SLOT, n, kinds[0].vendor, kinds[0].device)) < 0 ||
            (r = put(dfd, "fake-kernel.conf",
                     "# bench-tree: what the drivers of this machine do (tests/fake-kernel.h)\n"
                     "match 8086:1521 igb\nmatch 144d:a808 nvme\nmatch 1b21:2142 xhci_hcd\nmatch 8086:7c90 pcieport\n"
                     "builtin igb\nbuiltin nvme\nbuiltin xhci_hcd\nbuiltin pcieport\nmodule vfio-pci\n")) < 0)
                return r;

        if (mkdirat(dfd, "proc", 0755) < 0 && errno != EEXIST)
                return -errno;
        if ((r = put(dfd, "proc/cmdline",
                     "BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro quiet intel_iommu=on iommu=pt\n")) < 0 ||
            (r = put(dfd, "proc/iomem", "00000000-00000fff : Reserved\n00001000-0009ffff : System RAM\n")) < 0 ||
            (r = mkdirs(dfd, "proc/self")) < 0 || (r = mkdirs(dfd, "proc/net")) < 0 ||
            (r = put(dfd, "proc/self/mountinfo", "22 1 0:21 / / rw,relatime - tmpfs rootfs rw\n")) < 0 ||
            (r = put(dfd, "proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")) < 0 ||
            (r = put(dfd, "proc/net/route",
                     "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n")) < 0 ||
            (r = put(dfd, "proc/net/if_inet6", "%s", "")) < 0)
                return r;
        return 0;
}

/* The selected addresses of a generated tree. */
static int read_selected(const char *dir, char ***ret, size_t *ret_n) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0, size = 0;
        FILE *f;

        if (asprintf(&path, "%s/selected", dir) < 0)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        for (ssize_t k; (k = getline(&line, &size, f)) > 0;) {
                char **p;

                if (line[k - 1] == '\n')
                        line[k - 1] = '\0';
                p = realloc(l, (n + 2) * sizeof(char *));
                if (!p) {
                        fclose(f);
                        return -ENOMEM;
                }
                l = p;
                l[n] = strdup(line);
                l[++n] = NULL;
                if (!l[n - 1]) {
                        fclose(f);
                        return -ENOMEM;
                }
        }
        fclose(f);
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

static int floor_run(const char *dir) {
        _cleanup_(fake_kernel_freep) FakeKernel *k = NULL;
        _cleanup_strv_free_ char **sel = NULL;
        _cleanup_close_ int sys = -EBADF;
        size_t n;
        int r;

        r = fake_kernel_new(&k, dir);
        if (r < 0)
                return r;
        r = read_selected(dir, &sel, &n);
        if (r < 0)
                return r;
        sys = open(fake_kernel_sysfs_root(k), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sys < 0)
                return -errno;

        r = fake_kernel_ops.load_driver(k, NULL, "vfio-pci");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                char path[128];

                snprintf(path, sizeof(path), "bus/pci/devices/%s/driver_override", sel[i]);
                r = fake_kernel_ops.write_attr(k, sys, path, "vfio-pci");
                if (r < 0)
                        return r;
                r = fake_kernel_ops.write_attr(k, sys, "bus/pci/drivers_probe", sel[i]);
                if (r < 0)
                        return r;
        }
        return fake_kernel_n_violations(k) > 0 ? -EPERM : 0;
}

static int verify(const char *dir) {
        _cleanup_(fake_kernel_freep) FakeKernel *k = NULL;
        _cleanup_strv_free_ char **sel = NULL;
        _cleanup_free_ char *bound = NULL;
        size_t n, checked = 0;
        int r;

        r = fake_kernel_new(&k, dir);
        if (r < 0)
                return r;
        r = read_selected(dir, &sel, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *drv = fake_kernel_driver(k, sel[i]);

                if (!streq_ptr(drv, "vfio-pci")) {
                        fprintf(stderr, "bench-tree: %s is on %s, not vfio-pci\n", sel[i], drv ?: "no driver");
                        return 1;
                }
        }
        /* the other endpoints of each selected slot stay with their host drivers */
        for (size_t i = 0; i < n; i++)
                for (unsigned f = 1; f < FUNCTIONS_PER_SLOT; f++) {
                        _cleanup_free_ char *addr = strdup(sel[i]), *drv = NULL;

                        if (!addr)
                                return -ENOMEM;
                        addr[strlen(addr) - 1] = (char) ('0' + f);
                        if (!fake_kernel_device_exists(k, addr))
                                continue;
                        drv = fake_kernel_driver(k, addr);
                        if (!streq_ptr(drv, kinds[f].driver)) {
                                fprintf(stderr, "bench-tree: %s is on %s, not its host driver %s\n", addr,
                                        drv ?: "no driver", kinds[f].driver);
                                return 1;
                        }
                        checked++;
                }
        printf("%zu selected functions on vfio-pci, %zu other functions on their host drivers\n", n, checked);
        return 0;
}

static unsigned parse_n(const char *s) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v > N_MAX)
                return 0;
        return (unsigned) v;
}

int main(int argc, char **argv) {
        int r;

        if (argc == 4 && streq(argv[1], "gen")) {
                r = gen(parse_n(argv[2]), argv[3]);
        } else if (argc == 3 && streq(argv[1], "floor")) {
                r = floor_run(argv[2]);
        } else if (argc == 3 && streq(argv[1], "verify")) {
                r = verify(argv[2]);
                if (r > 0)
                        return 1;
        } else {
                fprintf(stderr, "usage: bench-tree gen N DIR | floor DIR | verify DIR\n");
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "bench-tree %s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        return 0;
}
