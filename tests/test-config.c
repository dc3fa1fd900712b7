/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration parser: values, every kind of error with its FILE:LINE, drop-ins, the kernel
 * command line, durations, and the corpora under tests/configs/{good,bad}.
 *
 * tests/configs/bad/NAME.conf starts with one "# expect: LINE: TEXT" line per error, in order;
 * "%FILE%" in TEXT stands for the file's own path. tests/configs/bad/NAME.d/ holds main.conf,
 * conf.d/ and a file "expect" with one "RELPATH:LINE: TEXT" line per error ("%DIR%" stands for
 * the case directory; LINE 0 means the file as a whole). The test asserts the exact number of
 * errors and, for each, the "PATH:LINE: " prefix and TEXT.
 */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdline.h"
#include "config.h"
#include "load.h"
#include "macro.h"
#include "tests.h"
#include "tree.h"

static VbConfig *config_new_or_die(void) {
        VbConfig *c = NULL;

        if (vb_config_new(&c) < 0 || !c)
                TEST_FAIL("vb_config_new() failed");
        return c;
}

/* Shared state, freed after every test (TEARDOWN below), so that a failing assertion (longjmp)
 * leaks nothing into the next test or the leak checker's report at exit. */
static VbConfig *cfg;
static VbDiagnostics diag;

static void reset(void) {
        cfg = vb_config_free(cfg);
        vb_diagnostics_clear(&diag);
        cfg = config_new_or_die();
}

static void dump_diag(void) {
        for (size_t i = 0; i < diag.n; i++)
                fprintf(stderr, "    diag[%zu] = %s\n", i, diag.messages[i]);
}

#define ASSERT_DIAG_N(expected)                                                                      \
        do {                                                                                         \
                if (diag.n != (size_t) (expected)) {                                                 \
                        dump_diag();                                                                 \
                        TEST_FAIL("expected %zu diagnostics, got %zu", (size_t) (expected), diag.n); \
                }                                                                                    \
        } while (0)

static int parse(const char *text) {
        return vb_config_parse_text(cfg, "test.conf", text, strlen(text), &diag);
}

static char *path_join(const char *a, const char *b) {
        char *p;

        if (asprintf(&p, "%s/%s", a, b) < 0)
                TEST_FAIL("out of memory");
        return p;
}

static char *read_all(const char *path, size_t *ret_len) {
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        if (!f)
                TEST_FAIL("cannot open %s: %m", path);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t) n + 1);
        if (!buf || fread(buf, 1, (size_t) n, f) != (size_t) n) {
                fclose(f);
                free(buf);
                TEST_FAIL("cannot read %s", path);
        }
        fclose(f);
        buf[n] = '\0';
        if (ret_len)
                *ret_len = (size_t) n;
        return buf;
}

/* Replace every TOKEN in S by VALUE. */
static char *replace(const char *s, const char *token, const char *value) {
        size_t tl = strlen(token), vl = strlen(value), n = 0;
        char *out, *o;

        for (const char *p = strstr(s, token); p; p = strstr(p + tl, token))
                n++;
        out = malloc(strlen(s) + n * vl + 1);
        if (!out)
                TEST_FAIL("out of memory");
        o = out;
        for (;;) {
                const char *p = strstr(s, token);
                if (!p)
                        break;
                memcpy(o, s, (size_t) (p - s));
                o += p - s;
                memcpy(o, value, vl);
                o += vl;
                s = p + tl;
        }
        strcpy(o, s);
        return out;
}

typedef struct Expect {
        char *prefix; /* "PATH:LINE: ", LINE 0 for the file as a whole */
        char *text;
} Expect;

static Expect expects[64];
static size_t n_expects;

static void expects_clear(void) {
        for (size_t i = 0; i < n_expects; i++) {
                free(expects[i].prefix);
                free(expects[i].text);
        }
        n_expects = 0;
}

static void expect_add(const char *path, unsigned line, const char *text, const char *token, const char *value) {
        Expect *e;

        if (n_expects >= ELEMENTSOF(expects))
                TEST_FAIL("too many expectations");
        e = &expects[n_expects++];
        *e = (Expect) {};
        if (asprintf(&e->prefix, "%s:%u: ", path, line) < 0)
                TEST_FAIL("out of memory");
        e->text = replace(text, token, value);
}

static unsigned parse_line_number(const char *s, char **end) {
        unsigned long v;

        errno = 0;
        v = strtoul(s, end, 10);
        if (errno != 0 || *end == s || **end != ':' || v > UINT_MAX)
                TEST_FAIL("bad line number in expectation: \"%s\"", s);
        return (unsigned) v;
}

/* "# expect: LINE: TEXT" lines at the top of a single-file case. */
static void expects_read_file(const char *path) {
        _cleanup_free_ char *text = read_all(path, NULL);
        char *line = text;

        expects_clear();
        while (strneq(line, "# expect: ", 10)) {
                char *nl = strchr(line, '\n'), *end;
                unsigned n;

                if (!nl)
                        TEST_FAIL("%s: unterminated expectation", path);
                *nl = '\0';
                n = parse_line_number(line + 10, &end);
                if (!strneq(end, ": ", 2))
                        TEST_FAIL("%s: bad expectation \"%s\"", path, line);
                expect_add(path, n, end + 2, "%FILE%", path);
                line = nl + 1;
        }
        if (n_expects == 0)
                TEST_FAIL("%s: no \"# expect:\" line", path);
}

/* "RELPATH:LINE: TEXT" lines in DIR/expect. */
static void expects_read_dir(const char *dir) {
        _cleanup_free_ char *file = path_join(dir, "expect");
        _cleanup_free_ char *text = read_all(file, NULL);
        char *save = NULL;

        expects_clear();
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *path = NULL;
                char *colon = strchr(line, ':'), *end;
                unsigned n;

                if (!colon)
                        TEST_FAIL("%s: bad expectation \"%s\"", file, line);
                *colon = '\0';
                path = path_join(dir, line);
                n = parse_line_number(colon + 1, &end);
                if (!strneq(end, ": ", 2))
                        TEST_FAIL("%s: bad expectation", file);
                expect_add(path, n, end + 2, "%DIR%", dir);
        }
        if (n_expects == 0)
                TEST_FAIL("%s: no expectations", file);
}

static void check_expects(const char *what, int r) {
        if (r != -EINVAL) {
                dump_diag();
                TEST_FAIL("%s: expected -EINVAL, got %d", what, r);
        }
        if (diag.n != n_expects) {
                dump_diag();
                TEST_FAIL("%s: expected %zu diagnostics, got %zu", what, n_expects, diag.n);
        }
        for (size_t i = 0; i < n_expects; i++) {
                const char *m = diag.messages[i];

                if (!strneq(m, expects[i].prefix, strlen(expects[i].prefix)) ||
                    !strstr(m + strlen(expects[i].prefix), expects[i].text)) {
                        dump_diag();
                        TEST_FAIL("%s: diagnostic %zu is \"%s\", expected \"%s…%s…\"", what, i, m, expects[i].prefix,
                                  expects[i].text);
                }
        }
        ASSERT_NULL(diag.messages[diag.n]);
}

/* The corpus listing, kept here so that a failing assertion does not leak it. */
static char **corpus_names;

static int name_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sorted entries of DIR other than "." and "..". */
static char **list_dir(const char *dir, size_t *ret_n) {
        DIR *d = opendir(dir);
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;

        if (!d)
                TEST_FAIL("cannot open %s: %m", dir);
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                names = realloc(names, (n + 2) * sizeof(char *));
                if (!names)
                        TEST_FAIL("out of memory");
                names[n++] = strdup(de->d_name);
                names[n] = NULL;
        }
        closedir(d);
        qsort(names, n, sizeof(char *), name_compare);
        *ret_n = n;
        return names;
}

