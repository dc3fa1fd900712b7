/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The child side of cli/deadline: a context whose kernel writes and module loads are reported,
 * one line each before it starts ("W\tPATH\tVALUE", "M\tDRIVER\t") and one after it returns
 * ("D\t\t"), to a pipe the parent watches.
 */

#include "context.h"

/* Route CTX's kernel writes through the report to FD (nothing when FD < 0). Returns 0. */
int vbc_progress_track_context(int fd, VbContext *ctx);
