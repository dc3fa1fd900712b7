/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The configuration and its parser: the keys of [Bind] and [Console], and the INI syntax they are
 * written in. Files and drop-ins are read in lib/load.c, the kernel command line in lib/cmdline.c.
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
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "alloc-util.h"
#include "config.h"
#include "driver.h"
#include "macro.h"
#include "strv.h"
#include "utf8.h"

#define IN_SET_CHAR(c, a, b, d) ((c) == (a) || (c) == (b) || (c) == (d))

#define QUOTE(s) VB_QUOTE(s)

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
        [VB_SETTING_DRIVER] = "Driver",   [VB_SETTING_GROUP] = "Group",     [VB_SETTING_UNBIND_HOST] = "UnbindHost",
        [VB_SETTING_TIMEOUT] = "Timeout", [VB_SETTING_RELEASE] = "Release",
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

bool vb_config_driver_auto(const VbConfig *c) {
        return streq(c->driver, VB_DRIVER_AUTO);
}

bool vb_config_driver_is_vfio(const VbConfig *c) {
        return vb_config_driver_auto(c) || vb_driver_is_vfio(c->driver);
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

VbConfig *vb_config_free(VbConfig *c) {
        if (!c)
                return NULL;
        strv_free(c->stop_units);
        for (size_t i = 0; i < c->n_selectors; i++)
                free(c->selectors[i].file);
        free(c->selectors);
        for (size_t i = 0; i < c->n_force; i++)
                free(c->force[i].file);
        free(c->force);
        for (size_t i = 0; i < c->n_vfs; i++)
                free(c->vfs[i].file);
        free(c->vfs);
        free(c->driver);
        strv_free(c->files);
        for (size_t i = 0; i < _VB_SETTING_MAX; i++)
                free(c->origins[i].file);
        vb_selector_set_free(c->selector_set);
        vb_selector_set_free(c->force_set);
        free(c);
        return NULL;
}

/* ---- line syntax ---- */

static char *strip(char *s) {
        size_t n;

        s += strspn(s, VB_WHITESPACE);
        n = strlen(s);
        while (n > 0 && strchr(VB_WHITESPACE, s[n - 1]))
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

/* ---- the parser ---- */

typedef enum Section {
        SECTION_NONE, /* before the first header */
        SECTION_BIND,
        SECTION_CONSOLE,
        SECTION_HANDOFF,
        SECTION_UNKNOWN, /* after a bad header: its keys are not checked */
        _SECTION_MAX,
} Section;

static const char *const section_table[_SECTION_MAX] = {
        [SECTION_BIND] = "Bind",
        [SECTION_CONSOLE] = "Console",
        [SECTION_HANDOFF] = "Handoff",
};

int vb_config_parser_error(VbConfigParser *p, const char *format, ...) {
        va_list ap;
        int r;

        if (p->gave_up)
                return 0;
        if (p->n_errors >= VB_CONFIG_ERRORS_MAX) {
                p->gave_up = true;
                return vb_diagnostics_add(p->diag, p->file, p->line,
                                          "too many errors (%u), not reading the rest of the file", p->n_errors);
        }

        p->n_errors++;
        va_start(ap, format);
        r = vb_diagnostics_addv(p->diag, p->file, p->line, format, ap);
        va_end(ap);
        return r;
}

typedef int (*KeyParser)(VbConfigParser *p, VbConfigSetting setting, char *value);

const VbConfigVfs *vb_config_find_vfs(const VbConfig *c, const VbPciAddress *pf) {
        for (size_t i = 0; i < c->n_vfs; i++)
                if (vb_pci_address_equal(&c->vfs[i].pf, pf))
                        return &c->vfs[i];
        return NULL;
}

/* Device= may not name a physical function whose virtual functions VirtualFunctions= creates:
 * the PF keeps its host driver (vfio-pci refuses a PF with VFs enabled). An address or a slot is
 * checked here, whichever of the two lines comes first; a vendor:device selector is checked by
 * the plan, which knows the devices' IDs. */
static int check_selector_against_vfs(VbConfigParser *p, const VbSelector *s, const char *word, const char *where) {
        if (s->type != VB_SELECTOR_ADDRESS && s->type != VB_SELECTOR_SLOT)
                return 0;
        for (size_t i = 0; i < p->config->n_vfs; i++) {
                const VbConfigVfs *v = &p->config->vfs[i];
                if (!vb_selector_match(s, &v->pf, 0, 0))
                        continue;
                return vb_config_parser_error(
                        p,
                        "Device= selector %s%s selects %s, the physical function whose virtual functions "
                        "VirtualFunctions= creates at %s:%u: it keeps its host driver (its VFs are selected "
                        "through VirtualFunctions=)",
                        QUOTE(word), where, VB_PCI_ADDRESS_STR(&v->pf), v->file, v->line);
        }
        return 0;
}

int vb_config_parser_add_selectors(VbConfigParser *p, bool force, const char *separators, const char *where,
                                   char *value) {
        VbConfigSelector **list = force ? &p->config->force : &p->config->selectors;
        size_t *n_list = force ? &p->config->n_force : &p->config->n_selectors;
        VbSelectorSet **set = force ? &p->config->force_set : &p->config->selector_set;
        char *word, *save = NULL;
        bool any = false;
        int r;

        for (word = strtok_r(value, separators, &save); word; word = strtok_r(NULL, separators, &save)) {
                char error[VB_SELECTOR_ERROR_MAX], canonical[VB_SELECTOR_STRING_MAX];
                const VbConfigSelector *existing = NULL;
                VbSelectorType kind;
                VbSelector s;

                any = true;
                r = vb_selector_parse_explain(word, &s, &kind, error, sizeof(error));
                if (r < 0) {
                        r = vb_config_parser_error(p, "invalid %s %s%s: %s%s",
                                                   kind == VB_SELECTOR_ID ? "PCI ID"
                                                   : kind < 0             ? "device selector"
                                                                          : "PCI address",
                                                   QUOTE(word), where, error,
                                                   strchr(word, ',') ? " (separate selectors with spaces)" : "");
                        if (r < 0)
                                return r;
                        continue;
                }

                r = vb_selector_set_add(set, list, n_list, VB_CONFIG_SELECTORS_MAX, &s, p->file, p->line, &existing);
                if (r == -EEXIST)
                        r = vb_config_parser_error(p, "duplicate %sselector %s (%s)%s, already listed at %s:%u",
                                                   force ? "Force= " : "", QUOTE(word),
                                                   vb_selector_format(&s, canonical), where, existing->file,
                                                   existing->line);
                else if (r == -E2BIG)
                        r = vb_config_parser_error(p, "too many selectors (the limit is %d), not adding %s",
                                                   VB_CONFIG_SELECTORS_MAX, QUOTE(word));
                if (r < 0)
                        return r;
                if (!force && !existing) {
                        r = check_selector_against_vfs(p, &s, word, where);
                        if (r < 0)
                                return r;
                }
        }
        return any;
}

/* Device= and Force=: selectors separated by whitespace. */
static int parse_device(VbConfigParser *p, VbConfigSetting setting, char *value) {
        int r = vb_config_parser_add_selectors(p, false, VB_WHITESPACE, "", value);
        return r < 0 ? r : 0;
}

static int parse_force(VbConfigParser *p, VbConfigSetting setting, char *value) {
        int r = vb_config_parser_add_selectors(p, true, VB_WHITESPACE, "", value);
        return r < 0 ? r : 0;
}

/* Why NAME is not a unit name systemd would accept (a name, a dot, a type), or NULL. */
static const char *unit_name_problem(const char *name) {
        static const char *const types[] = { ".service", ".scope", ".socket", ".target",    ".mount", ".path",
                                             ".timer",   ".slice", ".swap",   ".automount", ".device" };
        size_t n = strlen(name);

        if (n > 255)
                return "longer than 255 characters";
        if (name[strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:-_.\\@")] != '\0')
                return "only letters, digits and \":-_.\\@\" are allowed";
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                size_t t = strlen(types[i]);
                if (n >= t && streq(name + n - t, types[i]))
                        return n == t || name[0] == '.' || name[0] == '@' ? "it has no name before its type" : NULL;
        }
        return "it has no unit type (display-manager.service, not display-manager)";
}

/* StopUnits=: unit names separated by whitespace, added to the list (as Device=). */
static int parse_stop_units(VbConfigParser *p, VbConfigSetting setting, char *value) {
        char *state = NULL;

        for (char *w = strtok_r(value, VB_WHITESPACE, &state); w; w = strtok_r(NULL, VB_WHITESPACE, &state)) {
                const char *why = unit_name_problem(w);

                if (why) {
                        int r = vb_config_parser_error(p, "invalid unit name %s in StopUnits=: %s", QUOTE(w), why);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!strv_contains(p->config->stop_units, w) &&
                    strv_extend_printf(&p->config->stop_units, &p->config->n_stop_units, "%s", w) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int parse_driver(VbConfigParser *p, VbConfigSetting setting, char *value) {
        const char *why = vb_driver_name_problem(value);
        char *d;

        if (why)
                return vb_config_parser_error(p, "invalid driver name %s: %s", QUOTE(value), why);
        d = strdup(value);
        if (!d)
                return -ENOMEM;
        free(p->config->driver);
        p->config->driver = d;
        return 0;
}

static int parse_group(VbConfigParser *p, VbConfigSetting setting, char *value) {
        VbGroupPolicy g = vb_group_policy_from_string(value);

        if (g < 0)
                return vb_config_parser_error(p, "invalid value %s for Group= (expected check, take or ignore)",
                                              QUOTE(value));
        p->config->group = g;
        return 0;
}

static int parse_unbind_host(VbConfigParser *p, VbConfigSetting setting, char *value) {
        int b = vb_parse_boolean(value);

        if (b < 0)
                return vb_config_parser_error(p, "invalid boolean %s for UnbindHost= (expected yes or no)",
                                              QUOTE(value));
        p->config->unbind_host = b;
        return 0;
}

static int parse_timeout(VbConfigParser *p, VbConfigSetting setting, char *value) {
        const char *why = NULL;
        uint64_t usec;

        if (vb_parse_duration_full(value, &usec, &why) < 0)
                return vb_config_parser_error(p, "invalid duration %s for Timeout=: %s", QUOTE(value), why);
        if (usec > VB_TIMEOUT_MAX_USEC)
                return vb_config_parser_error(p,
                                              "invalid duration %s for Timeout=: longer than the limit of %" PRIu64 "s",
                                              QUOTE(value), VB_TIMEOUT_MAX_USEC / UINT64_C(1000000));
        p->config->timeout_usec = usec;
        return 0;
}

static int parse_release(VbConfigParser *p, VbConfigSetting setting, char *value) {
        VbReleasePolicy rp = vb_release_policy_from_string(value);

        if (rp < 0)
                return vb_config_parser_error(p, "invalid value %s for Release= (expected auto, yes or no)",
                                              QUOTE(value));
        p->config->release = rp;
        return 0;
}

/* VirtualFunctions=PF COUNT */
static int parse_virtual_functions(VbConfigParser *p, VbConfigSetting setting, char *value) {
        char *save = NULL, *word, *count_word, *extra, *end;
        const VbConfigVfs *existing;
        VbConfigVfs *v;
        VbSelector s;
        const char *why = NULL;
        unsigned long n;

        word = strtok_r(value, VB_WHITESPACE, &save);
        count_word = strtok_r(NULL, VB_WHITESPACE, &save);
        extra = strtok_r(NULL, VB_WHITESPACE, &save);
        if (!word || !count_word || extra)
                return vb_config_parser_error(
                        p,
                        "VirtualFunctions= takes a physical function's PCI address and a count, as in "
                        "\"VirtualFunctions=0000:03:00.0 4\"");
        if (vb_selector_parse(word, &s, &why) < 0)
                return vb_config_parser_error(p, "invalid PCI address %s in VirtualFunctions=: %s", QUOTE(word), why);
        if (s.type != VB_SELECTOR_ADDRESS)
                return vb_config_parser_error(p,
                                              "invalid PCI address %s in VirtualFunctions=: expected the address "
                                              "of one physical function, like 0000:03:00.0",
                                              QUOTE(word));
        errno = 0;
        n = strtoul(count_word, &end, 10);
        if (errno != 0 || end == count_word || *end != '\0' || !isdigit((unsigned char) count_word[0]) || n < 1 ||
            n > VB_CONFIG_VFS_MAX)
                return vb_config_parser_error(p,
                                              "invalid count %s in VirtualFunctions=: expected a number from 1 to %d "
                                              "(the virtual functions to create)",
                                              QUOTE(count_word), VB_CONFIG_VFS_MAX);
        existing = vb_config_find_vfs(p->config, &s.address);
        if (existing)
                return vb_config_parser_error(p, "VirtualFunctions= for %s already set at %s:%u",
                                              VB_PCI_ADDRESS_STR(&s.address), existing->file, existing->line);
        for (size_t i = 0; i < p->config->n_selectors; i++) {
                const VbConfigSelector *d = &p->config->selectors[i];
                char canonical[VB_SELECTOR_STRING_MAX];

                if ((d->selector.type != VB_SELECTOR_ADDRESS && d->selector.type != VB_SELECTOR_SLOT) ||
                    !vb_selector_match(&d->selector, &s.address, 0, 0))
                        continue;
                return vb_config_parser_error(
                        p,
                        "VirtualFunctions= for %s: Device= selects that physical function at %s:%u (%s); it keeps "
                        "its host driver, and its VFs are selected through VirtualFunctions=",
                        VB_PCI_ADDRESS_STR(&s.address), d->file, d->line, vb_selector_format(&d->selector, canonical));
        }
        if (p->config->n_vfs >= VB_CONFIG_SELECTORS_MAX)
                return vb_config_parser_error(p, "too many VirtualFunctions= lines (the limit is %d)",
                                              VB_CONFIG_SELECTORS_MAX);

        if (!VB_GREEDY_REALLOC(p->config->vfs, p->config->vfs_allocated, p->config->n_vfs + 1))
                return -ENOMEM;
        v = &p->config->vfs[p->config->n_vfs];
        *v = (VbConfigVfs) { .pf = s.address, .count = (unsigned) n, .line = p->line };
        v->file = strdup(p->file);
        if (!v->file)
                return -ENOMEM;
        p->config->n_vfs++;
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
        { SECTION_BIND, "VirtualFunctions", _VB_SETTING_INVALID, parse_virtual_functions },
        { SECTION_BIND, "Driver", VB_SETTING_DRIVER, parse_driver },
        { SECTION_BIND, "Group", VB_SETTING_GROUP, parse_group },
        { SECTION_BIND, "UnbindHost", VB_SETTING_UNBIND_HOST, parse_unbind_host },
        { SECTION_BIND, "Timeout", VB_SETTING_TIMEOUT, parse_timeout },
        { SECTION_CONSOLE, "Release", VB_SETTING_RELEASE, parse_release },
        { SECTION_HANDOFF, "StopUnits", _VB_SETTING_INVALID, parse_stop_units },
};

/* Case-insensitive edit distance between A and B (optimal string alignment: insertions,
 * deletions, substitutions and swaps of neighbours count 1), or LIMIT + 1 when it is above LIMIT
 * or either is longer than 32 bytes: enough to tell "Devices", "Timout", "Bnid" from a stranger. */
static unsigned min_u(unsigned a, unsigned b) {
        return a < b ? a : b;
}

static unsigned name_distance(const char *a, const char *b, unsigned limit) {
        enum {
                N = 32
        };
        unsigned d[N + 1][N + 1];
        size_t la = strlen(a), lb = strlen(b);

        if (la > N || lb > N)
                return limit + 1;
        for (size_t i = 0; i <= la; i++)
                d[i][0] = (unsigned) i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = (unsigned) j;
        for (size_t i = 1; i <= la; i++)
                for (size_t j = 1; j <= lb; j++) {
                        char x = (char) tolower((unsigned char) a[i - 1]), y = (char) tolower((unsigned char) b[j - 1]);
                        unsigned v = d[i - 1][j - 1] + (x != y);

                        v = min_u(v, d[i - 1][j] + 1);
                        v = min_u(v, d[i][j - 1] + 1);
                        if (i > 1 && j > 1 && x == tolower((unsigned char) b[j - 2]) &&
                            tolower((unsigned char) a[i - 2]) == y)
                                v = min_u(v, d[i - 2][j - 2] + 1);
                        d[i][j] = v;
                }
        return min_u(d[la][lb], limit + 1);
}

/* How far a misspelling may be from NAME to be suggested: one edit for short names, two from six
 * letters on. */
static unsigned name_distance_limit(const char *name) {
        return strlen(name) >= 6 ? 2 : 1;
}

/* The key nearest to KEY by spelling, within the limit, among the keys of SECTION (SAME) or of
 * the other sections (!SAME): its index in key_table, or -1. */
static int nearest_key(const char *key, Section section, bool same) {
        unsigned best = UINT_MAX;
        int hint = -1;

        for (size_t i = 0; i < ELEMENTSOF(key_table); i++) {
                unsigned limit, d;

                if ((key_table[i].section == section) != same)
                        continue;
                limit = name_distance_limit(key_table[i].name);
                d = name_distance(key, key_table[i].name, limit);
                if (d <= limit && d < best) {
                        best = d;
                        hint = (int) i;
                }
        }
        return hint;
}

static Section section_from_name(const char *name) {
        for (size_t i = 0; i < _SECTION_MAX; i++)
                if (section_table[i] && streq(section_table[i], name))
                        return (Section) i;
        return SECTION_UNKNOWN;
}

static int parse_section_header(VbConfigParser *p, char *line) {
        char *end, *rest, *name;
        int r;

        end = strchr(line, ']');
        if (!end) {
                /* "[Bind": the section is still meant; checking its keys keeps later errors in view. */
                p->section = section_from_name(strip(line + 1));
                return vb_config_parser_error(p, "section header %s is not closed with \"]\"", QUOTE(line));
        }
        *end = '\0';
        name = line + 1;
        rest = end + 1;
        strip_inline_comment(rest);
        rest = strip(rest);

        p->section = section_from_name(name);

        if (p->section == SECTION_UNKNOWN) {
                const char *hint = NULL;
                unsigned best = UINT_MAX;

                for (size_t i = 0; i < _SECTION_MAX; i++) {
                        unsigned limit, d;

                        if (!section_table[i])
                                continue;
                        limit = name_distance_limit(section_table[i]);
                        d = name_distance(name, section_table[i], limit);
                        if (d <= limit && d < best) {
                                best = d;
                                hint = section_table[i];
                        }
                }
                if (hint)
                        r = vb_config_parser_error(p, "unknown section %s (did you mean [%s]?)", QUOTE(name), hint);
                else
                        r = vb_config_parser_error(p, "unknown section %s (expected [Bind], [Console] or [Handoff])",
                                                   QUOTE(name));
                if (r < 0)
                        return r;
        }
        if (*rest)
                return vb_config_parser_error(p, "unexpected text %s after the section header", QUOTE(rest));
        return 0;
}

static int parse_assignment(VbConfigParser *p, char *line) {
        char *eq, *key, *value;
        int k = -1;

        eq = strchr(line, '=');
        if (!eq)
                return vb_config_parser_error(p, "expected KEY=VALUE or [Section], got %s", QUOTE(line));
        *eq = '\0';
        key = strip(line);
        value = strip(eq + 1);

        if (!*key)
                return vb_config_parser_error(p, "missing key name before \"=\" (value %s)", QUOTE(value));
        if (p->section == SECTION_NONE)
                return vb_config_parser_error(
                        p, "key %s is outside of any section (expected [Bind], [Console] or [Handoff] first)",
                        QUOTE(key));
        if (p->section == SECTION_UNKNOWN)
                return 0; /* reported at the header */

        for (size_t i = 0; i < ELEMENTSOF(key_table); i++)
                if (key_table[i].section == p->section && streq(key_table[i].name, key))
                        k = (int) i;
        if (k < 0) {
                const char *section = section_table[p->section];
                int hint;

                for (size_t i = 0; i < ELEMENTSOF(key_table); i++)
                        if (key_table[i].section != p->section && streq(key_table[i].name, key))
                                return vb_config_parser_error(p, "unknown key %s in section [%s] (%s= belongs in [%s])",
                                                              QUOTE(key), section, key_table[i].name,
                                                              section_table[key_table[i].section]);
                /* The nearest key of this section, by spelling ("device", "Devices", "Timout"). */
                hint = nearest_key(key, p->section, true);
                if (hint >= 0)
                        return vb_config_parser_error(p, "unknown key %s in section [%s] (did you mean %s=?)",
                                                      QUOTE(key), section, key_table[hint].name);
                /* A misspelt key of another section ("Relase" in [Bind]). */
                hint = nearest_key(key, p->section, false);
                if (hint >= 0)
                        return vb_config_parser_error(p, "unknown key %s in section [%s] (did you mean %s= in [%s]?)",
                                                      QUOTE(key), section, key_table[hint].name,
                                                      section_table[key_table[hint].section]);
                return vb_config_parser_error(p, "unknown key %s in section [%s]", QUOTE(key), section);
        }

        if (key_table[k].setting >= 0) {
                VbConfigOrigin *o = &p->config->origins[key_table[k].setting];

                if (o->file)
                        return vb_config_parser_error(p, "%s= already set at %s:%u", key_table[k].name, o->file,
                                                      o->line);
                /* Remember the first place even if the value turns out to be bad: the key was
                 * given there. */
                o->file = strdup(p->file);
                if (!o->file)
                        return -ENOMEM;
                o->line = p->line;
        }

        if (!*value)
                return vb_config_parser_error(p, "empty value for %s=", key_table[k].name);

        return key_table[k].parse(p, key_table[k].setting, value);
}

static int parse_line(VbConfigParser *p, const char *text, size_t len) {
        char buf[VB_CONFIG_LINE_MAX + 1], *line;
        size_t bad;

        if (p->line == 1 && len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
                text += 3; /* UTF-8 byte order mark */
                len -= 3;
        }

        if (len > VB_CONFIG_LINE_MAX)
                return vb_config_parser_error(p, "line is too long (%zu bytes, the limit is %d)", len,
                                              VB_CONFIG_LINE_MAX);
        if (memchr(text, '\0', len))
                return vb_config_parser_error(p, "line contains a NUL byte at column %zu",
                                              (size_t) ((const char *) memchr(text, '\0', len) - text) + 1);
        bad = vb_utf8_invalid_offset(text, len);
        if (bad < len)
                return vb_config_parser_error(p, "line is not valid UTF-8 (byte 0x%02x at column %zu)",
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
        VbConfigParser p = {
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
