/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "value.h"

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

/* Modules whose PCI driver is called otherwise: driver_override takes the driver's name, and a
 * module's name there silently binds nothing. */
static const struct {
        const char *module;
        const char *problem;
} module_names[] = {
        { "vfio_pci", "is the module's name, not the driver's (did you mean vfio-pci?)" },
        { "pci_stub", "is the module's name, not the driver's (did you mean pci-stub?)" },
};

const char *vb_driver_name_problem(const char *s) {
        size_t n;

        if (!s || !*s)
                return "is empty";
        if (s[0] == '-')
                return "starts with \"-\"";
        for (size_t i = 0; i < ELEMENTSOF(module_names); i++)
                if (streq(s, module_names[i].module))
                        return module_names[i].problem;
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
        return !vb_driver_name_problem(s);
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

int vb_parse_duration_full(const char *s, uint64_t *ret_usec, const char **ret_reason) {
        uint64_t total = 0;
        const char *p = s;

        if (!s)
                return duration_fail(ret_reason, "is empty", -EINVAL);
        p += strspn(p, VB_WHITESPACE);
        if (*p == '\0')
                return duration_fail(ret_reason, "is empty", -EINVAL);
        if (strncasecmp(p, "inf", 3) == 0)
                return duration_fail(ret_reason, "must be finite", -EINVAL);

        while (*p) {
                uint64_t whole = 0, mult = 0, v;
                const char *frac = NULL, *unit;
                size_t frac_len = 0, unit_len;

                if (*p == '-')
                        return duration_fail(ret_reason, "is negative", -EINVAL);
                if (!is_digit(*p))
                        return duration_fail(ret_reason, "is not a number followed by a unit", -EINVAL);
                for (; is_digit(*p); p++)
                        if (__builtin_mul_overflow(whole, 10, &whole) ||
                            __builtin_add_overflow(whole, (uint64_t) (*p - '0'), &whole))
                                return duration_fail(ret_reason, "is too large", -ERANGE);
                if (*p == '.') {
                        p++;
                        frac = p;
                        for (; is_digit(*p); p++)
                                frac_len++;
                        if (frac_len == 0)
                                return duration_fail(ret_reason, "has no digits after \".\"", -EINVAL);
                }
                p += strspn(p, VB_WHITESPACE);

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
                        return duration_fail(ret_reason, "has an unknown unit (expected us, ms, s, min or h)", -EINVAL);

                if (__builtin_mul_overflow(whole, mult, &v))
                        return duration_fail(ret_reason, "is too large", -ERANGE);
                /* Fractions finer than a microsecond are dropped. */
                for (size_t i = 0; i < frac_len && mult >= 10; i++) {
                        mult /= 10;
                        v += (uint64_t) (frac[i] - '0') * mult; /* cannot overflow: < one unit */
                }
                if (__builtin_add_overflow(total, v, &total))
                        return duration_fail(ret_reason, "is too large", -ERANGE);

                p += strspn(p, VB_WHITESPACE);
        }

        if (ret_usec)
                *ret_usec = total;
        return 0;
}

int vb_parse_duration(const char *s, uint64_t *ret_usec) {
        return vb_parse_duration_full(s, ret_usec, NULL);
}
