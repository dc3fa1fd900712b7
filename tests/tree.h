/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Fake trees for tests: copy tests/sysfs/<case>/ (sys/, proc/, fake-kernel.conf, hotplug/) into
 * a temporary directory, so a test can let the fake kernel change it. Trees still around at
 * exit (a test failed half-way; TEST_FAIL longjmps past the cleanup) are removed then, unless
 * $VB_TEST_KEEP_TREES is set, which keeps them all and prints where they are.
 */

#include <stdbool.h>

/* Copy case CASE_NAME into a new directory under $TMPDIR (or /tmp). */
int tree_new(const char *case_name, char **ret_dir);
/* Copy case CASE_NAME into the existing directory DEST (e.g. a umockdev testbed's root). */
int tree_copy(const char *case_name, const char *dest);
/* Remove a tree made by tree_new() and free DIR. Returns NULL. */
char *tree_free(char *dir);
static inline void tree_freep(char **dir) {
        if (*dir)
                tree_free(*dir);
}

/* Remove any directory tree (no links followed). */
int tree_remove(const char *path);

/* Small file helpers relative to a tree (PATH like "sys/bus/pci/drivers_probe"). */
int tree_write(const char *dir, const char *path, const char *content);
int tree_append(const char *dir, const char *path, const char *content);
/* Whole file, trailing newlines removed; NULL if it cannot be read. Free the result. */
char *tree_read(const char *dir, const char *path);
bool tree_exists(const char *dir, const char *path);
int tree_symlink(const char *dir, const char *target, const char *path);
/* PATH and its missing parents as directories (links followed), like mkdir -p. */
int tree_mkdirs(const char *dir, const char *path);
/* tree_write() after creating PATH's missing parent directories. */
int tree_write_new(const char *dir, const char *path, const char *content);
int tree_unlink(const char *dir, const char *path);
