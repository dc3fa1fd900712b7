# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
#
# Benchmark boot 1 (a scenario for tests/vm/vm-lib.sh, run by bench/vm.sh): vfio-bind.service
# binds the GPU slot during boot (its activation time is recorded), then, in the same boot, the
# tools take turns moving both functions from no driver to vfio-pci and back:
#   once      vfio-bindd --once (process start to exit); back: vfio-bind release, per function
#   ready     systemctl start vfio-bind.service: the daemon's start to READY=1; back: as once
#   ready-plain  the same unit without its sandbox (vfio-bind-plain.service): what the hardening
#             costs at start
#   driverctl driverctl set-override, per function; back: driverctl unset-override, per function
#   seed      the seed guide's postBootCommands as a bash script, with vfio-pci not loaded
#   seed-pre  the same with vfio-pci loaded before (the guide also lists it in kernelModules)
#   floor     bench-floor bind (module load + override, unbind, probe); back: bench-floor release
# and, to tell what the difference to the floor is made of: vfio-bindd --version and bench-floor
# without arguments (process start and exit only), and vfio-bindd --dry-run (start, scan, plan).
# Between runs an untimed reset unloads vfio-pci and clears both functions. Then what the unit's
# sandbox costs at start (the shipped unit against copies without parts of it), then the daemon's
# memory after READY, and its wakeups over BENCH_IDLE seconds of idleness, with the shipped unit
# and with WatchdogSec=1min.

DESCRIPTION="benchmark: vfio-bind at boot, then the tools in alternating rounds"
SERVICE=enabled
CONF="[Bind]
Device=$GPU_SLOT"

payload() {
        bench_payload "$1"
}

seed_snippet() {
        # the guide's loop is cut off after the echo; "done" closes it as intended
        bash "$BENCH_DIR/seed-snippet.sh"
}

# per_function CMD...: run "CMD... GPU", then "CMD... AUDIO" even if the first failed; the exit
# status is the first failure's
per_function() {
        local rc=0
        "$@" "$GPU" || rc=$?
        "$@" "$AUDIO" || { local r=$?; ((rc)) || rc=$r; }
        return "$rc"
}

driverctl_set() { driverctl set-override "$1" vfio-pci; }

driverctl_there() {
        per_function driverctl_set
}

# driverctl's unset-override re-probes and then exits 1 ("failed to bind device") when no host
# driver takes the function, which is the expected outcome here
driverctl_back() {
        per_function driverctl unset-override
}

cli_back() {
        per_function "$VB_CLI" release
}

floor_there() {
        "$BENCH_DIR/bench-floor" bind vfio-pci "$GPU" "$AUDIO"
}

floor_back() {
        "$BENCH_DIR/bench-floor" release "$GPU" "$AUDIO"
}

# run_tool TOOL ROUND: one timed run from a clean state, reported as
#   BENCH run TOOL ROUND there_us back_us rc drivers_after_there drivers_after_back extra_us
run_tool() {
        local tool=$1 round=$2 there=0 back=- rc after_there after_back=- extra=-
        if [[ $tool == seed-pre ]]; then
                bench_reset preload
        else
                bench_reset
        fi
        case $tool in
        once)
                timed "$tool" "$VB_DAEMON" --once
                ;;
        ready | ready-plain)
                local unit=vfio-bind.service
                [[ $tool == ready-plain ]] && unit=vfio-bind-plain.service
                timed "$tool" systemctl start "$unit"
                unit_props "$unit"
                local s=${PROP[ExecMainStartTimestampMonotonic]:-0} e=${PROP[ActiveEnterTimestampMonotonic]:-0}
                ((s > 0 && e >= s)) && extra=$((e - s))
                ;;
        driverctl)
                timed "$tool" driverctl_there
                ;;
        seed | seed-pre)
                timed "$tool" seed_snippet
                ;;
        floor)
                timed "$tool" floor_there
                ;;
        # diagnostics: what the difference to the floor is made of
        start-daemon)
                timed "$tool" "$VB_DAEMON" --version
                ;;
        start-floor)
                timed "$tool" "$BENCH_DIR/bench-floor"
                ;;
        dry-run)
                timed "$tool" "$VB_DAEMON" --dry-run
                ;;
        esac
        there=$REPLY rc=$RC
        drivers_now
        after_there=$REPLY
        case $tool in
        ready | ready-plain)
                systemctl stop "$unit"
                timed "$tool" cli_back
                back=$REPLY
                ;;
        once)
                timed "$tool" cli_back
                back=$REPLY
                ;;
        driverctl)
                timed "$tool" driverctl_back
                back=$REPLY
                ;;
        floor)
                timed "$tool" floor_back
                back=$REPLY
                ;;
        esac
        if [[ $back != - ]]; then
                drivers_now
                after_back=$REPLY
        fi
        bench run "$tool $round $there $back $rc $after_there $after_back $extra"
}

