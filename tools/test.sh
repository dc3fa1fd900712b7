#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The test command: installs what it needs (apt-get), then builds and runs every test.
#   1. a developer build (-Werror, ASan+UBSan): the unit tests
#   2. a release build (-Werror): the unit tests again, and the real-kernel QEMU tests
#      (with one two-stage boot that installs the Debian package of step 2b in the guest)
#   2b. the Debian package (debian/) built from the committed tree, and lintian over it
#   3. valgrind memcheck over the unit tests of the release build (no errors, no leaks)
#   4. a short libFuzzer run of the parsers (tools/fuzz.sh 20; clang), the targets built in the
#      background once the NixOS-like kernel is built
#   5. the NixOS files: nix-instantiate --parse and the offline evaluation
#   6. the unit's exposure score (systemd-analyze security --offline=yes), at most 4.0
# It ends with a table of where the time went and one "N passed, N failed" line over every test
# program it ran.
#
#   tools/test.sh            everything, as CI runs it (.ci/run)
#   tools/test.sh --quick    the quick path: the release build's unit tests and the QEMU tests on
#                            one kernel (VB_VM_KERNELS, default 6.1: CI's boots there, the
#                            scenarios whose result depends on the kernel and three two-stage
#                            boots, dracut's control and bind and initramfs-tools' bind; 6.4 min
#                            on a warm cache with the first two; the third boots in 26-36 s), plus
#                            the gates that take seconds; no developer build, valgrind or fuzzing
#
# Environment: VB_SKIP_DEPS=1 skips apt-get; VB_SKIP_VM=1 skips the QEMU tests; VB_VM_MATRIX
# (short, the default here, or full) and VB_VM_KERNELS pick the QEMU tests' boots;
# VB_FUZZ_SECONDS (default 20) per fuzz target, 0 skips fuzzing; TMPDIR (replaced by a private
# directory on /dev/shm when that is a tmpfs with room: see scratch below);
# VB_BUILD_DIR (default build-test) is where the builds go.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
quick=0
case "${1:-}" in
--quick) quick=1 ;;
"") ;;
*) echo "tools/test.sh: unknown argument $1 (--quick, or nothing)" >&2; exit 2 ;;
esac
top=$PWD
out=${VB_BUILD_DIR:-$top/build-test}

# The machine's busy CPU time so far, in clock ticks (/proc/stat: user, nice, system, irq,
# softirq, steal): on these machines every step is bound by the CPU, so the work a step caused
# says more than its seconds.
busy_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
# step TEXT: a new step; the time each step took (seconds, and the machine's busy core-seconds
# meanwhile, the background builds' included) is printed as a table at the end (TIMES)
TIMES=() step_name='' step_start=$SECONDS step_busy=0 run_start=$SECONDS run_busy=$(busy_ticks)
step_end() {
        [ -n "$step_name" ] &&
                TIMES+=("$step_name|$((SECONDS - step_start))|$((($(busy_ticks) - step_busy) / CLK_TCK))")
        step_name=''
}
step() {
        step_end
        step_name=$1 step_start=$SECONDS step_busy=$(busy_ticks)
        printf '\n=== %s\n' "$*"
}

# seconds_of_times FILE: the CPU seconds of the children line of `times` in FILE (user + system)
seconds_of_times() {
        tail -n 1 "$1" 2>/dev/null | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
                                            printf "%d", t }'
}

if [ -z "${VB_SKIP_DEPS:-}" ]; then
        step "installing dependencies (apt-get)"
        if ! tools/deps.sh all >"$out.deps.log" 2>&1; then
                tail -n 30 "$out.deps.log"
                echo "tools/test.sh: installing dependencies failed" >&2
                exit 1
        fi
fi

passed=0 failed=0 skipped=0
failures=()

