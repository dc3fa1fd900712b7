#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# make-index.sh OUT CC DEPMOD: a real module index for tests/test-driver-choice.c. Builds tiny
# modules that hold only a .modinfo section (their aliases and names, as file2alias writes them
# for PCI_DRIVER_OVERRIDE_DEVICE_VFIO() table entries) under OUT/lib/modules/9.9.9/ and runs
# depmod on them, so that libkmod looks them up as it looks up a kernel's.
set -eu
out=$1 cc=$2 depmod=$3
dir=$out/lib/modules/9.9.9
rm -rf "$out"
mkdir -p "$dir/kernel"

# module FILE ALIAS...
module() {
        file=$1
        shift
        info=""
        for a in "$@"; do info="$info\"alias=$a\\0\" "; done
        printf 'static const char __attribute__((section(".modinfo"), used, aligned(1))) info[] = %s"license=GPL";\n' \
                "$info" >"$out/$file.c"
        $cc -c "$out/$file.c" -o "$dir/kernel/$file.ko"
        rm -f "$out/$file.c"
}

module vfio-pci 'vfio_pci:v*d*sv*sd*bc*sc*i*'
module virtio-vfio-pci 'vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i*'
# more specific than virtio-vfio-pci for one subsystem
module sub-vfio-pci 'vfio_pci:v00001AF4d00001041sv00001AF4sd00001100bc*sc*i*' 'vfio_pci:v00001AF4d0000FFFFsv*sd*bc*sc*i*'
# two modules as specific as each other for 8086:1234
module zeta-vfio-pci 'vfio_pci:v00008086d00001234sv*sd*bc*sc*i*'
module alpha-vfio-pci 'vfio_pci:v00008086d00001234sv*sd*bc*sc*i*'
# a host driver's alias: not a vfio_pci: one, never a candidate
module e1000e 'pci:v00008086d00001234sv*sd*bc*sc*i*'
"$depmod" -b "$out" 9.9.9 2>/dev/null
test -s "$dir/modules.alias.bin"
