#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run all the benchmarks and rewrite bench/RESULTS.md (see bench/README.md):
#
#     sudo bench/run.sh
#
# 1. fake trees: vfio-bindd --once through the fake kernel against the floor (bench-tree floor) on
#    trees of 16, 256 and 4096 functions with a quarter selected: wall and CPU time over
#    alternating rounds, and instructions (valgrind --tool=callgrind) per selected function;
# 2. QEMU: two guest boots (bench/vm.sh): the tools in alternating rounds in one boot, the
#    daemon's memory and idle wakeups, and vfio-bind.service against driverctl@ at boot.
#
# Options:
#   --build DIR     use this build directory (configured with -Dbench=true; `meson compile -C DIR
#                   bench` passes it); default: configure and build $VB_BENCH_BUILD
#                   (default /tmp/vfio-bind-bench-build, -Dbuildtype=debugoptimized)
#   --rounds N      rounds of each measurement (default 5)
#   --idle S        seconds of idleness to count the daemon's wakeups over (default 60)
#   --sizes "A B"   fake tree sizes (default "16 256 4096")
#   --no-vm         skip the QEMU part (its section then says so)
#   --no-tree       skip the fake-tree part
#   --out FILE      write the report there instead of bench/RESULTS.md
#   --keep DIR      keep the raw measurements and logs in DIR
#   --from DIR      measure nothing: write the report again from what --keep DIR kept
#
# Needs root for the QEMU part (image build, like tests/vm); the packages come from
# tools/deps.sh (valgrind, python3, QEMU and the image tools). Nothing here fails because a
# number is slow: a run fails only if a tool did not do its job or the measurement broke.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BUILD='' ROUNDS=5 IDLE=60 SIZES="16 256 4096" VM=1 TREE=1 OUT=$HERE/RESULTS.md KEEP='' FROM=''
while (($#)); do
        case $1 in
        --build) BUILD=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --idle) IDLE=$2; shift 2 ;;
        --sizes) SIZES=$2; shift 2 ;;
        --no-vm) VM=0; shift ;;
        --no-tree) TREE=0; shift ;;
        --out) OUT=$2; shift 2 ;;
        --keep) KEEP=$2; shift 2 ;;
        --from) FROM=$2; shift 2 ;;
        -h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
        esac
done

say() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

if [[ -n $FROM ]]; then
        [[ -f $FROM/meta.txt ]] || die "$FROM holds no kept run (meta.txt is missing)"
        args=(--meta "$FROM/meta.txt" --out "$OUT")
        if [[ -f $FROM/tree.txt ]]; then
                # the callgrind summaries again, with the report's current parser
                grep '^time ' "$FROM/tree.txt" >"$FROM/tree.txt.new"
                for t in "$FROM"/callgrind.*.txt; do
                        [[ -e $t ]] || continue
                        IFS=. read -r _ n tool _ <<<"${t##*/}"
                        python3 "$HERE/report.py" callgrind "$n" "$tool" "$t" >>"$FROM/tree.txt.new" || die "cannot read $t"
                done
                mv "$FROM/tree.txt.new" "$FROM/tree.txt"
                args+=(--tree "$FROM/tree.txt")
        fi
        [[ -f $FROM/vm.txt ]] && args+=(--vm "$FROM/vm.txt" --vm-logs "$FROM/vm-logs")
        python3 "$HERE/report.py" report "${args[@]}" || die "writing the report failed"
        say "wrote $OUT from $FROM"
        exit 0
fi

for t in meson ninja python3 valgrind callgrind_annotate; do
        command -v "$t" >/dev/null || die "$t is missing (run tools/deps.sh as root)"
done

# ---- the build ----------------------------------------------------------------------------------
if [[ -z $BUILD ]]; then
        BUILD=${VB_BENCH_BUILD:-/tmp/vfio-bind-bench-build}
        if [[ ! -f $BUILD/build.ninja ]]; then
                say "configuring $BUILD (-Dbench=true, debugoptimized: -O2 -g as distributions build)"
                meson setup "$BUILD" "$TOP" -Dbuildtype=debugoptimized -Dbench=true -Dvm-tests=disabled >&2 ||
                        die "meson setup failed"
        fi
        ninja -C "$BUILD" >&2 || die "the build failed"
fi
DAEMON=$BUILD/daemon/vfio-bindd
DAEMON_TEST=$BUILD/tests/vfio-bindd-test
CLI=$BUILD/cli/vfio-bind
UNIT=$BUILD/systemd/vfio-bind.service
BTREE=$BUILD/bench/bench-tree
FLOOR=$BUILD/bench/bench-floor
for f in "$DAEMON" "$DAEMON_TEST" "$CLI" "$UNIT" "$BTREE" "$FLOOR"; do
        [[ -f $f ]] || die "$f is missing (configure the build with -Dbench=true)"
done

if [[ -n $KEEP ]]; then
        mkdir -p "$KEEP"
        WORK=$(cd "$KEEP" && pwd)
else
        WORK=$(mktemp -d "${TMPDIR:-/tmp}/vfio-bind-bench.XXXXXX")
        trap 'rm -rf "$WORK"' EXIT
fi
# the trees are many small files: on tmpfs their copies and writes cost less and vary less
if [[ -d /dev/shm && -w /dev/shm ]]; then
        TREES=$(mktemp -d /dev/shm/vfio-bind-bench.XXXXXX)
