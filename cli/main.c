/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stddef.h>

#include "vfio-bind.h"

int main(int argc, char **argv) {
        return vbc_main(argc, argv, NULL);
}
