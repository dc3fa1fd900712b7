/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* UTF-8 as the configuration must be written, and any bytes as a message may show them. */

#include <stddef.h>

/* Quoted values in messages: at most this many input bytes, each escaped as at most 4 bytes. */
#define VB_QUOTE_INPUT_MAX 64
#define VB_QUOTE_SIZE (VB_QUOTE_INPUT_MAX * 4 + 8)

/* Length of the valid UTF-8 sequence at S (at most LEN bytes, LEN > 0), 0 if there is none.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
size_t vb_utf8_sequence_length(const unsigned char *s, size_t len);

/* Offset of the first byte of S (LEN bytes) that is not valid UTF-8, or LEN. */
size_t vb_utf8_invalid_offset(const char *s, size_t len);

/* S in double quotes for a message: control characters, quotes, backslashes and invalid UTF-8
 * escaped, cut after VB_QUOTE_INPUT_MAX bytes with "...". Returns BUF. */
const char *vb_utf8_quote(const char *s, char buf[static VB_QUOTE_SIZE]);

/* vb_utf8_quote() into a buffer that lives until the end of the enclosing block. */
#define VB_QUOTE(s) vb_utf8_quote((s), (char[VB_QUOTE_SIZE]) {})
