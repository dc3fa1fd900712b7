/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The validated configuration: /etc/vfio-bind.conf, then /etc/vfio-bind.conf.d/ *.conf in name
 * order, then the kernel command line (vfio-bind=off, vfio-bind.device=SEL[,SEL…]).
 *
 * Parsing never touches sysfs. Every problem is recorded as "FILE:LINE: message" in a
 * VbDiagnostics; a configuration with any error must not be used.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "selector.h"

#define VB_CONFIG_FILE_DEFAULT "/etc/vfio-bind.conf"
#define VB_CONFIG_DROPIN_DIR_DEFAULT "/etc/vfio-bind.conf.d"
#define VB_DRIVER_DEFAULT "vfio-pci"
#define VB_TIMEOUT_DEFAULT_USEC (10 * UINT64_C(1000000))
#define VB_TIMEOUT_MAX_USEC (300 * UINT64_C(1000000))
#define VB_DRIVER_NAME_MAX 64
/* The name used in diagnostics for settings that came from the kernel command line. */
#define VB_CMDLINE_SOURCE "kernel command line"

/* Bounds that keep the parser's work and memory proportional to sane input. */
#define VB_CONFIG_LINE_MAX 4096                  /* bytes per line, without the newline */
#define VB_CONFIG_FILE_SIZE_MAX (1024 * 1024)    /* bytes per file */
#define VB_CONFIG_SELECTORS_MAX 4096             /* selectors in all files and the command line */
#define VB_CONFIG_DROPINS_MAX 1024               /* *.conf files in the drop-in directory */
#define VB_CONFIG_ERRORS_MAX 100                 /* per file: then "too many errors" and stop */

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

/* One "FILE:LINE: message" per problem. */
typedef struct VbDiagnostics {
        char **messages; /* NULL-terminated */
        size_t n;
} VbDiagnostics;

void vb_diagnostics_clear(VbDiagnostics *d);
/* Appends "FILE:LINE: message". LINE 0 means the file as a whole (cannot be read, is a directory,
 * …) and is written "FILE: message". Returns 0 or -ENOMEM. */
int vb_diagnostics_add(VbDiagnostics *d, const char *file, unsigned line, const char *format, ...)
        __attribute__((format(printf, 4, 5)));

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

/* Where a setting was written. FILE is NULL while the setting holds its default. */
typedef struct VbConfigOrigin {
        char *file;
        unsigned line;
} VbConfigOrigin;

typedef struct VbConfigSelector {
        VbSelector selector;
        char *file; /* where it was written; VB_CMDLINE_SOURCE for the kernel command line */
        unsigned line;
} VbConfigSelector;

typedef struct VbConfig {
        VbConfigSelector *selectors;
        size_t n_selectors;
        /* Force=: devices that are bound even though the host uses them (a mounted file system,
         * active swap, a network interface with addresses, the console with Release=no). They
         * must be selected by Device= too; Force= alone binds nothing. */
        VbConfigSelector *force;
        size_t n_force;
        char *driver;            /* default "vfio-pci" */
        VbGroupPolicy group;     /* default check */
        bool unbind_host;        /* default yes */
        uint64_t timeout_usec;   /* default 10 s */
        VbReleasePolicy release; /* default auto */
        bool disabled;           /* vfio-bind=off on the kernel command line */
        char **files;            /* the files that were read, in order, NULL-terminated */
        VbConfigOrigin origins[_VB_SETTING_MAX]; /* where each setting came from */
        /* Private to the parser: the selectors and Force= lists by value, to find duplicates. */
        struct VbSelectorSet *selector_set, *force_set;
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

/* Read PATH. MUST_EXIST: a missing file is an error (an explicit --config); otherwise a missing
 * file is fine (the default path). A file that is a symlink to /dev/null counts as empty (masked).
 * Problems with the file as a whole are reported at line 0. A file that was read is appended to
 * C->files. Returns 0, -EINVAL when anything was added to DIAG, or -ENOMEM. */
int vb_config_parse_file(VbConfig *c, const char *path, bool must_exist, VbDiagnostics *diag);

/* The main file, then DROPIN_DIR/ *.conf in name order (strcmp order; hidden files are skipped;
 * a missing directory is fine). Either may be NULL to skip it. All errors of all files are
 * collected. Returns 0, -EINVAL when anything was added to DIAG, or -ENOMEM. */
int vb_config_load(VbConfig *c, const char *path, bool must_exist, const char *dropin_dir, VbDiagnostics *diag);

/* Apply a kernel command line (the text of /proc/cmdline): "vfio-bind=off" (or 0, no, false)
 * sets disabled, "vfio-bind.device=SEL[,SEL…]" adds selectors. Double quotes group words as the
 * kernel does. Other words are ignored; an unknown "vfio-bind.KEY" is an error. Problems are
 * reported as "kernel command line:1: …". Returns 0, -EINVAL or -ENOMEM. */
int vb_config_apply_cmdline(VbConfig *c, const char *cmdline, VbDiagnostics *diag);

/* Validate a driver name: [A-Za-z0-9_.-], no "/", not "." or "..", at most VB_DRIVER_NAME_MAX.
 * Returns true if valid. */
bool vb_driver_name_is_valid(const char *s);

/* Parse a systemd-style duration: "10s", "500ms", "1min 30s", "1.5s", "2" (seconds), "0". Units:
 * us, usec, ms, msec, s, sec, m, min, h. Returns 0, -EINVAL (garbage, negative, "infinity") or
 * -ERANGE (does not fit in 64 bits). Does not apply VB_TIMEOUT_MAX_USEC. */
int vb_parse_duration(const char *s, uint64_t *ret_usec);

/* yes/no/true/false/on/off/1/0, any case: 1, 0 or -EINVAL. */
int vb_parse_boolean(const char *s);

const char *vb_config_setting_to_string(VbConfigSetting s); /* "Driver", "Group", … */
