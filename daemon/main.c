/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stddef.h>

#include "vfio-bindd.h"

int main(int argc, char **argv) {
        return vbd_main(argc, argv, NULL);
}
