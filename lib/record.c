/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>

#include "alloc-util.h"
#include "macro.h"
#include "record.h"
#include "strv.h"
#include <stdio.h>

struct VbRecorder {
        VbRecord *records;
        size_t n, allocated;
        int error;
        char **aliases;  /* "alias PATTERN MODULE" lines found, each once */
        char **names;    /* "MODALIAS\tKEY\tVALUE" lines, each once */
        char *addresses; /* lib/ifaddr text, or NULL */
        size_t n_aliases;
        bool have_index;
};

int vb_recorder_new(VbRecorder **ret) {
        VbRecorder *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        *ret = r;
        return 0;
}

VbRecorder *vb_recorder_free(VbRecorder *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n; i++) {
                free(r->records[i].path);
                free(r->records[i].data);
        }
        free(r->records);
        strv_free(r->aliases);
        strv_free(r->names);
        free(r->addresses);
        free(r);
        return NULL;
}

void vb_recorder_add_alias(VbRecorder *r, const char *pattern, const char *module) {
        _cleanup_free_ char *line = NULL;

        r->have_index = true;
        if (asprintf(&line, "alias %s %s", pattern, module) < 0) {
                r->error = -ENOMEM;
                return;
        }
        if (strv_contains(r->aliases, line))
                return;
        if (strv_extend_printf(&r->aliases, &r->n_aliases, "%s", line) < 0)
                r->error = -ENOMEM;
}

void vb_recorder_add_name(VbRecorder *r, const char *modalias, const char *key, const char *value) {
        _cleanup_free_ char *line = NULL;

        /* One line each: a name with a newline or tab in it is not kept. */
        if (strpbrk(modalias, "\t\n") || strpbrk(key, "\t\n") || strpbrk(value, "\t\n"))
                return;
        if (asprintf(&line, "%s\t%s\t%s", modalias, key, value) < 0) {
                r->error = -ENOMEM;
                return;
        }
        if (!strv_contains(r->names, line) && strv_extend_printf(&r->names, NULL, "%s", line) < 0)
                r->error = -ENOMEM;
}

int vb_recorder_names_text(const VbRecorder *r, char **ret) {
        _cleanup_free_ char *joined = strv_join(r->names, "\n");

        if (!joined || asprintf(ret, "%s%s", joined, r->names ? "\n" : "") < 0)
                return -ENOMEM;
        return 0;
}

void vb_recorder_note_index(VbRecorder *r) {
        r->have_index = true;
}

int vb_recorder_aliases_text(const VbRecorder *r, char **ret) {
        _cleanup_free_ char *joined = NULL;

        if (!r->have_index) {
                *ret = NULL;
                return 0;
        }
        joined = strv_join(r->aliases, "\n");
        if (!joined || asprintf(ret, "# vfio_pci: aliases of the module index that match this machine's devices\n%s%s",
                                joined, r->aliases ? "\n" : "") < 0)
                return -ENOMEM;
        return 0;
}

void vb_recorder_add(VbRecorder *r, VbRecordRoot root, VbRecordKind kind, const char *path, const void *data,
                     size_t size) {
        _cleanup_free_ char *p = NULL, *d = NULL;

        assert(root >= 0 && root < _VB_RECORD_ROOT_MAX);
        assert(kind >= 0 && kind < _VB_RECORD_KIND_MAX);
        if (!r || r->error)
                return;
        p = strdup(path);
        if (!p)
                goto oom;
        if (data) {
                d = malloc(size + 1);
                if (!d)
                        goto oom;
                memcpy(d, data, size);
                d[size] = '\0';
        }
        if (!VB_GREEDY_REALLOC(r->records, r->allocated, r->n + 1))
                goto oom;
        r->records[r->n++] = (VbRecord) {
                .root = root,
                .kind = kind,
                .path = TAKE_PTR(p),
                .data = TAKE_PTR(d),
                .size = data ? size : 0,
        };
        return;
oom:
        r->error = -ENOMEM;
}

const VbRecord *vb_recorder_records(const VbRecorder *r, size_t *ret_n) {
        *ret_n = r->n;
        return r->records;
}

void vb_recorder_set_addresses(VbRecorder *r, const char *text) {
        char *t = strdup(text);

        if (!t) {
                r->error = -ENOMEM;
                return;
        }
        free(r->addresses);
        r->addresses = t;
}

int vb_recorder_addresses_text(const VbRecorder *r, char **ret) {
        char *t = NULL;

        if (r->addresses) {
                t = strdup(r->addresses);
                if (!t)
                        return -ENOMEM;
        }
        *ret = t;
        return 0;
}

int vb_recorder_error(const VbRecorder *r) {
        return r->error;
}
