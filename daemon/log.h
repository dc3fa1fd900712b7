/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The daemon's log: structured journal entries when stderr is connected to journald
 * (JOURNAL_STREAM), records in the kernel log with SYSTEMD_LOG_TARGET=kmsg (an initrd without
 * systemd), plain "vfio-bindd: message" lines on stderr otherwise.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "address.h"

typedef struct VbdLogFields {
        const VbPciAddress *device; /* VFIO_BIND_DEVICE= */
        const char *action;         /* VFIO_BIND_ACTION= */
        const char *driver_before;  /* VFIO_BIND_DRIVER_BEFORE= ("none" if NULL and action set) */
        const char *driver_after;   /* VFIO_BIND_DRIVER_AFTER= */
        int error;                  /* ERRNO= (positive errno), 0 for none */
} VbdLogFields;

void vbd_log_open(const char *identifier);
int vbd_log_get_max_level(void);
bool vbd_log_to_journal(void);
bool vbd_log_to_kmsg(void);

/* Logs and returns -ERROR if error != 0, else 0. */
int vbd_log_full(int priority, const VbdLogFields *f, const char *format, ...) __attribute__((format(printf, 3, 4)));
int vbd_log_fullv(int priority, const VbdLogFields *f, const char *format, va_list ap)
        __attribute__((format(printf, 3, 0)));

#define vbd_log(prio, ...) vbd_log_full((prio), NULL, __VA_ARGS__)
#define vbd_error(...) vbd_log_full(LOG_ERR, NULL, __VA_ARGS__)
#define vbd_warning(...) vbd_log_full(LOG_WARNING, NULL, __VA_ARGS__)
#define vbd_info(...) vbd_log_full(LOG_INFO, NULL, __VA_ARGS__)
#define vbd_debug(...) vbd_log_full(LOG_DEBUG, NULL, __VA_ARGS__)

/* Wait (at most TIMEOUT_USEC) until journald has stored every entry this process sent. A process
 * that exits at once (--once) must not exit before journald read its cgroup, or its entries
 * lose the unit they belong to and `journalctl -u` cannot find them. */
void vbd_log_sync(uint64_t timeout_usec);

/* A VbLogFn for the library's debug messages. */
void vbd_log_library(void *userdata, int priority, const char *file, int line, const char *fn, const char *format,
                     va_list args) __attribute__((format(printf, 6, 0)));
