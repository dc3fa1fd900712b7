/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * vfio-bind's libvirt hook: libvirtd runs it as /etc/libvirt/hooks/qemu.d/vfio-bind DOMAIN
 * OPERATION SUBOPERATION EXTRA, with the domain's XML on stdin, and waits for it.
 *
 * At "prepare begin" it hands the domain's PCI host devices with managed='no' to VFIO through
 * `vfio-bind bind ADDRESS` (the run-time handoff: holders refused by name, [Handoff] StopUnits=,
 * the console), in the order of the XML: once per IOMMU group the domain has whole (with
 * --take-group), else per device under the configuration's Group=. What it takes is marked first
 * (/run/vfio-bind/libvirt/ADDRESS, lib/runtime.h); a failure gives back what this call took and
 * aborts the start. At "release end" it gives back through `vfio-bind release` what it took, and
 * nothing else: a device /etc/vfio-bind.conf binds is vfio-bindd's, and one that was passed
 * through before the start (by hand, by virsh nodedev-detach) stays where it is. Every other
 * operation does nothing.
 *
 * It never calls back into libvirt (virsh from a hook can deadlock libvirtd). What the CLI says
 * goes to the journal with the domain's name (VFIO_BIND_DOMAIN=); on failure one short line goes
 * to stderr, which libvirt puts into the error of the aborted start.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "platform.h"

typedef enum VbhAction {
        VBH_NOTHING,   /* an operation the hook has no business with */
        VBH_TAKE,      /* prepare begin: bind */
        VBH_GIVE_BACK, /* release end: release */
        _VBH_ACTION_MAX,
        _VBH_ACTION_INVALID = -1,
} VbhAction;

/* What the hook does for libvirt's OPERATION and SUBOPERATION. */
VbhAction vbh_action_for(const char *operation, const char *suboperation);
const char *vbh_action_to_string(VbhAction a);

typedef struct VbhSetup VbhSetup;
struct VbhSetup {
        const VbPlatform *platform; /* the machine and the configuration root (NULL: the real ones) */
        const char *config_path;    /* NULL: the default configuration files */
        const char *cli;            /* the vfio-bind program */
        int stdin_fd;               /* the domain XML */
        /* Start the CLI with ARGV (ARGV[0] is S->cli), its stdin on /dev/null and its stdout and
         * stderr on OUT_FD and ERR_FD; returns its PID or a negative errno. */
        pid_t (*spawn)(const VbhSetup *s, char *const *argv, int out_fd, int err_fd);
        /* One line for the journal: PRIORITY is syslog's (LOG_INFO, …), DOMAIN the domain's name,
         * OPERATION "prepare begin". */
        void (*log)(const VbhSetup *s, int priority, const char *domain, const char *operation, const char *message);
        void *userdata;
};

/* Run the hook for ARGV (libvirt's: DOMAIN OPERATION SUBOPERATION EXTRA). Returns the exit
 * status: 0 (done, or nothing to do), 1 (failed: the start is aborted), 2 (not called as libvirt
 * calls a hook). */
int vbh_main(int argc, char **argv, const VbhSetup *setup);