static bool has_suffix(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

static char *data_path(const char *rel) {
        return path_join(test_data_dir(), rel);
}

TEARDOWN() {
        cfg = vb_config_free(cfg);
        vb_diagnostics_clear(&diag);
        expects_clear();
        strv_free(corpus_names);
        corpus_names = NULL;
}

/* ---- defaults, tables, helpers ---- */

TEST(defaults) {
        reset();
        ASSERT_EQ(cfg->n_selectors, 0);
        ASSERT_NULL(cfg->selectors);
        ASSERT_STREQ(cfg->driver, "auto");
        ASSERT_EQ(cfg->group, VB_GROUP_CHECK);
        ASSERT_TRUE(cfg->unbind_host);
        ASSERT_EQ(cfg->timeout_usec, 10 * 1000000);
        ASSERT_EQ(cfg->release, VB_RELEASE_AUTO);
        ASSERT_FALSE(cfg->disabled);
        ASSERT_NULL(cfg->files);
        for (int i = 0; i < _VB_SETTING_MAX; i++)
                ASSERT_NULL(cfg->origins[i].file);
        ASSERT_NULL(vb_config_free(NULL));
}

TEST(policy_strings) {
        static const char *const groups[] = { "check", "take", "ignore" };
        static const char *const releases[] = { "auto", "yes", "no" };

        for (int i = 0; i < _VB_GROUP_POLICY_MAX; i++) {
                ASSERT_STREQ(vb_group_policy_to_string(i), groups[i]);
                ASSERT_EQ(vb_group_policy_from_string(groups[i]), i);
        }
        for (int i = 0; i < _VB_RELEASE_POLICY_MAX; i++) {
                ASSERT_STREQ(vb_release_policy_to_string(i), releases[i]);
                ASSERT_EQ(vb_release_policy_from_string(releases[i]), i);
        }
        ASSERT_NULL(vb_group_policy_to_string(_VB_GROUP_POLICY_MAX));
        ASSERT_NULL(vb_group_policy_to_string(_VB_GROUP_POLICY_INVALID));
        ASSERT_NULL(vb_release_policy_to_string(_VB_RELEASE_POLICY_MAX));
        ASSERT_EQ(vb_group_policy_from_string("Check"), _VB_GROUP_POLICY_INVALID);
        ASSERT_EQ(vb_group_policy_from_string(""), _VB_GROUP_POLICY_INVALID);
        ASSERT_EQ(vb_group_policy_from_string(NULL), _VB_GROUP_POLICY_INVALID);
        ASSERT_EQ(vb_release_policy_from_string("true"), _VB_RELEASE_POLICY_INVALID);
        ASSERT_EQ(vb_release_policy_from_string(NULL), _VB_RELEASE_POLICY_INVALID);

        ASSERT_STREQ(vb_config_setting_to_string(VB_SETTING_DRIVER), "Driver");
        ASSERT_STREQ(vb_config_setting_to_string(VB_SETTING_UNBIND_HOST), "UnbindHost");
        ASSERT_STREQ(vb_config_setting_to_string(VB_SETTING_RELEASE), "Release");
        ASSERT_NULL(vb_config_setting_to_string(_VB_SETTING_MAX));
}

TEST(booleans) {
        static const char *const yes[] = { "yes", "true", "on", "1", "YES", "True", "On" };
        static const char *const no[] = { "no", "false", "off", "0", "NO", "False", "OFF" };
        static const char *const bad[] = { "", "y", "n", "2", "yes ", " no", "enable", "10", "-1" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                ASSERT_EQ(vb_parse_boolean(yes[i]), 1);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                ASSERT_EQ(vb_parse_boolean(no[i]), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (vb_parse_boolean(bad[i]) != -EINVAL)
                        TEST_FAIL("\"%s\" was accepted as a boolean", bad[i]);
        ASSERT_ERRNO(vb_parse_boolean(NULL), EINVAL);
}

TEST(driver_names) {
        static const char *const good[] = {
                "vfio-pci", "pci-stub", "snd_hda_intel",
                "xhci_hcd", "a",        "A.b-c_d",
                "a..b",     "...",      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 64 */
        };
        static const char *const bad[] = {
                "",
                ".",
                "..",
                "/",
                "vfio/pci",
                "../vfio-pci",
                "vfio-pci/",
                "/sys/bus/pci",
                "vfio pci",
                "vfio-pci\n",
                "vfio\tpci",
                "vfio-pcí",
                "vfio;pci",
                "vfio$pci",
                "\"vfio-pci\"",
                "*",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
                "-1",
                "-",
                "--help",
                "vfio_pci", /* the module; the driver is vfio-pci */
                "pci_stub",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!vb_driver_name_is_valid(good[i]))
                        TEST_FAIL("\"%s\" was rejected", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (vb_driver_name_is_valid(bad[i]))
                        TEST_FAIL("\"%s\" was accepted", bad[i]);
        ASSERT_FALSE(vb_driver_name_is_valid(NULL));
        ASSERT_EQ(strlen(good[ELEMENTSOF(good) - 1]), VB_DRIVER_NAME_MAX);
        ASSERT_CONTAINS(vb_driver_name_problem("vfio_pci"), "did you mean vfio-pci?");
        ASSERT_CONTAINS(vb_driver_name_problem("pci_stub"), "did you mean pci-stub?");
        ASSERT_CONTAINS(vb_driver_name_problem("-1"), "starts with");
}

/* Suggestions by spelling, not only by case. */
TEST(near_misses_are_suggested) {
        static const struct {
                const char *text, *expect;
        } cases[] = {
                { "[Bind]\nDevices=01:00.0\n",
                  "test.conf:2: unknown key \"Devices\" in section [Bind] (did you mean Device=?)" },
                { "[Bind]\nTimout=5s\n",
                  "test.conf:2: unknown key \"Timout\" in section [Bind] (did you mean Timeout=?)" },
                { "[Console]\nRelase=yes\n",
                  "test.conf:2: unknown key \"Relase\" in section [Console] (did you mean Release=?)" },
                { "[Bind]\nRelase=yes\n",
                  "test.conf:2: unknown key \"Relase\" in section [Bind] (did you mean Release= in [Console]?)" },
                { "[Bind]\ndevice=01:00.0\n",
                  "test.conf:2: unknown key \"device\" in section [Bind] (did you mean Device=?)" },
                { "[Bind]\nUnbindHots=yes\n",
                  "test.conf:2: unknown key \"UnbindHots\" in section [Bind] (did you mean UnbindHost=?)" },
                { "[Bnid]\n", "test.conf:1: unknown section \"Bnid\" (did you mean [Bind]?)" },
                { "[Consle]\n", "test.conf:1: unknown section \"Consle\" (did you mean [Console]?)" },
                { "[Bind]\nFoo=1\n", "test.conf:2: unknown key \"Foo\" in section [Bind]" },
                { "[Bind]\nDriverX=vfio-pci\n",
                  "test.conf:2: unknown key \"DriverX\" in section [Bind] (did you mean Driver=?)" },
                { "[Network]\n", "test.conf:1: unknown section \"Network\" (expected [Bind], [Console] or [Handoff])" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                reset();
                ASSERT_ERRNO(parse(cases[i].text), EINVAL);
                ASSERT_DIAG_N(1);
                ASSERT_STREQ(diag.messages[0], cases[i].expect);
        }
}

/* "[Bind" without "]" is still the [Bind] section: the errors after it are reported too. */
TEST(unclosed_header_hides_nothing) {
        reset();
        ASSERT_ERRNO(parse("[Bind\nDevices=01:00.0\nGroup=maybe\nDevice=01:00.0\n"), EINVAL);
        ASSERT_DIAG_N(3);
        ASSERT_CONTAINS(diag.messages[0], "test.conf:1: section header \"[Bind\" is not closed");
        ASSERT_CONTAINS(diag.messages[1], "test.conf:2: unknown key \"Devices\"");
        ASSERT_CONTAINS(diag.messages[2], "test.conf:3: invalid value \"maybe\" for Group=");
        ASSERT_EQ(cfg->n_selectors, 1);
}

/* A drop-in that is a link to a file kept from others (/etc/shadow) is refused unread: none of
 * its lines is quoted. A link to a file anyone may read is read (packages, NixOS), and so is a
 * link to /dev/null (masked). */
TEST(dropin_link_to_a_secret_is_not_read) {
        _cleanup_free_ char *dir = NULL, *d = NULL, *secret = NULL, *open_file = NULL, *link = NULL;
        const char *tmp = getenv("TMPDIR");

        reset();
        ASSERT_TRUE(asprintf(&dir, "%s/vb-config-XXXXXX", tmp && *tmp ? tmp : "/tmp") > 0);
        ASSERT_TRUE(mkdtemp(dir));
        d = path_join(dir, "conf.d");
        ASSERT_OK(mkdir(d, 0755) < 0 ? -errno : 0);
        secret = path_join(dir, "shadow");
        ASSERT_OK(tree_write(dir, "shadow", "root:$y$j9T$SECRETHASH:19000:0:99999:7:::\n"));
        ASSERT_OK(chmod(secret, 0640) < 0 ? -errno : 0);
        open_file = path_join(dir, "public.conf");
        ASSERT_OK(tree_write(dir, "public.conf", "[Bind]\nDevice=02:00.0\n"));
        ASSERT_OK(chmod(open_file, 0644) < 0 ? -errno : 0);
        ASSERT_OK(tree_symlink(dir, secret, "conf.d/10-evil.conf"));
        ASSERT_OK(tree_symlink(dir, open_file, "conf.d/20-public.conf"));
        ASSERT_OK(tree_symlink(dir, "/dev/null", "conf.d/30-masked.conf"));

        ASSERT_ERRNO(vb_config_load(cfg, NULL, false, d, &diag), EINVAL);
        ASSERT_DIAG_N(1);
        link = path_join(d, "10-evil.conf");
        ASSERT_CONTAINS(diag.messages[0], link);
        ASSERT_CONTAINS(diag.messages[0],
                        "is a symbolic link to a file that not everyone may read (mode 0640); not read");
        ASSERT_NOT_CONTAINS(diag.messages[0], "SECRET");
        ASSERT_NOT_CONTAINS(diag.messages[0], "root:");
        ASSERT_EQ(cfg->n_selectors, 1); /* 20-public.conf was read */
        ASSERT_OK(tree_remove(dir));
}

/* A module's name where the driver's is meant is an error of the file, at its line. */
TEST(driver_module_name_is_refused_with_a_suggestion) {
        reset();
        ASSERT_ERRNO(parse("[Bind]\nDevice=01:00.0\nDriver=vfio_pci\n"), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_STREQ(diag.messages[0],
                     "test.conf:3: invalid driver name \"vfio_pci\": is the module's name, not the "
                     "driver's (did you mean vfio-pci?)");
}

TEST(durations) {
        static const struct {
                const char *s;
                uint64_t usec;
        } good[] = {
                { "10s", 10000000 },
                { "500ms", 500000 },
                { "1min 30s", 90000000 },
                { "1min30s", 90000000 },
                { "2m", 120000000 },
                { "2min", 120000000 },
                { "1.5s", 1500000 },
                { "0.25s", 250000 },
                { "0", 0 },
                { "0s", 0 },
                { "10", 10000000 },
                { "1.5", 1500000 },
                { "1h", UINT64_C(3600000000) },
                { "1h 1min 1s 1ms 1us", UINT64_C(3661001001) },
                { "7us", 7 },
                { "7usec", 7 },
                { "7msec", 7000 },
                { "3sec", 3000000 },
                { "  5s  ", 5000000 },
                { "5 s", 5000000 },
                { "\t5s\t", 5000000 },
                { "1.0000001s", 1000000 }, /* below a microsecond: dropped */
                { "1.5us", 1 },
                { "0.000001s", 1 },
                { "00010s", 10000000 },
                { "301s", 301000000 }, /* the parser has no limit; Timeout= has */
                { "18446744073709551615us", UINT64_MAX },
        };
        static const struct {
                const char *s;
                int error;
        } bad[] = {
                { "", EINVAL },
                { "   ", EINVAL },
                { "-1", EINVAL },
                { "-1s", EINVAL },
                { "1s -1s", EINVAL },
                { "s", EINVAL },
                { "ms", EINVAL },
                { "1.s", EINVAL },
                { ".5s", EINVAL },
                { "infinity", EINVAL },
                { "inf", EINVAL },
                { "Infinity", EINVAL },
                { "1x", EINVAL },
                { "1d", EINVAL },
                { "1S", EINVAL },
                { "1 2x", EINVAL },
                { "1s-", EINVAL },
                { "1e3", EINVAL },
                { "0x10", EINVAL },
                { "1,5s", EINVAL },
                { "+1s", EINVAL },
                { "1s!", EINVAL },
                { "soon", EINVAL },
                { "18446744073709551616us", ERANGE },
                { "18446744073709551615s", ERANGE },
                { "99999999999999999999999999999s", ERANGE },
                { "18446744073709551615us 1us", ERANGE },
        };
        uint64_t v;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                v = 12345;
                if (vb_parse_duration(good[i].s, &v) < 0)
                        TEST_FAIL("\"%s\" was rejected", good[i].s);
                if (v != good[i].usec)
                        TEST_FAIL("\"%s\": %" PRIu64 " us, expected %" PRIu64, good[i].s, v, good[i].usec);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                v = 12345;
                int r = vb_parse_duration(bad[i].s, &v);
                if (r != -bad[i].error)
                        TEST_FAIL("\"%s\": got %d, expected %d", bad[i].s, r, -bad[i].error);
                ASSERT_EQ(v, 12345); /* not written on failure */
        }
        ASSERT_ERRNO(vb_parse_duration(NULL, &v), EINVAL);
        ASSERT_OK(vb_parse_duration("1s", NULL));
}

TEST(timeout_limit) {
        reset();
        ASSERT_OK(parse("[Bind]\nTimeout=300s\n"));
        ASSERT_EQ(cfg->timeout_usec, VB_TIMEOUT_MAX_USEC);

        reset();
        ASSERT_OK(parse("[Bind]\nTimeout=5min\n"));
        ASSERT_EQ(cfg->timeout_usec, VB_TIMEOUT_MAX_USEC);

        reset();
        ASSERT_ERRNO(parse("[Bind]\nTimeout=300.000001s\n"), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_STREQ(diag.messages[0],
                     "test.conf:2: invalid duration \"300.000001s\" for Timeout=: longer than the limit of 300s");
        ASSERT_EQ(cfg->timeout_usec, VB_TIMEOUT_DEFAULT_USEC);

        reset();
        ASSERT_OK(parse("[Bind]\nTimeout=0\n"));
        ASSERT_EQ(cfg->timeout_usec, 0);

        reset();
        ASSERT_OK(parse("[Bind]\nTimeout=250ms\n"));
        ASSERT_EQ(cfg->timeout_usec, 250000);
}

TEST(diagnostics) {
        VbDiagnostics d = {};

        ASSERT_OK(vb_diagnostics_add(&d, "/etc/vfio-bind.conf", 3, "invalid %s \"%s\"", "thing", "x"));
        ASSERT_OK(vb_diagnostics_add(&d, "/etc/vfio-bind.conf.d", 0, "is not a directory"));
        ASSERT_EQ(d.n, 2);
        ASSERT_STREQ(d.messages[0], "/etc/vfio-bind.conf:3: invalid thing \"x\"");
        ASSERT_STREQ(d.messages[1], "/etc/vfio-bind.conf.d:0: is not a directory");
        ASSERT_NULL(d.messages[2]);
        vb_diagnostics_clear(&d);
        ASSERT_EQ(d.n, 0);
        ASSERT_NULL(d.messages);
        vb_diagnostics_clear(&d); /* twice is fine */
        vb_diagnostics_clear(NULL);
}

/* ---- parsing text ---- */

TEST(parse_values) {
        char buf[VB_SELECTOR_STRING_MAX];

        reset();
        ASSERT_OK(
                parse("[Bind]\n"
                      "Device=0000:0f:00.0 0f:00.1\n"
                      "Device = 10de:13c0\t0f:01\n"
                      "Driver=pci-stub\n"
                      "Group=ignore\n"
                      "UnbindHost=false\n"
                      "Timeout=2m\n"
                      "[Console]\n"
                      "Release=no\n"));
        ASSERT_DIAG_N(0);
        ASSERT_EQ(cfg->n_selectors, 4);
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[0].selector, buf), "0000:0f:00.0");
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[1].selector, buf), "0000:0f:00.1");
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[2].selector, buf), "10de:13c0");
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[3].selector, buf), "0000:0f:01");
        ASSERT_EQ(cfg->selectors[3].selector.type, VB_SELECTOR_SLOT);
        ASSERT_EQ(cfg->selectors[0].line, 2);
        ASSERT_EQ(cfg->selectors[1].line, 2);
        ASSERT_EQ(cfg->selectors[2].line, 3);
        ASSERT_STREQ(cfg->selectors[2].file, "test.conf");
        ASSERT_STREQ(cfg->driver, "pci-stub");
        ASSERT_EQ(cfg->group, VB_GROUP_IGNORE);
        ASSERT_FALSE(cfg->unbind_host);
        ASSERT_EQ(cfg->timeout_usec, 120000000);
        ASSERT_EQ(cfg->release, VB_RELEASE_NO);
        ASSERT_STREQ(cfg->origins[VB_SETTING_DRIVER].file, "test.conf");
        ASSERT_EQ(cfg->origins[VB_SETTING_DRIVER].line, 4);
        ASSERT_EQ(cfg->origins[VB_SETTING_RELEASE].line, 9);
        ASSERT_NULL(cfg->files); /* parse_text reads no file */
}

