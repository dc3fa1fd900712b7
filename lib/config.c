/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The configuration parser.
 *
 * We parse the INI files ourselves instead of using libinih:
 *   - every problem must be reported with its own FILE:LINE, and all of them at once; inih stops
 *     at or reports only one line number;
 *   - inih's line length limit and its inline-comment and multi-line handling are build-time
 *     options that differ between distributions' builds, so the same file would parse
 *     differently depending on where the package was built;
 *   - we need checks that span files (a setting given in the main file and again in a drop-in, a
 *     selector listed twice) and checks on the raw bytes (NUL bytes, invalid UTF-8, overlong
 *     lines) before a line is interpreted;
 *   - it stays small, bounded and without hidden state, so that it can be fuzzed.
 */

#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "config.h"
#include "macro.h"

#define WHITESPACE " \t\r\f\v"

#define IN_SET_CHAR(c, a, b, d) ((c) == (a) || (c) == (b) || (c) == (d))

/* Quoted values in messages: at most this many input bytes, each escaped as at most 4 bytes. */
#define QUOTE_INPUT_MAX 64
#define QUOTE_SIZE (QUOTE_INPUT_MAX * 4 + 8)

/* ---- diagnostics ---- */

void vb_diagnostics_clear(VbDiagnostics *d) {
        if (!d)
                return;
        strv_free(d->messages);
        d->messages = NULL;
        d->n = 0;
}

int vb_diagnostics_add(VbDiagnostics *d, const char *file, unsigned line, const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        char *full, **l;
        va_list ap;
        int r;

        assert(d);
        assert(file);

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0) {
                message = NULL;
                return -ENOMEM;
        }

        /* Always FILE:LINE:, so that every message has the same shape; line 0 is the file as a whole. */
        r = asprintf(&full, "%s:%u: %s", file, line, message);
        if (r < 0)
                return -ENOMEM;

        l = realloc(d->messages, (d->n + 2) * sizeof(char *));
        if (!l) {
                free(full);
                return -ENOMEM;
        }
        l[d->n++] = full;
        l[d->n] = NULL;
        d->messages = l;
        return 0;
}

/* ---- policy tables ---- */

static const char *const group_policy_table[_VB_GROUP_POLICY_MAX] = {
        [VB_GROUP_CHECK] = "check",
        [VB_GROUP_TAKE] = "take",
        [VB_GROUP_IGNORE] = "ignore",
};

static const char *const release_policy_table[_VB_RELEASE_POLICY_MAX] = {
        [VB_RELEASE_AUTO] = "auto",
        [VB_RELEASE_YES] = "yes",
        [VB_RELEASE_NO] = "no",
};

static const char *const setting_table[_VB_SETTING_MAX] = {
        [VB_SETTING_DRIVER] = "Driver",
        [VB_SETTING_GROUP] = "Group",
        [VB_SETTING_UNBIND_HOST] = "UnbindHost",
        [VB_SETTING_TIMEOUT] = "Timeout",
        [VB_SETTING_RELEASE] = "Release",
};

static int table_lookup(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int) i;
        return -EINVAL;
}

const char *vb_group_policy_to_string(VbGroupPolicy p) {
        if (p < 0 || p >= _VB_GROUP_POLICY_MAX)
                return NULL;
        return group_policy_table[p];
}

VbGroupPolicy vb_group_policy_from_string(const char *s) {
        return (VbGroupPolicy) table_lookup(group_policy_table, ELEMENTSOF(group_policy_table), s);
}

const char *vb_release_policy_to_string(VbReleasePolicy p) {
        if (p < 0 || p >= _VB_RELEASE_POLICY_MAX)
                return NULL;
        return release_policy_table[p];
}

VbReleasePolicy vb_release_policy_from_string(const char *s) {
        return (VbReleasePolicy) table_lookup(release_policy_table, ELEMENTSOF(release_policy_table), s);
}

const char *vb_config_setting_to_string(VbConfigSetting s) {
        if (s < 0 || s >= _VB_SETTING_MAX)
                return NULL;
        return setting_table[s];
}

/* ---- values ---- */

