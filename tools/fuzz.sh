#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fuzz every parser of file and kernel input with libFuzzer (clang from Debian): the
# configuration, selectors, the kernel command line, a device's uevent file, the PCI resource
# file, the SR-IOV attributes, the sysfs number and link readers, /proc/iomem, mountinfo and
# swaps, the uevent message as libudev hands it on, a tar archive given to --root, and a
# function's config space (tests/fuzz/README).
#
#   tools/fuzz.sh             the long run: 30 minutes per target
#   tools/fuzz.sh 20          20 seconds per target (what tools/test.sh runs in CI)
#   VB_FUZZ_RUNS=10000000 tools/fuzz.sh      10 M executions per target, however long it takes
#   VB_FUZZ_RUNS=10000000 tools/fuzz.sh 180  10 M executions or 180 s per target, whichever comes first
#   VB_FUZZ_TARGETS="uevent iomem" tools/fuzz.sh 60   only these targets
#   VB_FUZZ_PARALLEL=2 tools/fuzz.sh 20      two targets at a time (each still 20 s; tools/test.sh)
#   tools/fuzz.sh --build-only               only set up and build the targets (tools/test.sh, in
#                                            the background while the QEMU tests boot)
#
# What each target calls (tests/fuzz/README): fuzz-config vb_config_parse_text() and
# vb_config_apply_cmdline(); fuzz-selector vb_selector_parse() and _parse_explain(); fuzz-cmdline
# vb_config_apply_cmdline(); the file readers' targets the pure parser each reader calls after its
# read, on the input as the read would return it (fuzz-text.h): fuzz-uevent vb_pci_uevent_parse(),
# fuzz-pci-resource vb_pci_resources_parse(), fuzz-sriov vb_pci_sriov_parse(), fuzz-sysfs
# vb_sysfs_parse_u32(), vb_sysfs_link_basename() and vb_pci_physfn_parse(), fuzz-iomem
# vb_console_iomem_parse(), fuzz-storage vb_interlock_mountinfo_parse() and
# vb_interlock_swaps_parse() (and, on small inputs, the hold walk on a copy of the in-use tree
# under $TMPDIR, which the script puts in /dev/shm when it exists); fuzz-uevent-message
# vbd_uevent_parse(); fuzz-archive vb_archive_read() and vb_archive_extract() (into $TMPDIR);
# fuzz-pci-config vb_pci_config_parse() and vb_pci_config_acs_missing(); fuzz-libvirt-domain
# vb_libvirt_domain_parse() (libxml2 under it).
# Run it niced on a shared machine: nice -n 19 tools/fuzz.sh.
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
build_only=0
if [ "${1:-}" = --build-only ]; then
        build_only=1
        shift
fi
seconds=${1:-1800}
# with VB_FUZZ_RUNS, a time limit only when one is given
runs_seconds=${1:-0}
out=${VB_FUZZ_BUILD:-$top/build-fuzz}
jobs=${VB_FUZZ_JOBS:-1}
runs=${VB_FUZZ_RUNS:-}
all_targets="config selector cmdline uevent pci-resource sriov sysfs iomem storage uevent-message archive pci-config libvirt-domain"
targets=${VB_FUZZ_TARGETS:-$all_targets}
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=${TMPDIR:-/dev/shm}

if ! command -v clang >/dev/null; then
        echo "tools/fuzz.sh: clang is missing (apt-get install clang libclang-rt-14-dev)" >&2
        exit 1
fi

if [ ! -f "$out/build.ninja" ]; then
        CC=clang meson setup "$out" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
                -Dvm-tests=disabled -Dman-pages=disabled >"$out.setup.log" 2>&1 ||
                { cat "$out.setup.log"; exit 1; }
fi
ninja -C "$out" $(for t in $targets; do printf 'tests/fuzz/fuzz-%s ' "$t"; done) >/dev/null || exit 1
[ "$build_only" = 0 ] || exit 0