TEST(parse_text_edges) {
        reset();
        ASSERT_OK(vb_config_parse_text(cfg, "empty", NULL, 0, &diag));
        ASSERT_OK(vb_config_parse_text(cfg, "newline", "\n", 1, &diag));
        ASSERT_OK(vb_config_parse_text(cfg, "crlf", "\r\n\r\n", 4, &diag));
        ASSERT_OK(vb_config_parse_text(cfg, "spaces", " \t \n\t", 5, &diag));
        /* LEN is honoured: the text after it is not read */
        ASSERT_OK(vb_config_parse_text(cfg, "len", "[Bind]\nDevice=01:00.0garbage", 21, &diag));
        ASSERT_DIAG_N(0);
        ASSERT_EQ(cfg->n_selectors, 1);

        /* a byte-order mark is allowed on line 1 only */
        reset();
        ASSERT_OK(parse("\xef\xbb\xbf[Bind]\nDevice=01:00.0\n"));
        ASSERT_EQ(cfg->n_selectors, 1);
        reset();
        ASSERT_ERRNO(parse("[Bind]\n\xef\xbb\xbf[Console]\n"), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_CONTAINS(diag.messages[0],
                        "test.conf:2: expected KEY=VALUE or [Section], got \"\xef\xbb\xbf[Console]\"");

        /* comment markers only count at the start of a line or after whitespace */
        reset();
        ASSERT_OK(parse("[Bind]\n  ; indented\n\t# indented\nDevice=01:00.0 #x\n"));
        ASSERT_DIAG_N(0);
        ASSERT_EQ(cfg->n_selectors, 1);
        ASSERT_ERRNO(parse("[Bind]\nDevice=02:00.0 ;x\n"), EINVAL); /* ";x" is a (bad) selector */
        ASSERT_DIAG_N(1);
        ASSERT_CONTAINS(diag.messages[0], "test.conf:2: invalid device selector \";x\"");
        ASSERT_EQ(cfg->n_selectors, 2);
}

TEST(parse_collects_all_errors) {
        reset();
        ASSERT_ERRNO(parse("[Bind]\n"
                           "Device=0g:00.0 01:00.0 0f:20.0\n"
                           "Driver=vfio/pci\n"
                           "\n"
                           "Group=maybe\n"
                           "UnbindHost=perhaps\n"
                           "Timeout=forever\n"
                           "[Console]\n"
                           "Release=sometimes\n"
                           "[Nope]\n"
                           "Foo=bar\n"
                           "[Bind]\n"
                           "Device=1:0.0\n"),
                     EINVAL);
        ASSERT_DIAG_N(9);
        ASSERT_STREQ(diag.messages[0], "test.conf:2: invalid PCI address \"0g:00.0\": bus \"0g\" is not hexadecimal");
        ASSERT_STREQ(diag.messages[1],
                     "test.conf:2: invalid PCI address \"0f:20.0\": device \"20\" is out of range (00-1f)");
        ASSERT_STREQ(diag.messages[2], "test.conf:3: invalid driver name \"vfio/pci\": contains \"/\"");
        ASSERT_STREQ(diag.messages[3],
                     "test.conf:5: invalid value \"maybe\" for Group= (expected check, take or ignore)");
        ASSERT_STREQ(diag.messages[4], "test.conf:6: invalid boolean \"perhaps\" for UnbindHost= (expected yes or no)");
        ASSERT_STREQ(diag.messages[5],
                     "test.conf:7: invalid duration \"forever\" for Timeout=: is not a number followed by a unit");
        ASSERT_STREQ(diag.messages[6],
                     "test.conf:9: invalid value \"sometimes\" for Release= (expected auto, yes or no)");
        ASSERT_STREQ(diag.messages[7],
                     "test.conf:10: unknown section \"Nope\" (expected [Bind], [Console] or [Handoff])");
        ASSERT_STREQ(diag.messages[8],
                     "test.conf:13: duplicate selector \"1:0.0\" (0000:01:00.0), already listed at test.conf:2");

        /* bad values leave the defaults */
        ASSERT_STREQ(cfg->driver, "auto");
        ASSERT_EQ(cfg->group, VB_GROUP_CHECK);
        ASSERT_TRUE(cfg->unbind_host);
        ASSERT_EQ(cfg->timeout_usec, VB_TIMEOUT_DEFAULT_USEC);
        ASSERT_EQ(cfg->release, VB_RELEASE_AUTO);
        ASSERT_EQ(cfg->n_selectors, 1);
}

TEST(duplicate_setting_keeps_first) {
        reset();
        ASSERT_ERRNO(parse("[Bind]\nDriver=pci-stub\nDriver=vfio-pci\n"), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_STREQ(diag.messages[0], "test.conf:3: Driver= already set at test.conf:2");
        ASSERT_STREQ(cfg->driver, "pci-stub");

        /* across two texts (as main file and drop-in) */
        reset();
        ASSERT_OK(vb_config_parse_text(cfg, "a.conf", "[Console]\nRelease=yes\n", 22, &diag));
        ASSERT_ERRNO(vb_config_parse_text(cfg, "b.conf", "\n[Console]\nRelease=no\n", 22, &diag), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_STREQ(diag.messages[0], "b.conf:3: Release= already set at a.conf:2");
        ASSERT_EQ(cfg->release, VB_RELEASE_YES);

        /* an empty value still counts as setting the key */
        reset();
        ASSERT_ERRNO(parse("[Bind]\nGroup=\nGroup=take\n"), EINVAL);
        ASSERT_DIAG_N(2);
        ASSERT_STREQ(diag.messages[0], "test.conf:2: empty value for Group=");
        ASSERT_STREQ(diag.messages[1], "test.conf:3: Group= already set at test.conf:2");
}

TEST(quoting_in_messages) {
        reset();
        ASSERT_ERRNO(parse("[Bind]\nDriver=a\"b\\c\x01\x7f\n"), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_STREQ(diag.messages[0],
                     "test.conf:2: invalid driver name \"a\\\"b\\\\c\\x01\\x7f\": contains characters other than "
                     "letters, digits, \"_\", \".\" and \"-\"");

        /* long values are cut, at a character boundary */
        reset();
        ASSERT_ERRNO(parse("[Bind]\nDriver=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaé/x\n"),
                     EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_CONTAINS(diag.messages[0],
                        "\""
                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                        "é\"...: contains \"/\"");
        reset();
        ASSERT_ERRNO(parse("[Bind]\nDriver=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaé/x\n"),
                     EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_CONTAINS(diag.messages[0],
                        "\""
                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                        "\"...: contains \"/\"");
}

TEST(line_limits) {
        _cleanup_free_ char *text = NULL;
        size_t n = 100 * 1024;

        /* a 100 KB line between good lines: reported once, counting goes on */
        text = malloc(n + 64);
        ASSERT_TRUE(text);
        strcpy(text, "[Bind]\nDevice=");
        memset(text + 14, 'a', n - 7);
        strcpy(text + 14 + n - 7, "\nDevice=01:00.0\nDevice=0g:00.0\n");
        reset();
        ASSERT_ERRNO(parse(text), EINVAL);
        ASSERT_DIAG_N(2);
        ASSERT_STREQ(diag.messages[0], "test.conf:2: line is too long (102400 bytes, the limit is 4096)");
        ASSERT_CONTAINS(diag.messages[1], "test.conf:4: invalid PCI address \"0g:00.0\"");
        ASSERT_EQ(cfg->n_selectors, 1);

        /* exactly at the limit is fine, one more byte is not */
        char line[VB_CONFIG_LINE_MAX + 2];
        memset(line, ' ', sizeof(line));
        line[0] = '#';
        reset();
        ASSERT_OK(vb_config_parse_text(cfg, "t", line, VB_CONFIG_LINE_MAX, &diag));
        ASSERT_ERRNO(vb_config_parse_text(cfg, "t", line, VB_CONFIG_LINE_MAX + 1, &diag), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_STREQ(diag.messages[0], "t:1: line is too long (4097 bytes, the limit is 4096)");
}

/* A fresh directory under $TMPDIR (build sandboxes may have no /tmp). */
static char *make_temp_dir(void) {
        const char *tmp = getenv("TMPDIR");
        char *dir;

        if (asprintf(&dir, "%s/test-config-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
                TEST_FAIL("out of memory");
        if (!mkdtemp(dir)) {
                free(dir);
                TEST_FAIL("mkdtemp() failed: %m");
        }
        return dir;
}

TEST(long_line_file) {
        _cleanup_free_ char *dir = make_temp_dir();
        _cleanup_free_ char *path = NULL;
        FILE *f;

        path = path_join(dir, "long.conf");
        f = fopen(path, "we");
        ASSERT_TRUE(f);
        fputs("[Bind]\nDevice=01:00.0\n# ", f);
        for (int i = 0; i < 100 * 1024; i++)
                fputc('x', f);
        fputs("\nDriver=../x\n", f);
        fclose(f);

        reset();
        ASSERT_ERRNO(vb_config_load(cfg, path, true, NULL, &diag), EINVAL);
        unlink(path);
        rmdir(dir);
        ASSERT_DIAG_N(2);
        ASSERT_TRUE(strneq(diag.messages[0], path, strlen(path)));
        ASSERT_CONTAINS(diag.messages[0], ":3: line is too long (102402 bytes, the limit is 4096)");
        ASSERT_CONTAINS(diag.messages[1], ":4: invalid driver name \"../x\"");
        ASSERT_EQ(cfg->n_selectors, 1);
}

TEST(error_cap) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0;

        text = malloc(300 * 8 + 16);
        ASSERT_TRUE(text);
        n += (size_t) sprintf(text, "[Bind]\n");
        for (int i = 0; i < 300; i++)
                n += (size_t) sprintf(text + n, "bogus\n");
        reset();
        ASSERT_ERRNO(parse(text), EINVAL);
        ASSERT_DIAG_N(VB_CONFIG_ERRORS_MAX + 1);
        ASSERT_STREQ(diag.messages[VB_CONFIG_ERRORS_MAX],
                     "test.conf:102: too many errors (100), not reading the rest of the file");

        /* the cap is per file: the next file reports its own errors */
        ASSERT_ERRNO(vb_config_parse_text(cfg, "next.conf", "x\n", 2, &diag), EINVAL);
        ASSERT_DIAG_N(VB_CONFIG_ERRORS_MAX + 2);
        ASSERT_CONTAINS(diag.messages[diag.n - 1], "next.conf:1: ");
}

TEST(selector_limit) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0, total = VB_CONFIG_SELECTORS_MAX + 2;

        text = malloc(total * 20 + 16);
        ASSERT_TRUE(text);
        n += (size_t) sprintf(text, "[Bind]\n");
        for (size_t i = 0; i < total; i++)
                n += (size_t) sprintf(text + n, "Device=%04zx:0001\n", i);
        reset();
        ASSERT_ERRNO(parse(text), EINVAL);
        ASSERT_EQ(cfg->n_selectors, VB_CONFIG_SELECTORS_MAX);
        ASSERT_DIAG_N(2);
        ASSERT_STREQ(diag.messages[0],
                     "test.conf:4098: too many selectors (the limit is 4096), not adding \"1000:0001\"");
}

/* Duplicates are found by value among thousands of selectors of all three kinds, whatever the
 * spelling, and each is reported with the line of the first; an address, its slot and an ID that
 * share digits are different selectors; Force= is a list of its own. */
TEST(duplicates_among_many) {
        enum {
                N = 1300
        };
        _cleanup_free_ char *text = NULL;
        size_t n = 0;
        unsigned line = 1;

        text = malloc((size_t) N * 3 * 24 + 64 * 40);
        ASSERT_TRUE(text);
        n += (size_t) sprintf(text, "[Bind]\n");
        for (unsigned i = 0; i < N; i++) {
                n += (size_t) sprintf(text + n, "Device=%04x:%02x:%02x.%u\n", i >> 8, i & 0xff, (i * 7) & 0x1f, i & 7);
                n += (size_t) sprintf(text + n, "Device=%04x:%02x:%02x\n", i >> 8, i & 0xff, (i * 7) & 0x1f);
                n += (size_t) sprintf(text + n, "Device=%04x:%04x\n", 0x1000 + i, i);
        }
        line += 3 * N;
        /* again, spelled differently: upper case, the short form where the domain is 0 */
        for (unsigned k = 0; k < 10; k++) {
                unsigned i = k * 127;
                if (i >> 8)
                        n += (size_t) sprintf(text + n, "Device=%04X:%02X:%02X.%u\n", i >> 8, i & 0xff, (i * 7) & 0x1f,
                                              i & 7);
                else
                        n += (size_t) sprintf(text + n, "Device=%x:%x.%u\n", i & 0xff, (i * 7) & 0x1f, i & 7);
                n += (size_t) sprintf(text + n, "Device=%04X:%02X:%02X\n", i >> 8, i & 0xff, (i * 7) & 0x1f);
                n += (size_t) sprintf(text + n, "Device=%04X:%04X\n", 0x1000 + i, i);
        }
        n += (size_t) sprintf(text + n, "Force=0000:00:00.0 0000:00:00\n");
        reset();
        ASSERT_ERRNO(parse(text), EINVAL);
        ASSERT_EQ(cfg->n_selectors, 3 * N);
        ASSERT_EQ(cfg->n_force, 2);
        ASSERT_DIAG_N(30);
        for (unsigned k = 0; k < 10; k++) {
                unsigned i = k * 127, first = 2 + 3 * i;
                char want[160];

                snprintf(want, sizeof(want), "test.conf:%u: duplicate selector ", line + 1 + 3 * k);
                ASSERT_CONTAINS(diag.messages[3 * k], want);
                snprintf(want, sizeof(want), "(%04x:%02x:%02x.%u), already listed at test.conf:%u", i >> 8, i & 0xff,
                         (i * 7) & 0x1f, i & 7, first);
                ASSERT_CONTAINS(diag.messages[3 * k], want);
                snprintf(want, sizeof(want), "(%04x:%02x:%02x), already listed at test.conf:%u", i >> 8, i & 0xff,
                         (i * 7) & 0x1f, first + 1);
                ASSERT_CONTAINS(diag.messages[3 * k + 1], want);
                snprintf(want, sizeof(want), "(%04x:%04x), already listed at test.conf:%u", 0x1000 + i, i, first + 2);
                ASSERT_CONTAINS(diag.messages[3 * k + 2], want);
        }
        /* the list keeps the order of the file */
        ASSERT_EQ(cfg->selectors[3 * 5].line, 2 + 3 * 5);
        ASSERT_EQ(cfg->selectors[3 * N - 1].selector.vendor, 0x1000 + N - 1);
}

/* Random bytes drawn from an alphabet rich in syntax: never a crash, never a result without a
 * diagnostic or a diagnostic without a result, every message prefixed with the name and a
 * line. (The real fuzzing is done with libFuzzer; this keeps the property in every test run.) */
TEST(random_input) {
        static const char *const pieces[] = {
                "[Bind]",       "[Console]",  "[",        "]",          "=",        "Device",
                "Driver",       "Group",      "Timeout",  "UnbindHost", "Release",  "0f:00.0",
                "10de:13c0",    "0000:0f:00", ":",        ".",          " ",        "\t",
                "\n",           "\n",         "\r",       "#",          ";",        "\0",
                "\xff",         "\xc3\xa9",   "\xe2\x82", "yes",        "take",     "1min",
                "30s",          "-",          "..",       "/",          "vfio-pci", "\"",
                "\xef\xbb\xbf",
        };
        uint64_t state = 0x2545f4914f6cdd1dULL;
        char buf[512];

        for (int round = 0; round < 3000; round++) {
                size_t len = 0;
                int r;

                for (;;) {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        size_t k = state % ELEMENTSOF(pieces);
                        size_t pl = k == 23 ? 1 : strlen(pieces[k]); /* the NUL piece */
                        if (len + pl > sizeof(buf) || (state >> 32) % 97 == 0)
                                break;
                        memcpy(buf + len, pieces[k], pl);
                        len += pl;
                }

                reset();
                r = vb_config_parse_text(cfg, "fuzz", buf, len, &diag);
                if (r != 0 && r != -EINVAL)
                        TEST_FAIL("round %d: unexpected result %d", round, r);
                if ((r == 0) != (diag.n == 0))
                        TEST_FAIL("round %d: result %d with %zu diagnostics", round, r, diag.n);
                for (size_t i = 0; i < diag.n; i++)
                        if (!strneq(diag.messages[i], "fuzz:", 5) || diag.messages[i][5] < '1' ||
                            diag.messages[i][5] > '9')
                                TEST_FAIL("round %d: bad diagnostic \"%s\"", round, diag.messages[i]);
                ASSERT_TRUE(vb_driver_name_is_valid(cfg->driver));
                ASSERT_INT(cfg->timeout_usec, <=, VB_TIMEOUT_MAX_USEC);
        }
}

/* ---- files ---- */

TEST(good_corpus) {
        _cleanup_free_ char *dir = data_path("configs/good");
        size_t n = 0, checked = 0;
        char **names;

        strv_free(corpus_names);
        names = corpus_names = list_dir(dir, &n);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = path_join(dir, names[i]);
                int r;

                reset();
                if (has_suffix(names[i], ".d")) {
                        _cleanup_free_ char *main_conf = path_join(path, "main.conf");
                        _cleanup_free_ char *conf_d = path_join(path, "conf.d");
                        r = vb_config_load(cfg, main_conf, false, conf_d, &diag);
                } else if (has_suffix(names[i], ".conf")) {
                        r = vb_config_load(cfg, path, true, NULL, &diag);
                        ASSERT_TRUE(cfg->files);
                        ASSERT_STREQ(cfg->files[0], path);
                        ASSERT_NULL(cfg->files[1]);
                } else
                        TEST_FAIL("unexpected entry %s in %s", names[i], dir);
                if (r != 0 || diag.n != 0) {
                        dump_diag();
                        TEST_FAIL("%s: expected no errors, got %d", path, r);
                }
                checked++;
        }
        corpus_names = NULL;
        strv_free(names);
        ASSERT_INT(checked, >=, 20);
}

TEST(bad_corpus) {
        _cleanup_free_ char *dir = data_path("configs/bad");
        size_t n = 0, checked = 0;
        char **names;

        strv_free(corpus_names);
        names = corpus_names = list_dir(dir, &n);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = path_join(dir, names[i]);
                int r;

                reset();
                if (has_suffix(names[i], ".d")) {
                        _cleanup_free_ char *main_conf = path_join(path, "main.conf");
                        _cleanup_free_ char *conf_d = path_join(path, "conf.d");
                        expects_read_dir(path);
                        r = vb_config_load(cfg, main_conf, false, conf_d, &diag);
                } else if (has_suffix(names[i], ".conf")) {
                        expects_read_file(path);
                        r = vb_config_load(cfg, path, true, NULL, &diag);
                } else
                        TEST_FAIL("unexpected entry %s in %s", names[i], dir);
                check_expects(path, r);
                checked++;
        }
        corpus_names = NULL;
        strv_free(names);
        expects_clear();
        ASSERT_INT(checked, >=, 50);
}

TEST(full_example) {
        _cleanup_free_ char *path = data_path("configs/good/full.conf");
        char buf[VB_SELECTOR_STRING_MAX];

        reset();
        ASSERT_OK(vb_config_load(cfg, path, true, NULL, &diag));
        ASSERT_DIAG_N(0);
        ASSERT_EQ(cfg->n_selectors, 4);
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[0].selector, buf), "0000:0f:00.0");
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[1].selector, buf), "0000:0f:00.1");
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[2].selector, buf), "0000:10:00");
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[3].selector, buf), "10de:13c0");
        ASSERT_EQ(cfg->selectors[0].line, 3);
        ASSERT_EQ(cfg->selectors[3].line, 5);
        ASSERT_STREQ(cfg->selectors[3].file, path);
        ASSERT_STREQ(cfg->driver, "vfio-pci");
        ASSERT_EQ(cfg->group, VB_GROUP_TAKE);
        ASSERT_FALSE(cfg->unbind_host);
        ASSERT_EQ(cfg->timeout_usec, 90000000);
        ASSERT_EQ(cfg->release, VB_RELEASE_YES);
}

