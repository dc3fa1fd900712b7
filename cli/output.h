/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "context.h"
#include "pci.h"
#include "platform.h"
#include "record.h"

/* Colour only on a terminal and never with NO_COLOR. */
bool vbc_use_color(void);
const char *vbc_color(const char *sgr); /* "" without colour */
#define VBC_BOLD vbc_color("\033[1m")
#define VBC_RED vbc_color("\033[31m")
#define VBC_GREEN vbc_color("\033[32m")
#define VBC_YELLOW vbc_color("\033[33m")
#define VBC_DIM vbc_color("\033[2m")
#define VBC_RESET vbc_color("\033[0m")

/* Write S as a JSON string literal (with quotes); NULL as null. */
void vbc_json_string(FILE *f, const char *s);

/* Names from the udev hwdb for a device ("Device 1111" style fallbacks when unknown). */
typedef struct VbcNames VbcNames;
/* Names from the udev hwdb, or with P->hwdb_names (a replay) those a dump recorded; REC (a dump
 * being taken) notes every name looked up. */
VbcNames *vbc_names_new(const VbPlatform *p, VbRecorder *rec);
VbcNames *vbc_names_free(VbcNames *n);
/* Returns a newly allocated "Vendor Model" string, or NULL. */
char *vbc_names_device(VbcNames *n, VbContext *ctx, const VbPciDevice *d);
/* The class name ("VGA compatible controller"), newly allocated, or NULL. */
char *vbc_names_class(VbcNames *n, VbContext *ctx, const VbPciDevice *d);

/* Display width of a UTF-8 string (code points; good enough for the names we print). */
size_t vbc_width(const char *s);
/* Print S padded to WIDTH columns. */
void vbc_print_padded(FILE *f, const char *s, size_t width);
