#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The test command: installs what it needs (apt-get), then builds and runs every test.
#   1. a developer build (-Werror, ASan+UBSan): the unit tests
#   2. a release build (-Werror): the unit tests again, and the real-kernel QEMU tests
#   3. the NixOS files: nix-instantiate --parse and the offline evaluation
#   4. the unit's exposure score (systemd-analyze security --offline=yes)
# It ends with one "N passed, N failed" line over every test program it ran.
#
# Environment: VB_SKIP_DEPS=1 skips apt-get; VB_SKIP_VM=1 skips the QEMU tests;
# VB_BUILD_DIR (default build-test) is where the builds go.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
out=${VB_BUILD_DIR:-$top/build-test}

step() { printf '\n=== %s\n' "$*"; }

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
        rm -f "$dir/meson-logs/testlog.json"
        meson test -C "$dir" --print-errorlogs "$@"
        if [ -f "$dir/meson-logs/testlog.json" ]; then
                count_meson "$dir/meson-logs/testlog.json" "$name"
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

step "developer build: -Werror, ASan+UBSan, unit tests"
if setup "$out/dev" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dvm-tests=disabled &&
   ninja -C "$out/dev"; then
        run_meson_tests "$out/dev" "unit tests (ASan+UBSan)" --no-suite vm
else
        failed=$((failed + 1)) failures+=("developer build")
fi

step "release build: -Werror, unit tests and the real-kernel QEMU tests"
vm=()
[ -n "${VB_SKIP_VM:-}" ] && vm=(--no-suite vm)
if setup "$out/release" --buildtype=release -Dwerror=true && ninja -C "$out/release"; then
        run_meson_tests "$out/release" "release build tests" --timeout-multiplier 2 "${vm[@]}"
else
        failed=$((failed + 1)) failures+=("release build")
fi

if [ -x tests/nix/check.sh ] && command -v nix-instantiate >/dev/null; then
        step "NixOS files: parse and evaluate offline"
        if tests/nix/check.sh; then
                passed=$((passed + 1))
        else
                failed=$((failed + 1)) failures+=("nix checks")
        fi
fi

if command -v systemd-analyze >/dev/null && [ -f "$out/release/systemd/vfio-bind.service" ]; then
        step "hardening: systemd-analyze security --offline=yes"
        systemd-analyze security --offline=yes --no-pager "$out/release/systemd/vfio-bind.service" 2>&1 | tail -n 3
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
        printf 'failed: %s\n' "${failures[@]}"
fi
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
