/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A fake machine for a test: a copy of a fake tree, its fake kernel and a context on it. */

#include "address.h"
#include "fake-kernel.h"
#include "macro.h"
#include "tests.h"

typedef struct Machine {
        char *dir;
        FakeKernel *k;
        VbContext *ctx;
} Machine;

/* Copy CASE_NAME, append EXTRA_CONF (may be NULL) to its fake-kernel.conf. */
void machine_open(Machine *m, const char *case_name, const char *extra_conf);
/* Fails the test if the fake kernel saw a violation. */
void machine_close(Machine *m);
VbPciAddress machine_addr(const char *s);
/* The GPU at 0000:01:00.0 has a DRM card, card0, that Xorg (PID 812) of UNIT holds open. */
void machine_xorg_holds_card(Machine *m, const char *unit);

#define ASSERT_HISTORY(m, expected)                                    \
        do {                                                           \
                _cleanup_free_ char *_h = fake_kernel_history((m)->k); \
                ASSERT_STREQ(_h, (expected));                          \
        } while (0)

#define ASSERT_DRIVER(m, a, expected)                                      \
        do {                                                               \
                _cleanup_free_ char *_d = fake_kernel_driver((m)->k, (a)); \
                const char *_e = (expected);                               \
                if (_e)                                                    \
                        ASSERT_STREQ(_d, _e);                              \
                else                                                       \
                        ASSERT_NULL(_d);                                   \
        } while (0)

#define ASSERT_OVERRIDE(m, a, expected)                                      \
        do {                                                                 \
                _cleanup_free_ char *_o = fake_kernel_override((m)->k, (a)); \
                const char *_e = (expected);                                 \
                if (_e)                                                      \
                        ASSERT_STREQ(_o, _e);                                \
                else                                                         \
                        ASSERT_NULL(_o);                                     \
        } while (0)
