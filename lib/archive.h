/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A tar archive (POSIX ustar, with pax extended headers for names that do not fit), as `tar tf`
 * and `tar xf` read it: regular files, directories and symbolic links, nothing else. Written from
 * a list of members built in memory; read member by member, or unpacked into a directory without
 * ever leaving it (no absolute names, no "..", no link that points outside, no other member type).
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum VbArchiveType {
        VB_ARCHIVE_FILE,
        VB_ARCHIVE_DIRECTORY,
        VB_ARCHIVE_SYMLINK,
        _VB_ARCHIVE_TYPE_MAX,
        _VB_ARCHIVE_TYPE_INVALID = -EINVAL,
} VbArchiveType;

typedef struct VbArchiveMember {
        const char *name; /* relative, "/"-separated, no trailing "/" */
        VbArchiveType type;
        unsigned mode;    /* permission bits */
        const char *data; /* FILE: SIZE bytes */
        size_t size;
        const char *target; /* SYMLINK: where it points */
} VbArchiveMember;

/* The largest file member the reader accepts, and the most members. */
#define VB_ARCHIVE_FILE_MAX (16 * 1024 * 1024)
#define VB_ARCHIVE_MEMBERS_MAX 200000

typedef struct VbArchive VbArchive;

int vb_archive_new(VbArchive **ret);
VbArchive *vb_archive_free(VbArchive *a);
static inline void vb_archive_freep(VbArchive **a) {
        if (*a)
                vb_archive_free(*a);
}

/* Add a copy of M. Of several members with one name the one with the highest PRIORITY is
 * written (the first added of equals). Returns 0, -EINVAL (a name that vb_archive_name_check()
 * refuses), -ENOMEM. */
int vb_archive_add(VbArchive *a, const VbArchiveMember *m, int priority);
/* Whether a member called NAME was added. */
bool vb_archive_contains(const VbArchive *a, const char *name);

/* Write the archive to FD: the members sorted by name, each directory before what it holds
 * (directories that only hold members are added), all with modification time MTIME. The size
 * written in *RET_SIZE (may be NULL). Returns 0 or a negative errno. */
int vb_archive_write(VbArchive *a, int fd, int64_t mtime, uint64_t *ret_size);

/* Read the archive in FD and call CB for each member, in order. A member that is not a file, a
 * directory or a link, or whose name vb_archive_name_check() refuses, stops the reading with
 * -EINVAL and *RET_ERROR ("member \"NAME\": why"; may be NULL). CB returning < 0 stops too. */
typedef int (*VbArchiveReadFn)(void *userdata, const VbArchiveMember *m);
int vb_archive_read(int fd, VbArchiveReadFn cb, void *userdata, char **ret_error);

/* Unpack the archive in FD into the existing directory DIR. Also refused: a link that points to
 * an absolute path or climbs above DIR (sysfs links are "../…/name"). Returns 0, or -EINVAL with
 * *RET_ERROR, or another negative errno with *RET_ERROR naming the member. */
int vb_archive_extract(int fd, const char *dir, char **ret_error);

/* NULL if NAME is fine as a member name, else why not ("is absolute", "has a \"..\" component"). */
const char *vb_archive_name_check(const char *name);
/* NULL if a link at NAME may point to TARGET when unpacked, else why not. */
const char *vb_archive_target_check(const char *name, const char *target);
