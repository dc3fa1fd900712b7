/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Where a program finds the machine: the real one (everything NULL), or a test's fake tree and
 * fake kernel. The daemon's and the CLI's entry points take one; the library below them only
 * ever sees the context made from it.
 */

#include <stdbool.h>

#include "context.h"

#define VB_RUNTIME_DIR_DEFAULT "/run/vfio-bind"

/* The service manager: stop or start a unit, returning once the job is done (0) or with a
 * negative errno. vfio-bind bind and release use it for [Handoff] StopUnits=. */
typedef struct VbServiceOps {
        int (*stop_unit)(void *userdata, const char *unit);
        int (*start_unit)(void *userdata, const char *unit);
} VbServiceOps;

typedef struct VbPlatform {
        const char *sysfs_root;  /* NULL: "/sys" */
        const char *procfs_root; /* NULL: "/proc" */
        const VbKernelOps *ops;  /* NULL: the real kernel */
        void *ops_userdata;
        const char *runtime_dir;      /* NULL: VB_RUNTIME_DIR_DEFAULT */
        const char *initrd_release;   /* NULL: "/etc/initrd-release", whose presence means that the
                                     * program runs in an initrd (systemd's convention) */
        const char *config_root;      /* NULL: "/"; the default configuration files are read below
                                     * it (ROOT/etc/vfio-bind.conf) and named as without it */
        bool read_only;               /* no kernel at all, not even the real one: every write and
                                     * module load fails with -EROFS (a replay of a dump); only the
                                     * module index is looked in, unless module_aliases is set */
        const char *module_aliases;   /* NULL: the kernel's module index; else a modules.alias text
                                     * file that is the index (a dump's; missing: no index) */
        const char *hwdb_names;       /* NULL: device names from the udev hwdb; else a dump's
                                     * hwdb.names, and no other names (missing: none) */
        const VbServiceOps *services; /* NULL: systemd's, over D-Bus */
        void *services_userdata;
        const char *addresses; /* NULL: the kernel's interface addresses (getifaddrs()); else
                                     * a dump's ifaddrs (missing: an older dump, whose
                                     * proc/net/route and if_inet6 are read instead) */
} VbPlatform;

/* A context on the platform's roots with its kernel (the real one when P or P->ops is NULL). */
int vb_platform_open_context(const VbPlatform *p, VbContext **ret);
const char *vb_platform_runtime_dir(const VbPlatform *p);
/* NULL for the real "/". */
const char *vb_platform_config_root(const VbPlatform *p);
bool vb_platform_in_initrd(const VbPlatform *p);
