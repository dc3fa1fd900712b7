/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "selector.h"

/* Parts of a selector as written: domain:bus:device.function, or vendor:device. */
typedef struct Field {
        const char *text;
        size_t len;
} Field;

/* What went wrong, kept apart from the text so that both the static and the quoting
 * explanation come from one place. */
typedef struct Problem {
        const char *message;   /* static, whole: "bus is not hexadecimal" */
        const char *name;      /* "bus", or NULL when the problem is about the whole selector */
        const char *predicate; /* "is not hexadecimal" */
        Field field;
        VbSelectorType kind;
} Problem;

#define PROBLEM(p, n, pred, f) problem_set((p), n " " pred, n, pred, (f))
#define PROBLEM_WHOLE(p, pred) problem_set((p), "selector " pred, NULL, pred, (Field) {})

static int problem_set(Problem *p, const char *message, const char *name, const char *predicate, Field f) {
        p->message = message;
        p->name = name;
        p->predicate = predicate;
        p->field = f;
        return -EINVAL;
}

/* Hex value of F; -EINVAL if it is empty or not hex, -ERANGE if the value does not fit in 32 bits
 * (more than 8 digits after the leading zeros). */
static int field_hex(Field f, uint32_t *ret) {
        uint32_t v = 0;
        size_t significant = 0;

        if (f.len == 0)
                return -EINVAL;
        for (size_t i = 0; i < f.len; i++)
                if (vb_hex_digit(f.text[i]) < 0)
                        return -EINVAL;
        for (size_t i = 0; i < f.len; i++) {
                if (significant == 0 && f.text[i] == '0')
                        continue;
                if (++significant > 8)
                        return -ERANGE;
                v = v * 16 + (uint32_t) vb_hex_digit(f.text[i]);
        }
        *ret = v;
        return 0;
}

/* An address field with at most MAX_DIGITS digits and at most MAX. The literals are spelled out
 * per field so that every message stays a static string. A value out of range is told before
 * too many digits: "100" is a bus out of range, "000f" a bus written with too many digits. */
