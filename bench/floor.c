/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The floor of the guest benchmark: the least a program must do to move PCI functions to a
 * driver on a real kernel, and back. No configuration, no scan, no plan, no verification, no
 * logging; the only reads are the driver links, to know what to unbind.
 *
 *   bench-floor bind DRIVER ADDR...   load the module that provides DRIVER (libkmod, with its
 *                                     dependencies, as modprobe does), then per address: write
 *                                     DRIVER to driver_override, unbind the current driver if
 *                                     there is one, write the address to drivers_probe
 *   bench-floor release ADDR...       per address: clear driver_override, unbind the current
 *                                     driver, write the address to drivers_probe
 *
 * Exit status 0 if every write succeeded (like the kernel, drivers_probe may succeed without
 * binding anything: the benchmark checks where the devices ended separately).
 */
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"

#define SYSFS_PCI "/sys/bus/pci"

static int write_file(const char *path, const char *value) {
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(value);

        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (write(fd, value, n) != (ssize_t) n)
                return -errno;
        return 0;
}

static int load_module(const char *driver) {
        struct kmod_ctx *k;
        struct kmod_list *list = NULL, *i;
        int r;

        k = kmod_new(NULL, NULL);
        if (!k)
                return -ENOMEM;
        r = kmod_module_new_from_lookup(k, driver, &list);
        if (r >= 0 && !list)
                r = -ENOENT;
        kmod_list_foreach(i, list) {
                struct kmod_module *m = kmod_module_get_module(i);

                /* flags 0: a module that is loaded already is success, not -EEXIST */
                if (r >= 0)
                        r = kmod_module_probe_insert_module(m, 0, NULL, NULL, NULL, NULL);
                kmod_module_unref(m);
        }
        kmod_module_unref_list(list);
        kmod_unref(k);
        return r < 0 ? r : 0;
}

static int unbind_current(const char *addr) {
        char path[PATH_MAX];

        snprintf(path, sizeof(path), SYSFS_PCI "/devices/%s/driver/unbind", addr);
        if (access(path, F_OK) < 0)
                return errno == ENOENT ? 0 : -errno;
        return write_file(path, addr);
}

static int move(const char *addr, const char *driver) {
        char path[PATH_MAX];
        int r;

        snprintf(path, sizeof(path), SYSFS_PCI "/devices/%s/driver_override", addr);
        r = write_file(path, driver);
        if (r < 0)
                return r;
        r = unbind_current(addr);
        if (r < 0)
                return r;
        return write_file(SYSFS_PCI "/drivers_probe", addr);
}

int main(int argc, char **argv) {
        int r = 0, k;

        if (argc >= 4 && streq(argv[1], "bind")) {
                r = load_module(argv[2]);
                if (r < 0) {
                        fprintf(stderr, "bench-floor: loading the module of %s: %s\n", argv[2], strerror(-r));
                        return 1;
                }
                for (int i = 3; i < argc; i++)
                        if ((k = move(argv[i], argv[2])) < 0) {
                                fprintf(stderr, "bench-floor: %s: %s\n", argv[i], strerror(-k));
                                r = k;
                        }
        } else if (argc >= 3 && streq(argv[1], "release")) {
                for (int i = 2; i < argc; i++)
                        if ((k = move(argv[i], "\n")) < 0) {
                                fprintf(stderr, "bench-floor: %s: %s\n", argv[i], strerror(-k));
                                r = k;
                        }
        } else {
                fprintf(stderr, "usage: bench-floor bind DRIVER ADDR... | release ADDR...\n");
                return 2;
        }
        return r < 0 ? 1 : 0;
}