TEST(good_file_values) {
        static const struct {
                const char *file;
                size_t n_selectors;
                const char *driver;
                uint64_t timeout_usec;
                VbReleasePolicy release;
        } cases[] = {
                { "minimal.conf", 1, "auto", 10000000, VB_RELEASE_AUTO },
                { "comments-and-whitespace.conf", 4, "auto", 10000000, VB_RELEASE_AUTO },
                { "all-selector-forms.conf", 10, "auto", 10000000, VB_RELEASE_AUTO },
                { "crlf.conf", 1, "auto", 500000, VB_RELEASE_NO },
                { "bom.conf", 1, "auto", 10000000, VB_RELEASE_AUTO },
                { "empty.conf", 0, "auto", 10000000, VB_RELEASE_AUTO },
                { "console-only.conf", 0, "auto", 10000000, VB_RELEASE_NO },
                { "timeout-fraction.conf", 1, "auto", 1500000, VB_RELEASE_AUTO },
                { "timeout-zero.conf", 1, "auto", 0, VB_RELEASE_AUTO },
                { "timeout-limit.conf", 1, "auto", 300000000, VB_RELEASE_AUTO },
                { "driver-pci-stub.conf", 1, "pci-stub", 10000000, VB_RELEASE_AUTO },
                { "driver-underscore.conf", 1, "snd_hda_intel", 10000000, VB_RELEASE_AUTO },
                { "repeated-sections.conf", 2, "auto", 10000000, VB_RELEASE_AUTO },
                { "no-trailing-newline.conf", 1, "auto", 10000000, VB_RELEASE_AUTO },
                { "inline-comment-tab.conf", 1, "vfio-pci", 10000000, VB_RELEASE_AUTO },
                { "long-line-4096.conf", 1, "auto", 10000000, VB_RELEASE_AUTO },
                { "utf8-comments.conf", 1, "auto", 10000000, VB_RELEASE_AUTO },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *rel = NULL, *path = NULL;

                if (asprintf(&rel, "configs/good/%s", cases[i].file) < 0)
                        TEST_FAIL("out of memory");
                path = data_path(rel);
                reset();
                if (vb_config_load(cfg, path, true, NULL, &diag) != 0) {
                        dump_diag();
                        TEST_FAIL("%s failed", path);
                }
                if (cfg->n_selectors != cases[i].n_selectors)
                        TEST_FAIL("%s: %zu selectors, expected %zu", path, cfg->n_selectors, cases[i].n_selectors);
                ASSERT_STREQ(cfg->driver, cases[i].driver);
                ASSERT_EQ(cfg->timeout_usec, cases[i].timeout_usec);
                ASSERT_EQ(cfg->release, cases[i].release);
        }

        /* the CRLF file's selector is read without the \r */
        _cleanup_free_ char *crlf = data_path("configs/good/crlf.conf");
        reset();
        ASSERT_OK(vb_config_load(cfg, crlf, true, NULL, &diag));
        ASSERT_EQ(cfg->selectors[0].line, 2);
        ASSERT_EQ(cfg->origins[VB_SETTING_RELEASE].line, 6);
}

