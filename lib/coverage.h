/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Coverage counts of a process that leaves with _exit(). A forked child that runs our code and
 * ends with _exit() skips the atexit handler that writes gcov's counts: in a coverage build
 * (-Db_coverage=true defines VB_COVERAGE, tools/coverage.sh) they are written first; any other
 * build does not link gcov and this is _exit(). */

#include <unistd.h>

#ifdef VB_COVERAGE
void __gcov_dump(void);
#endif

_Noreturn static inline void vb_coverage_exit(int status) {
#ifdef VB_COVERAGE
        __gcov_dump();
#endif
        _exit(status);
}
