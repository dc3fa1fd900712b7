/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"

typedef enum VbSelectorType {
        VB_SELECTOR_ADDRESS, /* 0000:0f:00.0, 10000:e1:00.0 or 0f:00.0 (domain 0000) */
        VB_SELECTOR_SLOT,    /* 0000:0f:00, 10000:e1:00 or 0f:00: every function present in the slot */
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

/* The longest canonical form, "ffffffff:ff:1f.7", plus NUL. */
#define VB_SELECTOR_STRING_MAX VB_PCI_ADDRESS_MAX

/* Room for any explanation vb_selector_parse_explain() writes, with the NUL. */
#define VB_SELECTOR_ERROR_MAX 128

/* Parse one selector: "0000:0f:00.0", "0f:00.0", "0000:0f:00", "0f:00", "10de:13c0" (hex digits in
 * either case). The domain has 1 to 8 digits (0 to ffffffff: "10000:e1:00.0" is behind Intel VMD);
 * without it, the domain is 0000. On failure returns -EINVAL and, if RET_ERROR is non-NULL, points it at a static
 * English explanation without the offending text ("bus is out of range (00-ff)", …). */
int vb_selector_parse(const char *s, VbSelector *ret, const char **ret_error);

/* The same, but on failure writes an explanation that quotes the offending part into ERROR
 * (ERROR_SIZE bytes, VB_SELECTOR_ERROR_MAX is enough): 'bus "100" is out of range (00-ff)'. The
 * part is quoted only when it is short printable ASCII. RET_KIND, if non-NULL, is set on failure
 * too: the form S looked like (ADDRESS, SLOT, ID), or _VB_SELECTOR_TYPE_INVALID, so that a caller
 * can say "invalid PCI address" or "invalid PCI ID". */
int vb_selector_parse_explain(const char *s, VbSelector *ret, VbSelectorType *ret_kind, char *error, size_t error_size);
/* A number that is the same for two selectors exactly when vb_selector_equal() says they are. */
uint64_t vb_selector_key(const VbSelector *s);

/* Canonical form: "0000:0f:00.0", "0000:0f:00", "10de:13c0"; the domain as the kernel prints it
 * ("%04x": "10000:e1:00.0"). */
char *vb_selector_format(const VbSelector *s, char buf[static VB_SELECTOR_STRING_MAX]);
bool vb_selector_equal(const VbSelector *a, const VbSelector *b);
/* Does the selector pick the device at ADDRESS with VENDOR:DEVICE? */
bool vb_selector_match(const VbSelector *s, const VbPciAddress *address, uint16_t vendor, uint16_t device);

const char *vb_selector_type_to_string(VbSelectorType t);
VbSelectorType vb_selector_type_from_string(const char *s);
