/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * VbRecorder: what the library read from the machine, path by path, so that `vfio-bind dump` can
 * keep exactly that (lib/dump). A context given a recorder (vb_context_set_recorder()) notes every
 * read, readlink, listing and existence check below its sysfs and procfs roots; the recorder
 * knows nothing of what the paths mean. Recording never makes a read fail: running out of memory
 * is remembered and reported by vb_recorder_error().
 */

#include <stdbool.h>
#include <stddef.h>

typedef enum VbRecordRoot {
        VB_RECORD_SYSFS,
        VB_RECORD_PROCFS,
        _VB_RECORD_ROOT_MAX,
} VbRecordRoot;

typedef enum VbRecordKind {
        VB_RECORD_READ,   /* a file's content: DATA as read, or none (read it again to keep it) */
        VB_RECORD_LINK,   /* a link itself (readlink), not followed */
        VB_RECORD_LIST,   /* a directory that was listed */
        VB_RECORD_ENTRY,  /* a name a listing returned (a link stays a link, a file is kept empty) */
        VB_RECORD_EXISTS, /* whatever is at PATH, links followed (an existence check, a failed read) */
        _VB_RECORD_KIND_MAX,
} VbRecordKind;

typedef struct VbRecord {
        VbRecordRoot root;
        VbRecordKind kind;
        char *path; /* relative to the root, as the library spelled it */
        char *data; /* READ: the bytes read, or NULL */
        size_t size;
} VbRecord;

typedef struct VbRecorder VbRecorder;

int vb_recorder_new(VbRecorder **ret);
VbRecorder *vb_recorder_free(VbRecorder *r);
static inline void vb_recorder_freep(VbRecorder **r) {
        if (*r)
                vb_recorder_free(*r);
}

/* Note one access. DATA (SIZE bytes) is copied; NULL: no content. */
void vb_recorder_add(VbRecorder *r, VbRecordRoot root, VbRecordKind kind, const char *path, const void *data,
                     size_t size);
/* The records in the order they were made (duplicates included). */
const VbRecord *vb_recorder_records(const VbRecorder *r, size_t *ret_n);
/* The module index: a module alias PATTERN of MODULE matched a device's vfio_pci: modalias; or
 * (note_index) the index was there, whatever it matched. */
void vb_recorder_add_alias(VbRecorder *r, const char *pattern, const char *module);
void vb_recorder_note_index(VbRecorder *r);
/* The aliases found, as modules.alias text (a replay's index), or *RET = NULL when no module index
 * was there to look in. 0 or -ENOMEM. */
int vb_recorder_aliases_text(const VbRecorder *r, char **ret);

/* A device name the CLI looked up in the udev hwdb for MODALIAS: its KEY
 * ("ID_MODEL_FROM_DATABASE") is VALUE. */
void vb_recorder_add_name(VbRecorder *r, const char *modalias, const char *key, const char *value);
/* The names as hwdb.names text ("MODALIAS\tKEY\tVALUE" lines, "" if none). 0 or -ENOMEM. */
int vb_recorder_names_text(const VbRecorder *r, char **ret);

/* The interface addresses the network interlock judged by (lib/ifaddr text; the last one kept),
 * and as the dump's "ifaddrs" (*RET = NULL: none were read). 0 or -ENOMEM. */
void vb_recorder_set_addresses(VbRecorder *r, const char *text);
int vb_recorder_addresses_text(const VbRecorder *r, char **ret);

/* 0, or -ENOMEM if a record was lost. */
int vb_recorder_error(const VbRecorder *r);
