/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <time.h>

#include "tests.h"

void test_skip(const char *format, ...) {
        va_list ap;

        fputs("SKIP: ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(77);
}

int64_t test_now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *test_data_dir(void) {
        const char *e = getenv("VB_TEST_DATA");
        if (e)
                return e;
#ifdef VB_TEST_DATA_DIR
        return VB_TEST_DATA_DIR;
#else
        return "tests";
#endif
}

/* setjmp() in a function of its own, whose locals do not change after it. */
static void run_guarded(void (*fn)(void)) {
        if (setjmp(test_jmp) == 0)
                fn();
}

static bool run_one(TestCase *t) {
        test_failed = 0;
        run_guarded(t->fn);
        if (test_teardown)
                run_guarded(test_teardown);
        return !test_failed;
}

int tests_run(int argc, char **argv) {
        unsigned passed = 0, failed = 0;
        const char *only = argc > 1 ? argv[1] : NULL;

        for (TestCase *t = test_cases; t; t = t->next) {
                if (only && strcmp(only, t->name) != 0)
                        continue;
                fprintf(stderr, "== %s\n", t->name);
                if (!run_one(t)) {
                        fprintf(stderr, "FAIL: %s\n", t->name);
                        failed++;
                } else {
                        fprintf(stderr, "ok: %s\n", t->name);
                        passed++;
                }
        }
        fprintf(stderr, "%u passed, %u failed\n", passed, failed);
        return failed ? 1 : 0;
}
