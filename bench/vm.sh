#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The QEMU half of the benchmarks: two guest boots on the test machine of tests/vm (same image,
# same devices), driven through tests/vm/vm-lib.sh:
#   runtime    vfio-bind.service at boot, then the tools in alternating rounds, then the daemon's
#              memory and idle wakeups (bench/vm-runtime.sh)
#   driverctl  driverctl@ at boot for the same two functions (bench/vm-driverctl-boot.sh)
#
# Usage: vm.sh --daemon PATH --cli PATH --unit PATH --floor PATH --raw FILE
#              [--logdir DIR] [--rounds N] [--idle SECONDS]
#
# driverctl is not in the test image. Rather than change the image (and invalidate the tests'
# cache) or build a second one, the payload of these boots carries driverctl's files, taken from
# Debian's driverctl .deb (architecture all: a bash script, a unit and udev rules; it needs only
# bash, udev, kmod and coreutils, which the image has). The .deb is downloaded once with
# `apt-get download` into $VB_VM_CACHE/bench/.
#
# Writes the guests' "BENCH" lines to FILE, each prefixed with the boot's name; exit 0 when both
# boots reported, 1 otherwise.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
VB_DAEMON='' VB_CLI='' VB_UNIT='' BENCH_FLOOR='' RAW='' VM_LOGDIR='' BENCH_ROUNDS=5 BENCH_IDLE=60
while (($#)); do
        case $1 in
        --daemon) VB_DAEMON=$2; shift 2 ;;
        --cli) VB_CLI=$2; shift 2 ;;
        --unit) VB_UNIT=$2; shift 2 ;;
        --floor) BENCH_FLOOR=$2; shift 2 ;;
        --raw) RAW=$2; shift 2 ;;
        --logdir) VM_LOGDIR=$2; shift 2 ;;
        --rounds) BENCH_ROUNDS=$2; shift 2 ;;
        --idle) BENCH_IDLE=$2; shift 2 ;;
        -h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "vm.sh: unknown argument $1" >&2; exit 2 ;;
        esac
done
for f in "$VB_DAEMON" "$VB_CLI" "$VB_UNIT" "$BENCH_FLOOR"; do
        [[ -f $f ]] || { echo "vm.sh: $f does not exist (--daemon, --cli, --unit, --floor)" >&2; exit 2; }
done
[[ -n $RAW ]] || { echo "vm.sh: --raw FILE is required" >&2; exit 2; }

log() { printf '[bench-vm] %s\n' "$*" >&2; }

