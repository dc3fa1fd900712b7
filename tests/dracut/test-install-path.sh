#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Where `meson install` puts the dracut module: installs this build into a scratch DESTDIR
# (meson install --destdir, nothing rebuilt) and looks for 90vfio-bind where dracut reads its
# modules: the build's -Ddracutmodulesdir= if given, else dracut.pc's dracutmodulesdir as that
# dracut has it, else /usr/lib/dracut/modules.d, whatever the build's prefix (meson's default,
# /usr/local, is a place dracut never looks). Exit 77 (skipped) with -Ddracut=disabled.
#
# Usage: test-install-path.sh MESON BUILD_ROOT
set -euo pipefail

meson=$1
build=$2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

option() {
        "$meson" introspect --buildoptions "$build" |
                python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}

dracut=$(option dracut)
if [ "$dracut" = disabled ]; then
        echo "SKIP: -Ddracut=disabled installs no dracut module"
        exit 77
fi
prefix=$(option prefix)
want=$(option dracutmodulesdir)
if [ -z "$want" ]; then
        if pkg-config --exists dracut 2>/dev/null; then
                want=$(pkg-config --variable=dracutmodulesdir dracut)
        else
                want=/usr/lib/dracut/modules.d
        fi
fi

"$meson" install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >"$tmp/install.log" 2>&1 || {
        cat "$tmp/install.log" >&2
        echo "FAIL: meson install --destdir failed" >&2
        exit 1
}

failed=0
for f in module-setup.sh vfio-bind-initrd.service; do
        if [ -f "$tmp/root$want/90vfio-bind/$f" ]; then
                echo "ok - $want/90vfio-bind/$f"
        else
                echo "not ok - $want/90vfio-bind/$f is not installed (prefix $prefix)"
                failed=1
        fi
done
[ -x "$tmp/root$want/90vfio-bind/module-setup.sh" ] || { echo "not ok - module-setup.sh is not executable"; failed=1; }
# Nowhere else: one 90vfio-bind in the whole installation.
found=$(cd "$tmp/root" && find . -type d -name 90vfio-bind | sed 's|^\.||')
if [ "$found" != "$want/90vfio-bind" ]; then
        echo "not ok - 90vfio-bind installed at: $(echo $found); want only $want/90vfio-bind"
        failed=1
fi
exit $failed
