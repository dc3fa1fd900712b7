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
/* The number in an attribute's TEXT as vb_sysfs_read() returns it (decimal, 0x hex or 0 octal,
 * nothing around it, no sign, at most UINT32_MAX): what vb_sysfs_read_u32() does after the read.
 * No I/O. Returns 0 or -EINVAL. */
int vb_sysfs_parse_u32(const char *text, uint32_t *ret);
/* The target of the link at PATH, as the kernel wrote it. -ENOENT if there is no such link. */
int vb_sysfs_readlink(VbContext *ctx, const char *path, char **ret);
/* Basename of the link target at PATH ("../../bus/pci/drivers/vfio-pci" → "vfio-pci").
 * -ENOENT if there is no such link. */
int vb_sysfs_readlink_basename(VbContext *ctx, const char *path, char **ret);
/* The last component of a link's TARGET, trailing slashes ignored ("../drivers/vfio-pci/" →
 * "vfio-pci"): what vb_sysfs_readlink_basename() does after the readlink. No I/O. Returns 0,
 * -EINVAL if there is none ("", "/", "//"), or -ENOMEM. */
int vb_sysfs_link_basename(const char *target, char **ret);
bool vb_sysfs_exists(VbContext *ctx, const char *path);
/* Entries of a directory, sorted, without "." and "..". */
int vb_sysfs_list(VbContext *ctx, const char *path, char ***ret);
/* Write through the context's kernel ops. */
int vb_sysfs_write(VbContext *ctx, const char *path, const char *value);

/* Same against the procfs root. */
int vb_procfs_read(VbContext *ctx, const char *path, char **ret);
