/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The verbs of vfio-bind, which the dispatcher (cli/vfio-bind.c) calls. Each returns the exit code. */

#include "common.h"

int vbc_groups(const VbcArgs *a);
int vbc_status(const VbcArgs *a);
int vbc_check(const VbcArgs *a);
int vbc_bind(const VbcArgs *a, const char *address);
int vbc_release(const VbcArgs *a, const char *address);
int vbc_dump(const VbcArgs *a, const char *file);
/* status --json when there is nothing to show: a document with "ok": false and the errors, so a
 * JSON reader always gets one. */
void vbc_status_json_failure(char *const *errors, size_t n);
