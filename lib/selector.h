/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <errno.h>
#include <stdint.h>

#include "address.h"

typedef enum VbSelectorType {
        VB_SELECTOR_ADDRESS, /* 0000:0f:00.0 or 0f:00.0 (domain 0000) */
        VB_SELECTOR_SLOT,    /* 0000:0f:00 or 0f:00: every function present in the slot */
        VB_SELECTOR_ID,      /* 10de:13c0: every device with that vendor:device */
        _VB_SELECTOR_TYPE_MAX,
        _VB_SELECTOR_TYPE_INVALID = -EINVAL,
} VbSelectorType;

typedef struct VbSelector {
        VbSelectorType type;
        VbPciAddress address; /* ADDRESS; SLOT uses domain, bus, slot */
        uint16_t vendor;      /* ID */
        uint16_t device;      /* ID */
} VbSelector;

#define VB_SELECTOR_STRING_MAX 16

/* Parse one selector. On failure returns -EINVAL and, if RET_ERROR is non-NULL, points it at a
 * static English explanation ("bus 100 is out of range (00-ff)", …) that the caller prints after
 * the file, line and value. */
int vb_selector_parse(const char *s, VbSelector *ret, const char **ret_error);
/* Canonical form: "0000:0f:00.0", "0000:0f:00", "10de:13c0". */
char *vb_selector_format(const VbSelector *s, char buf[static VB_SELECTOR_STRING_MAX]);
bool vb_selector_equal(const VbSelector *a, const VbSelector *b);
/* Does the selector pick the device at ADDRESS with VENDOR:DEVICE? */
bool vb_selector_match(const VbSelector *s, const VbPciAddress *address, uint16_t vendor, uint16_t device);

const char *vb_selector_type_to_string(VbSelectorType t);
