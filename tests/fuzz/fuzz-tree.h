/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * For the fuzz targets of the file readers: one copy of a fake tree (tests/sysfs/<case>/) per
 * process, made on the first call under $TMPDIR (tools/fuzz.sh points it at /dev/shm) and
 * removed at exit, and a read-only context on it (no kernel ops: a write would be -EROFS). A
 * target writes its input into the one file it fuzzes, then calls the library's reader, the way
 * the daemon reads the machine: the readers are fuzzed through their public entry points, with
 * the same openat() and read() the real /sys and /proc see.
 */

#include <stddef.h>

#include "context.h"

/* The context on the copy of CASE_NAME (the same one for every call). Aborts if the tree
 * cannot be made. */
VbContext *fuzz_tree_context(const char *case_name);
/* Replace PATH (relative to the tree, "sys/…" or "proc/…") with SIZE bytes of DATA. */
void fuzz_tree_write(const char *path, const void *data, size_t size);
/* Make PATH a symbolic link to TARGET (replacing what is there). */
void fuzz_tree_symlink(const char *path, const char *target);