# Scratch files on tmpfs. The unit tests make and remove fake sysfs trees, tens of thousands of
# files: on these machines' ext4 a create costs about 1 ms of system time (the release build's unit
# tests took 80 s and 98 core-s on ext4, 41 s and 13 core-s on tmpfs; the ASan build's 104 s and
# 135 core-s, 45 s and 22), and the NixOS-like kernel unpacks and compiles 2 GB. A private
# directory under /dev/shm when that is a tmpfs with 8 GiB free (the QEMU tests' boots put their
# initrd and disk images there too), removed at the end; TMPDIR as it was otherwise.
scratch=''
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
        [ "$(df -P -B1G /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 + 0 }')" -ge 8 ] &&
        scratch=$(mktemp -d /dev/shm/vfio-bind-test.XXXXXX); then
        # reachable by every user, as /tmp is: test-corpus runs a copy of vfio-bindd as nobody
        chmod 0755 "$scratch"
        export TMPDIR=$scratch VB_VM_KERNEL_WORKDIR=$scratch
        trap 'rm -rf "$scratch"' EXIT
        echo "scratch files in $scratch (tmpfs)"
fi

# The QEMU tests boot three kernels; CI boots every scenario on 6.12 and, on 6.1 and the
# NixOS-like 6.12, those where the kernel's configuration matters (tests/vm/README.md). The full
# matrix: VB_VM_MATRIX=full.
export VB_VM_MATRIX=${VB_VM_MATRIX:-short}
# All three kernels: the NixOS-like one is built once from linux-source-6.12 (build-kernel.sh,
# cached under its configuration's key).
if [ "$quick" = 1 ]; then
        export VB_VM_KERNELS=${VB_VM_KERNELS:-6.1}
else
        export VB_VM_KERNELS=${VB_VM_KERNELS:-6.1 6.12 6.12-nixos}
fi

# In the background while the programs compile and the unit tests run: the NixOS-like kernel
# (niced: it takes only what the rest leaves) and the guest images the QEMU tests will boot
# (mostly downloads and dpkg). run.sh and two-stage.sh find them in the cache, or wait for them
# (the builds hold locks), or build them themselves when this did not run.
# background NAME LOG [--after FILE] COMMAND…: COMMAND in the background, its output in LOG, its
# result, seconds and CPU seconds in LOG.status (the table at the end); with --after, COMMAND
# starts once FILE exists (another build's LOG.status), its seconds counted from then
BACKGROUND=()
background() {
        local name=$1 log=$2 after=''
        shift 2
        if [ "${1:-}" = --after ]; then
                after=$2
                shift 2
        fi
        # `times` in the subshell itself (a command substitution would fork): the CPU of the
        # build and everything it started
        ( if [ -n "$after" ]; then while [ ! -e "$after" ]; do sleep 1; done; fi
          start=$SECONDS; "$@" >"$log" 2>&1; r=$?; times >"$log.times"
          echo "$r $((SECONDS - start)) $(seconds_of_times "$log.times")" >"$log.status" ) </dev/null &
        BACKGROUND+=("$name|$log")
}
if [ -z "${VB_SKIP_VM:-}" ] && [ "$(id -u)" = 0 ]; then
        mkdir -p "$out"
        case " $VB_VM_KERNELS " in
        *" 6.12-nixos "*)
                background "NixOS-like kernel build (background)" "$out/bg-kernel.log" tests/vm/build-kernel.sh
                # The fuzz build (clang, ASan+UBSan, libFuzzer's coverage), niced, once the kernel
                # is built: until then the kernel's compile takes every moment the two guests leave
                # a core idle (a check waiting, a boot ending and the next being made), from then
                # on nothing did (the QEMU tests' last 450 s ran 90% busy); the fuzzing step then
                # only runs the targets.
                if [ "$quick" = 0 ] && [ "${VB_FUZZ_SECONDS:-20}" != 0 ] && command -v clang >/dev/null; then
                        background "fuzz build (background, from the kernel's end)" "$out/bg-fuzz-build.log" \
                                --after "$out/bg-kernel.log.status" \
                                env VB_FUZZ_BUILD="$out/fuzz" nice -n 19 tools/fuzz.sh --build-only
                        fuzz_built_in_background=1
                fi ;;
        esac
        background "guest images (background)" "$out/bg-images.log" tests/vm/run.sh --images
        background "two-stage guest images (background)" "$out/bg-images-two-stage.log" tests/vm/two-stage.sh --images