TEST(all_selector_forms) {
        static const char *const expected[] = {
                "0000:0f:00.0", "0000:0f:00.1", "0000:10:00",    "0000:11:00",  "10de:13c0",
                "1002:abcd",    "0001:02:03.4", "10000:e1:00.0", "10000:e2:00", "ffffffff:ff:1f.7",
        };
        _cleanup_free_ char *path = data_path("configs/good/all-selector-forms.conf");
        char buf[VB_SELECTOR_STRING_MAX];

        reset();
        ASSERT_OK(vb_config_load(cfg, path, true, NULL, &diag));
        ASSERT_EQ(cfg->n_selectors, ELEMENTSOF(expected));
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                ASSERT_STREQ(vb_selector_format(&cfg->selectors[i].selector, buf), expected[i]);
                ASSERT_EQ(cfg->selectors[i].line, i + 2);
        }
}

TEST(dropins) {
        _cleanup_free_ char *dir = data_path("configs/good/dropins.d");
        _cleanup_free_ char *main_conf = path_join(dir, "main.conf");
        _cleanup_free_ char *conf_d = path_join(dir, "conf.d");
        _cleanup_free_ char *audio = path_join(conf_d, "10-audio.conf");
        _cleanup_free_ char *usb = path_join(conf_d, "20-usb.conf");
        _cleanup_free_ char *console = path_join(conf_d, "30-console.conf");
        _cleanup_free_ char *masked = path_join(conf_d, "50-masked.conf");
        char buf[VB_SELECTOR_STRING_MAX];

        reset();
        ASSERT_OK(vb_config_load(cfg, main_conf, true, conf_d, &diag));
        ASSERT_DIAG_N(0);

        /* read in name order; hidden, *.disabled and README skipped; /dev/null counts as empty */
        ASSERT_TRUE(cfg->files);
        ASSERT_STREQ(cfg->files[0], main_conf);
        ASSERT_STREQ(cfg->files[1], audio);
        ASSERT_STREQ(cfg->files[2], usb);
        ASSERT_STREQ(cfg->files[3], console);
        ASSERT_STREQ(cfg->files[4], masked);
        ASSERT_NULL(cfg->files[5]);

        ASSERT_EQ(cfg->n_selectors, 3);
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[0].selector, buf), "0000:0f:00.0");
        ASSERT_STREQ(cfg->selectors[0].file, main_conf);
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[1].selector, buf), "0000:0f:00.1");
        ASSERT_STREQ(cfg->selectors[1].file, audio);
        ASSERT_EQ(cfg->selectors[1].line, 2);
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[2].selector, buf), "0000:0f:00.2");
        ASSERT_STREQ(cfg->selectors[2].file, usb);
        ASSERT_EQ(cfg->selectors[2].line, 3);

        ASSERT_EQ(cfg->timeout_usec, 20000000);
        ASSERT_EQ(cfg->group, VB_GROUP_TAKE);
        ASSERT_STREQ(cfg->origins[VB_SETTING_GROUP].file, usb);
        ASSERT_EQ(cfg->origins[VB_SETTING_GROUP].line, 4);
        ASSERT_EQ(cfg->release, VB_RELEASE_YES);
        ASSERT_STREQ(cfg->driver, "auto"); /* the hidden file's Driver= was not read */
        ASSERT_NULL(cfg->origins[VB_SETTING_DRIVER].file);

        /* without the main file, the drop-ins alone */
        _cleanup_free_ char *missing = path_join(dir, "no-such.conf");
        reset();
        ASSERT_OK(vb_config_load(cfg, missing, false, conf_d, &diag));
        ASSERT_EQ(cfg->n_selectors, 2);
        ASSERT_STREQ(cfg->files[0], audio);

        /* a missing drop-in directory is fine */
        reset();
        ASSERT_OK(vb_config_load(cfg, main_conf, true, missing, &diag));
        ASSERT_EQ(cfg->n_selectors, 1);

        /* both NULL: nothing read */
        reset();
        ASSERT_OK(vb_config_load(cfg, NULL, false, NULL, &diag));
        ASSERT_NULL(cfg->files);
}

