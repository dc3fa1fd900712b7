/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "macro.h"
#include "strv.h"

int strv_extend_printf(char ***l, size_t *n, const char *format, ...) {
        size_t count = n ? *n : strv_length(*l);
        char **p, *s;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        p = realloc(*l, (count + 2) * sizeof(char *));
        if (!p) {
                free(s);
                return -ENOMEM;
        }
        p[count++] = s;
        p[count] = NULL;
        *l = p;
        if (n)
                *n = count;
        return 0;
}

char *strv_join(char *const *l, const char *sep) {
        size_t len = 1, seplen = strlen(sep);
        char *s, *p;

        for (char *const *i = l; i && *i; i++)
                len += strlen(*i) + seplen;
        s = p = malloc(len);
        if (!s)
                return NULL;
        *p = '\0';
        for (char *const *i = l; i && *i; i++)
                p = stpcpy(stpcpy(p, i == l ? "" : sep), *i);
        return s;
}

int vb_join_append(char **s, const char *sep, const char *format, ...) {
        bool first = !*s;
        size_t len = first ? 0 : strlen(*s) + strlen(sep);
        va_list ap;
        char *n;
        int k;

        va_start(ap, format);
        k = vsnprintf(NULL, 0, format, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        n = realloc(*s, len + (size_t) k + 1);
        if (!n)
                return -ENOMEM;
        if (!first)
                strcat(n, sep);
        va_start(ap, format);
        vsnprintf(n + len, (size_t) k + 1, format, ap);
        va_end(ap);
        *s = n;
        return 0;
}

bool strv_contains(char *const *l, const char *s) {
        for (char *const *i = l; i && *i; i++)
                if (streq(*i, s))
                        return true;
        return false;
}