fi

# Add up one meson test run from its JSON log.
count_meson() {
        local log=$1 name=$2 counts p f s
        counts=$(python3 - "$log" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    r = t.get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif r == "SKIP":
        s += 1
    else:
        f += 1
print(p, f, s)
PY
)
        read -r p f s <<<"$counts"
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
        [ "$f" = 0 ] || failures+=("$name")
}

run_meson_tests() {
        local dir=$1 name=$2
        shift 2
        local logs
        # meson names the log after the wrapper or setup ("testlog-valgrind.json"): take whichever
        # this run wrote.
        rm -f "$dir"/meson-logs/testlog*.json
        meson test -C "$dir" --print-errorlogs "$@"
        logs=("$dir"/meson-logs/testlog*.json)
        if [ -f "${logs[0]}" ]; then
                count_meson "${logs[0]}" "$name"
        else
                failed=$((failed + 1))
                failures+=("$name (no test log)")
        fi
}

setup() {
        local dir=$1
        shift
        if [ -d "$dir" ]; then
                meson setup --wipe "$dir" "$@" >/dev/null
        else
                meson setup "$dir" "$@" >/dev/null
        fi
}

if [ "$quick" = 1 ]; then
        echo "SKIP the developer build (ASan+UBSan), valgrind and fuzzing: --quick"
        skipped=$((skipped + 3))
elif step "developer build: -Werror, ASan+UBSan, unit tests"; setup "$out/dev" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dvm-tests=disabled &&
   ninja -C "$out/dev"; then
        run_meson_tests "$out/dev" "unit tests (ASan+UBSan)" --no-suite vm
else
        failed=$((failed + 1)) failures+=("developer build")
fi

step "release build: -Werror, unit tests"
if setup "$out/release" --buildtype=release -Dwerror=true && ninja -C "$out/release"; then
        run_meson_tests "$out/release" "release build tests" --timeout-multiplier 2 --no-suite vm
        release_built=1
else
        failed=$((failed + 1)) failures+=("release build")
        release_built=0
fi

# The Debian package from the committed tree (git archive HEAD: what a clean checkout holds, not
# the working tree's changes), without its unit suite (nocheck: the release build ran it above),
# and lintian at its default level, failing on errors and warnings.
deb=''
if [ "$quick" = 1 ]; then
        :
