/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The validated configuration: the configuration file, then the *.conf files of its drop-in
 * directory in name order (lib/load.h), then the kernel command line (vfio-bind=off,
 * vfio-bind.device=SEL[,SEL…], lib/cmdline.h). This file has the configuration itself and the
 * parser of the keys and the INI syntax they are written in.
 *
 * Parsing never touches sysfs. Every problem is recorded as "FILE:LINE: message" in a
 * VbDiagnostics; a configuration with any error must not be used.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diagnostics.h"
#include "selector-set.h"
#include "selector.h"
#include "value.h"

/* The paths of the configuration file and its drop-in directory come from the build
 * (VB_CONFIG_FILE, VB_CONFIG_DROPIN_DIR in vb-config.h, under meson's sysconfdir). */
#define VB_DRIVER_AUTO "auto" /* Driver=auto: a VFIO variant driver where one matches, else vfio-pci */
#define VB_DRIVER_DEFAULT VB_DRIVER_AUTO
#define VB_TIMEOUT_DEFAULT_USEC (10 * UINT64_C(1000000))
#define VB_TIMEOUT_MAX_USEC (300 * UINT64_C(1000000))

/* Bounds that keep the parser's work and memory proportional to sane input. */
#define VB_CONFIG_LINE_MAX 4096               /* bytes per line, without the newline */
#define VB_CONFIG_FILE_SIZE_MAX (1024 * 1024) /* bytes per file */
#define VB_CONFIG_SELECTORS_MAX 4096          /* selectors in all files and the command line */
#define VB_CONFIG_DROPINS_MAX 1024            /* *.conf files in the drop-in directory */
#define VB_CONFIG_ERRORS_MAX 100              /* per file: then "too many errors" and stop */

typedef enum VbGroupPolicy {
        VB_GROUP_CHECK,  /* refuse a device whose group has other endpoints on host drivers */
        VB_GROUP_TAKE,   /* also bind those endpoints */
        VB_GROUP_IGNORE, /* do not look at the group */
        _VB_GROUP_POLICY_MAX,
        _VB_GROUP_POLICY_INVALID = -EINVAL,
} VbGroupPolicy;

typedef enum VbReleasePolicy {
        VB_RELEASE_AUTO, /* only when a device being bound owns the console/framebuffer */
        VB_RELEASE_YES,
        VB_RELEASE_NO,
        _VB_RELEASE_POLICY_MAX,
        _VB_RELEASE_POLICY_INVALID = -EINVAL,
} VbReleasePolicy;

const char *vb_group_policy_to_string(VbGroupPolicy p);
VbGroupPolicy vb_group_policy_from_string(const char *s);
const char *vb_release_policy_to_string(VbReleasePolicy p);
VbReleasePolicy vb_release_policy_from_string(const char *s);

/* The settings that may be given at most once across all files. */
typedef enum VbConfigSetting {
        VB_SETTING_DRIVER,
        VB_SETTING_GROUP,
        VB_SETTING_UNBIND_HOST,
        VB_SETTING_TIMEOUT,
        VB_SETTING_RELEASE,
        _VB_SETTING_MAX,
        _VB_SETTING_INVALID = -EINVAL,
} VbConfigSetting;

/* VirtualFunctions=PF COUNT: create COUNT SR-IOV virtual functions on the physical function PF
 * and bind them as selected devices (the PF keeps its host driver). */
typedef struct VbConfigVfs {
        VbPciAddress pf;
        unsigned count; /* 1..VB_CONFIG_VFS_MAX */
        char *file;     /* where it was written */
        unsigned line;
} VbConfigVfs;
#define VB_CONFIG_VFS_MAX 65535 /* sriov_totalvfs is 16 bits */

/* Where a setting was written. FILE is NULL while the setting holds its default. */
typedef struct VbConfigOrigin {
        char *file;
        unsigned line;
} VbConfigOrigin;

typedef struct VbConfig {
        VbConfigSelector *selectors;
        size_t n_selectors;
        /* Force=: devices that are bound even though the host uses them (a mounted file system,
         * active swap, a network interface with addresses, the console with Release=no). They
         * must be selected by Device= too; Force= alone binds nothing. */
        VbConfigSelector *force;
        size_t n_force;
        VbConfigVfs *vfs; /* VirtualFunctions=, at most one per PF, in the order written */
        size_t n_vfs;
        char *driver;            /* default "auto" (VB_DRIVER_AUTO) */
        VbGroupPolicy group;     /* default check */
        bool unbind_host;        /* default yes */
        uint64_t timeout_usec;   /* default 10 s */
        VbReleasePolicy release; /* default auto */
        bool disabled;           /* vfio-bind=off on the kernel command line */
        /* [Handoff] StopUnits=: the units vfio-bind bind may stop when they hold a device it binds
         * (started again by vfio-bind release), NULL-terminated, each once, in the order written */
        char **stop_units;
        size_t n_stop_units;
        char **files;                            /* the files that were read, in order, NULL-terminated */
        VbConfigOrigin origins[_VB_SETTING_MAX]; /* where each setting came from */
        /* Private to the parser: the selectors and Force= lists by value, to find duplicates;
         * the room in VFS. */
        VbSelectorSet *selector_set, *force_set;
        size_t vfs_allocated;
} VbConfig;

/* A configuration holding the defaults and no selector. */
int vb_config_new(VbConfig **ret);
VbConfig *vb_config_free(VbConfig *c);
static inline void vb_config_freep(VbConfig **c) {
        if (*c)
                vb_config_free(*c);
}

/* Parse TEXT (LEN bytes, may contain NULs, which are errors) as if it were the file NAME, adding
 * to C. Any bytes are safe here (this is the fuzzing entry point). NAME is not added to
 * C->files. Returns 0, -EINVAL when anything was added to DIAG, or -ENOMEM. */
int vb_config_parse_text(VbConfig *c, const char *name, const char *text, size_t len, VbDiagnostics *diag);

const char *vb_config_setting_to_string(VbConfigSetting s); /* "Driver", "Group", … */

/* Driver=auto? */
bool vb_config_driver_auto(const VbConfig *c);
/* Are the drivers C asks for VFIO drivers (Driver=auto, vfio-pci or a variant)? */
bool vb_config_driver_is_vfio(const VbConfig *c);

/* Where a parser is: the configuration it adds to, the file and line errors are reported at, and
 * how many it reported. The files' parser (vb_config_parse_text()) and the kernel command line's
 * (lib/cmdline.c) share it, so that both report and cap errors alike. */
typedef struct VbConfigParser {
        VbConfig *config;
        VbDiagnostics *diag;
        const char *file;
        unsigned line;
        unsigned section; /* the INI section; private to lib/config.c, starts at 0 (none) */
        unsigned n_errors;
        bool gave_up; /* VB_CONFIG_ERRORS_MAX reached */
} VbConfigParser;

/* Record an error at the current line, or once "too many errors" and then nothing. Returns 0 or
 * -ENOMEM. */
int vb_config_parser_error(VbConfigParser *p, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* The VirtualFunctions= entry for PF, or NULL. */
const VbConfigVfs *vb_config_find_vfs(const VbConfig *c, const VbPciAddress *pf);

/* Add the selectors in VALUE (cut in place at any of SEPARATORS) to Device= (FORCE false) or
 * Force= (FORCE true), each checked and none twice in its list; every problem is reported with
 * WHERE after the selector (" in vfio-bind.device=", or "" in a file). Returns 1 if VALUE held any
 * word, 0 if it held none, or -ENOMEM. */
int vb_config_parser_add_selectors(VbConfigParser *p, bool force, const char *separators, const char *where,
                                   char *value);