else
        TREES=$WORK/trees
        mkdir -p "$TREES"
fi
trap 'rm -rf "$TREES"; [[ -n $KEEP ]] || rm -rf "$WORK"' EXIT

{
        printf 'date %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
        printf 'host-kernel %s\n' "$(uname -r)"
        printf 'host-cpu %s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
        printf 'host-cpus %s\n' "$(nproc)"
        printf 'host-mem-mib %s\n' "$(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)"
        printf 'host-load %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
        printf 'host-os %s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")"
        printf 'commit %s\n' "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$TOP" diff --quiet HEAD -- lib daemon 2>/dev/null || echo ' (lib/ or daemon/ modified)')"
        printf 'build %s\n' "$(meson introspect --buildoptions "$BUILD" 2>/dev/null |
                python3 -c 'import json,sys; o={x["name"]:x["value"] for x in json.load(sys.stdin)}; print(o.get("buildtype","?"), "b_sanitize=" + str(o.get("b_sanitize","none")))' 2>/dev/null || echo unknown)"
        printf 'rounds %s\nidle %s\n' "$ROUNDS" "$IDLE"
} >"$WORK/meta.txt"

# ---- 1. fake trees -------------------------------------------------------------------------------
# tree.txt:  time N TOOL ROUND REAL USER SYS        (seconds)
#            ir N TOOL TOTAL FAKE_KERNEL            (instructions; FAKE_KERNEL: inclusive cost
#                                                    of the fake kernel's entry points)
#            top N TOOL IR FUNCTION                 (the costliest functions, inclusive)
run_tool() { # TOOL DIR: one run on the tree copy DIR
        case $1 in
        addr|id) VB_FAKE_TREE=$2 "$DAEMON_TEST" --once --config="$2/$1.conf" 2>/dev/null ;;
        floor) "$BTREE" floor "$2" ;;
        esac
}

tree_bench() {
        local n tool round i tools=(addr id floor) t out real user sys
        : >"$WORK/tree.txt"
        for n in $SIZES; do
                say "fake tree: $n functions"
                "$BTREE" gen "$n" "$TREES/t$n" >/dev/null || die "bench-tree gen $n failed"
                for ((round = 1; round <= ROUNDS; round++)); do
                        for ((i = 0; i < ${#tools[@]}; i++)); do
                                tool=${tools[(i + round - 1) % ${#tools[@]}]}
                                rm -rf "$TREES/w"
                                cp -a "$TREES/t$n" "$TREES/w"
                                sync -f "$TREES/w" 2>/dev/null
                                TIMEFORMAT='%3R %3U %3S'
                                out=$({ time run_tool "$tool" "$TREES/w" >/dev/null; } 2>&1) ||
                                        die "$tool on $n functions failed: $out"
                                read -r real user sys <<<"${out##*$'\n'}"
                                "$BTREE" verify "$TREES/w" >/dev/null || die "$tool on $n functions: the functions did not end where they should"
                                printf 'time %s %s %s %s %s %s\n' "$n" "$tool" "$round" "$real" "$user" "$sys" >>"$WORK/tree.txt"
                        done
                done
                for tool in "${tools[@]}"; do
                        rm -rf "$TREES/w"
                        cp -a "$TREES/t$n" "$TREES/w"
                        t=$WORK/callgrind.$n.$tool
                        case $tool in
                        addr|id) VB_FAKE_TREE=$TREES/w valgrind -q --tool=callgrind --callgrind-out-file="$t" \
                                         "$DAEMON_TEST" --once --config="$TREES/w/$tool.conf" 2>/dev/null ;;
                        floor) valgrind -q --tool=callgrind --callgrind-out-file="$t" "$BTREE" floor "$TREES/w" ;;
                        esac || die "callgrind of $tool on $n functions failed"
                        "$BTREE" verify "$TREES/w" >/dev/null || die "$tool under callgrind on $n functions did not bind"
                        callgrind_annotate --inclusive=yes "$t" 2>/dev/null >"$t.txt"
                        python3 "$HERE/report.py" callgrind "$n" "$tool" "$t.txt" >>"$WORK/tree.txt" ||
                                die "cannot read $t.txt"
                done
                rm -rf "$TREES/t$n" "$TREES/w"
        done
}

((TREE)) && tree_bench

# ---- 2. QEMU -------------------------------------------------------------------------------------
if ((VM)); then
        say "QEMU: two guest boots (runtime rounds, then driverctl at boot); several minutes each"
        if ! "$HERE/vm.sh" --daemon "$DAEMON" --cli "$CLI" --unit "$UNIT" --floor "$FLOOR" \
                --raw "$WORK/vm.txt" --logdir "$WORK/vm-logs" --rounds "$ROUNDS" --idle "$IDLE"; then
                say "the QEMU part did not complete; the report says what is missing"
                echo "incomplete" >>"$WORK/vm.txt"
        fi
fi

args=(--meta "$WORK/meta.txt" --out "$OUT")
((TREE)) && args+=(--tree "$WORK/tree.txt")
((VM)) && args+=(--vm "$WORK/vm.txt" --vm-logs "$WORK/vm-logs")
python3 "$HERE/report.py" report "${args[@]}" || die "writing the report failed"
say "wrote $OUT"
