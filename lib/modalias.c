/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fnmatch.h>
#include <stdio.h>

#include "macro.h"
#include "modalias.h"

int vb_modalias_format_pci(uint16_t vendor, uint16_t device, uint16_t subvendor, uint16_t subdevice, uint32_t class,
                           char *buf, size_t size) {
        int n = snprintf(buf, size, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", vendor, device, subvendor, subdevice,
                         (unsigned) (class >> 16) & 0xff, (unsigned) (class >> 8) & 0xff, (unsigned) class & 0xff);
        if (n < 0 || (size_t) n >= size)
                return -ENAMETOOLONG;
        return 0;
}

int vb_modalias_to_vfio(const char *modalias, char *buf, size_t size) {
        const char *rest = startswith(modalias, "pci:");
        int n;

        if (!rest || rest[0] != 'v')
                return -EINVAL;
        n = snprintf(buf, size, VB_MODALIAS_VFIO_PREFIX "%.*s", (int) strcspn(rest, "\n"), rest);
        if (n < 0 || (size_t) n >= size)
                return -ENAMETOOLONG;
        return 0;
}

unsigned vb_modalias_wildcards(const char *pattern) {
        const char *p = strchr(pattern, ':');
        unsigned n = 0;

        for (p = p ? p + 1 : pattern; *p; p++)
                n += *p == '*';
        return n;
}

bool vb_modalias_match(const char *pattern, const char *alias) {
        return fnmatch(pattern, alias, 0) == 0;
}

int vb_modalias_text_find(const char *text, const char *alias, VbModaliasFn fn, void *userdata) {
        for (const char *line = text; line && *line;) {
                const char *end = strchrnul(line, '\n');
                char *copy, *save = NULL, *word, *pattern, *module;
                int r = 0;

                copy = strndup(line, end - line);
                if (!copy)
                        return -ENOMEM;
                word = strtok_r(copy, " \t", &save);
                pattern = strtok_r(NULL, " \t", &save);
                module = strtok_r(NULL, " \t", &save);
                if (word && streq(word, "alias") && pattern && module && !strtok_r(NULL, " \t", &save) &&
                    vb_modalias_match(pattern, alias))
                        r = fn(userdata, module, pattern);
                free(copy);
                if (r < 0)
                        return r;
                line = *end ? end + 1 : end;
        }
        return 0;
}