TEST(file_level_errors) {
        _cleanup_free_ char *dir = make_temp_dir();
        _cleanup_free_ char *missing = NULL, *fifo = NULL, *big = NULL, *unreadable = NULL;
        int fd;

        missing = path_join(dir, "missing.conf");

        /* a missing default file is fine, a missing explicit file is not */
        reset();
        ASSERT_OK(vb_config_parse_file(cfg, missing, false, &diag));
        ASSERT_DIAG_N(0);
        ASSERT_NULL(cfg->files);
        ASSERT_ERRNO(vb_config_parse_file(cfg, missing, true, &diag), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_TRUE(strneq(diag.messages[0], missing, strlen(missing)));
        ASSERT_STREQ(diag.messages[0] + strlen(missing), ":0: cannot open: No such file or directory");

        /* a directory */
        reset();
        ASSERT_ERRNO(vb_config_parse_file(cfg, dir, false, &diag), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_STREQ(diag.messages[0] + strlen(dir), ":0: is a directory, not a configuration file");

        /* a FIFO: refused without blocking */
        fifo = path_join(dir, "fifo.conf");
        ASSERT_EQ(mkfifo(fifo, 0600), 0);
        reset();
        ASSERT_ERRNO(vb_config_parse_file(cfg, fifo, true, &diag), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_STREQ(diag.messages[0] + strlen(fifo), ":0: is not a regular file");

        /* /dev/null: masked, empty */
        reset();
        ASSERT_OK(vb_config_parse_file(cfg, "/dev/null", true, &diag));
        ASSERT_STREQ(cfg->files[0], "/dev/null");
        /* another character device is not */
        ASSERT_ERRNO(vb_config_parse_file(cfg, "/dev/zero", true, &diag), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_STREQ(diag.messages[0], "/dev/zero:0: is not a regular file");

        /* too large */
        big = path_join(dir, "big.conf");
        fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_INT(fd, >=, 0);
        ASSERT_EQ(ftruncate(fd, VB_CONFIG_FILE_SIZE_MAX + 1), 0);
        close(fd);
        reset();
        ASSERT_ERRNO(vb_config_parse_file(cfg, big, true, &diag), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_STREQ(diag.messages[0] + strlen(big), ":0: is too large (1048577 bytes, the limit is 1048576)");

        /* unreadable: root reads everything, so only as another user */
        unreadable = path_join(dir, "unreadable.conf");
        fd = open(unreadable, O_WRONLY | O_CREAT | O_CLOEXEC, 0000);
        ASSERT_INT(fd, >=, 0);
        close(fd);
        reset();
        if (geteuid() != 0) {
                ASSERT_ERRNO(vb_config_parse_file(cfg, unreadable, false, &diag), EINVAL);
                ASSERT_DIAG_N(1);
                ASSERT_STREQ(diag.messages[0] + strlen(unreadable), ":0: cannot open: Permission denied");
        } else
                fprintf(stderr, "(running as root: the unreadable-file case cannot be checked)\n");

        /* the drop-in directory is a file */
        reset();
        ASSERT_ERRNO(vb_config_load(cfg, NULL, false, big, &diag), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_STREQ(diag.messages[0] + strlen(big), ":0: is not a directory");

        unlink(unreadable);
        unlink(big);
        unlink(fifo);
        rmdir(dir);
}

/* ---- kernel command line ---- */

TEST(cmdline_selectors) {
        char buf[VB_SELECTOR_STRING_MAX];

        reset();
        ASSERT_OK(vb_config_apply_cmdline(cfg,
                                          "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro "
                                          "vfio-bind.device=0f:00.0,10de:13c0 quiet "
                                          "vfio-bind.device=0000:10:00\n",
                                          &diag));
        ASSERT_DIAG_N(0);
        ASSERT_EQ(cfg->n_selectors, 3);
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[0].selector, buf), "0000:0f:00.0");
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[1].selector, buf), "10de:13c0");
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[2].selector, buf), "0000:10:00");
        ASSERT_STREQ(cfg->selectors[0].file, VB_CMDLINE_SOURCE);
        ASSERT_EQ(cfg->selectors[0].line, 1);
        ASSERT_FALSE(cfg->disabled);
        ASSERT_NULL(cfg->files);
}

