/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Values as the configuration writes them: booleans, durations, driver names. Pure functions of
 * a string; they know nothing of files or lines. */

#include <stdbool.h>
#include <stdint.h>

/* The whitespace that separates words in a value and that is stripped around it. */
#define VB_WHITESPACE " \t\r\f\v"

#define VB_DRIVER_NAME_MAX 64

/* yes/no/true/false/on/off/1/0, any case: 1, 0 or -EINVAL. */
int vb_parse_boolean(const char *s);

/* Parse a systemd-style duration: "10s", "500ms", "1min 30s", "1.5s", "2" (seconds), "0". Units:
 * us, usec, ms, msec, s, sec, m, min, h. Returns 0, -EINVAL (garbage, negative, "infinity") or
 * -ERANGE (does not fit in 64 bits). Does not apply VB_TIMEOUT_MAX_USEC. */
int vb_parse_duration(const char *s, uint64_t *ret_usec);

/* The same, and on failure *RET_REASON (if not NULL) says why, for a message: "is negative",
 * "is too large", … (static strings). */
int vb_parse_duration_full(const char *s, uint64_t *ret_usec, const char **ret_reason);

/* Validate a driver name: [A-Za-z0-9_.-], not starting with "-", no "/", not "." or "..", at most
 * VB_DRIVER_NAME_MAX, and not the name of a module whose driver is called otherwise ("vfio_pci"
 * for vfio-pci, "pci_stub" for pci-stub). Returns true if valid. */
bool vb_driver_name_is_valid(const char *s);

/* NULL if S is a valid driver name, else why not, for a message ("contains \"/\"", …). */
const char *vb_driver_name_problem(const char *s);