# idle_sample PID: REPLY = "RUNS VOLUNTARY INVOLUNTARY" summed over the process's threads
# (schedstat's third field counts the times a task ran on a CPU)
idle_sample() {
        local t runs=0 vol=0 invol=0 a b c line
        for t in /proc/"$1"/task/*; do
                read -r a b c <"$t/schedstat" && runs=$((runs + c))
                while IFS= read -r line; do
                        case $line in
                        voluntary_ctxt_switches:*) vol=$((vol + ${line##*[[:space:]]})) ;;
                        nonvoluntary_ctxt_switches:*) invol=$((invol + ${line##*[[:space:]]})) ;;
                        esac
                done <"$t/status"
        done
        REPLY="$runs $vol $invol"
}

# daemon_memory_idle LABEL: start the service, report its memory after READY and its wakeups over
# BENCH_IDLE seconds
# sandbox_cost: the daemon's start → READY=1 (ExecMainStartTimestamp, taken when PID 1 forks, to
# ActiveEnterTimestamp) for the unit as shipped, without its sandbox, and without each of its
# costly parts, with both functions already on vfio-pci so that every start only scans and finds
# them bound: the differences are PID 1's sandbox setup. Reported as
#   BENCH sandbox VARIANT ROUND US
sandbox_cost() {
        local variants=(full none no-namespaces no-seccomp no-ip-bpf) round i v u s e
        bench_reset
        "$VB_DAEMON" --once >/dev/null 2>>/run/bench-stderr.log || note bench "sandbox: vfio-bindd --once failed"
        for ((round = 1; round <= BENCH_ROUNDS; round++)); do
                for ((i = 0; i < ${#variants[@]}; i++)); do
                        v=${variants[(i + round - 1) % ${#variants[@]}]}
                        u=vfio-bind-sbx-$v.service
                        systemctl start "$u"
                        unit_props "$u"
                        s=${PROP[ExecMainStartTimestampMonotonic]:-0} e=${PROP[ActiveEnterTimestampMonotonic]:-0}
                        if ((s > 0 && e >= s)) && [[ ${PROP[ActiveState]} == active ]]; then
                                bench sandbox "$v $round $((e - s))"
                        else
                                note bench "sandbox: $u did not start (${PROP[ActiveState]})"
                        fi
                        systemctl stop "$u"
                done
        done
        drivers_now
        bench sandbox-state "$REPLY"
        bench_reset
}

# rss_by_mapping PID: "BENCH rss-map NAME RSS_KIB ANON_KIB" per mapped file (by base name; the
# heap, stacks and anonymous mappings by their smaps name or "anonymous"), from /proc/PID/smaps
rss_by_mapping() {
        local line name=anonymous k
        local -A rss=() anon=()
        while IFS= read -r line; do
                if [[ $line =~ ^[0-9a-f]+-[0-9a-f]+\  ]]; then
                        read -r _ _ _ _ _ name <<<"$line"
                        name=${name##*/}
                        [[ -n $name ]] || name=anonymous
                elif [[ $line == Rss:* ]]; then
                        rss[$name]=$(( ${rss[$name]:-0} + ${line//[!0-9]/} ))
                elif [[ $line == Anonymous:* ]]; then
                        anon[$name]=$(( ${anon[$name]:-0} + ${line//[!0-9]/} ))
                fi
        done </proc/"$1"/smaps
        for k in "${!rss[@]}"; do
                ((rss[$k] > 0)) && bench rss-map "$k ${rss[$k]} ${anon[$k]:-0}"
        done
}

# smaps_rss PID: REPLY = "RSS ANONYMOUS PSS PRIVATE" in KiB from /proc/PID/smaps_rollup, which
# walks the page tables. VmRSS and VmHWM in /proc/PID/status come from counters that each thread
# caches and hands to the process only every so many page faults (Linux before 6.2, this guest's
# 6.1), so an idle process can show megabytes less there than it has mapped (proc(5), statm).
smaps_rss() {
        local line rss=- anon=- pss=- private=0
        while IFS= read -r line; do
                case $line in
                Rss:*) rss=${line//[!0-9]/} ;;
                Anonymous:*) anon=${line//[!0-9]/} ;;
                Pss:*) pss=${line//[!0-9]/} ;;
                Private_Clean:* | Private_Dirty:*) private=$((private + ${line//[!0-9]/})) ;;
                esac
        done </proc/"$1"/smaps_rollup
        REPLY="$rss $anon $pss $private"
}

daemon_memory_idle() {
        local label=$1 pid line hwm=- vmrss=- threads=- walk before after
        bench_reset
        systemctl start vfio-bind.service
        unit_props vfio-bind.service
        pid=
        while IFS= read -r line; do
                [[ $line == MainPID=* ]] && pid=${line#MainPID=}
        done < <(systemctl show -p MainPID vfio-bind.service)
        if [[ -z $pid || $pid == 0 ]]; then
                bench memory "$label - - - ${PROP[ActiveState]}"
                return
        fi
        # let the start settle (uevents of the binds reach the daemon's monitor) before sampling
        read -r -t 5 -u 9 || :
        while IFS= read -r line; do
                case $line in
                VmHWM:*) hwm=${line//[!0-9]/} ;;
                VmRSS:*) vmrss=${line//[!0-9]/} ;;
                Threads:*) threads=${line//[!0-9]/} ;;
                esac
        done </proc/"$pid"/status
        smaps_rss "$pid"
        walk=$REPLY
        drivers_now
        #            label  VmHWM VmRSS  threads    functions  Rss Anonymous Pss private (smaps)
        bench memory "$label $hwm $vmrss $threads $REPLY $walk"
        [[ $label == shipped ]] && rss_by_mapping "$pid"
        idle_sample "$pid"
        before=$REPLY
        read -r -t "$BENCH_IDLE" -u 9 || :
        idle_sample "$pid"
        after=$REPLY
        bench idle "$label $BENCH_IDLE $before $after"
        # the peak after READY: sampled again at the end of the idle period
        smaps_rss "$pid"
        bench memory-end "$label $REPLY"
        systemctl stop vfio-bind.service
}

checks() {
        local i t tools round line
        # shellcheck source=/dev/null
        source /vm/bench/env
        # shellcheck source=guest.sh
        source "$BENCH_DIR/guest.sh"
        bench_machine
        # 1. the boot: vfio-bind.service's activation, against the boot's milestones
        unit_activation vfio-bind.service
        bench boot-unit "vfio-bind.service $REPLY"
        boot_times
        bench boot-times "$REPLY"
        drivers_now
        bench boot-drivers "$REPLY"
        bench_boot_host_drivers

        # 2. from now on no host driver may take the functions back: unload the ones coldplug
        # loaded (they never bound, vfio-bind won the race)
        systemctl stop vfio-bind.service
        "$BENCH_DIR/bench-floor" release "${BENCH_DEVS[@]}"
        for m in bochs snd_hda_intel; do
                module_live "$m" && { modprobe -r "$m" || note bench "modprobe -r $m failed"; }
        done
        bench_reset
        drivers_now
        bench start-state "$REPLY"

        # 3. the rounds: every tool once per round, the order rotated each round
        tools=(once ready ready-plain driverctl seed seed-pre floor start-daemon start-floor dry-run)
        for ((round = 1; round <= BENCH_ROUNDS; round++)); do
                for ((i = 0; i < ${#tools[@]}; i++)); do
                        t=${tools[(i + round - 1) % ${#tools[@]}]}
                        run_tool "$t" "$round"
                done
        done

        # 4. what the sandbox costs at start
        sandbox_cost

        # 5. memory and idleness, with the shipped unit (no watchdog) and with the watchdog a user
        # may turn on (WatchdogSec=1min: a ping every 30 s)
        daemon_memory_idle shipped
        mkdir -p /run/systemd/system/vfio-bind.service.d
        printf '[Service]\nWatchdogSec=1min\n' >/run/systemd/system/vfio-bind.service.d/bench.conf
        systemctl daemon-reload
        daemon_memory_idle watchdog
        rm -rf /run/systemd/system/vfio-bind.service.d
        systemctl daemon-reload
        bench_reset
        if [[ -s /run/bench-stderr.log ]]; then
                while IFS= read -r line; do
                        note bench-stderr "$line"
                done < <(sort /run/bench-stderr.log | uniq -c | head -n 20)
        fi
        pass bench "benchmark boot finished"
}
