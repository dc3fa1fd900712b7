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
# shellcheck source=topology.sh
source "$HERE/topology.sh"
DAEMON= CLI= UNIT= LOGDIR= REQUIRE=0 LIST=0
SELECT=()
BOOT_TIMEOUT=${VB_VM_BOOT_TIMEOUT:-300}
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

while (($#)); do
        case $1 in
        --daemon) DAEMON=$2; shift 2 ;;
        --cli) CLI=$2; shift 2 ;;
        --unit) UNIT=$2; shift 2 ;;
        --logdir) LOGDIR=$2; shift 2 ;;
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

mapfile -t SCENARIOS < <(cd "$HERE/scenarios" && ls -1 -- *.sh | sed 's/\.sh$//' | sort)
if ((${#SELECT[@]})); then
        picked=()
        for s in "${SCENARIOS[@]}"; do
                for pat in "${SELECT[@]}"; do
                        # shellcheck disable=SC2053
                        [[ $s == $pat || $s == *-"$pat" ]] && { picked+=("$s"); break; }
                done
        done
        SCENARIOS=("${picked[@]}")
        ((${#SCENARIOS[@]})) || { echo "run.sh: no scenario matches ${SELECT[*]}" >&2; exit 2; }
fi
if ((LIST)); then
        for s in "${SCENARIOS[@]}"; do
                (source "$HERE/scenarios/$s.sh"; printf '%-22s %s\n' "$s" "$DESCRIPTION")
        done
        exit 0
fi

[[ -n $DAEMON && -n $CLI && -n $UNIT ]] || { echo "run.sh: --daemon, --cli and --unit are required" >&2; exit 2; }
for f in "$DAEMON" "$CLI" "$UNIT"; do
        [[ -f $f ]] || { report_fail "vm: $f does not exist (build first)"; summary; }
done

# ---------------------------------------------------------------------------------------------
# can QEMU run here?

need_tools() {
        local t missing=()
        for t in qemu-system-x86_64 mmdebstrap cpio zstd depmod python3; do
                command -v "$t" >/dev/null || missing+=("$t")
        done
        [[ -r $OVMF_CODE && -r $OVMF_VARS ]] || missing+=(ovmf)
        ((${#missing[@]} == 0)) || printf '%s\n' "${missing[@]}"
}
mapfile -t MISSING < <(need_tools)
if ((${#MISSING[@]})) && [[ $(id -u) == 0 && ${VB_VM_INSTALL_DEPS:-1} != 0 ]] && command -v apt-get >/dev/null; then
        log "installing the host tools (${MISSING[*]} missing): tests/vm/install-deps.sh"
        "$HERE/install-deps.sh" >&2 || true
        mapfile -t MISSING < <(need_tools)
fi
((${#MISSING[@]} == 0)) || skip "missing on the host: ${MISSING[*]} (run tests/vm/install-deps.sh as root)"
qemu-system-x86_64 -machine q35 -accel tcg -nodefaults -display none -S -no-user-config \
        -device intel-iommu -device pcie-root-port,id=rp -device VGA,bus=rp -version >/dev/null 2>&1 ||
        skip "qemu-system-x86_64 does not run"
[[ -w /dev/null && -d /dev/shm ]] || skip "no usable /dev"

# ---------------------------------------------------------------------------------------------
# the image

log "guest image: building or reusing the cached one (first build takes a few minutes)"
IMAGE=$("$HERE/build-image.sh" 2> >(sed -u 's/^/# /' >&2))
if [[ -z $IMAGE || ! -s $IMAGE/rootfs.cpio.zst ]]; then
        if [[ $(id -u) != 0 ]]; then
                skip "no cached guest image and building one needs root"
        fi
        report_fail "vm: the guest image could not be built (see the messages above)"
        summary
fi
KREL=$(cat "$IMAGE/kernel-release")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vfio-bind-vm.XXXXXX")
QEMU_PID=
cleanup() {
        [[ -n $QEMU_PID ]] && kill "$QEMU_PID" 2>/dev/null
        rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[[ -n $LOGDIR ]] || LOGDIR=$WORK/logs

# ---------------------------------------------------------------------------------------------
# the payload: programs, unit, configuration, checks, as a second cpio after the image

# where the unit says the daemon is
EXEC_START=$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$UNIT" | head -n1)
[[ $EXEC_START == /* ]] || { report_fail "vm: cannot read ExecStart= from $UNIT"; summary; }
GUEST_DAEMON=$EXEC_START
GUEST_CLI=${EXEC_START%/*/*}/bin/vfio-bind

# install_file SRC DEST MODE: copy into the payload root $P
install_file() {
        mkdir -p "$P$(dirname "$2")"
        install -m "$3" "$1" "$P$2"
}

# the shared libraries BINARY needs that the image lacks (an ASan build needs libasan, …)
install_libs() {
        local lib real
        while read -r lib; do
                real=$(readlink -f "$lib")
                lib=/usr${lib#/usr}
                grep -qxF -e "$lib" -e "${lib#/usr}" "$IMAGE/manifest" && continue
                install_file "$real" "$lib" 0644
        done < <(ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p')
}

build_payload() { # SCENARIO
        local s=$1 u
        P=$WORK/payload-$s
        rm -rf "$P"
        mkdir -p "$P/vm" "$P/etc/systemd/system/sysinit.target.wants"

        install_file "$DAEMON" "$GUEST_DAEMON" 0755
        install_file "$CLI" "$GUEST_CLI" 0755
        install_libs "$DAEMON"
        install_libs "$CLI"
        install_file "$UNIT" /etc/systemd/system/vfio-bind.service 0644
        [[ $SERVICE == enabled ]] &&
                ln -s ../vfio-bind.service "$P/etc/systemd/system/sysinit.target.wants/vfio-bind.service"
        [[ -n $CONF ]] && printf '%s\n' "$CONF" > "$P/etc/vfio-bind.conf"

        for u in vm-test.target vm-check.service vm-uevents.service display-manager.service; do
                install_file "$HERE/guest/$u" "/etc/systemd/system/$u" 0644
        done
        ln -s ../vm-uevents.service "$P/etc/systemd/system/sysinit.target.wants/vm-uevents.service"
        install_file "$HERE/guest/emergency.service" /etc/systemd/system/emergency.service 0644
        install_file "$HERE/guest/emergency.service" /etc/systemd/system/rescue.service 0644
        install_file "$HERE/guest/emergency" /vm/emergency 0755
        install_file "$HERE/guest/lib.sh" /vm/lib.sh 0644
        install_file "$HERE/topology.sh" /vm/topology.sh 0644
        install_file "$HERE/guest/run-checks" /vm/run-checks 0755
        install_file "$HERE/guest/uevents-ready" /vm/uevents-ready 0755
        install_file "$HERE/scenarios/$s.sh" /vm/scenario.sh 0644
        {
                printf 'BOOT_NAME=%q\n' "$s"
                printf 'VB_DAEMON=%q\n' "$GUEST_DAEMON"
                printf 'VB_CLI=%q\n' "$GUEST_CLI"
        } > "$P/vm/env"
        payload "$P" || return 1
        (cd "$P" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$WORK/payload.cpio" || return 1
        # the kernel reads an uncompressed cpio after a compressed one only at a 4-byte boundary
        { cat "$IMAGE/rootfs.cpio.zst"
          head -c $(( (512 - $(stat -c %s "$IMAGE/rootfs.cpio.zst") % 512) % 512 )) /dev/zero
          cat "$WORK/payload.cpio"; } > "$WORK/initrd.img"
}

# ---------------------------------------------------------------------------------------------
# one boot

# no_timer_check: under TCG on a busy host the IO-APIC timer test can time out and panic
APPEND_BASE=(console=ttyS0 rdinit=/lib/systemd/systemd systemd.unit=vm-test.target panic=-1 no_timer_check
             systemd.show_status=false loglevel=4
             'dyndbg="func driver_bound +p; func really_probe +p"'
             kprobe_event=p:vm/efifb_remove,efifb_remove tp_printk)

# The machine: a GPU (VGA) and its audio function in one slot behind a root port (one IOMMU
# group), a NIC behind a second root port, a third root port left free for hotplug.
QEMU_TOPOLOGY=(
        -device intel-iommu,intremap=on
        -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=0x2
        -device VGA,bus=rp1,addr=0x0.0,multifunction=on
        -device ich9-intel-hda,bus=rp1,addr=0x0.1
        -device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=2,addr=0x3
        -device e1000e,bus=rp2,addr=0x0,netdev=nic0
        -netdev user,id=nic0,restrict=on
        -device pcie-root-port,id=rp3,bus=pcie.0,chassis=3,slot=3,addr=0x4
)

# results of the last boot
RESULTS=

run_boot() { # SCENARIO
        local s=$1 dir append start rc hotplug_done=0 last_progress=0 now
        dir=$LOGDIR/$s
        rm -rf "$dir"
        mkdir -p "$dir"
        append=("${APPEND_BASE[@]}")
        # Debian's 6.1 turns the Intel IOMMU on by default (INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y),
        # so "off" has to be said, not only "on" left out
        if [[ $IOMMU == on ]]; then
                append+=(intel_iommu=on)
        else
                append+=(intel_iommu=off)
        fi
        # shellcheck disable=SC2206
        append+=($APPEND)

        cp "$OVMF_VARS" "$WORK/vars.fd"
        rm -f "$WORK/qmp.sock"
        RESULTS=$dir/results.log
        : > "$RESULTS"
        start=$SECONDS
        timeout --kill-after=10 "$BOOT_TIMEOUT" \
                qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp 2 -m 2048 \
                -nodefaults -no-user-config -display none -no-reboot \
                -drive if=pflash,format=raw,unit=0,readonly=on,file="$OVMF_CODE" \
                -drive if=pflash,format=raw,unit=1,file="$WORK/vars.fd" \
                -kernel "$IMAGE/vmlinuz" -initrd "$WORK/initrd.img" -append "${append[*]}" \
                -serial file:"$dir/console.log" -serial file:"$RESULTS" \
                -qmp unix:"$WORK/qmp.sock",server=on,wait=off \
                "${QEMU_TOPOLOGY[@]}" ${QEMU_EXTRA:+$QEMU_EXTRA} \
                >"$dir/qemu.log" 2>&1 &
        QEMU_PID=$!

        # progress, and the host's part of a hotplug scenario
        while kill -0 "$QEMU_PID" 2>/dev/null; do
                if [[ -n $HOTPLUG ]] && ((!hotplug_done)) && grep -aq '^VMRESULT HOTPLUG-REQUEST' "$RESULTS"; then
                        hotplug_done=1
                        # shellcheck disable=SC2086
                        if python3 "$HERE/qmp.py" "$WORK/qmp.sock" device_add $HOTPLUG >>"$dir/qmp.log" 2>&1; then
                                log "$s: hot-added $HOTPLUG through QMP at $((SECONDS - start)) s"
                        else
                                log "$s: QMP device_add $HOTPLUG failed: $(tail -n1 "$dir/qmp.log")"
                        fi
                fi
                sleep 0.5
                now=$((SECONDS - start))
                ((now >= last_progress + 30)) && {
                        last_progress=$now
                        log "$s: guest running for $now s ($(grep -ac '^VMRESULT [PF]' "$RESULTS") checks reported)"
                }
        done
        wait "$QEMU_PID"
        rc=$?
        QEMU_PID=
        BOOT_SECONDS=$((SECONDS - start))
        BOOT_RC=$rc
        # cut the guest's dumps into files
        tr -d '\r' < "$RESULTS" | awk -v dir="$dir" '
                /^VMDUMP-BEGIN / { out = dir "/" $2 ".log"; printf "" > out; next }
                /^VMDUMP-END /   { close(out); out = ""; next }
                out != ""        { print >> out }'
}

# report_boot SCENARIO: print the guest's results; a boot that ended without END is a failure
report_boot() {
        local s=$1 line kind rest ended=0 n=0
        while IFS= read -r line; do
                line=${line%$'\r'}
                [[ $line =~ ^VMRESULT\ ([A-Z-]+)\ (.*)$ ]] || continue
                kind=${BASH_REMATCH[1]} rest=${BASH_REMATCH[2]}
                case $kind in
                PASS) report_pass "$rest"; n=$((n + 1)) ;;
                FAIL) report_fail "$rest"; n=$((n + 1)) ;;
                TIME) printf 'TIME %s\n' "$rest" ;;
                INFO) printf '# %s\n' "$rest" ;;
                END) ended=1 ;;
                esac
        done < <(sed -n '/^VMDUMP-BEGIN/,/^VMDUMP-END/!p' "$RESULTS")
        if ((!ended)); then
                if ((BOOT_RC == 124 || BOOT_RC == 137)); then
                        report_fail "$s: the guest did not finish within $BOOT_TIMEOUT s (killed; $n checks reported; logs in $LOGDIR/$s)"
                else
                        report_fail "$s: the guest stopped before its checks ended (qemu exit $BOOT_RC; $n checks reported; logs in $LOGDIR/$s)"
                fi
                tail -n 15 "$LOGDIR/$s/console.log" 2>/dev/null | tr -d '\r' | sed 's/\x1b\[[0-9;=]*[A-Za-z]//g; s/^/#   /'
        elif ((n == 0)); then
                report_fail "$s: the guest reported no check"
        fi
}

log "kernel $KREL, image $IMAGE, ${#SCENARIOS[@]} boots, at most $BOOT_TIMEOUT s each; logs in $LOGDIR"
TOTAL_START=$SECONDS
for s in "${SCENARIOS[@]}"; do
        # each scenario's settings in a clean subshell-free way: reset, then source
        DESCRIPTION= IOMMU=on APPEND= CONF= SERVICE=enabled HOTPLUG= QEMU_EXTRA=
        payload() { :; }
        # shellcheck source=/dev/null
        source "$HERE/scenarios/$s.sh"
        log "boot $s: $DESCRIPTION"
        if ! build_payload "$s"; then
                report_fail "$s: could not build the payload"
                continue
        fi
        run_boot "$s"
        report_boot "$s"
        log "boot $s: done in $BOOT_SECONDS s"
done
log "all boots done in $((SECONDS - TOTAL_START)) s"
summary
