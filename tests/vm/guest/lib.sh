# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Helpers for the checks that run inside the guest. Under TCG every fork/exec costs tens of
# milliseconds, so the helpers read sysfs with shell builtins and run each outside tool (dmesg,
# journalctl, systemctl, jq) once, keeping what it printed in arrays.
#
# A check is a function that returns 0 when it holds and otherwise sets WHY to what was found:
#     check scenario-1 "both functions on vfio-pci" on_driver 0000:01:00.0 vfio-pci
# prints "VMRESULT PASS scenario-1: both functions on vfio-pci" or "VMRESULT FAIL …: WHY" on the
# results port (fd 3, the second serial port), which the host turns into the report.

WHY=

_result() { printf 'VMRESULT %s\n' "$*" >&3; }
pass() { _result "PASS $1: $2"; }
fail() { _result "FAIL $1: $2"; }
# timing ID TEXT: a measured time, reported on its own line
timing() { _result "TIME $1: $2"; }
note() { _result "INFO $1: $2"; }

# check ID TEXT FUNCTION [ARGS…]
check() {
        local id=$1 text=$2
        shift 2
        WHY=
        if "$@"; then
                pass "$id" "$text"
        else
                fail "$id" "$text: ${WHY:-$* failed}"
        fi
}

# all CHECK… joined with "&&" without a subshell: all_of "on_driver A x" "on_driver B y"
all_of() {
        local c
        for c in "$@"; do
                # shellcheck disable=SC2086
                $c || return 1
        done
}

# The helpers by topic, each in a file of its own next to this one: sysfs (builtins only), the
# kernel log, the recorded uevents, IOMMU groups and `vfio-bind groups`, systemd units and the
# journal, the checks several scenarios share, SR-IOV, the load tests.
for _lib in "${BASH_SOURCE[0]%/*}"/lib-*.sh; do
        # shellcheck source=/dev/null
        source "$_lib"
done
unset _lib
