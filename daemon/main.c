/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <malloc.h>
#include <stddef.h>

#include "vfio-bindd.h"

int main(int argc, char **argv) {
        /* One malloc arena: the bind worker thread allocates little, and an arena of its own
         * would map 64 MiB of address space and pages of its own. */
        (void) mallopt(M_ARENA_MAX, 1);
        return vbd_main(argc, argv, NULL);
}
