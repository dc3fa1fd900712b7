#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The real-kernel test: boots real kernels with systemd and udev in QEMU (q35, intel-iommu, OVMF,
# direct kernel boot) once per scenario file in scenarios/ and kernel, with the freshly built
# vfio-bindd, vfio-bind and vfio-bind.service installed, and reports what the guest found.
#
# Usage: run.sh --daemon PATH --cli PATH --unit PATH [--floor PATH] [--libvirt-hook PATH] [--logdir DIR]
#               [--require] [SCENARIO…]
#
#   --daemon, --cli, --unit  the build's daemon/vfio-bindd, cli/vfio-bind, systemd/vfio-bind.service
#   --floor PATH             the build's tests/vm/uevent-floor (a bare libudev listener; scenario
#                            30 measures the floor of a uevent's cost with it, and says so without)
#   --libvirt-hook PATH      the build's libvirt/vfio-bind-libvirt-hook (default: VB_VM_LIBVIRT_HOOK),
#                            installed in the guest as libvirt's hook by the scenarios that set
#                            LIBVIRT_HOOK=yes; without it they are left out (a failure under
#                            --require)
#   --logdir DIR             keep each boot's console, results and guest logs in
#                            DIR/<kernel>/<scenario>/
#   --require                QEMU missing is a failure, not a skip
#   --list                   print the scenarios and exit
#   --images                 build (or find in the cache) the guest images of the kernels this run
#                            would boot, and exit (tools/test.sh does it in the background
#                            while it compiles)
#   SCENARIO                 run only these (file names without .sh, or a glob like '05-*')
#
# Environment: VB_VM_KERNELS (the kernels to boot, default "6.1 6.12 6.12-nixos": Debian's 6.1 and
# 6.12, and 6.12 configured like NixOS's kernels, which build-kernel.sh builds; each scenario
# boots on those of its KERNELS= that are picked), VB_VM_MATRIX (full, the default: every scenario
# on each of its kernels; short: every scenario on 6.12, and on 6.1 and 6.12-nixos only those
# where the kernel's configuration matters, as CI runs it), VB_VM_CACHE (image cache, default
# ${XDG_CACHE_HOME:-/var/cache}/vfio-bind-vm),
# VB_VM_BOOT_TIMEOUT (hard limit per boot in seconds, default 300), VB_VM_INSTALL_DEPS=0 (do not
# apt-get install missing host tools even as root).
#
# Output: a line per check ("PASS [6.12] scenario-1: …" / "FAIL [6.1] scenario-1: …: why"), TIME
# lines with the measured times, and finally "N passed, N failed". Exit 0 when all passed, 1 on any failure,
# 77 (skip) only when QEMU cannot run here at all.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vm-lib.sh
source "$HERE/vm-lib.sh"

VB_DAEMON='' VB_CLI='' VB_UNIT='' VB_FLOOR='' VM_LOGDIR='' REQUIRE=0 LIST=0 IMAGES=0
VB_LIBVIRT_HOOK=${VB_VM_LIBVIRT_HOOK:-}
SELECT=()
while (($#)); do
        case $1 in
        --daemon) VB_DAEMON=$2; shift 2 ;;
        --cli) VB_CLI=$2; shift 2 ;;
        --unit) VB_UNIT=$2; shift 2 ;;
        --floor) VB_FLOOR=$2; shift 2 ;;
        --libvirt-hook) VB_LIBVIRT_HOOK=$2; shift 2 ;;
        --logdir) VM_LOGDIR=$2; shift 2 ;;
        --require) REQUIRE=1; shift ;; # read by skip() (vm-lib.sh)
        --list) LIST=1; shift ;;
        --images) IMAGES=1; shift ;;
        -h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) SELECT+=("$1"); shift ;;
        esac
done

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
read -r -a KERNELS_PICKED <<<"${VB_VM_KERNELS:-${VM_KERNELS_ALL[*]}}"
for k in "${KERNELS_PICKED[@]}"; do
        [[ " ${VM_KERNELS_ALL[*]} " == *" $k "* ]] ||
                { echo "run.sh: unknown kernel $k in VB_VM_KERNELS (known: ${VM_KERNELS_ALL[*]})" >&2; exit 2; }
done
MATRIX=${VB_VM_MATRIX:-full}
[[ $MATRIX == full || $MATRIX == short ]] ||
        { echo "run.sh: VB_VM_MATRIX is full or short, not $MATRIX" >&2; exit 2; }