int vb_parse_boolean(const char *s) {
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

/* NULL if S is a valid driver name, else why not. */
static const char *driver_name_problem(const char *s) {
        size_t n;

        if (!s || !*s)
                return "is empty";
        if (strchr(s, '/'))
                return "contains \"/\"";
        if (streq(s, ".") || streq(s, ".."))
                return "is \".\" or \"..\"";
        n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
        if (s[n] != '\0')
                return "contains characters other than letters, digits, \"_\", \".\" and \"-\"";
        if (n > VB_DRIVER_NAME_MAX)
                return "is longer than 64 characters";
        return NULL;
}

bool vb_driver_name_is_valid(const char *s) {
        return !driver_name_problem(s);
}

static const struct {
        const char *name;
        uint64_t usec;
} duration_units[] = {
        { "us", 1 },
        { "usec", 1 },
        { "ms", 1000 },
        { "msec", 1000 },
        { "s", 1000000 },
        { "sec", 1000000 },
        { "m", 60 * UINT64_C(1000000) },
        { "min", 60 * UINT64_C(1000000) },
        { "h", 3600 * UINT64_C(1000000) },
};

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int duration_fail(const char **reason, const char *why, int error) {
        if (reason)
                *reason = why;
        return error;
}

/* vb_parse_duration() with a static reason for failures. */
static int duration_parse(const char *s, uint64_t *ret, const char **reason) {
        uint64_t total = 0;
        const char *p = s;

        if (!s)
                return duration_fail(reason, "is empty", -EINVAL);
        p += strspn(p, WHITESPACE);
        if (*p == '\0')
                return duration_fail(reason, "is empty", -EINVAL);
        if (strncasecmp(p, "inf", 3) == 0)
                return duration_fail(reason, "must be finite", -EINVAL);

        while (*p) {
                uint64_t whole = 0, mult = 0, v;
                const char *frac = NULL, *unit;
                size_t frac_len = 0, unit_len;

                if (*p == '-')
                        return duration_fail(reason, "is negative", -EINVAL);
                if (!is_digit(*p))
                        return duration_fail(reason, "is not a number followed by a unit", -EINVAL);
                for (; is_digit(*p); p++)
                        if (__builtin_mul_overflow(whole, 10, &whole) ||
                            __builtin_add_overflow(whole, (uint64_t) (*p - '0'), &whole))
                                return duration_fail(reason, "is too large", -ERANGE);
                if (*p == '.') {
                        p++;
                        frac = p;
                        for (; is_digit(*p); p++)
                                frac_len++;
                        if (frac_len == 0)
                                return duration_fail(reason, "has no digits after \".\"", -EINVAL);
                }
                p += strspn(p, WHITESPACE);

                unit = p;
                for (; is_alpha(*p); p++)
                        ;
                unit_len = (size_t) (p - unit);
                if (unit_len == 0)
                        mult = duration_units[4].usec; /* plain number: seconds */
                else
                        for (size_t i = 0; i < ELEMENTSOF(duration_units); i++)
                                if (strlen(duration_units[i].name) == unit_len &&
                                    strneq(duration_units[i].name, unit, unit_len)) {
                                        mult = duration_units[i].usec;
                                        break;
                                }
                if (mult == 0)
                        return duration_fail(reason, "has an unknown unit (expected us, ms, s, min or h)",
                                             -EINVAL);

                if (__builtin_mul_overflow(whole, mult, &v))
                        return duration_fail(reason, "is too large", -ERANGE);
                /* Fractions finer than a microsecond are dropped. */
                for (size_t i = 0; i < frac_len && mult >= 10; i++) {
                        mult /= 10;
                        v += (uint64_t) (frac[i] - '0') * mult; /* cannot overflow: < one unit */
                }
                if (__builtin_add_overflow(total, v, &total))
                        return duration_fail(reason, "is too large", -ERANGE);

                p += strspn(p, WHITESPACE);
        }

        *ret = total;
        return 0;
}

int vb_parse_duration(const char *s, uint64_t *ret_usec) {
        uint64_t v;
        int r;

        r = duration_parse(s, &v, NULL);
        if (r < 0)
                return r;
        if (ret_usec)
                *ret_usec = v;
        return 0;
}

/* ---- bytes ---- */

/* Length of the valid UTF-8 sequence at S (at most LEN bytes), 0 if there is none. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_sequence_length(const unsigned char *s, size_t len) {
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
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

/* Offset of the first byte that is not valid UTF-8, or LEN. */
static size_t utf8_invalid_offset(const char *s, size_t len) {
        size_t i = 0;

        while (i < len) {
                size_t n = utf8_sequence_length((const unsigned char *) s + i, len - i);
                if (n == 0)
                        return i;
                i += n;
        }
        return len;
}

/* S in double quotes for a message: control characters, quotes, backslashes and invalid UTF-8
 * escaped, cut after QUOTE_INPUT_MAX bytes with "...". Returns BUF. */
static const char *quote(const char *s, char buf[static QUOTE_SIZE]) {
        size_t len = strlen(s), i = 0, o = 0;

        buf[o++] = '"';
        while (i < len && i < QUOTE_INPUT_MAX) {
                unsigned char c = (unsigned char) s[i];
                size_t n = utf8_sequence_length((const unsigned char *) s + i, len - i);

                if (n > 1) {
                        if (i + n > QUOTE_INPUT_MAX)
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
                        o += (size_t) snprintf(buf + o, QUOTE_SIZE - o, "\\x%02x", c);
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

#define QUOTE(s) quote((s), (char[QUOTE_SIZE]) {})

static char *strip(char *s) {
        size_t n;

        s += strspn(s, WHITESPACE);
        n = strlen(s);
        while (n > 0 && strchr(WHITESPACE, s[n - 1]))
                s[--n] = '\0';
        return s;
}

/* Cut an inline comment: whitespace followed by "#". */
static void strip_inline_comment(char *s) {
        for (char *p = s; *p; p++)
                if (p[0] == '#' && p > s && (p[-1] == ' ' || p[-1] == '\t')) {
                        *p = '\0';
                        return;
                }
}

static int strv_append(char ***l, const char *s) {
        size_t n = 0;
        char **nl, *d;

        for (char **i = *l; i && *i; i++)
                n++;
        d = strdup(s);
        if (!d)
                return -ENOMEM;
        nl = realloc(*l, (n + 2) * sizeof(char *));
        if (!nl) {
                free(d);
                return -ENOMEM;
        }
        nl[n] = d;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

/* ---- the configuration ---- */

int vb_config_new(VbConfig **ret) {
        _cleanup_(vb_config_freep) VbConfig *c = NULL;

        assert(ret);

        c = calloc(1, sizeof(VbConfig));
        if (!c)
                return -ENOMEM;
        c->driver = strdup(VB_DRIVER_DEFAULT);
        if (!c->driver)
                return -ENOMEM;
        c->group = VB_GROUP_CHECK;
        c->unbind_host = true;
        c->timeout_usec = VB_TIMEOUT_DEFAULT_USEC;
        c->release = VB_RELEASE_AUTO;
        c->disabled = false;

        *ret = TAKE_PTR(c);
        return 0;
}

static struct VbSelectorSet *selector_set_free(struct VbSelectorSet *x);

VbConfig *vb_config_free(VbConfig *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_selectors; i++)
                free(c->selectors[i].file);
        free(c->selectors);
        for (size_t i = 0; i < c->n_force; i++)
                free(c->force[i].file);
        free(c->force);
        free(c->driver);
        strv_free(c->files);
        for (size_t i = 0; i < _VB_SETTING_MAX; i++)
                free(c->origins[i].file);
        selector_set_free(c->selector_set);
        selector_set_free(c->force_set);
        free(c);
        return NULL;
}

/* Where each selector of a list is, by vb_selector_key(): a duplicate is found in constant time,
 * so thousands of Device= lines load in linear time. Open addressing with linear probing, at
 * most half full. It also holds how much room the list has. */
typedef struct VbSelectorSet {
        uint64_t *keys; /* key + 1; 0 is an empty slot */
        uint32_t *at;   /* the selector's index in the list */
        size_t size;    /* slots, a power of two */
        size_t n;
        size_t allocated; /* entries the list has room for */
} VbSelectorSet;

static struct VbSelectorSet *selector_set_free(struct VbSelectorSet *x) {
        if (x) {
                free(x->keys);
                free(x->at);
                free(x);
        }
        return NULL;
}

static size_t selector_set_slot(const VbSelectorSet *x, uint64_t key) {
        size_t i = (size_t) ((key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (x->size - 1);

        while (x->keys[i] != 0 && x->keys[i] != key + 1)
                i = (i + 1) & (x->size - 1);
        return i;
}

static int selector_set_grow(VbSelectorSet *x) {
        VbSelectorSet old = *x;
        size_t size = x->size ? x->size * 2 : 64;

        x->keys = calloc(size, sizeof(uint64_t));
        x->at = calloc(size, sizeof(uint32_t));
        if (!x->keys || !x->at) {
                free(x->keys);
                free(x->at);
                x->keys = old.keys;
                x->at = old.at;
                return -ENOMEM;
        }
        x->size = size;
        for (size_t i = 0; i < old.size; i++)
                if (old.keys[i] != 0) {
                        size_t j = selector_set_slot(x, old.keys[i] - 1);
                        x->keys[j] = old.keys[i];
                        x->at[j] = old.at[i];
                }
        free(old.keys);
        free(old.at);
        return 0;
}

/* Adds S to LIST unless it is there already (SET indexes LIST). Returns 0, -EEXIST with
 * *RET_EXISTING set, -E2BIG when VB_CONFIG_SELECTORS_MAX is reached, or -ENOMEM. */
static int selector_list_add(VbConfigSelector **list, size_t *n_list, VbSelectorSet **set, const VbSelector *s,
                             const char *file, unsigned line, const VbConfigSelector **ret_existing) {
        uint64_t key = vb_selector_key(s);
        VbSelectorSet *x = *set;
        size_t slot;
        char *f;
        int r;

        if (!x) {
                x = calloc(1, sizeof(VbSelectorSet));
                if (!x)
                        return -ENOMEM;
                *set = x;
        }
        if ((x->n + 1) * 2 > x->size) {
                r = selector_set_grow(x);
                if (r < 0)
                        return r;
        }
        slot = selector_set_slot(x, key);
        if (x->keys[slot] != 0) {
                *ret_existing = &(*list)[x->at[slot]];
                return -EEXIST;
        }
        if (*n_list >= VB_CONFIG_SELECTORS_MAX)
                return -E2BIG;

        if (*n_list == x->allocated) {
                size_t a = x->allocated ? x->allocated * 2 : 16;
                VbConfigSelector *n = reallocarray(*list, a, sizeof(VbConfigSelector));
                if (!n)
                        return -ENOMEM;
                *list = n;
                x->allocated = a;
        }
        f = strdup(file);
        if (!f)
                return -ENOMEM;
        (*list)[*n_list] = (VbConfigSelector) {
                .selector = *s,
                .file = f,
                .line = line,
        };
        x->keys[slot] = key + 1;
        x->at[slot] = (uint32_t) (*n_list)++;
        x->n++;
        return 0;
}

static int config_add_selector(VbConfig *c, const VbSelector *s, const char *file, unsigned line,
                               const VbConfigSelector **ret_existing) {
        return selector_list_add(&c->selectors, &c->n_selectors, &c->selector_set, s, file, line, ret_existing);
}

/* ---- the parser ---- */

typedef enum Section {
        SECTION_NONE,    /* before the first header */
        SECTION_BIND,
        SECTION_CONSOLE,
        SECTION_UNKNOWN, /* after a bad header: its keys are not checked */
        _SECTION_MAX,
} Section;

static const char *const section_table[_SECTION_MAX] = {
        [SECTION_BIND] = "Bind",
        [SECTION_CONSOLE] = "Console",
};

typedef struct Parser {
        VbConfig *config;
        VbDiagnostics *diag;
        const char *file;
        unsigned line;
        Section section;
        unsigned n_errors;
        bool gave_up; /* VB_CONFIG_ERRORS_MAX reached */
} Parser;

/* Record an error at the current line; 0 or -ENOMEM. */
_printf_(2, 3) static int parser_error(Parser *p, const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int r;

        if (p->gave_up)
                return 0;
        if (p->n_errors >= VB_CONFIG_ERRORS_MAX) {
                p->gave_up = true;
                return vb_diagnostics_add(p->diag, p->file, p->line,
                                          "too many errors (%u), not reading the rest of the file",
                                          p->n_errors);
        }

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0) {
                message = NULL;
                return -ENOMEM;
        }
        p->n_errors++;
        return vb_diagnostics_add(p->diag, p->file, p->line, "%s", message);
}

typedef int (*KeyParser)(Parser *p, VbConfigSetting setting, char *value);

/* Device= and Force=: selectors separated by whitespace, each checked, none twice in the list. */
static int parse_selector_list(Parser *p, const char *key, VbConfigSelector **list, size_t *n_list,
                               VbSelectorSet **set, char *value) {
        char *word, *save = NULL;
        int r;

        for (word = strtok_r(value, WHITESPACE, &save); word; word = strtok_r(NULL, WHITESPACE, &save)) {
                char error[VB_SELECTOR_ERROR_MAX], canonical[VB_SELECTOR_STRING_MAX];
                const VbConfigSelector *existing = NULL;
                VbSelectorType kind;
                VbSelector s;

                r = vb_selector_parse_explain(word, &s, &kind, error, sizeof(error));
                if (r < 0) {
                        r = parser_error(p, "invalid %s %s: %s%s",
                                         kind == VB_SELECTOR_ID ? "PCI ID" :
                                         kind < 0 ? "device selector" : "PCI address",
                                         QUOTE(word), error,
                                         strchr(word, ',') ? " (separate selectors with spaces)" : "");
                        if (r < 0)
                                return r;
                        continue;
                }

                r = selector_list_add(list, n_list, set, &s, p->file, p->line, &existing);
                if (r == -EEXIST)
                        r = parser_error(p, "duplicate %sselector %s (%s), already listed at %s:%u",
                                         streq(key, "Device") ? "" : "Force= ",
                                         QUOTE(word), vb_selector_format(&s, canonical),
                                         existing->file, existing->line);
                else if (r == -E2BIG)
                        r = parser_error(p, "too many selectors (the limit is %d), not adding %s",
                                         VB_CONFIG_SELECTORS_MAX, QUOTE(word));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_device(Parser *p, VbConfigSetting setting, char *value) {
        return parse_selector_list(p, "Device", &p->config->selectors, &p->config->n_selectors,
                                   &p->config->selector_set, value);
}

static int parse_force(Parser *p, VbConfigSetting setting, char *value) {
        return parse_selector_list(p, "Force", &p->config->force, &p->config->n_force, &p->config->force_set, value);
}

static int parse_driver(Parser *p, VbConfigSetting setting, char *value) {
        const char *why = driver_name_problem(value);
        char *d;

        if (why)
                return parser_error(p, "invalid driver name %s: %s", QUOTE(value), why);
        d = strdup(value);
        if (!d)
                return -ENOMEM;
        free(p->config->driver);
        p->config->driver = d;
        return 0;
}

static int parse_group(Parser *p, VbConfigSetting setting, char *value) {
        VbGroupPolicy g = vb_group_policy_from_string(value);

        if (g < 0)
                return parser_error(p, "invalid value %s for Group= (expected check, take or ignore)",
                                    QUOTE(value));
        p->config->group = g;
        return 0;
}

static int parse_unbind_host(Parser *p, VbConfigSetting setting, char *value) {
        int b = vb_parse_boolean(value);

        if (b < 0)
                return parser_error(p, "invalid boolean %s for UnbindHost= (expected yes or no)",
                                    QUOTE(value));
        p->config->unbind_host = b;
        return 0;
}

static int parse_timeout(Parser *p, VbConfigSetting setting, char *value) {
        const char *why = NULL;
        uint64_t usec;

        if (duration_parse(value, &usec, &why) < 0)
                return parser_error(p, "invalid duration %s for Timeout=: %s", QUOTE(value), why);
        if (usec > VB_TIMEOUT_MAX_USEC)
                return parser_error(p, "invalid duration %s for Timeout=: longer than the limit of %" PRIu64 "s",
                                    QUOTE(value), VB_TIMEOUT_MAX_USEC / UINT64_C(1000000));
        p->config->timeout_usec = usec;
        return 0;
}

static int parse_release(Parser *p, VbConfigSetting setting, char *value) {
        VbReleasePolicy rp = vb_release_policy_from_string(value);

        if (rp < 0)
                return parser_error(p, "invalid value %s for Release= (expected auto, yes or no)",
                                    QUOTE(value));
        p->config->release = rp;
        return 0;
}

static const struct {
        Section section;
        const char *name;
        VbConfigSetting setting; /* _VB_SETTING_INVALID: repeatable */
        KeyParser parse;
} key_table[] = {
        { SECTION_BIND, "Device", _VB_SETTING_INVALID, parse_device },
        { SECTION_BIND, "Force", _VB_SETTING_INVALID, parse_force },
        { SECTION_BIND, "Driver", VB_SETTING_DRIVER, parse_driver },
        { SECTION_BIND, "Group", VB_SETTING_GROUP, parse_group },
        { SECTION_BIND, "UnbindHost", VB_SETTING_UNBIND_HOST, parse_unbind_host },
        { SECTION_BIND, "Timeout", VB_SETTING_TIMEOUT, parse_timeout },
        { SECTION_CONSOLE, "Release", VB_SETTING_RELEASE, parse_release },
};

static int parse_section_header(Parser *p, char *line) {
        char *end, *rest, *name;
        int r;

        end = strchr(line, ']');
        if (!end) {
                p->section = SECTION_UNKNOWN;
                return parser_error(p, "section header %s is not closed with \"]\"", QUOTE(line));
        }
        *end = '\0';
        name = line + 1;
        rest = end + 1;
        strip_inline_comment(rest);
        rest = strip(rest);

        p->section = SECTION_UNKNOWN;
        for (size_t i = 0; i < _SECTION_MAX; i++)
                if (section_table[i] && streq(section_table[i], name))
                        p->section = (Section) i;

        if (p->section == SECTION_UNKNOWN) {
                const char *hint = NULL;

                for (size_t i = 0; i < _SECTION_MAX; i++)
                        if (section_table[i] && strcasecmp(section_table[i], name) == 0)
                                hint = section_table[i];
                if (hint)
                        r = parser_error(p, "unknown section %s (did you mean [%s]?)", QUOTE(name), hint);
                else
                        r = parser_error(p, "unknown section %s (expected [Bind] or [Console])", QUOTE(name));
                if (r < 0)
                        return r;
        }
        if (*rest)
                return parser_error(p, "unexpected text %s after the section header", QUOTE(rest));
        return 0;
}

static int parse_assignment(Parser *p, char *line) {
        char *eq, *key, *value;
        int k = -1;

        eq = strchr(line, '=');
        if (!eq)
                return parser_error(p, "expected KEY=VALUE or [Section], got %s", QUOTE(line));
        *eq = '\0';
        key = strip(line);
        value = strip(eq + 1);

        if (!*key)
                return parser_error(p, "missing key name before \"=\" (value %s)", QUOTE(value));
        if (p->section == SECTION_NONE)
                return parser_error(p, "key %s is outside of any section (expected [Bind] or [Console] first)",
                                    QUOTE(key));
        if (p->section == SECTION_UNKNOWN)
                return 0; /* reported at the header */

        for (size_t i = 0; i < ELEMENTSOF(key_table); i++)
                if (key_table[i].section == p->section && streq(key_table[i].name, key))
                        k = (int) i;
        if (k < 0) {
                const char *section = section_table[p->section];

                for (size_t i = 0; i < ELEMENTSOF(key_table); i++) {
                        if (key_table[i].section == p->section && strcasecmp(key_table[i].name, key) == 0)
                                return parser_error(p, "unknown key %s in section [%s] (did you mean %s=?)",
                                                    QUOTE(key), section, key_table[i].name);
                        if (key_table[i].section != p->section && streq(key_table[i].name, key))
                                return parser_error(p, "unknown key %s in section [%s] (%s= belongs in [%s])",
                                                    QUOTE(key), section, key_table[i].name,
                                                    section_table[key_table[i].section]);
                }
                return parser_error(p, "unknown key %s in section [%s]", QUOTE(key), section);
        }

        if (key_table[k].setting >= 0) {
                VbConfigOrigin *o = &p->config->origins[key_table[k].setting];

                if (o->file)
                        return parser_error(p, "%s= already set at %s:%u", key_table[k].name, o->file, o->line);
                /* Remember the first place even if the value turns out to be bad: the key was
                 * given there. */
                o->file = strdup(p->file);
                if (!o->file)
                        return -ENOMEM;
                o->line = p->line;
        }

        if (!*value)
                return parser_error(p, "empty value for %s=", key_table[k].name);

        return key_table[k].parse(p, key_table[k].setting, value);
}

static int parse_line(Parser *p, const char *text, size_t len) {
        char buf[VB_CONFIG_LINE_MAX + 1], *line;
        size_t bad;

        if (p->line == 1 && len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
                text += 3; /* UTF-8 byte order mark */
                len -= 3;
        }

        if (len > VB_CONFIG_LINE_MAX)
                return parser_error(p, "line is too long (%zu bytes, the limit is %d)", len, VB_CONFIG_LINE_MAX);
        if (memchr(text, '\0', len))
                return parser_error(p, "line contains a NUL byte at column %zu",
                                    (size_t) ((const char *) memchr(text, '\0', len) - text) + 1);
        bad = utf8_invalid_offset(text, len);
        if (bad < len)
                return parser_error(p, "line is not valid UTF-8 (byte 0x%02x at column %zu)",
                                    (unsigned) (unsigned char) text[bad], bad + 1);

        memcpy(buf, text, len);
        buf[len] = '\0';
        line = strip(buf);

        if (IN_SET_CHAR(line[0], '\0', '#', ';'))
                return 0;

        strip_inline_comment(line);
        line = strip(line);

        if (line[0] == '[')
                return parse_section_header(p, line);
        return parse_assignment(p, line);
}

int vb_config_parse_text(VbConfig *c, const char *name, const char *text, size_t len, VbDiagnostics *diag) {
        Parser p = {
                .config = c,
                .diag = diag,
                .file = name,
                .section = SECTION_NONE,
        };
        size_t pos = 0;
        int r;

        assert(c);
        assert(name);
        assert(diag);
        assert(text || len == 0);

        while (pos < len && !p.gave_up) {
                const char *start = text + pos, *nl;
                size_t n;

                if (p.line == UINT_MAX)
                        break;
                p.line++;

                nl = memchr(start, '\n', len - pos);
                n = nl ? (size_t) (nl - start) : len - pos;
                pos += n + (nl ? 1 : 0);

                r = parse_line(&p, start, n);
                if (r < 0)
                        return r;
        }

        return p.n_errors > 0 ? -EINVAL : 0;
}

/* ---- files ---- */

/* Read at most VB_CONFIG_FILE_SIZE_MAX bytes; -EFBIG if there is more. */
static int read_bounded(int fd, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, len = 0;

        for (;;) {
                ssize_t k;

                if (len == size) {
                        size_t nsize = size == 0 ? 4096 : size * 2;
                        char *nbuf;

                        if (size > VB_CONFIG_FILE_SIZE_MAX)
                                return -EFBIG;
                        if (nsize > VB_CONFIG_FILE_SIZE_MAX + 1)
                                nsize = VB_CONFIG_FILE_SIZE_MAX + 1;
                        nbuf = realloc(buf, nsize);
                        if (!nbuf)
                                return -ENOMEM;
                        buf = nbuf;
                        size = nsize;
                }
                k = read(fd, buf + len, size - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > VB_CONFIG_FILE_SIZE_MAX)
                        return -EFBIG;
        }

        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int vb_config_parse_file(VbConfig *c, const char *path, bool must_exist, VbDiagnostics *diag) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len = 0;
        int r;

        assert(c);
        assert(path);
        assert(diag);

        /* O_NONBLOCK: a FIFO must not hang us; it is refused below. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = negative_errno();
                if (r == -ENOENT && !must_exist)
                        return 0;
                r = vb_diagnostics_add(diag, path, 0, "cannot open: %s", strerror(-r));
                return r < 0 ? r : -EINVAL;
        }
        if (fstat(fd, &st) < 0) {
                r = vb_diagnostics_add(diag, path, 0, "cannot stat: %s", strerror(errno));
                return r < 0 ? r : -EINVAL;
        }

        if (S_ISDIR(st.st_mode))
                r = vb_diagnostics_add(diag, path, 0, "is a directory, not a configuration file");
        else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
                return strv_append(&c->files, path); /* /dev/null: masked, counts as empty */
        else if (!S_ISREG(st.st_mode))
                r = vb_diagnostics_add(diag, path, 0, "is not a regular file");
        else if (st.st_size > VB_CONFIG_FILE_SIZE_MAX)
                r = vb_diagnostics_add(diag, path, 0, "is too large (%jd bytes, the limit is %d)",
                                       (intmax_t) st.st_size, VB_CONFIG_FILE_SIZE_MAX);
        else {
                r = read_bounded(fd, &text, &len);
                if (r == -ENOMEM)
                        return r;
                if (r == -EFBIG)
                        r = vb_diagnostics_add(diag, path, 0, "is too large (more than %d bytes)",
                                               VB_CONFIG_FILE_SIZE_MAX);
                else if (r < 0)
                        r = vb_diagnostics_add(diag, path, 0, "cannot read: %s", strerror(-r));
                else {
                        r = strv_append(&c->files, path);
                        if (r < 0)
                                return r;
                        return vb_config_parse_text(c, path, text, len, diag);
                }
        }
        return r < 0 ? r : -EINVAL;
}

static int name_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool dropin_name_wanted(const char *name) {
        size_t n = strlen(name);

        return name[0] != '.' && n > 5 && streq(name + n - 5, ".conf");
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static int load_dropins(VbConfig *c, const char *dir, VbDiagnostics *diag) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        int r, ret = 0;

        d = opendir(dir);
        if (!d) {
                r = negative_errno();
                if (r == -ENOENT)
                        return 0;
                if (r == -ENOTDIR)
                        r = vb_diagnostics_add(diag, dir, 0, "is not a directory");
                else
                        r = vb_diagnostics_add(diag, dir, 0, "cannot open directory: %s", strerror(-r));
                return r < 0 ? r : -EINVAL;
        }

        for (;;) {
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0) {
                                r = vb_diagnostics_add(diag, dir, 0, "cannot read directory: %s",
                                                       strerror(errno));
                                return r < 0 ? r : -EINVAL;
                        }
                        break;
                }
                if (!dropin_name_wanted(de->d_name))
                        continue;
                if (n >= VB_CONFIG_DROPINS_MAX) {
                        r = vb_diagnostics_add(diag, dir, 0, "has more than %d *.conf files",
                                               VB_CONFIG_DROPINS_MAX);
                        return r < 0 ? r : -EINVAL;
                }
                r = strv_append(&names, de->d_name);
                if (r < 0)
                        return r;
                n++;
        }

        if (n > 0)
                qsort(names, n, sizeof(char *), name_compare);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;

                if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
                        return -ENOMEM;
                /* Listed a moment ago: if it is gone or is a dangling symlink, say so. */
                r = vb_config_parse_file(c, path, true, diag);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        ret = -EINVAL;
        }
        return ret;
}

int vb_config_load(VbConfig *c, const char *path, bool must_exist, const char *dropin_dir, VbDiagnostics *diag) {
        int r, ret = 0;

        assert(c);
        assert(diag);

        if (path) {
                r = vb_config_parse_file(c, path, must_exist, diag);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        ret = -EINVAL;
        }
        if (dropin_dir) {
                r = load_dropins(c, dropin_dir, diag);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        ret = -EINVAL;
        }
        return ret;
}

/* ---- the kernel command line ---- */

static bool is_kernel_space(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r'); /* the kernel's isspace() on ASCII */
}

static int cmdline_device(Parser *p, char *list) {
        char *item, *save = NULL;
        bool any = false;
        int r;

        /* Commas separate; so do spaces, which can only appear inside quotes. */
        for (item = strtok_r(list, "," WHITESPACE "\n", &save); item;
             item = strtok_r(NULL, "," WHITESPACE "\n", &save)) {
                char error[VB_SELECTOR_ERROR_MAX], canonical[VB_SELECTOR_STRING_MAX];
                const VbConfigSelector *existing = NULL;
                VbSelectorType kind;
                VbSelector s;

                any = true;
                r = vb_selector_parse_explain(item, &s, &kind, error, sizeof(error));
                if (r < 0) {
                        r = parser_error(p, "invalid %s %s in vfio-bind.device=: %s",
                                         kind == VB_SELECTOR_ID ? "PCI ID" :
                                         kind < 0 ? "device selector" : "PCI address",
                                         QUOTE(item), error);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = config_add_selector(p->config, &s, p->file, p->line, &existing);
                if (r == -EEXIST)
                        r = parser_error(p, "duplicate selector %s (%s) in vfio-bind.device=, already listed at %s:%u",
                                         QUOTE(item), vb_selector_format(&s, canonical),
                                         existing->file, existing->line);
                else if (r == -E2BIG)
                        r = parser_error(p, "too many selectors (the limit is %d), not adding %s",
                                         VB_CONFIG_SELECTORS_MAX, QUOTE(item));
                if (r < 0)
                        return r;
        }
        if (!any)
                return parser_error(p, "empty value for vfio-bind.device=");
        return 0;
}

static int cmdline_word(Parser *p, char *word) {
        char *value;
        int b;

        if (!strneq(word, "vfio-bind", 9) || !IN_SET_CHAR(word[9], '\0', '=', '.'))
                return 0; /* not ours */

        value = strchr(word, '=');
        if (value)
                *value++ = '\0';

        if (streq(word, "vfio-bind")) {
                if (!value)
                        return 0; /* a bare flag: enabled, the default */
                b = vb_parse_boolean(value);
                if (b < 0)
                        return parser_error(p, "invalid boolean %s for vfio-bind= (expected on or off)",
                                            QUOTE(value));
                p->config->disabled = !b;
                return 0;
        }
        if (streq(word, "vfio-bind.device"))
                return cmdline_device(p, value ?: (char[]) { "" });

        return parser_error(p, "unknown option %s (expected vfio-bind= or vfio-bind.device=)", QUOTE(word));
}

int vb_config_apply_cmdline(VbConfig *c, const char *cmdline, VbDiagnostics *diag) {
        _cleanup_free_ char *word = NULL;
        Parser p = {
                .config = c,
                .diag = diag,
                .file = VB_CMDLINE_SOURCE,
                .line = 1,
                .section = SECTION_NONE,
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
