#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tools/tree-dump.sh CASE OUT.tar [CONFIG]: the fake tree tests/sysfs/CASE as a vfio-bind dump, as
# `vfio-bind dump` would write it on a machine that looked like the tree (with CONFIG as its
# /etc/vfio-bind.conf, if given). Read it back with `vfio-bind --root=OUT.tar status`.
#
# VFIO_BIND: the vfio-bind program (default: build-dev/cli/vfio-bind, then build/cli/vfio-bind).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
if [[ $# -lt 2 || $# -gt 3 ]]; then
        echo "usage: $0 CASE OUT.tar [CONFIG]" >&2
        exit 2
fi
case=$1 out=$2 config=${3:-}
tree=$here/tests/sysfs/$case
if [[ ! -d $tree/sys ]]; then
        echo "$0: no fake tree $tree (cases: $(cd "$here/tests/sysfs" && ls -d */ | tr -d / | tr '\n' ' '))" >&2
        exit 1
fi
prog=${VFIO_BIND:-}
for p in "$here/build-dev/cli/vfio-bind" "$here/build/cli/vfio-bind"; do
        [[ -z $prog && -x $p ]] && prog=$p
done
if [[ -z $prog ]]; then
        echo "$0: no vfio-bind program: build it first, or set VFIO_BIND" >&2
        exit 1
fi

# The tree is a root already (sys/, proc/); the configuration goes beside it in a copy.
root=$(mktemp -d "${TMPDIR:-/tmp}/tree-dump.XXXXXX")
trap 'rm -rf "$root"' EXIT
cp -a "$tree/sys" "$tree/proc" "$root/"
if [[ -n $config ]]; then
        mkdir -p "$root/etc"
        cp "$config" "$root/etc/vfio-bind.conf"
fi
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0} "$prog" --root="$root" dump "$out"
