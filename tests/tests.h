/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A tiny test framework: TEST(name) { … } registers a test; ASSERT_* print FILE:LINE and the
 * values, then fail the current test. TEARDOWN() { … } (at most one per file) runs after every
 * test, passed or failed. main() comes from TESTS_MAIN(). Exit 77 = skipped (say why with
 * test_skip()).
 */

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h" /* vb_coverage_exit(): how a forked child leaves */

typedef struct TestCase {
        const char *name;
        void (*fn)(void);
        struct TestCase *next;
} TestCase;

extern TestCase *test_cases;
extern jmp_buf test_jmp;
extern int test_failed;
extern void (*test_teardown)(void);

#define TEST(name)                                                            \
        static void test_##name(void);                                        \
        __attribute__((constructor)) static void test_register_##name(void) { \
                static TestCase tc = { #name, test_##name, NULL };            \
                TestCase **p = &test_cases;                                   \
                while (*p)                                                    \
                        p = &(*p)->next;                                      \
                *p = &tc;                                                     \
        }                                                                     \
        static void test_##name(void)

/* Runs after every test, also after one that failed (an ASSERT_* longjmps past the rest of the
 * test): free what the tests of a file keep in globals, stop what they started, so that one
 * failure does not leak into the next test or into the leak checker's report at exit. An
 * ASSERT_* in it fails the test that just ran. */
#define TEARDOWN()                                                              \
        static void test_teardown_fn(void);                                     \
        __attribute__((constructor)) static void test_register_teardown(void) { \
                test_teardown = test_teardown_fn;                               \
        }                                                                       \
        static void test_teardown_fn(void)

#define TEST_FAIL(...)                                          \
        do {                                                    \
                fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
                fprintf(stderr, __VA_ARGS__);                   \
                fputc('\n', stderr);                            \
                test_failed = 1;                                \
                longjmp(test_jmp, 1);                           \
        } while (0)

#define ASSERT_TRUE(expr)                                         \
        do {                                                      \
                if (!(expr))                                      \
                        TEST_FAIL("assertion failed: %s", #expr); \
        } while (0)
#define ASSERT_FALSE(expr) ASSERT_TRUE(!(expr))

#define ASSERT_INT(a, op, b)                                                                 \
        do {                                                                                 \
                intmax_t _a = (intmax_t) (a), _b = (intmax_t) (b);                           \
                if (!(_a op _b))                                                             \
                        TEST_FAIL("expected %s %s %s, got %jd vs %jd", #a, #op, #b, _a, _b); \
        } while (0)
#define ASSERT_EQ(a, b) ASSERT_INT(a, ==, b)
#define ASSERT_OK(expr)                                                         \
        do {                                                                    \
                intmax_t _r = (intmax_t) (expr);                                \
                if (_r < 0)                                                     \
                        TEST_FAIL("%s failed: %s", #expr, strerror((int) -_r)); \
        } while (0)
#define ASSERT_ERRNO(expr, err)                                                  \
        do {                                                                     \
                intmax_t _r = (intmax_t) (expr);                                 \
                if (_r != -(err))                                                \
                        TEST_FAIL("%s: expected -%s, got %jd", #expr, #err, _r); \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                                        \
        do {                                                                                                      \
                const char *_a = (a), *_b = (b);                                                                  \
                if (!_a || !_b || strcmp(_a, _b) != 0)                                                            \
                        TEST_FAIL("expected %s == %s: \"%s\" vs \"%s\"", #a, #b, _a ?: "(null)", _b ?: "(null)"); \
        } while (0)
#define ASSERT_NULL(a)                                           \
        do {                                                     \
                const void *_a = (a);                            \
                if (_a)                                          \
                        TEST_FAIL("expected %s to be NULL", #a); \
        } while (0)
#define ASSERT_CONTAINS(haystack, needle)                                                                      \
        do {                                                                                                   \
                const char *_h = (haystack), *_n = (needle);                                                   \
                if (!_h || !strstr(_h, _n))                                                                    \
                        TEST_FAIL("expected %s to contain \"%s\", got \"%s\"", #haystack, _n, _h ?: "(null)"); \
        } while (0)
#define ASSERT_NOT_CONTAINS(haystack, needle)                                                          \
        do {                                                                                           \
                const char *_h = (haystack), *_n = (needle);                                           \
                if (_h && strstr(_h, _n))                                                              \
                        TEST_FAIL("expected %s not to contain \"%s\", got \"%s\"", #haystack, _n, _h); \
        } while (0)

/* Skip the whole executable with a reason (exit 77). */
void test_skip(const char *format, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Directory of test data (tests/ in the source tree), from $VB_TEST_DATA or the build define. */
const char *test_data_dir(void);
/* CLOCK_MONOTONIC in milliseconds. */
int64_t test_now_ms(void);

#define TESTS_MAIN()                          \
        TestCase *test_cases = NULL;          \
        jmp_buf test_jmp;                     \
        int test_failed = 0;                  \
        void (*test_teardown)(void) = NULL;   \
        int main(int argc, char **argv) {     \
                return tests_run(argc, argv); \
        }

int tests_run(int argc, char **argv);