elif step "Debian package: dpkg-buildpackage -b from the committed tree, lintian"; command -v dpkg-buildpackage >/dev/null &&
        command -v lintian >/dev/null; then
        rm -rf "$out/deb"
        mkdir -p "$out/deb/src"
        if git archive HEAD | tar -x -C "$out/deb/src" &&
                (cd "$out/deb/src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b -Pnocheck) >"$out/deb.log" 2>&1; then
                deb=$(ls "$out"/deb/vfio-bind_*_*.deb 2>/dev/null | head -n 1)
                passed=$((passed + 1))
                if lintian --fail-on error,warning "$out"/deb/vfio-bind_*.changes >"$out/lintian.log" 2>&1; then
                        grep -v 'running with root privileges' "$out/lintian.log"
                        echo "lintian: clean"
                        passed=$((passed + 1))
                else
                        cat "$out/lintian.log"
                        failed=$((failed + 1)) failures+=("lintian")
                fi
        else
                tail -n 30 "$out/deb.log"
                failed=$((failed + 1)) failures+=("Debian package (see $out/deb.log)")
        fi
else
        echo "SKIP the Debian package: dpkg-buildpackage or lintian is missing (tools/deps.sh installs them)"
        skipped=$((skipped + 1))
fi

step "the real-kernel QEMU tests of the release build (tests/vm, $VB_VM_MATRIX matrix: $VB_VM_KERNELS)"
if [ -n "${VB_SKIP_VM:-}" ]; then
        echo "SKIP the real-kernel QEMU tests: VB_SKIP_VM is set"
        skipped=$((skipped + 1))
elif [ "$release_built" = 1 ]; then
        # libvirt's hook for the scenarios that install it (tests/vm/run.sh --libvirt-hook)
        export VB_VM_LIBVIRT_HOOK="$out/release/libvirt/vfio-bind-libvirt-hook"
        # The package in the guest: the two-stage boot that installs it with dpkg -i
        # (14-itools-deb, on 6.12 in the short matrix) boots in two-stage.sh's pool beside the
        # others, rather than alone after them with a core idle.
        if [ -n "$deb" ]; then
                export VB_VM_DEB=$deb
        else
                echo "SKIP the Debian package in the guest: no package was built"
                skipped=$((skipped + 1))
        fi
        run_meson_tests "$out/release" "real-kernel QEMU tests" --timeout-multiplier 2 --suite vm
fi

if [ "$quick" = 1 ]; then
        :
elif step "valgrind memcheck: the unit tests of the release build"; command -v valgrind >/dev/null && [ -f "$out/release/build.ninja" ]; then
        # test-daemon re-executes itself under libumockdev-preload through /proc/self/exe, which
        # valgrind cannot follow, and dracut-module-setup is a shell script (memcheck would check
        # bash), as are dracut-install-path (bash and meson install), initramfs-tools-hook (bash)
        # and test-docs (python, which runs the programs itself); every C test program runs under
        # memcheck.
        mapfile -t memcheck_tests < <(meson test -C "$out/release" --list --no-suite vm --no-suite completion 2>/dev/null |
                sed -n 's|^[^ ]* / ||p' | grep -vx -e 'test-daemon' -e 'dracut-module-setup' -e 'dracut-install-path' \
                        -e 'initramfs-tools-hook' -e 'test-docs')
        run_meson_tests "$out/release" "unit tests under valgrind" --timeout-multiplier 4 \
                --wrap="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --quiet --suppressions=$PWD/tests/valgrind.supp" \
                "${memcheck_tests[@]}"
else
        failed=$((failed + 1)) failures+=("valgrind (missing, or no release build)")
fi

if [ "$quick" = 1 ]; then
        :
elif [ "${VB_FUZZ_SECONDS:-20}" != 0 ]; then
        step "fuzzing: ${VB_FUZZ_SECONDS:-20}s per parser (tools/fuzz.sh)"
        # the background build, when there is one, ends first (fuzz.sh builds what is left)
        if [ "${fuzz_built_in_background:-0}" = 1 ]; then
                while [ ! -e "$out/bg-fuzz-build.log.status" ]; do sleep 1; done
        fi
        if VB_FUZZ_BUILD="$out/fuzz" VB_FUZZ_PARALLEL=${VB_FUZZ_PARALLEL:-$(nproc)} tools/fuzz.sh "${VB_FUZZ_SECONDS:-20}"; then
                passed=$((passed + 1))
        else
                failed=$((failed + 1)) failures+=("fuzzing")
        fi
else
        echo "SKIP fuzzing: VB_FUZZ_SECONDS=0"
        skipped=$((skipped + 1))
fi

for d in lib cli; do
        step "$d/: the include graph has no cycle (tools/include-graph.sh $d)"
        if tools/include-graph.sh "$d" >"$out.include-graph-$d.txt" 2>&1; then
                tail -n 1 "$out.include-graph-$d.txt"
                passed=$((passed + 1))
        else
                cat "$out.include-graph-$d.txt"
                failed=$((failed + 1)) failures+=("include cycle in $d/")
        fi
done

step "layout: clang-format --dry-run over the C sources (.clang-format)"
if command -v clang-format >/dev/null; then
        if git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror 2>"$out.clang-format.log"; then
                echo "every C source is formatted"
                passed=$((passed + 1))
        else
                head -n 20 "$out.clang-format.log"
                failed=$((failed + 1)) failures+=("clang-format: run clang-format -i on the files above")
        fi
else
        echo "SKIP layout: clang-format is missing"
        skipped=$((skipped + 1))
fi

step "NixOS files: parse and evaluate offline"
if [ -x tests/nix/check.sh ] && command -v nix-instantiate >/dev/null; then
        if tests/nix/check.sh; then
                passed=$((passed + 1))
        else
                failed=$((failed + 1)) failures+=("nix checks")
        fi
else
        # A gate that cannot run is counted, and says why: never dropped silently.
        echo "SKIP nix checks: nix-instantiate is missing (tools/deps.sh installs nix-bin)"
        skipped=$((skipped + 1))
fi

step "hardening: systemd-analyze security --offline=yes"
if ! command -v systemd-analyze >/dev/null || [ ! -f "$out/release/systemd/vfio-bind.service" ]; then
        echo "SKIP unit exposure: $(command -v systemd-analyze >/dev/null || echo "systemd-analyze is missing")$([ -f "$out/release/systemd/vfio-bind.service" ] || echo " no release build of the unit")"
        skipped=$((skipped + 1))
else
        # The unit names /usr/sbin/vfio-bindd (or the prefix's): offline analysis wants the binary
        # to exist, so analyse a copy whose ExecStart= points at the built one.
        analyzed=$out/vfio-bind.service
        sed "s|^ExecStart=.*|ExecStart=$out/release/daemon/vfio-bindd|" "$out/release/systemd/vfio-bind.service" >"$analyzed"
        exposure=$(systemd-analyze security --offline=yes --no-pager "$analyzed" 2>&1 | tee "$out/security.log" |
                sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
        grep -E '^✗' "$out/security.log" | head -n 20
        echo "exposure: ${exposure:-unknown} (driverctl's unit: 9.5)"
        if [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 4.0) }'; then
                passed=$((passed + 1))
        else
                failed=$((failed + 1)) failures+=("unit exposure ${exposure:-unknown} > 4.0")
        fi
fi

step_end
# The background builds have ended by now (the QEMU tests waited for what they needed); a failure
# there showed in the QEMU tests, which then built it themselves.
wait
echo
echo "=== where the time went (seconds; core-s: for a step, the machine's busy CPU seconds while it ran,"
echo "    the background builds' included; for a background build, its own CPU seconds)"
printf '%-74s %7s %7s\n' step seconds core-s
for t in "${TIMES[@]}"; do
        IFS='|' read -r name secs cpu <<<"$t"
        printf '%-74s %7s %7s\n' "$name" "$secs" "$cpu"
done
for b in "${BACKGROUND[@]}"; do
        read -r rc secs cpu <"${b##*|}.status" 2>/dev/null || { rc='?' secs='?' cpu='?'; }
        printf '%-74s %7s %7s\n' "${b%%|*}$([ "$rc" = 0 ] || echo ": failed, see ${b##*|}")" "$secs" "${cpu:-?}"
done
total_secs=$((SECONDS - run_start)) total_cpu=$((($(busy_ticks) - run_busy) / CLK_TCK))
printf '%-74s %7s %7s\n' "total ($(nproc) cores: $((total_cpu * 100 / ((total_secs > 0 ? total_secs : 1) * $(nproc))))% busy)" \
        "$total_secs" "$total_cpu"

echo
if [ ${#failures[@]} -gt 0 ]; then
        printf 'failed: %s\n' "${failures[@]}"
fi
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
