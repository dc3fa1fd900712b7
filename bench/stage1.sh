#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What running vfio-bind in the initrd costs: the two-stage QEMU boot (tests/vm/two-stage.sh) with
# the dracut module (01-bind) and without it (00-control), alternating, and a table of the times
# the guest reports: the initrd phase (the initrd's PID 1 to the root's PID 1), the initrd unit as
# PID 1 logged it (starting to finished), vfio-bindd's own first pass, and how long after the unit
# the initrd's coldplug started. Numbers only: nothing here fails for being slow.
#
#     sudo bench/stage1.sh [--build DIR] [--rounds N] [--keep DIR]
#
#   --build DIR   a configured and built build directory (default: $VB_BENCH_BUILD, else
#                 /tmp/vfio-bind-bench-build, configured -Dbuildtype=debugoptimized and built here)
#   --rounds N    boots of each kind (default 2; each boot is 2-5 minutes under TCG)
#   --keep DIR    keep each round's output and the guests' logs in DIR
#
# Needs root (the initrd is built with dracut in a chroot, like the tests). Under TCG on a shared
# host the absolute times are several times those of hardware; the difference between the two
# kinds of boot is what to read.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BUILD='' ROUNDS=2 KEEP=''
while (($#)); do
        case $1 in
        --build) BUILD=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --keep) KEEP=$2; shift 2 ;;
        -h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "stage1.sh: unknown argument $1" >&2; exit 2 ;;
        esac
done

say() { printf '[bench-stage1] %s\n' "$*" >&2; }
die() { printf '[bench-stage1] error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "needs root (dracut in a chroot of the guest's root)"
if [[ -z $BUILD ]]; then
        BUILD=${VB_BENCH_BUILD:-/tmp/vfio-bind-bench-build}
        if [[ ! -f $BUILD/build.ninja ]]; then
                meson setup "$BUILD" "$TOP" -Dbuildtype=debugoptimized >/dev/null || die "meson setup failed"
        fi
        ninja -C "$BUILD" >/dev/null || die "the build failed"
fi
for f in daemon/vfio-bindd cli/vfio-bind systemd/vfio-bind.service dracut/module-setup.sh; do
        [[ -f $BUILD/$f ]] || die "$BUILD/$f is missing (build first)"
done

OUTDIR=${KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/vfio-bind-bench-stage1.XXXXXX")}
mkdir -p "$OUTDIR"
[[ -n $KEEP ]] || trap 'rm -rf "$OUTDIR"' EXIT

for ((r = 1; r <= ROUNDS; r++)); do
        # alternate which kind boots first
        if ((r % 2)); then order=(00-control 01-bind); else order=(01-bind 00-control); fi
        for s in "${order[@]}"; do
                say "round $r/$ROUNDS: $s"
                "$TOP/tests/vm/two-stage.sh" --daemon "$BUILD/daemon/vfio-bindd" --cli "$BUILD/cli/vfio-bind" \
                        --unit "$BUILD/systemd/vfio-bind.service" --dracut-module "$BUILD/dracut" \
                        --logdir "$OUTDIR/logs-$r" "$s" >"$OUTDIR/round-$r-$s.txt" 2>&1
                grep -E '^(FAIL|[0-9]+ passed)' "$OUTDIR/round-$r-$s.txt" | sed 's/^/  /' >&2
        done
done

python3 - "$OUTDIR" "$ROUNDS" <<'PY'
import glob, os, re, statistics, sys
outdir, rounds = sys.argv[1], int(sys.argv[2])
kinds = {"two-stage-control": "without vfio-bind (00-control)", "two-stage-bind": "with vfio-bind (01-bind)"}
times = {}
for path in sorted(glob.glob(os.path.join(outdir, "round-*.txt"))):
    for line in open(path, errors="replace"):
        m = re.match(r"^TIME (two-stage-[a-z]+): (.*): ([0-9.]+) s$", line.strip())
        if m and m.group(1) in kinds:
            times.setdefault(m.group(2), {}).setdefault(m.group(1), []).append(float(m.group(3)))

def fmt(v):
    if not v:
        return "-"
    med = statistics.median(v)
    return f"{med:.2f} s" + (f" ({min(v):.2f}-{max(v):.2f}, n={len(v)})" if len(v) > 1 else "")

print(f"Two-stage boots under TCG, {rounds} round(s) of each kind; median (min-max)")
print()
print(f"| {'time':<70} | {'without vfio-bind':<28} | {'with vfio-bind':<28} |")
print(f"|{'-' * 72}|{'-' * 30}|{'-' * 30}|")
for label in times:
    t = times[label]
    print(f"| {label:<70} | {fmt(t.get('two-stage-control', [])):<28} | {fmt(t.get('two-stage-bind', [])):<28} |")
phase = "initrd phase (the initrd's PID 1 to the root's PID 1)"
if phase in times and all(k in times[phase] for k in kinds):
    d = statistics.median(times[phase]["two-stage-bind"]) - statistics.median(times[phase]["two-stage-control"])
    print()
    print(f"initrd phase with vfio-bind minus without: {d:+.2f} s (medians)")
PY
