# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Guest side of the QEMU benchmark (installed as /vm/bench/guest.sh, sourced by the scenarios in
# bench/vm-*.sh after tests/vm/guest/lib.sh). Results go to the results port as lines
#     VMRESULT BENCH <key> <value>...
# which bench/vm.sh collects. Under TCG every fork costs tens of milliseconds, so the
# bookkeeping here sticks to shell builtins; the tools themselves are started the same way
# (one process per invocation, from this shell), so that cost is in every tool's numbers alike.

BENCH_DEVS=("$GPU" "$AUDIO")
BENCH_DIR=/vm/bench

bench() { _result "BENCH $*"; }

# now_us: REPLY = CLOCK_REALTIME in microseconds (bash's EPOCHREALTIME, no fork)
now_us() {
        local t=${EPOCHREALTIME/./}
        REPLY=$((10#$t))
}

# drivers_now: REPLY = "GPU-driver,AUDIO-driver" ("-" for none)
drivers_now() {
        local a out=
        for a in "${BENCH_DEVS[@]}"; do
                pci_driver "$a"
                out+="${REPLY:--},"
        done
        REPLY=${out%,}
}

both_on() {
        drivers_now
        [[ $REPLY == "$1,$1" ]]
}

# both_clean: no driver and no override on either function
both_clean() {
        local a
        for a in "${BENCH_DEVS[@]}"; do
                pci_driver "$a"
                [[ -z $REPLY ]] || return 1
                read_attr "/sys/bus/pci/devices/$a/driver_override"
                [[ $REPLY == "(null)" || -z $REPLY ]] || return 1
        done
}

module_live() {
        [[ -d /sys/module/$1 ]]
}

# bench_reset [preload]: the untimed step between runs: no vfio-bindd running, both functions
# without driver and override, no release marks, vfio-pci and the modules it pulled in unloaded
# (so every tool pays for the module load), or loaded again with "preload".
bench_reset() {
        local a u
        for u in vfio-bind.service vfio-bind-plain.service; do
                unit_props "$u"
                if [[ ${PROP[ActiveState]} != inactive && ${PROP[ActiveState]} != failed ]]; then
                        systemctl stop "$u"
                fi
                systemctl reset-failed "$u" 2>/dev/null
        done
        both_clean || "$BENCH_DIR/bench-floor" release "${BENCH_DEVS[@]}"
        for a in /run/vfio-bind/released/*; do
                [[ -e $a ]] && rm -f "$a"
        done
        if module_live vfio_pci; then
                modprobe -r vfio_pci || note bench "modprobe -r vfio_pci failed"
        fi
        [[ ${1:-} == preload ]] && modprobe vfio_pci
        both_clean || note bench "reset: the functions are not clean: $(drivers_now; echo "$REPLY")"
}

# timed NAME COMMAND...: run COMMAND, REPLY = wall microseconds, RC = its exit status
timed() {
        local start
        shift
        now_us
        start=$REPLY
        "$@" >/dev/null 2>>/run/bench-stderr.log
        # shellcheck disable=SC2034 # read by the caller
        RC=$?
        now_us
        REPLY=$((REPLY - start))
}

# unit_activation UNIT: REPLY = microseconds from InactiveExit to ActiveEnter (what
# `systemd-analyze blame` shows for a unit), 0 if it never became active
unit_activation() {
        unit_props "$1"
        local s=${PROP[InactiveExitTimestampMonotonic]:-0} e=${PROP[ActiveEnterTimestampMonotonic]:-0}
        REPLY=0
        ((s > 0 && e >= s)) && REPLY=$((e - s))
}

# boot_times: REPLY = "USERSPACE_START SYSINIT BASIC MULTI_USER" (monotonic microseconds, when
# PID 1 started and when the targets were reached)
boot_times() {
        local line us=0 t out=
        while IFS= read -r line; do
                [[ $line == UserspaceTimestampMonotonic=* ]] && us=${line#*=}
        done < <(systemctl show -p UserspaceTimestampMonotonic)
        out=$us
        for t in sysinit.target basic.target multi-user.target; do
                unit_props "$t"
                out+=" ${PROP[ActiveEnterTimestampMonotonic]:-0}"
        done
        REPLY=$out
}

# bench_machine: what the guest is
bench_machine() {
        local model='' n=0 line
        while IFS= read -r line; do
                [[ $line == "model name"* ]] && { model=${line#*: }; n=$((n + 1)); }
        done </proc/cpuinfo
        bench machine "kernel=$(uname -r) cpus=$n cpu=${model// /_}"
}

# bench_boot_host_drivers: did the host drivers bind the functions during this boot (the kernel
# log's driver_bound lines)? BENCH boot-host-bound bochs-drm=yes|no snd_hda_intel=yes|no
bench_boot_host_drivers() {
        local out='' pair
        for pair in "bochs-drm $GPU" "snd_hda_intel $AUDIO"; do
                # shellcheck disable=SC2086
                if klog_find "$(klog_bound_pattern $pair)"; then
                        out+="${pair%% *}=yes "
                else
                        out+="${pair%% *}=no "
                fi
        done
        bench boot-host-bound "${out% }"
}
