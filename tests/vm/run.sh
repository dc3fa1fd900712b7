#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The real-kernel test: boots a Debian kernel with systemd and udev in QEMU (q35, intel-iommu,
# OVMF, direct kernel boot) once per scenario file in scenarios/, with the freshly built
# vfio-bindd, vfio-bind and vfio-bind.service installed, and reports what the guest found.
#
# Usage: run.sh --daemon PATH --cli PATH --unit PATH [--logdir DIR] [--require] [SCENARIO…]
#
#   --daemon, --cli, --unit  the build's daemon/vfio-bindd, cli/vfio-bind, systemd/vfio-bind.service
#   --logdir DIR             keep each boot's console, results and guest logs in DIR/<scenario>/
#   --require                QEMU missing is a failure, not a skip
#   --list                   print the scenarios and exit
#   SCENARIO                 run only these (file names without .sh, or a glob like '05-*')
#
# Environment: VB_VM_CACHE (image cache, default ${XDG_CACHE_HOME:-/var/cache}/vfio-bind-vm),
# VB_VM_BOOT_TIMEOUT (hard limit per boot in seconds, default 300), VB_VM_INSTALL_DEPS=0 (do not
# apt-get install missing host tools even as root).
#
# Output: a line per check ("PASS scenario-1: …" / "FAIL scenario-1: …: why"), TIME lines with
# the measured times, and finally "N passed, N failed". Exit 0 when all passed, 1 on any failure,
# 77 (skip) only when QEMU cannot run here at all.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vm-lib.sh
source "$HERE/vm-lib.sh"

VB_DAEMON='' VB_CLI='' VB_UNIT='' VM_LOGDIR='' REQUIRE=0 LIST=0
SELECT=()
while (($#)); do
        case $1 in
        --daemon) VB_DAEMON=$2; shift 2 ;;
        --cli) VB_CLI=$2; shift 2 ;;
        --unit) VB_UNIT=$2; shift 2 ;;
        --logdir) VM_LOGDIR=$2; shift 2 ;;
        --require) REQUIRE=1; shift ;;
        --list) LIST=1; shift ;;
        -h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) SELECT+=("$1"); shift ;;
        esac
done

PASSED=0 FAILED=0
log() { printf '# %s\n' "$*"; }
report_pass() { printf 'PASS %s\n' "$1"; PASSED=$((PASSED + 1)); }
report_fail() { printf 'FAIL %s\n' "$1"; FAILED=$((FAILED + 1)); }
summary() {
        printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
        ((FAILED == 0))
        exit $?
}
skip() {
        if ((REQUIRE)); then
                report_fail "vm: cannot run: $*"
                summary
        fi
        echo "SKIP vm: $*"
        exit 77
}

# ---------------------------------------------------------------------------------------------
# the scenarios

