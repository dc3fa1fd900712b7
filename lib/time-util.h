/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)

/* CLOCK_MONOTONIC in microseconds. */
uint64_t vb_now_usec(void);
/* "10s", or "1500ms" when it is not whole seconds. */
char *vb_format_duration(uint64_t usec, char *buf, size_t size);