#define PARSE_FIELD(p, f, name, max_digits, max, range, ret)                                  \
        ({                                                                                    \
                uint32_t _v = 0;                                                              \
                int _r = 0, _h = field_hex(f, &_v);                                           \
                if ((f).len == 0)                                                             \
                        _r = PROBLEM(p, name, "is empty", f);                                 \
                else if (_h == -EINVAL)                                                       \
                        _r = PROBLEM(p, name, "is not hexadecimal", f);                       \
                else if (_h == -ERANGE || _v > (max))                                         \
                        _r = PROBLEM(p, name, "is out of range (" range ")", f);              \
                else if ((f).len > (max_digits))                                              \
                        _r = PROBLEM(p, name, "has more than " #max_digits " hex digits", f); \
                else                                                                          \
                        *(ret) = _v;                                                          \
                _r;                                                                           \
        })

static int parse_id_field(Problem *p, Field f, bool vendor, uint16_t *ret) {
        uint32_t v;
        int r;

        r = field_hex(f, &v);
        if (r == -EINVAL && f.len > 0)
                return vendor ? PROBLEM(p, "vendor ID", "is not hexadecimal", f)
                              : PROBLEM(p, "device ID", "is not hexadecimal", f);
        if (r < 0 || f.len != 4)
                return vendor ? PROBLEM(p, "vendor ID", "is not 4 hex digits", f)
                              : PROBLEM(p, "device ID", "is not 4 hex digits", f);
        *ret = (uint16_t) v;
        return 0;
}

static int parse_function(Problem *p, Field f, uint32_t *ret) {
        /* "0f:00.0x", "0f:00.0.1": a good function followed by junk */
        if (f.len > 1 && f.text[0] >= '0' && f.text[0] <= '7' && vb_hex_digit(f.text[1]) < 0)
                return PROBLEM(p, "function", "has trailing characters", f);
        return PARSE_FIELD(p, f, "function", 1, 7u, "0-7", ret);
}

static int selector_parse_full(const char *s, VbSelector *ret, Problem *p) {
        const char *colon[2];
        size_t n_colons = 0;
        Field parts[3], slot_field, function_field = {};
        bool has_function;
        uint32_t domain = 0, bus, slot, function = 0;
        int r;

        *p = (Problem) { .kind = _VB_SELECTOR_TYPE_INVALID };

        if (!s || !*s)
                return PROBLEM_WHOLE(p, "is empty");

        for (const char *c = s; *c; c++)
                if (*c == ':') {
                        if (n_colons == ELEMENTSOF(colon))
                                return PROBLEM_WHOLE(p, "has too many colons");
                        colon[n_colons++] = c;
                }
        if (n_colons == 0)
                return PROBLEM_WHOLE(p,
                                     "has no colon (expected an address 0f:00.0, a slot 0f:00 "
                                     "or a vendor:device ID 10de:13c0)");

        parts[0] = (Field) { s, (size_t) (colon[0] - s) };
        for (size_t i = 1; i <= n_colons; i++) {
                const char *start = colon[i - 1] + 1;
                const char *end = i < n_colons ? colon[i] : s + strlen(s);
                parts[i] = (Field) { start, (size_t) (end - start) };
        }

        /* The last part is "device.function" or "device". */
        Field last = parts[n_colons];
        const char *dot = memchr(last.text, '.', last.len);
        has_function = dot;
        if (dot) {
                slot_field = (Field) { last.text, (size_t) (dot - last.text) };
                function_field = (Field) { dot + 1, last.len - (size_t) (dot - last.text) - 1 };
        } else
                slot_field = last;

        /* "10de:13c0" versus "0f:00": a bus and a device have at most two digits, IDs have four.
         * Anything with one colon, no dot and a longer part is taken for an ID. */
        if (n_colons == 1 && !has_function && (parts[0].len > 2 || parts[1].len > 2)) {
                uint16_t vendor, device;

                p->kind = VB_SELECTOR_ID;
                r = parse_id_field(p, parts[0], true, &vendor);
                if (r < 0)
                        return r;
                r = parse_id_field(p, parts[1], false, &device);
                if (r < 0)
                        return r;
                *ret = (VbSelector) {
                        .type = VB_SELECTOR_ID,
                        .vendor = vendor,
                        .device = device,
                };
                return 0;
        }

        p->kind = has_function ? VB_SELECTOR_ADDRESS : VB_SELECTOR_SLOT;

        /* The domain: 1 to 8 digits, 0 to ffffffff (VMD domains start at 10000). */
        if (n_colons == 2) {
                r = PARSE_FIELD(p, parts[0], "domain", 8, UINT32_MAX, "0-ffffffff", &domain);
                if (r < 0)
                        return r;
        }

        r = PARSE_FIELD(p, parts[n_colons - 1], "bus", 2, 0xffu, "00-ff", &bus);
        if (r < 0)
                return r;
        r = PARSE_FIELD(p, slot_field, "device", 2, 0x1fu, "00-1f", &slot);
        if (r < 0)
                return r;
        if (has_function) {
                r = parse_function(p, function_field, &function);
                if (r < 0)
                        return r;
        }

        *ret = (VbSelector) {
                .type = p->kind,
                .address = {
                        .domain = domain,
                        .bus = (uint8_t) bus,
                        .slot = (uint8_t) slot,
                        .function = (uint8_t) function,
                },
        };
        return 0;
}

int vb_selector_parse(const char *s, VbSelector *ret, const char **ret_error) {
        VbSelector sel;
        Problem p;
        int r;

        r = selector_parse_full(s, &sel, &p);
        if (r < 0) {
                if (ret_error)
                        *ret_error = p.message;
                return r;
        }
        if (ret)
                *ret = sel;
        return 0;
}

static bool field_is_quotable(Field f) {
        if (f.len == 0 || f.len > 16)
                return false;
        for (size_t i = 0; i < f.len; i++)
                if (f.text[i] < 0x21 || f.text[i] > 0x7e || f.text[i] == '"' || f.text[i] == '\\')
                        return false;
        return true;
}

int vb_selector_parse_explain(const char *s, VbSelector *ret, VbSelectorType *ret_kind, char *error,
                              size_t error_size) {
        VbSelector sel;
        Problem p;
        int r;

        r = selector_parse_full(s, &sel, &p);
        if (r < 0) {
                if (error && error_size > 0) {
                        if (p.name && field_is_quotable(p.field))
                                snprintf(error, error_size, "%s \"%.*s\" %s", p.name, (int) p.field.len, p.field.text,
                                         p.predicate);
                        else
                                snprintf(error, error_size, "%s", p.message);
                }
                if (ret_kind)
                        *ret_kind = p.kind;
                return r;
        }
        if (ret)
                *ret = sel;
        return 0;
}

char *vb_selector_format(const VbSelector *s, char buf[static VB_SELECTOR_STRING_MAX]) {
        switch (s->type) {
        case VB_SELECTOR_ADDRESS:
                snprintf(buf, VB_SELECTOR_STRING_MAX, "%04x:%02x:%02x.%u", (unsigned) s->address.domain,
                         (unsigned) s->address.bus, (unsigned) (s->address.slot & 0x1f),
                         (unsigned) (s->address.function & 0x7));
                break;
        case VB_SELECTOR_SLOT:
                snprintf(buf, VB_SELECTOR_STRING_MAX, "%04x:%02x:%02x", (unsigned) s->address.domain,
                         (unsigned) s->address.bus, (unsigned) (s->address.slot & 0x1f));
                break;
        case VB_SELECTOR_ID:
                snprintf(buf, VB_SELECTOR_STRING_MAX, "%04x:%04x", (unsigned) s->vendor, (unsigned) s->device);
                break;
        default:
                snprintf(buf, VB_SELECTOR_STRING_MAX, "(invalid)");
        }
        return buf;
}

bool vb_selector_equal(const VbSelector *a, const VbSelector *b) {
        if (a->type != b->type)
                return false;
        switch (a->type) {
        case VB_SELECTOR_ADDRESS:
                return vb_pci_address_equal(&a->address, &b->address);
        case VB_SELECTOR_SLOT:
                return a->address.domain == b->address.domain && a->address.bus == b->address.bus &&
                       a->address.slot == b->address.slot;
        case VB_SELECTOR_ID:
                return a->vendor == b->vendor && a->device == b->device;
        default:
                return false;
        }
}

uint64_t vb_selector_key(const VbSelector *s) {
        /* The type in bits 48 and up; below it the 32-bit domain (bits 16-47), bus, slot and
         * function, or vendor and device. */
        uint64_t k = (uint64_t) s->type << 48;

        switch (s->type) {
        case VB_SELECTOR_ADDRESS:
                return k | (uint64_t) s->address.domain << 16 | (uint64_t) s->address.bus << 8 |
                       (uint64_t) (s->address.slot & 0x1f) << 3 | (s->address.function & 0x7);
        case VB_SELECTOR_SLOT:
                return k | (uint64_t) s->address.domain << 16 | (uint64_t) s->address.bus << 8 |
                       (uint64_t) (s->address.slot & 0x1f) << 3;
        case VB_SELECTOR_ID:
                return k | (uint64_t) s->vendor << 16 | s->device;
        default:
                return k;
        }
}

bool vb_selector_match(const VbSelector *s, const VbPciAddress *address, uint16_t vendor, uint16_t device) {
        switch (s->type) {
        case VB_SELECTOR_ADDRESS:
                return vb_pci_address_equal(&s->address, address);
        case VB_SELECTOR_SLOT:
                return s->address.domain == address->domain && s->address.bus == address->bus &&
                       s->address.slot == address->slot;
        case VB_SELECTOR_ID:
                return s->vendor == vendor && s->device == device;
        default:
                return false;
        }
}

static const char *const selector_type_table[_VB_SELECTOR_TYPE_MAX] = {
        [VB_SELECTOR_ADDRESS] = "address",
        [VB_SELECTOR_SLOT] = "slot",
        [VB_SELECTOR_ID] = "id",
};

const char *vb_selector_type_to_string(VbSelectorType t) {
        if (t < 0 || t >= _VB_SELECTOR_TYPE_MAX)
                return NULL;
        return selector_type_table[t];
}

VbSelectorType vb_selector_type_from_string(const char *s) {
        if (!s)
                return _VB_SELECTOR_TYPE_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(selector_type_table); i++)
                if (streq(s, selector_type_table[i]))
                        return (VbSelectorType) i;
        return _VB_SELECTOR_TYPE_INVALID;
}