mapfile -t SCENARIOS < <(cd "$HERE/scenarios" && ls -1 -- *.sh | sed 's/\.sh$//' | LC_ALL=C sort)
if ((${#SELECT[@]})); then
        picked=()
        for s in "${SCENARIOS[@]}"; do
                for pat in "${SELECT[@]}"; do
                        # shellcheck disable=SC2053
                        if [[ $s == $pat || $s == *-"$pat" ]]; then
                                picked+=("$s")
                                break
                        fi
                done
        done
        SCENARIOS=("${picked[@]}")
        ((${#SCENARIOS[@]})) || { echo "run.sh: no scenario matches ${SELECT[*]}" >&2; exit 2; }
fi
if ((LIST)); then
        for s in "${SCENARIOS[@]}"; do
                vm_scenario_load "$HERE/scenarios/$s.sh"
                printf '%-22s %s\n' "$s" "$DESCRIPTION"
        done
        exit 0
fi

[[ -n $VB_DAEMON && -n $VB_CLI && -n $VB_UNIT ]] ||
        { echo "run.sh: --daemon, --cli and --unit are required" >&2; exit 2; }
for f in "$VB_DAEMON" "$VB_CLI" "$VB_UNIT"; do
        [[ -f $f ]] || { report_fail "vm: $f does not exist (build first)"; summary; }
done

# ---------------------------------------------------------------------------------------------
# can QEMU run here? Then the image.

mapfile -t MISSING < <(vm_missing_tools)
if ((${#MISSING[@]})) && [[ $(id -u) == 0 && ${VB_VM_INSTALL_DEPS:-1} != 0 ]] && command -v apt-get >/dev/null; then
        log "installing the host tools (missing: ${MISSING[*]}): tests/vm/install-deps.sh"
        "$HERE/install-deps.sh" >&2 || true
        mapfile -t MISSING < <(vm_missing_tools)
fi
((${#MISSING[@]} == 0)) || skip "missing on the host: ${MISSING[*]} (run tests/vm/install-deps.sh as root)"
qemu-system-x86_64 -version >/dev/null 2>&1 || skip "qemu-system-x86_64 does not run"

log "guest image: building or reusing the cached one (the first build takes a few minutes)"
if ! vm_image 2> >(sed -u 's/^/# /'); then
        [[ $(id -u) == 0 ]] || skip "no cached guest image, and building one needs root"
        report_fail "vm: the guest image could not be built (see the messages above)"
        summary
fi
vm_setup || { report_fail "vm: $VB_UNIT has no usable ExecStart="; summary; }
[[ -n $VM_LOGDIR ]] || VM_LOGDIR=$VM_WORK/logs

# ---------------------------------------------------------------------------------------------
# the boots

progress() {
        (($1 % 30 == 0)) || return 0
        log "$CURRENT: guest running for $1 s ($(grep -ac '^VMRESULT [PF]' "$VM_RESULTS") checks reported)"
}

# report_boot NAME: print the guest's results; a boot that ended without END is a failure
report_boot() {
        local s=$1 line kind rest ended=0 n=0
        while IFS= read -r line; do
                [[ $line =~ ^VMRESULT\ ([A-Z-]+)\ (.*)$ ]] || continue
                kind=${BASH_REMATCH[1]} rest=${BASH_REMATCH[2]}
                case $kind in
                PASS) report_pass "$rest"; n=$((n + 1)) ;;
                FAIL) report_fail "$rest"; n=$((n + 1)) ;;
                TIME) printf 'TIME %s\n' "$rest" ;;
                INFO) printf '# %s\n' "$rest" ;;
                END) ended=1 ;;
                esac
        done < <(vm_result_lines)
        if ((!ended)); then
                if ((VM_BOOT_RC == 124 || VM_BOOT_RC == 137)); then
                        report_fail "$s: the guest did not finish within $VM_BOOT_TIMEOUT s (killed; $n checks reported; logs in $VM_LOGDIR/$s)"
                else
                        report_fail "$s: the guest stopped before its checks ended (qemu exit $VM_BOOT_RC; $n checks reported; logs in $VM_LOGDIR/$s)"
                fi
                vm_console_tail 15 | sed 's/^/#   /'
        elif ((n == 0)); then
                report_fail "$s: the guest reported no check"
        fi
}

log "kernel $KREL, image $IMAGE, ${#SCENARIOS[@]} boots, at most $VM_BOOT_TIMEOUT s each; logs in $VM_LOGDIR"
TOTAL_START=$SECONDS
for CURRENT in "${SCENARIOS[@]}"; do
        vm_scenario_load "$HERE/scenarios/$CURRENT.sh"
        log "boot $CURRENT: $DESCRIPTION"
        if ! vm_build_payload "$CURRENT" "$HERE/scenarios/$CURRENT.sh"; then
                report_fail "$CURRENT: could not build the payload"
                continue
        fi
        vm_boot "$CURRENT" progress
        report_boot "$CURRENT"
        log "boot $CURRENT: done in $VM_BOOT_SECONDS s"
done
log "all boots done in $((SECONDS - TOTAL_START)) s"
summary