# boots_on KERNEL: BOOTS = the picked scenarios that boot on KERNEL. The short matrix boots every
# scenario on 6.12 and, on the other kernels, only those where the kernel's configuration matters
# (the ones that name 6.12-nixos in KERNELS: console, framebuffer, device cdevs).
boots_on() {
        local s
        BOOTS=()
        for s in "${SCENARIOS[@]}"; do
                vm_scenario_load "$HERE/scenarios/$s.sh"
                [[ " $KERNELS " == *" $1 "* ]] || continue
                if [[ $MATRIX == short && $1 != 6.12 && " $KERNELS " != *" 6.12-nixos "* ]]; then
                        continue
                fi
                BOOTS+=("$s")
        done
        return 0
}
if ((LIST)); then
        for s in "${SCENARIOS[@]}"; do
                vm_scenario_load "$HERE/scenarios/$s.sh"
                printf '%-22s [%s] %s\n' "$s" "$KERNELS" "$DESCRIPTION"
        done
        exit 0
fi

if ((IMAGES)); then
        rc=0
        for kernel in "${KERNELS_PICKED[@]}"; do
                boots_on "$kernel"
                ((${#BOOTS[@]})) || continue
                "$HERE/build-image.sh" --kernel "$kernel" >/dev/null || rc=1
        done
        exit "$rc"
fi

[[ -n $VB_DAEMON && -n $VB_CLI && -n $VB_UNIT ]] ||
        { echo "run.sh: --daemon, --cli and --unit are required" >&2; exit 2; }
for f in "$VB_DAEMON" "$VB_CLI" "$VB_UNIT" ${VB_LIBVIRT_HOOK:+"$VB_LIBVIRT_HOOK"}; do
        [[ -f $f ]] || { report_fail "vm: $f does not exist (build first)"; summary; }
done

# ---------------------------------------------------------------------------------------------
# can QEMU run here? Then the image.

# the tools a build of the NixOS-like kernel needs, when it is picked
missing_tools() {
        local t
        vm_missing_tools
        [[ " ${KERNELS_PICKED[*]} " == *" 6.12-nixos "* ]] || return 0
        for t in make gcc flex bison bc; do
                command -v "$t" >/dev/null || echo "$t"
        done
        [[ -e /usr/include/libelf.h ]] || echo libelf-dev
}
mapfile -t MISSING < <(missing_tools)
if ((${#MISSING[@]})) && [[ $(id -u) == 0 && ${VB_VM_INSTALL_DEPS:-1} != 0 ]] && command -v apt-get >/dev/null; then
        log "installing the host tools (missing: ${MISSING[*]}): tests/vm/install-deps.sh"
        "$HERE/install-deps.sh" >&2 || true
        mapfile -t MISSING < <(missing_tools)
fi
((${#MISSING[@]} == 0)) || skip "missing on the host: ${MISSING[*]} (run tests/vm/install-deps.sh as root)"
qemu-system-x86_64 -version >/dev/null 2>&1 || skip "qemu-system-x86_64 does not run"

# ---------------------------------------------------------------------------------------------
# the boots

# boot_one "KERNEL SCENARIO": one boot, in a subshell of the pool (vm_pool_run): the payload,
# the boot, once more after a kernel panic before the checks, the report and the host's checks
boot_one() {
        local kernel=${1%% *}
        CURRENT=${1#* }
        # shellcheck disable=SC2034 # the reporting (vm-lib.sh) puts it in front of each line
        VM_KERNEL=$kernel
        vm_image_use "$(cat "$VM_WORK_TOP/image.$kernel.dir")" || { report_fail "$CURRENT: no guest image"; return; }
        VM_LOGDIR=$VM_LOGDIR_BASE/$kernel
        vm_scenario_load "$HERE/scenarios/$CURRENT.sh"
        log "boot [$kernel] $CURRENT: $DESCRIPTION"
        if ! vm_build_payload "$CURRENT" "$HERE/scenarios/$CURRENT.sh"; then
                report_fail "$CURRENT: could not build the payload"
                return
        fi
        vm_boot "$CURRENT" progress
        # Under TCG a guest kernel can die while it boots, before any check ran (seen: an
        # "Oops: int3" in sched_clock_tick while the kernel patched its code on 6.12): that
        # boot says nothing about vfio-bind, so it is retried once, and said so.
        if ! grep -aq '^VMRESULT BEGIN' "$VM_RESULTS" &&
           tr -d '\r' < "$VM_LOGDIR/$CURRENT/console.log" | grep -aq 'Kernel panic - not syncing'; then
                cp "$VM_LOGDIR/$CURRENT/console.log" "$VM_LOGDIR/$CURRENT.panic-console.log"
                log "boot [$kernel] $CURRENT: the guest kernel panicked before the checks ($(tr -d '\r' < "$VM_LOGDIR/$CURRENT/console.log" |
                        grep -a -m1 -E 'Oops|BUG|panic' | sed 's/^\[[^]]*\] //')); console in $VM_LOGDIR/$CURRENT.panic-console.log; booting once more"
                vm_boot "$CURRENT" progress
        fi
        report_boot "$CURRENT"
        # the host's part of the checks, on what the guest sent out (only after a boot whose
        # checks ended: else there is nothing to look at, and that failed already)
        if grep -aq '^VMRESULT END' "$VM_RESULTS"; then
                host_checks "$VM_LOGDIR/$CURRENT"
        fi
        log "boot [$kernel] $CURRENT: done in $VM_BOOT_SECONDS s"
}

TOTAL_START=$SECONDS
ITEMS=() KERNELS_BOOTED=()
for kernel in "${KERNELS_PICKED[@]}"; do
        boots_on "$kernel"
        if ((${#BOOTS[@]} == 0)); then
                log "kernel $kernel: no picked scenario boots on it"
                continue
        fi
        for s in "${BOOTS[@]}"; do
                vm_scenario_load "$HERE/scenarios/$s.sh"
                if [[ $LIBVIRT_HOOK == yes && -z $VB_LIBVIRT_HOOK ]]; then
                        if ((REQUIRE)); then
                                report_fail "[$kernel] $s: needs the build's libvirt hook (run.sh --libvirt-hook PATH)"
                        else
                                echo "SKIP [$kernel] $s: needs the build's libvirt hook (run.sh --libvirt-hook PATH: libvirt/vfio-bind-libvirt-hook)"
                        fi
                        continue
                fi
                ITEMS+=("$kernel $s")
        done
        [[ " ${ITEMS[*]} " == *" $kernel "* ]] && KERNELS_BOOTED+=("$kernel")
done
((${#ITEMS[@]})) || summary
# Building an image needs root; without it, only cached images can be used (build-image.sh says
# which is missing).
if [[ $(id -u) != 0 ]]; then
        for kernel in "${KERNELS_BOOTED[@]}"; do
                VB_VM_KERNEL=$kernel "$HERE/build-image.sh" --kernel "$kernel" >/dev/null 2>&1 ||
                        skip "no cached guest image for kernel $kernel, and building one needs root"
        done
fi
vm_setup || { report_fail "vm: $VB_UNIT has no usable ExecStart="; summary; }
VM_WORK_TOP=$VM_WORK
# the image is the guest's whole root: what no check looks at is masked (vm_payload_trim)
# shellcheck disable=SC2034 # read by vm_build_payload (vm-lib.sh)
VM_PAYLOAD_TRIM=yes
VM_LOGDIR_BASE=${VM_LOGDIR:-$VM_WORK/logs}
vm_pool_config
log "${#ITEMS[@]} boots on ${KERNELS_BOOTED[*]} ($MATRIX matrix), $VM_JOBS at a time with $VM_SMP vCPU each, at most $VM_BOOT_TIMEOUT s each; logs in $VM_LOGDIR_BASE/<kernel>/; guest images: building or reusing the cached ones (the first build takes minutes, the first 6.12-nixos kernel build tens of minutes)"
vm_images_prepare "${KERNELS_BOOTED[@]}"
# shellcheck disable=SC2034 # read by vm_pool_image_ready (vm-lib.sh)
VM_POOL_WHAT="image"
vm_pool_run boot_one vm_pool_image_ready "${ITEMS[@]}"
for kernel in "${KERNELS_BOOTED[@]}"; do
        printf 'TIME [%s] %d boots, %d s of boot time\n' "$kernel" "${VM_POOL_BOOTS[$kernel]:-0}" "${VM_POOL_SECONDS[$kernel]:-0}"
done
printf 'TIME all %d boots done in %d s (%d at a time)\n' "${#ITEMS[@]}" $((SECONDS - TOTAL_START)) "$VM_JOBS"
summary