# A quarantine of 16 MB instead of 256: freed memory comes back while it is still in the cache (an
# execution of any target frees far less than that, so a use after free within one is still
# caught).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:quarantine_size_mb=16
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# fuzz_one TARGET: one target's run; its report on stdout, its executions in fuzz-TARGET.execs;
# returns 1 on a finding
fuzz_one() {
        local target=$1 corpus artifacts max_len seeds dict log parallel limit r execs took findings
        rm -f "$out/fuzz-$target.execs"
        corpus=$out/corpus/$target
        artifacts=$out/artifacts/$target
        mkdir -p "$corpus" "$artifacts"
        # Input size caps (-max_len; without one libFuzzer takes the largest seed's size, at least
        # 4096 bytes). Both parsers are linear in their input (callgrind: about 600 instructions
        # a byte on selector lists), but under ASan+UBSan and coverage every byte counts: up to
        # 4182 bytes (the largest seed) fuzz-config ran at 1.5-2.5 k executions per second, at
        # 1024 bytes at 3.5 k, at 512 at 5.9 k (15 s runs on one shared core).
        #   config   512 bytes: a dozen lines with sections, keys, selectors, comments and
        #            errors. What needs more (a 4096-byte line, 100 errors in one file) is a fixed
        #            limit, replayed from tests/configs/{good,bad} by fuzz-config-replay; the
        #            seeds longer than this are cut (libFuzzer reads the first 512 bytes).
        #   cmdline  512 bytes: the parser reads word by word, and 512 bytes hold dozens of
        #            vfio-bind words among others; at 2048 (COMMAND_LINE_SIZE on x86) it slowed to
        #            1.9 k/s as the inputs grew. Longer lines are replayed from the seeds.
        #   pci-config  4200 bytes: the extended capabilities are looked at only in an input of
        #            at least 4096 bytes (a PCI Express function's whole config file), so the
        #            cap must be above that; a little more than 4096 also gives inputs with
        #            bytes past the space, which the parser must ignore (it reads at most 4096).
        max_len=()
        case $target in
        config) seeds=(tests/configs/good tests/configs/bad tests/fuzz/regressions/config); dict=(-dict=tests/fuzz/config.dict)
                max_len=(-max_len=512) ;;
        cmdline) seeds=(tests/fuzz/seeds/$target tests/fuzz/regressions/$target); dict=(); max_len=(-max_len=512) ;;
        pci-config) seeds=(tests/fuzz/seeds/$target tests/fuzz/regressions/$target); dict=(); max_len=(-max_len=4200) ;;
        *) seeds=(tests/fuzz/seeds/$target tests/fuzz/regressions/$target); dict=() ;;
        esac
        # Regular files only (the bad corpus holds links and directories on purpose), not the
        # seeds' generators (tests/fuzz/seeds/pci-config/make-seeds.py).
        find "${seeds[@]}" -type f ! -name README ! -name '*.py' -print0 2>/dev/null |
                while IFS= read -r -d '' f; do
                        cp "$f" "$corpus/seed-$(printf '%s' "$f" | md5sum | cut -c1-16)"
                done
        log=$out/fuzz-$target.log
        parallel=()
        ((jobs > 1)) && parallel=(-jobs="$jobs" -workers="$jobs")
        limit=(-max_total_time="$seconds")
        [ -n "$runs" ] && limit=(-runs="$runs" -max_total_time="$runs_seconds")
        # libFuzzer writes fuzz-N.log into the working directory in parallel mode: keep it in $out.
        (cd "$out" && "$out/tests/fuzz/fuzz-$target" "${dict[@]/#-dict=/-dict=$top/}" "${max_len[@]}" "${limit[@]}" \
                -timeout=10 -rss_limit_mb=2048 "${parallel[@]}" -print_final_stats=1 -artifact_prefix="$artifacts/" \
                "$corpus") >"$log" 2>&1
        r=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')
        took=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | awk '{s += $1} END {print s + 0}')
        findings=$(find "$artifacts" -type f | wc -l)
        printf 'fuzz-%s: %s executions (%s/s), corpus %s inputs, %s finding(s)\n' "$target" "$execs" "$took" \
                "$(find "$corpus" -type f | wc -l)" "$findings"
        echo "$execs" >"$out/fuzz-$target.execs"
        if [ $r != 0 ] || [ "$findings" != 0 ]; then
                grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 20
                echo "fuzz-$target: see $log; keep each input in tests/fuzz/regressions/$target/ once fixed" >&2
                return 1
        fi
}

# VB_FUZZ_PARALLEL targets at a time (tools/test.sh: one per core), each for the same time as alone;
# their reports are printed in the targets' order
status=0
total=0
at_once=${VB_FUZZ_PARALLEL:-1}
pids=() names=()
finish_one() {
        wait "${pids[0]}" || status=1
        cat "$out/fuzz-${names[0]}.report"
        total=$((total + $(cat "$out/fuzz-${names[0]}.execs" 2>/dev/null || echo 0)))
        pids=("${pids[@]:1}") names=("${names[@]:1}")
}
for target in $targets; do
        ((${#pids[@]} < at_once)) || finish_one
        fuzz_one "$target" >"$out/fuzz-$target.report" 2>&1 &
        pids+=($!) names+=("$target")
done
while ((${#pids[@]})); do
        finish_one
done
echo "fuzz: $total executions in total"
exit $status
