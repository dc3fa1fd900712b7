#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fuzz the configuration parser and the selector parser with libFuzzer (clang from Debian).
#
#   tools/fuzz.sh             the long run: 30 minutes per target
#   tools/fuzz.sh 20          20 seconds per target (what tools/test.sh runs in CI)
#
# Builds with CC=clang -Dfuzz=true and ASan+UBSan in $VB_FUZZ_BUILD (default build-fuzz), seeds a
# working corpus per target from tests/configs/{good,bad} or tests/fuzz/seeds and the kept
# crashes in tests/fuzz/regressions, and runs each target. The working corpus stays in the build
# directory, so later runs start from what earlier runs found. Prints the executions per target.
#
# A crash (or leak, or a broken invariant: the targets abort()) stops that target with its input
# saved under $VB_FUZZ_BUILD/artifacts/TARGET/; the script then fails. Fix the bug, then keep the
# input as a regression case that every normal build replays (meson test fuzz-*-replay):
#     cp build-fuzz/artifacts/config/crash-… tests/fuzz/regressions/config/
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
seconds=${1:-1800}
out=${VB_FUZZ_BUILD:-$top/build-fuzz}
jobs=${VB_FUZZ_JOBS:-1}

if ! command -v clang >/dev/null; then
        echo "tools/fuzz.sh: clang is missing (apt-get install clang libclang-rt-14-dev)" >&2
        exit 1
fi

if [ ! -f "$out/build.ninja" ]; then
        CC=clang meson setup "$out" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
                -Dvm-tests=disabled -Dman-pages=disabled >"$out.setup.log" 2>&1 ||
                { cat "$out.setup.log"; exit 1; }
fi
ninja -C "$out" tests/fuzz/fuzz-config tests/fuzz/fuzz-selector >/dev/null || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

status=0
total=0
for target in config selector; do
        corpus=$out/corpus/$target
        artifacts=$out/artifacts/$target
        mkdir -p "$corpus" "$artifacts"
        case $target in
        config) seeds=(tests/configs/good tests/configs/bad tests/fuzz/regressions/config); dict=(-dict=tests/fuzz/config.dict) ;;
        selector) seeds=(tests/fuzz/seeds/selector tests/fuzz/regressions/selector); dict=() ;;
        esac
        # Regular files only (the bad corpus holds links and directories on purpose).
        find "${seeds[@]}" -type f ! -name README -print0 2>/dev/null |
                while IFS= read -r -d '' f; do
                        cp "$f" "$corpus/seed-$(printf '%s' "$f" | md5sum | cut -c1-16)"
                done
        log=$out/fuzz-$target.log
        parallel=()
        ((jobs > 1)) && parallel=(-jobs="$jobs" -workers="$jobs")
        # libFuzzer writes fuzz-N.log into the working directory in parallel mode: keep it in $out.
        (cd "$out" && "$out/tests/fuzz/fuzz-$target" "${dict[@]/#-dict=/-dict=$top/}" -max_total_time="$seconds" \
                -timeout=10 -rss_limit_mb=2048 "${parallel[@]}" -print_final_stats=1 -artifact_prefix="$artifacts/" \
                "$corpus") >"$log" 2>&1
        r=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')
        total=$((total + execs))
        findings=$(find "$artifacts" -type f | wc -l)
        printf 'fuzz-%s: %s executions in %ss, corpus %s inputs, %s finding(s)\n' "$target" "$execs" "$seconds" \
                "$(find "$corpus" -type f | wc -l)" "$findings"
        if [ $r != 0 ] || [ "$findings" != 0 ]; then
                grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 20
                echo "fuzz-$target: see $log; keep each input in tests/fuzz/regressions/$target/ once fixed" >&2
                status=1
        fi
done
echo "fuzz: $total executions in total"
exit $status
