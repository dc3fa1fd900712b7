/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "platform.h"

/* The whole program; PLATFORM NULL means the real machine. Returns the exit code. */
int vbc_main(int argc, char **argv, const VbPlatform *platform);
