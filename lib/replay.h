/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A machine seen through a dump (`vfio-bind dump`) instead of the real one: the archive itself,
 * unpacked into a private temporary directory that vb_replay_done() removes, or a directory
 * unpacked from one. Its sys/ and proc/ are the roots, its etc/ holds the configuration files and
 * its run/vfio-bind the runtime marks. The platform it gives has no kernel: nothing is written.
 */

#include "platform.h"

typedef struct VbReplay {
        char *path;           /* as given */
        char *tmpdir;         /* the archive unpacked here, or NULL for a directory */
        char *top;            /* the directory with sys/, proc/, etc/, run/ */
        char *sysfs;          /* top/sys */
        char *procfs;         /* top/proc */
        char *runtime;        /* top/run/vfio-bind */
        char *module_aliases; /* top/modules.alias: the module index's aliases that matched */
        char *hwdb_names;     /* top/hwdb.names: the device names the dump's machine had */
        char *addresses;      /* top/ifaddrs: the interface addresses the dump's machine had */
} VbReplay;

/* Open PATH (an archive or a directory). Returns 0, or a negative errno with *RET_ERROR saying
 * what is wrong ("member \"../x\": has a \"..\" component"; NULL for a plain errno). */
int vb_replay_open(const char *path, VbReplay *ret, char **ret_error);
/* Remove the unpacked copy, free the fields. */
void vb_replay_done(VbReplay *r);
/* A platform on R: its roots, its runtime directory and configuration, no kernel. */
VbPlatform vb_replay_platform(const VbReplay *r);