TEST(cmdline_quotes) {
        char buf[VB_SELECTOR_STRING_MAX];

        reset();
        ASSERT_OK(vb_config_apply_cmdline(cfg,
                                          "init=/bin/sh foo=\"a b vfio-bind=off\" "
                                          "vfio-bind.device=\"0f:00.0, 0f:00.1\" "
                                          "\"vfio-bind.device=0f:00.2\" bar=\"x\"y",
                                          &diag));
        ASSERT_DIAG_N(0);
        ASSERT_FALSE(cfg->disabled); /* inside someone else's quoted value */
        ASSERT_EQ(cfg->n_selectors, 3);
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[1].selector, buf), "0000:0f:00.1");
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[2].selector, buf), "0000:0f:00.2");

        /* an unterminated quote runs to the end, as in the kernel */
        reset();
        ASSERT_ERRNO(vb_config_apply_cmdline(cfg, "vfio-bind.device=\"0f:00.0 quiet", &diag), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_CONTAINS(diag.messages[0], "invalid device selector \"quiet\" in vfio-bind.device=");
        ASSERT_EQ(cfg->n_selectors, 1);
        reset();
        ASSERT_OK(vb_config_apply_cmdline(cfg, "x=\" vfio-bind=off", &diag));
        ASSERT_FALSE(cfg->disabled);
}

