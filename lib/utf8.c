/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

size_t vb_utf8_sequence_length(const unsigned char *s, size_t len) {
        unsigned char c = s[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                n = 2;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 3;
                cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 4;
                cp = c & 0x07;
        } else
                return 0;
        if (len < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

size_t vb_utf8_invalid_offset(const char *s, size_t len) {
        size_t i = 0;

        while (i < len) {
                size_t n = vb_utf8_sequence_length((const unsigned char *) s + i, len - i);
                if (n == 0)
                        return i;
                i += n;
        }
        return len;
}

const char *vb_utf8_quote(const char *s, char buf[static VB_QUOTE_SIZE]) {
        size_t len = strlen(s), i = 0, o = 0;

        buf[o++] = '"';
        while (i < len && i < VB_QUOTE_INPUT_MAX) {
                unsigned char c = (unsigned char) s[i];
                size_t n = vb_utf8_sequence_length((const unsigned char *) s + i, len - i);

                if (n > 1) {
                        if (i + n > VB_QUOTE_INPUT_MAX)
                                break;
                        memcpy(buf + o, s + i, n);
                        o += n;
                        i += n;
                        continue;
                }
                if (c == '"' || c == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = (char) c;
                } else if (c < 0x20 || c >= 0x7f)
                        o += (size_t) snprintf(buf + o, VB_QUOTE_SIZE - o, "\\x%02x", c);
                else
                        buf[o++] = (char) c;
                i++;
        }
        buf[o++] = '"';
        if (i < len) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = '\0';
        return buf;
}
