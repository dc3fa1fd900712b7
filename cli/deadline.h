/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * bind and release under a deadline: no command hangs with a blocked sysfs write.
 *
 * The verb runs in a child process whose context reports every kernel write (and module load)
 * to this process before it starts and after it returns (cli/progress.h). A write that has not returned after
 * the deadline (the configuration's Timeout=, at least five seconds, as the daemon's run-time
 * binds) ends the command: it says which write hangs and where the device is now, kills the
 * child (which dies once the kernel lets the write return, before any further write) and exits
 * with VBC_EXIT_STUCK. The kernel cannot cancel such a write: the process stays in the kernel
 * (state D) until the driver lets go.
 */

#include "common.h"

#define VBC_EXIT_STUCK 3

/* Run VERB (vbc_bind or vbc_release) on ADDRESS in a child under the deadline. Returns the exit
 * code: the child's, or VBC_EXIT_STUCK. */
int vbc_run_with_deadline(VbcArgs *a, int (*verb)(const VbcArgs *, const char *), const char *address);
