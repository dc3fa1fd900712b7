/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small helpers for reading sysfs and procfs relative to the context's root fds. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "context.h"

/* Read a whole small attribute; trailing newline removed. */
int vb_sysfs_read(VbContext *ctx, const char *path, char **ret);
int vb_sysfs_read_u32(VbContext *ctx, const char *path, uint32_t *ret); /* "0x10de" or "1" */
/* The target of the link at PATH, as the kernel wrote it. -ENOENT if there is no such link. */
int vb_sysfs_readlink(VbContext *ctx, const char *path, char **ret);
/* Basename of the link target at PATH ("../../bus/pci/drivers/vfio-pci" → "vfio-pci").
 * -ENOENT if there is no such link. */
int vb_sysfs_readlink_basename(VbContext *ctx, const char *path, char **ret);
bool vb_sysfs_exists(VbContext *ctx, const char *path);
/* Entries of a directory, sorted, without "." and "..". */
int vb_sysfs_list(VbContext *ctx, const char *path, char ***ret);
/* Write through the context's kernel ops. */
int vb_sysfs_write(VbContext *ctx, const char *path, const char *value);

/* Same against the procfs root. */
int vb_procfs_read(VbContext *ctx, const char *path, char **ret);