# shellcheck source=../tests/vm/vm-lib.sh
source "$TOP/tests/vm/vm-lib.sh"
mapfile -t MISSING < <(vm_missing_tools)
((${#MISSING[@]} == 0)) || { log "missing on the host: ${MISSING[*]} (tests/vm/install-deps.sh)"; exit 1; }
vm_image || { log "no guest image (tests/vm/build-image.sh failed)"; exit 1; }
vm_setup || exit 1
[[ -n $VM_LOGDIR ]] || VM_LOGDIR=$VM_WORK/logs
# a boot with all the rounds takes several minutes under TCG
# shellcheck disable=SC2034 # read by vm_boot
VM_BOOT_TIMEOUT=${VB_BENCH_BOOT_TIMEOUT:-2400}
# keep our own copy of the image: another build of it may replace the cached one meanwhile
mkdir -p "$VM_WORK/image"
cp "$IMAGE"/{vmlinuz,rootfs.cpio,manifest,kernel-release,kernel.env} "$VM_WORK/image/" || exit 1
IMAGE=$VM_WORK/image

# driverctl from Debian, cached
DEBS=${VB_VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/vfio-bind-vm}/bench
mkdir -p "$DEBS"
DCTL_DEB=$(find "$DEBS" -maxdepth 1 -name 'driverctl_*_all.deb' | sort | tail -n1)
if [[ -z $DCTL_DEB ]]; then
        log "downloading driverctl (apt-get download) into $DEBS"
        (cd "$DEBS" && apt-get download -q driverctl >&2) || { log "apt-get download driverctl failed"; exit 1; }
        DCTL_DEB=$(find "$DEBS" -maxdepth 1 -name 'driverctl_*_all.deb' | sort | tail -n1)
fi
DCTL=$VM_WORK/driverctl
dpkg-deb -x "$DCTL_DEB" "$DCTL" || exit 1
DCTL_VERSION=$(dpkg-deb -f "$DCTL_DEB" Version)

# bench_payload ROOT: what both benchmark boots add to the test payload
bench_payload() {
        local p=$1 f
        install_file "$DCTL/usr/sbin/driverctl" /usr/sbin/driverctl 0755
        install_file "$DCTL/lib/systemd/system/driverctl@.service" /usr/lib/systemd/system/driverctl@.service 0644
        for f in "$DCTL"/lib/udev/rules.d/*.rules; do
                install_file "$f" "/usr/lib/udev/rules.d/${f##*/}" 0644
        done
        install_file "$DCTL/lib/udev/vfio_name" /usr/lib/udev/vfio_name 0755
        mkdir -p "$p/etc/driverctl.d"
        # the same unit without its sandbox, to tell what the hardening costs at start, and
        # without parts of it (bench/vm-runtime.sh, sandbox_cost)
        mkdir -p "$p/etc/systemd/system"
        sed '/^# Sandboxing/,/^UMask=/d' "$VB_UNIT" >"$p/etc/systemd/system/vfio-bind-plain.service"
        local d=$p/etc/systemd/system/vfio-bind-sbx
        cp "$VB_UNIT" "$d-full.service"
        sed '/^# Sandboxing/,/^UMask=/d' "$VB_UNIT" >"$d-none.service"
        sed -E '/^(ProtectSystem|ProtectHome|PrivateDevices|DevicePolicy|PrivateMounts|ProtectClock|ProtectKernelLogs|ProtectControlGroups|ProtectProc|PrivateIPC|ProtectHostname)=/d' \
                "$VB_UNIT" >"$d-no-namespaces.service"
        sed -E '/^SystemCall(Filter|ErrorNumber|Architectures)=/d' "$VB_UNIT" >"$d-no-seccomp.service"
        sed -E '/^IPAddressDeny=/d' "$VB_UNIT" >"$d-no-ip-bpf.service"
        install_file "$BENCH_FLOOR" /vm/bench/bench-floor 0755
        install_libs "$BENCH_FLOOR"
        install_file "$HERE/guest.sh" /vm/bench/guest.sh 0644
        # the seed guide's postBootCommands for this machine's GPU slot; the guide's loop lacks
        # its "done"
        cat >"$p/vm/bench/seed-snippet.sh" <<SNIPPET
DEVS="$GPU $AUDIO"

for DEV in \$DEVS; do
  echo "vfio-pci" > /sys/bus/pci/devices/\$DEV/driver_override
done
modprobe -i vfio-pci
SNIPPET
        printf 'BENCH_ROUNDS=%d\nBENCH_IDLE=%d\nBENCH_DIR=/vm/bench\n' "$BENCH_ROUNDS" "$BENCH_IDLE" >"$p/vm/bench/env"
        # the checks of the runtime boot outlast vm-check.service's 10 minutes on a busy host
        mkdir -p "$p/etc/systemd/system/vm-check.service.d"
        printf '[Service]\nTimeoutStartSec=40min\n' >"$p/etc/systemd/system/vm-check.service.d/bench.conf"
}

progress() {
        (($1 % 60 == 0)) || return 0
        log "$CURRENT: guest running for $1 s ($(grep -ac '^VMRESULT BENCH run ' "$VM_RESULTS") timed runs reported)"
}

: >"$RAW"
printf 'host qemu=%s driverctl=%s guest-kernel=%s\n' \
        "$(qemu-system-x86_64 -version | sed -n '1s/.*version \([^ ]*\).*/\1/p')" "$DCTL_VERSION" "$KREL" >>"$RAW"
failed=0
for CURRENT in runtime driverctl; do
        case $CURRENT in
        runtime) file=$HERE/vm-runtime.sh ;;
        driverctl) file=$HERE/vm-driverctl-boot.sh ;;
        esac
        vm_scenario_load "$file"
        log "boot $CURRENT: $DESCRIPTION (logs in $VM_LOGDIR/$CURRENT)"
        vm_build_payload "$CURRENT" "$file" || { log "$CURRENT: could not build the payload"; failed=1; continue; }
        vm_boot "$CURRENT" progress
        vm_result_lines | sed -n 's/^VMRESULT BENCH /'"$CURRENT"' /p' >>"$RAW"
        vm_result_lines | grep -E '^VMRESULT (FAIL|INFO)' | sed 's/^VMRESULT /  /' >&2
        if ! vm_result_lines | grep -q "^VMRESULT PASS bench: benchmark boot finished"; then
                log "$CURRENT: the guest did not finish (qemu exit $VM_BOOT_RC after $VM_BOOT_SECONDS s)"
                vm_console_tail 15 | sed 's/^/  /' >&2
                failed=1
        else
                log "$CURRENT: done in $VM_BOOT_SECONDS s"
        fi
done
exit "$failed"