TEST(cmdline_disabled) {
        static const char *const off[] = { "vfio-bind=off",
                                           "vfio-bind=0",
                                           "vfio-bind=no",
                                           "vfio-bind=false",
                                           "quiet vfio-bind=OFF splash",
                                           "vfio-bind=on vfio-bind=off" };
        static const char *const on[] = { "",
                                          "vfio-bind",
                                          "vfio-bind=on",
                                          "vfio-bind=1",
                                          "vfio-bind=off vfio-bind=yes",
                                          "novfio-bind=off",
                                          "vfio-binder=off",
                                          "vfio_bind=off",
                                          "VFIO-BIND=off" };

        for (size_t i = 0; i < ELEMENTSOF(off); i++) {
                reset();
                ASSERT_OK(vb_config_apply_cmdline(cfg, off[i], &diag));
                if (!cfg->disabled)
                        TEST_FAIL("\"%s\" did not disable", off[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(on); i++) {
                reset();
                ASSERT_OK(vb_config_apply_cmdline(cfg, on[i], &diag));
                if (cfg->disabled)
                        TEST_FAIL("\"%s\" disabled", on[i]);
        }
        reset();
        ASSERT_OK(vb_config_apply_cmdline(cfg, NULL, &diag));
        ASSERT_DIAG_N(0);
}

TEST(cmdline_errors) {
        reset();
        ASSERT_ERRNO(vb_config_apply_cmdline(cfg,
                                             "root=/dev/sda vfio-bind.device=0g:00.0,0f:00.1,,10de13c0 "
                                             "vfio-bind=maybe vfio-bind.device= vfio-bind.device "
                                             "vfio-bind.driver=pci-stub vfio-bind.device=0000:0f:00.1",
                                             &diag),
                     EINVAL);
        ASSERT_DIAG_N(7);
        ASSERT_STREQ(diag.messages[0],
                     "kernel command line:1: invalid PCI address \"0g:00.0\" in vfio-bind.device=: "
                     "bus \"0g\" is not hexadecimal");
        ASSERT_CONTAINS(diag.messages[1],
                        "kernel command line:1: invalid device selector \"10de13c0\" in vfio-bind.device=: "
                        "selector has no colon");
        ASSERT_STREQ(diag.messages[2],
                     "kernel command line:1: invalid boolean \"maybe\" for vfio-bind= (expected on or off)");
        ASSERT_STREQ(diag.messages[3], "kernel command line:1: empty value for vfio-bind.device=");
        ASSERT_STREQ(diag.messages[4], "kernel command line:1: empty value for vfio-bind.device=");
        ASSERT_STREQ(diag.messages[5],
                     "kernel command line:1: unknown option \"vfio-bind.driver\" "
                     "(expected vfio-bind= or vfio-bind.device=)");
        ASSERT_STREQ(diag.messages[6],
                     "kernel command line:1: duplicate selector \"0000:0f:00.1\" (0000:0f:00.1) in "
                     "vfio-bind.device=, already listed at kernel command line:1");
        ASSERT_EQ(cfg->n_selectors, 1);
        ASSERT_FALSE(cfg->disabled);

        /* bytes that are not UTF-8 are escaped in the message */
        reset();
        ASSERT_ERRNO(vb_config_apply_cmdline(cfg, "vfio-bind.device=\xff\x1b", &diag), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_STREQ(diag.messages[0],
                     "kernel command line:1: invalid device selector \"\\xff\\x1b\" in "
                     "vfio-bind.device=: selector has no colon (expected an address 0f:00.0, "
                     "a slot 0f:00 or a vendor:device ID 10de:13c0)");
}

TEST(cmdline_after_files) {
        _cleanup_free_ char *path = data_path("configs/good/minimal.conf");

        reset();
        ASSERT_OK(vb_config_load(cfg, path, true, NULL, &diag));
        ASSERT_ERRNO(vb_config_apply_cmdline(cfg, "vfio-bind.device=0f:00.1,0000:0f:00.0", &diag), EINVAL);
        ASSERT_DIAG_N(1);
        ASSERT_CONTAINS(diag.messages[0],
                        "kernel command line:1: duplicate selector \"0000:0f:00.0\" (0000:0f:00.0) "
                        "in vfio-bind.device=, already listed at ");
        ASSERT_CONTAINS(diag.messages[0], "/configs/good/minimal.conf:2");
        ASSERT_EQ(cfg->n_selectors, 2);
}

/* ---- PCI domains above ffff (Intel VMD) ---- */

TEST(vmd_domains_in_files) {
        static const char *const expected[] = {
                "10000:e1:00.0", "10000:e0:1d", "0000:e1:00.0", "1abcd:01:02.3", "ffffffff:ff:1f.7",
        };
        char buf[VB_SELECTOR_STRING_MAX];

        reset();
        ASSERT_OK(
                parse("[Bind]\n"
                      "Device=10000:e1:00.0 10000:E0:1D\n"
                      "Device=e1:00.0 1abcd:1:2.3\n"
                      "Force=00010000:e1:00.0\n"
                      "Device=ffffffff:ff:1f.7\n"));
        ASSERT_DIAG_N(0);
        ASSERT_EQ(cfg->n_selectors, ELEMENTSOF(expected));
        for (size_t i = 0; i < ELEMENTSOF(expected); i++)
                ASSERT_STREQ(vb_selector_format(&cfg->selectors[i].selector, buf), expected[i]);
        ASSERT_EQ(cfg->selectors[0].selector.address.domain, 0x10000);
        ASSERT_EQ(cfg->selectors[2].selector.address.domain, 0); /* the short form */
        ASSERT_EQ(cfg->n_force, 1);
        ASSERT_STREQ(vb_selector_format(&cfg->force[0].selector, buf), "10000:e1:00.0");

        reset();
        ASSERT_ERRNO(parse("[Bind]\n"
                           "Device=100000000:e1:00.0 000000000:e1:00.0 10000:e1:00.0\n"
                           "Device=0010000:E1:00.0\n"),
                     EINVAL);
        ASSERT_DIAG_N(3);
        ASSERT_STREQ(diag.messages[0],
                     "test.conf:2: invalid PCI address \"100000000:e1:00.0\": "
                     "domain \"100000000\" is out of range (0-ffffffff)");
        ASSERT_STREQ(diag.messages[1],
                     "test.conf:2: invalid PCI address \"000000000:e1:00.0\": "
                     "domain \"000000000\" has more than 8 hex digits");
        ASSERT_STREQ(diag.messages[2],
                     "test.conf:3: duplicate selector \"0010000:E1:00.0\" (10000:e1:00.0), "
                     "already listed at test.conf:2");
}

TEST(vmd_domains_on_the_command_line) {
        char buf[VB_SELECTOR_STRING_MAX];

        reset();
        ASSERT_OK(vb_config_apply_cmdline(cfg,
                                          "root=/dev/nvme0n1p2 vfio-bind.device=10000:e1:00.0,10000:e2:00 "
                                          "vfio-bind.device=ffffffff:ff:1f.7",
                                          &diag));
        ASSERT_DIAG_N(0);
        ASSERT_EQ(cfg->n_selectors, 3);
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[0].selector, buf), "10000:e1:00.0");
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[1].selector, buf), "10000:e2:00");
        ASSERT_EQ(cfg->selectors[1].selector.type, VB_SELECTOR_SLOT);
        ASSERT_STREQ(vb_selector_format(&cfg->selectors[2].selector, buf), "ffffffff:ff:1f.7");

        reset();
        ASSERT_ERRNO(vb_config_apply_cmdline(cfg, "vfio-bind.device=100000000:e1:00.0,10000:e1:00.0,00010000:e1:00.0",
                                             &diag),
                     EINVAL);
        ASSERT_DIAG_N(2);
        ASSERT_STREQ(diag.messages[0],
                     "kernel command line:1: invalid PCI address \"100000000:e1:00.0\" in "
                     "vfio-bind.device=: domain \"100000000\" is out of range (0-ffffffff)");
        ASSERT_STREQ(diag.messages[1],
                     "kernel command line:1: duplicate selector \"00010000:e1:00.0\" "
                     "(10000:e1:00.0) in vfio-bind.device=, already listed at kernel command line:1");
        ASSERT_EQ(cfg->n_selectors, 1);
}

TEST(handoff_stop_units) {
        _cleanup_(vb_diagnostics_clear) VbDiagnostics d = {};
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        static const char text[] =
                "[Handoff]\n"
                "StopUnits=display-manager.service nvidia-persistenced.service\n"
                "StopUnits=display-manager.service pipewire@1000.service\n"
                "StopUnits=gdm\n"
                "StopUnits=a/b.service .service\n";

        ASSERT_OK(vb_config_new(&c));
        ASSERT_ERRNO(vb_config_parse_text(c, "test.conf", text, strlen(text), &d), EINVAL);
        ASSERT_EQ(d.n, 3u);
        ASSERT_STREQ(d.messages[0],
                     "test.conf:4: invalid unit name \"gdm\" in StopUnits=: it has no unit type "
                     "(display-manager.service, not display-manager)");
        ASSERT_STREQ(d.messages[1],
                     "test.conf:5: invalid unit name \"a/b.service\" in StopUnits=: only letters, digits and "
                     "\":-_.\\@\" are allowed");
        ASSERT_STREQ(d.messages[2],
                     "test.conf:5: invalid unit name \".service\" in StopUnits=: it has no name before its type");
        ASSERT_EQ(c->n_stop_units, 3u);
        ASSERT_STREQ(c->stop_units[0], "display-manager.service");
        ASSERT_STREQ(c->stop_units[1], "nvidia-persistenced.service");
        ASSERT_STREQ(c->stop_units[2], "pipewire@1000.service");
        ASSERT_NULL(c->stop_units[3]);
}

TESTS_MAIN();
