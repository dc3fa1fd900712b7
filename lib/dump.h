/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the library read, as archive members (lib/archive): the records of a VbRecorder resolved
 * against the context's roots. Every link on the way to a file becomes a link member and the file
 * is kept where the link leads, so the members form the same tree as the machine: "sys/…" for
 * the sysfs root, "proc/…" for the procfs root. Files keep the bytes the library read; files that
 * were only listed are kept empty; links that lead outside the root (absolute, or climbing above
 * it) are left out. Nothing is written to the machine.
 */

#include "archive.h"
#include "context.h"
#include "record.h"

/* Priorities of members of one name (vb_archive_add()): content read wins over content read
 * again, which wins over a name that was only listed. */
enum {
        VB_DUMP_PRIORITY_LISTED = 1,
        VB_DUMP_PRIORITY_FOUND = 2,
        VB_DUMP_PRIORITY_READ = 3,
        VB_DUMP_PRIORITY_EXTRA = 4, /* files the caller adds (configuration, runtime marks, info) */
};

/* The archive name of a root ("sys", "proc"). */
const char *vb_dump_root_name(VbRecordRoot root);

/* Add every record of REC to AR. Returns 0 or a negative errno (memory; a record whose path is
 * gone now is skipped). */
int vb_dump_add_records(VbContext *ctx, const VbRecorder *rec, VbArchive *ar);

/* Add the regular file PATH (of the file system, links followed) as member NAME, at most 1 MiB.
 * Returns 0, -ENOENT if there is no such file, or a negative errno. */
int vb_dump_add_file(VbArchive *ar, const char *name, const char *path);
/* Add the directory PATH and what is below it, at most DEPTH levels, as NAME/…: files, directories
 * and links that stay inside it. -ENOENT if there is no such directory. */
int vb_dump_add_tree(VbArchive *ar, const char *name, const char *path, unsigned depth);
