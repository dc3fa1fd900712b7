# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# What the shell tests of a script against stand-ins share (sourced by
# tests/dracut/test-module-setup.sh and tests/initramfs-tools/test-hook.sh): a scratch directory
# $tmp, removed on exit; expect TEXT GOT WANT, one "ok - TEXT" or "not ok - TEXT: got …, want …"
# line per check; expect_end, the count and the exit status (1 if a check failed).

set -uo pipefail
failed=0 n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect() {
        n=$((n + 1))
        if [[ $2 == "$3" ]]; then
                echo "ok - $1"
        else
                echo "not ok - $1: got \"$2\", want \"$3\""
                failed=1
        fi
}

expect_end() {
        echo "$n checks, $([[ $failed == 0 ]] && echo all passed || echo some FAILED)"
        exit "$failed"
}
