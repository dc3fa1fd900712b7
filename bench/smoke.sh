#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Smoke test of the fake-tree benchmark (a unit test; it checks results, never time): generate
# a 16-function tree, let vfio-bindd --once (through the fake kernel) and the floor each bind its
# quarter on a copy, and check that both left the selected functions on vfio-pci and the others
# on their host drivers, and that both made the same kernel calls.
#
# Usage: smoke.sh BENCH_TREE VFIO_BINDD_TEST

set -euo pipefail
tree=$1 daemon=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$tree" gen 16 "$work/template"
[[ $(wc -l <"$work/template/selected") == 4 ]] || { echo "expected 4 selected functions"; exit 1; }

for conf in addr id; do
        cp -a "$work/template" "$work/$conf"
        VB_FAKE_TREE=$work/$conf "$daemon" --once --config="$work/$conf/$conf.conf" 2>"$work/$conf.log" ||
                { cat "$work/$conf.log"; echo "vfio-bindd --once ($conf.conf) failed"; exit 1; }
        "$tree" verify "$work/$conf"
done
cp -a "$work/template" "$work/floor"
"$tree" floor "$work/floor"
"$tree" verify "$work/floor"

# The same writes in the same order (the daemon also asks for the module before each device).
grep -v '^load ' "$work/addr/fake-kernel.log" >"$work/addr.writes"
grep -v '^load ' "$work/floor/fake-kernel.log" >"$work/floor.writes"
diff -u "$work/floor.writes" "$work/addr.writes" || { echo "the daemon and the floor wrote different things"; exit 1; }
[[ $(wc -l <"$work/floor.writes") == 8 ]] || { echo "expected 8 writes (override and probe for 4 functions)"; exit 1; }
echo "ok: vfio-bindd --once and the floor bound the same 4 of 16 functions with the same 8 writes"
