/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "macro.h"
#include "utf8.h"

static bool is_kernel_space(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r'); /* the kernel's isspace() on ASCII */
}

static int cmdline_device(VbConfigParser *p, char *list) {
        int r;

        /* The selectors of a file, with commas between them; spaces separate too, which can only
         * appear inside quotes. */
        r = vb_config_parser_add_selectors(p, false, "," VB_WHITESPACE "\n", " in vfio-bind.device=", list);
        if (r < 0)
                return r;
        if (r == 0)
                return vb_config_parser_error(p, "empty value for vfio-bind.device=");
        return 0;
}

static int cmdline_word(VbConfigParser *p, char *word) {
        char *value;
        int b;

        if (!strneq(word, "vfio-bind", 9) || !(word[9] == '\0' || word[9] == '=' || word[9] == '.'))
                return 0; /* not ours */

        value = strchr(word, '=');
        if (value)
                *value++ = '\0';

        if (streq(word, "vfio-bind")) {
                if (!value)
                        return 0; /* a bare flag: enabled, the default */
                b = vb_parse_boolean(value);
                if (b < 0)
                        return vb_config_parser_error(p, "invalid boolean %s for vfio-bind= (expected on or off)",
                                                      VB_QUOTE(value));
                p->config->disabled = !b;
                return 0;
        }
        if (streq(word, "vfio-bind.device"))
                return cmdline_device(p, value ?: (char[]) { "" });

        return vb_config_parser_error(p, "unknown option %s (expected vfio-bind= or vfio-bind.device=)",
                                      VB_QUOTE(word));
}

int vb_config_apply_cmdline(VbConfig *c, const char *cmdline, VbDiagnostics *diag) {
        _cleanup_free_ char *word = NULL;
        VbConfigParser p = {
                .config = c,
                .diag = diag,
                .file = VB_CMDLINE_SOURCE,
                .line = 1,
        };
        const char *s = cmdline;
        int r;

        assert(c);
        assert(diag);

        if (!cmdline)
                return 0;
        word = malloc(strlen(cmdline) + 1);
        if (!word)
                return -ENOMEM;

        /* Like the kernel's next_arg(): words end at whitespace outside double quotes; the quotes
         * themselves are dropped. */
        while (*s && !p.gave_up) {
                bool in_quote = false;
                size_t n = 0;

                while (*s && is_kernel_space(*s))
                        s++;
                if (!*s)
                        break;
                for (; *s && (in_quote || !is_kernel_space(*s)); s++) {
                        if (*s == '"')
                                in_quote = !in_quote;
                        else
                                word[n++] = *s;
                }
                word[n] = '\0';

                r = cmdline_word(&p, word);
                if (r < 0)
                        return r;
        }

        return p.n_errors > 0 ? -EINVAL : 0;
}
