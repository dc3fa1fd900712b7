#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Line and branch coverage of lib/, daemon/ and cli/ by the unit suite.
#
#   nice -n 19 tools/coverage.sh                 the table: per file, per directory, in total
#   VB_COVERAGE_DIR=/tmp/c tools/coverage.sh     where the scratch copy lives (default .coverage/)
#
# The working tree is never changed: its files (as they are now, committed or not) are copied into
# a scratch directory as tools/mutate.sh does, built there as a debug build with
# -Db_coverage=true (no sanitizers), and the unit suite runs once (meson test --suite unit: no
# QEMU tests). The forked children that run our code and leave with _exit() write their counts
# first in such a build (lib/coverage.h), so cli/, which the tests run in a child, is counted.
# gcovr (Debian package gcovr, a developer dependency: tools/deps.sh dev) reads the counts; tests/
# and tests/fuzz/ are not counted. Writes the table to $dir/coverage.txt and gcovr's summary to
# $dir/coverage.json. Exit 1 if the build fails or gcovr is missing; a failing test is reported
# (the figures are then of a failing suite) and makes the exit status 1 too.
# A few minutes on two cores: not CI.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$PWD
dir=${VB_COVERAGE_DIR:-$top/.coverage}
tree=$dir/tree
build=$dir/build

if ! command -v gcovr >/dev/null; then
        echo "tools/coverage.sh: gcovr is missing (apt-get install gcovr, or tools/deps.sh dev)" >&2
        exit 1
fi

mkdir -p "$dir"
rm -rf "$tree"
mkdir -p "$tree"
# The tracked files and the new ones not ignored, as they are in the working tree now.
git ls-files -z --cached --others --exclude-standard | tar -C "$top" --null -T - -cf - | tar -C "$tree" -xf -

if [ ! -f "$build/build.ninja" ]; then
        meson setup "$build" "$tree" --buildtype=debug -Db_coverage=true -Dvm-tests=disabled -Dman-pages=disabled \
                -Dbench=false >"$dir/setup.log" 2>&1 || { cat "$dir/setup.log"; exit 1; }
fi
ninja -C "$build" >"$dir/build.log" 2>&1 || { tail -n 30 "$dir/build.log"; exit 1; }
# The counts of this run only.
find "$build" -name '*.gcda' -delete
# test-corpus runs vfio-bindd as nobody too: it must be able to write the counts (libgcov's
# "Cannot open" would land in the stderr the test compares), so the object folders of this
# scratch build are writable by all and the counts files made writable by all (umask 0).
find "$build" -type d -name '*.p' -exec chmod a+rwx {} +
status=0
if ! (umask 000 && meson test -C "$build" --suite unit --no-stdsplit -q >"$dir/test.log" 2>&1); then
        echo "tools/coverage.sh: the unit suite failed (see $dir/test.log); the figures are of that run" >&2
        status=1
fi

# From the tree, so that the filters (regular expressions, relative to here) name its folders.
(cd "$tree" && gcovr -r . "$build" -j "$(nproc)" --filter 'lib/' --filter 'daemon/' --filter 'cli/' \
        --exclude-unreachable-branches --json-summary-pretty -o "$dir/coverage.json") 2>"$dir/gcovr.log" ||
        { cat "$dir/gcovr.log"; exit 1; }

python3 - "$dir/coverage.json" <<'EOF' | tee "$dir/coverage.txt"
import json, sys

files = sorted(json.load(open(sys.argv[1]))["files"], key=lambda f: f["filename"])


def pct(c, t):
    return "%5.1f%%" % (100.0 * c / t) if t else "     -"


def row(name, lc, lt, bc, bt):
    return "| %-28s | %6s | %9s | %6s | %9s |" % (name, pct(lc, lt), "%d/%d" % (lc, lt), pct(bc, bt), "%d/%d" % (bc, bt))


print("| %-28s | %6s | %9s | %6s | %9s |" % ("file", "lines", "", "branch", ""))
print("|%s|%s:|%s:|%s:|%s:|" % ("-" * 30, "-" * 7, "-" * 10, "-" * 7, "-" * 10))
sums = {}
for f in files:
    d = f["filename"].split("/")[0]
    lc, lt, bc, bt = f["line_covered"], f["line_total"], f["branch_covered"], f["branch_total"]
    print(row(f["filename"], lc, lt, bc, bt))
    for k in (d + "/", "total"):
        s = sums.setdefault(k, [0, 0, 0, 0])
        for i, v in enumerate((lc, lt, bc, bt)):
            s[i] += v
for k in ("lib/", "daemon/", "cli/", "total"):
    if k in sums:
        print(row("**%s**" % k, *sums[k]))
EOF
exit $status
