# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 30, uevent storm (issue 16): a lost uevent is not a lost device, and a storm of tens of
# thousands of PCI uevents leaves the daemon's memory, fds and /run/vfio-bind as they were.
#
# 1. A device whose add the daemon never sees. vfio-bindd is frozen (SIGSTOP) and PCI uevents are
#    written until its uevent socket overflows (its drop counter in /proc/net/netlink moves):
#    from then on the kernel drops every uevent for that socket, since nothing reads it. A
#    configured NIC is hot-added through QMP: its add (and e1000e's bind, during device_add) are
#    dropped for the daemon, while vm-uevents' own listener records them. Thawed, the daemon reads
#    what was queued (nothing about the NIC), gets ENOBUFS, logs it and looks at every device: the
#    NIC must end on vfio-pci with no second event for it (only the daemon's own writes follow).
# 2. The storm: `echo add` into every PCI device's uevent file from STORM_WRITERS parallel
#    writers and `udevadm trigger --subsystem-match=pci --action=change` in a loop, about
#    STORM_UEVENTS uevents in all (the kernel's uevent_seqnum counts them); the NIC is removed
#    before and hot-added again in the middle of it. udevd (and the test's uevent recorder) are
#    stopped meanwhile: vfio-bindd listens to the kernel's netlink group, not udev's, and under TCG
#    udevd would need minutes to work through the storm. Then two smaller storms, at the
#    configured NIC only and at every other device only, say where the CPU goes.
# Sizes: VB_STORM_UEVENTS (default 4000: CI; bench/faults.sh --vm runs 30000), VB_STORM_WRITERS (default 3), on the host.
# Nothing is timed: each wait is a generous poll; the figures are reported (figures-storm).

DESCRIPTION="uevent storm: a device whose add was dropped (ENOBUFS) is bound by the rescan; memory, fds and /run/vfio-bind unchanged"
# a nested VM or a load of many processes: the RAM of the boots before MEMORY= existed
MEMORY=2048
KERNELS="6.12"
# never looks at the boot console or the GPU: SeaBIOS boots it faster than OVMF
FIRMWARE=bios
QMP_REQUESTS=yes
# The load runs several processes at once in the guest (writers, udev, the daemon): two vCPUs, and
# a longer limit than a plain boot's (with one vCPU beside another guest it took 250-270 s).
VCPUS=2
BOOT_SECONDS=600
CONF="[Bind]
Device=$NIC
Device=$HOTNIC
Timeout=2s"

payload() {
        printf 'STORM_UEVENTS=%d\nSTORM_WRITERS=%d\n' "${VB_STORM_UEVENTS:-4000}" "${VB_STORM_WRITERS:-3}" >"$1/vm/load.env"
        # the floor listener (run.sh --floor), measured beside the daemon in the split storm
        if [[ -n ${VB_FLOOR:-} ]]; then
                install_file "$VB_FLOOR" /usr/local/bin/vb-uevent-floor 0755
        fi
}

hotnic_on_vfio() { on_driver "$HOTNIC" vfio-pci; }
hotnic_on_e1000e() { on_driver "$HOTNIC" e1000e; }
hotnic_gone() { [[ ! -e /sys/bus/pci/devices/$HOTNIC ]] || { WHY="$HOTNIC is still there"; return 1; }; }

# storm_writer ROUNDS FILE…: `echo add` into each FILE, ROUNDS times (builtins only)
storm_writer() {
        local rounds=$1 i f
        shift
        for ((i = 0; i < rounds; i++)); do
                for f in "$@"; do
                        echo add >"$f"
                done
        done 2>/dev/null
}

# storm N WRITERS TRIGGER HOTADD FILE…: about N uevents from WRITERS writers over FILEs (and
# `udevadm trigger` in a loop if TRIGGER is 1); with HOTADD an id, the NIC is hot-added once a
# third of them are out. Sets ST_EVENTS (uevents the kernel sent), ST_MS (writers' wall time),
# ST_IDLE_MS (until the daemon's CPU time stopped moving), ST_TICKS (daemon CPU, ticks),
# ST_STIME (the kernel's share of it), ST_WAKE (times the daemon was woken), ST_SYSCR (its read
# syscalls).
storm() {
        local n=$1 writers=$2 trigger=$3 hotadd=$4 rounds i seq0 t0 ticks0 stime0 wake0 syscr0 pids=() tpid=
        shift 4
        rounds=$(( (n + writers * $# - 1) / (writers * $#) ))
        proc_res "$PID"; ticks0=$RES_TICKS stime0=$RES_STIME wake0=$RES_WAKE syscr0=$RES_SYSCR
        uevent_seqnum; seq0=$REPLY
        t0=$(uptime_ms)
        for ((i = 0; i < writers; i++)); do
                storm_writer "$rounds" "$@" &
                pids+=($!)
        done
        if ((trigger)); then
                rm -f /run/storm-done
                ( while [[ ! -e /run/storm-done ]]; do udevadm trigger --subsystem-match=pci --action=change; done ) &
                tpid=$!
        fi
        if [[ -n $hotadd ]]; then
                while uevent_seqnum; ((REPLY - seq0 < n / 3)); do sleep_s 0.05; done
                qmp_request device_add driver=e1000e bus=rp3 addr=0x0 id="$hotadd"
        fi
        wait "${pids[@]}"
        : >/run/storm-done
        [[ -z $tpid ]] || wait "$tpid"
        ST_MS=$(( $(uptime_ms) - t0 ))
        wait_for 600 daemon_idle "$PID"
        ST_IDLE_MS=$(( $(uptime_ms) - t0 ))
        uevent_seqnum; ST_EVENTS=$((REPLY - seq0))
        proc_res "$PID"; ST_TICKS=$((RES_TICKS - ticks0)) ST_STIME=$((RES_STIME - stime0)) ST_WAKE=$((RES_WAKE - wake0)) ST_SYSCR=$((RES_SYSCR - syscr0))
}

# per_mille COUNT EVENTS: REPLY = COUNT per uevent, to three decimals ("1.250")
per_mille() {
        local x=$(( $2 > 0 ? $1 * 1000 / $2 : 0 ))
        printf -v REPLY '%d.%03d' $((x / 1000)) $((x % 1000))
}

# split_note WHAT: the figures-storm-split line of the storm just run
split_note() {
        local us sys wake reads
        us_per "$ST_EVENTS" "$ST_TICKS"; us=$REPLY
        us_per "$ST_EVENTS" "$ST_STIME"; sys=$REPLY
        per_mille "$ST_WAKE" "$ST_EVENTS"; wake=$REPLY
        per_mille "$ST_SYSCR" "$ST_EVENTS"; reads=$REPLY
        note figures-storm-split "$1 uevents=$ST_EVENTS rate_per_s=$(( ST_MS > 0 ? ST_EVENTS * 1000 / ST_MS : 0 )) cpu_ticks=$ST_TICKS cpu_us_per_uevent=$us kernel_us_per_uevent=$sys wakeups_per_uevent=$wake reads_per_uevent=$reads"
}

# us_per EVENTS TICKS: REPLY = daemon CPU microseconds per uevent (a tick is 10 ms)
us_per() { REPLY=$(( $1 > 0 ? $2 * 10000 / $1 : 0 )); }

PID=0
frozen_add_dropped() {
        local rmem0 drops0 rmem1 drops1 i j state
        kill -STOP "$PID" || { WHY="cannot stop $PID"; return 1; }
        # fill the socket until it drops: the daemon reads nothing now
        for ((i = 0; i < 100; i++)); do
                for ((j = 0; j < 200; j++)); do echo change >"/sys/bus/pci/devices/${ROOT_PORTS[0]}/uevent"; done
                uevent_socket "$PID" || return 1
                read -r rmem0 drops0 <<<"$REPLY"
                ((drops0 > 0)) && break
        done
        ((drops0 > 0)) || { WHY="$((i * 200)) uevents did not overflow the frozen daemon's socket (rmem $rmem0, drops $drops0)"; return 1; }
        note scenario-30 "$(((i + 1) * 200)) uevents written into the frozen daemon's socket before it dropped one"
        note scenario-30 "frozen daemon: its uevent socket holds $rmem0 bytes and has dropped $drops0 uevents"
        qmp_request device_add driver=e1000e bus=rp3 addr=0x0 id=hot1
        wait_for 120 hotnic_on_e1000e || { WHY="the hot-added NIC did not come up on e1000e: $WHY"; return 1; }
        sleep_s 2
        uevent_socket "$PID" || return 1
        read -r rmem1 drops1 <<<"$REPLY"
        read -r state </proc/$PID/stat; state=${state##*) }; state=${state%% *}
        [[ $state == T ]] || { WHY="the daemon is in state $state, not stopped"; return 1; }
        ((drops1 >= drops0 + 2)) || { WHY="the socket dropped $((drops1 - drops0)) uevents during the hotplug (want the add and e1000e's bind)"; return 1; }
        note scenario-30 "during the hotplug the frozen daemon's socket dropped $((drops1 - drops0)) more uevents (the NIC's add and bind among them)"
        load_uevents
        uevent_find KERNEL add "$HOTNIC" || { WHY="the kernel sent no add uevent for $HOTNIC (vm-uevents did not see one)"; return 1; }
}

rescan_bound_it() {
        local i notice=-1 bind=-1
        load_journal vfio-bind.service
        for ((i = 0; i < ${#J_MESSAGE[@]}; i++)); do
                [[ ${J_PID[i]} == "$PID" ]] || continue
                ((notice < 0)) && [[ ${J_MESSAGE[i]} == *"the kernel dropped uevents"* ]] && notice=$i
                ((bind < 0)) && [[ ${J_ACTION[i]} == bind && ${J_DEVICE[i]} == "$HOTNIC" ]] && bind=$i
        done
        ((notice >= 0)) || { WHY="no \"the kernel dropped uevents\" notice in the journal"; return 1; }
        ((bind >= 0)) || { WHY="no bind entry for $HOTNIC"; return 1; }
        ((bind > notice)) || { WHY="the bind entry came before the ENOBUFS notice"; return 1; }
        note scenario-30 "journal: ${J_MESSAGE[notice]} | then: ${J_MESSAGE[bind]}"
}

same_resources() {
        ((AF_FDS == BF_FDS)) || { WHY="open fds $BF_FDS before, $AF_FDS after"; return 1; }
        ((AF_RUN == BF_RUN)) || { WHY="/run/vfio-bind entries $BF_RUN before, $AF_RUN after"; return 1; }
        ((AF_RSS <= BF_RSS + 256)) || { WHY="VmRSS $BF_RSS kB before, $AF_RSS kB after (more than 256 kB of growth)"; return 1; }
}

daemon_survived() {
        unit_active vfio-bind.service || return 1
        [[ ${PROP[NRestarts]} == 0 ]] || { WHY="NRestarts=${PROP[NRestarts]}"; return 1; }
        daemon_pid
        [[ $REPLY == "$PID" ]] || { WHY="the main PID is $REPLY, was $PID"; return 1; }
}

checks() {
        local files=() others=() f a enobufs0 enobufs1 drops0 drops1
        load_sizes
        check scenario-30 "the NIC present at boot is on vfio-pci, $HOTNIC is absent" \
                all_of "on_driver $NIC vfio-pci" "hotnic_gone"
        daemon_pid; PID=$REPLY

        # 1. the add that is never seen
        check scenario-30 "daemon frozen (SIGSTOP), its socket overflowing: the hot-added $HOTNIC came up on e1000e, its add and bind uevents were dropped for the daemon (the kernel sent them)" \
                frozen_add_dropped
        if [[ -e /sys/bus/pci/devices/$HOTNIC ]]; then
                check scenario-30 "while frozen the daemon did nothing: $HOTNIC is still on e1000e" hotnic_on_e1000e
        fi
        kill -CONT "$PID"
        if ! wait_for 120 hotnic_on_vfio; then
                pci_driver "$HOTNIC"
                fail scenario-30 "thawed, the daemon bound $HOTNIC, whose add it never saw, to vfio-pci within 120 s: it is ${REPLY:-on no driver}"
        else
                pass scenario-30 "thawed, the daemon bound $HOTNIC, whose add it never saw, to vfio-pci"
        fi
        check scenario-30 "journal: the ENOBUFS notice (\"the kernel dropped uevents …\"), then the bind of $HOTNIC" rescan_bound_it
        unit_props vfio-bind.service
        check scenario-30 "STATUS= says 2/2 devices on vfio-pci" status_has "2/2 devices on vfio-pci"

        # 2. the storm; the NIC goes first, to come back in the middle of it
        qmp_request device_del id=hot1
        wait_for 120 hotnic_gone || fail scenario-30 "$HOTNIC was not removed within 120 s (device_del)"
        wait_for 60 daemon_idle "$PID"
        systemctl stop vm-uevents.service systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket ||
                note scenario-30 "stopping udevd failed"
        for f in /sys/bus/pci/devices/*/uevent; do
                a=${f%/uevent}; a=${a##*/}
                files+=("$f")
                [[ $a == "$NIC" ]] || others+=("$f")
        done
        load_journal vfio-bind.service
        journal_count "the kernel dropped uevents"; enobufs0=$REPLY
        uevent_socket "$PID"; read -r _ drops0 <<<"$REPLY"
        proc_res "$PID"
        BF_RSS=$RES_RSS BF_FDS=$RES_FDS BF_RUN=$RES_RUN
        note scenario-30 "before the storm: VmRSS $BF_RSS kB, $BF_FDS fds, $BF_RUN entries in /run/vfio-bind; storm of about $STORM_UEVENTS uevents over ${#files[@]} devices, $STORM_WRITERS writers and udevadm trigger"

        storm "$STORM_UEVENTS" "$STORM_WRITERS" 1 hot2 "${files[@]}"
        local ev=$ST_EVENTS ms=$ST_MS idle=$ST_IDLE_MS ticks=$ST_TICKS sys wake reads
        us_per "$ST_EVENTS" "$ST_STIME"; sys=$REPLY
        per_mille "$ST_WAKE" "$ST_EVENTS"; wake=$REPLY
        per_mille "$ST_SYSCR" "$ST_EVENTS"; reads=$REPLY
        if ! wait_for 180 hotnic_on_vfio; then
                pci_driver "$HOTNIC"
                fail scenario-30 "$HOTNIC, hot-added during the storm, is on vfio-pci: it is ${REPLY:-not there or on no driver}"
        else
                pass scenario-30 "$HOTNIC, hot-added during the storm, is on vfio-pci"
        fi
        wait_for 60 daemon_idle "$PID"
        proc_res "$PID"
        AF_RSS=$RES_RSS AF_FDS=$RES_FDS AF_RUN=$RES_RUN
        load_journal vfio-bind.service
        journal_count "the kernel dropped uevents"; enobufs1=$REPLY
        uevent_socket "$PID"; read -r _ drops1 <<<"$REPLY"
        check scenario-30 "the storm: $ev uevents sent (at least $STORM_UEVENTS)" test "$ev" -ge "$STORM_UEVENTS"
        check scenario-30 "after the storm: open fds and /run/vfio-bind entries as before, VmRSS within 256 kB ($BF_RSS -> $AF_RSS kB, $BF_FDS -> $AF_FDS fds, $BF_RUN -> $AF_RUN entries)" same_resources
        check scenario-30 "the daemon lived through it: active, NRestarts=0, the same PID" daemon_survived
        unit_props vfio-bind.service
        check scenario-30 "STATUS= says 2/2 devices on vfio-pci after the storm" status_has "2/2 devices on vfio-pci"
        us_per "$ev" "$ticks"
        local us=$REPLY rate=$(( ms > 0 ? ev * 1000 / ms : 0 )) handled=$(( idle > 0 ? ev * 1000 / idle : 0 ))
        note figures-storm "uevents=$ev writers_ms=$ms rate_per_s=$rate idle_after_ms=$idle handled_per_s=$handled cpu_ticks=$ticks cpu_us_per_uevent=$us kernel_us_per_uevent=$sys wakeups_per_uevent=$wake reads_per_uevent=$reads enobufs=$((enobufs1 - enobufs0)) socket_drops=$((drops1 - drops0)) rss_kb=$BF_RSS/$AF_RSS fds=$BF_FDS/$AF_FDS run_entries=$BF_RUN/$AF_RUN"

        # 3. where the CPU goes: the configured NIC only, then every other device only
        storm $((STORM_UEVENTS / 4)) 1 0 '' "/sys/bus/pci/devices/$NIC/uevent"
        split_note configured_nic
        # the same storm with a bare libudev listener beside the daemon: the floor of a uevent's
        # cost, which the daemon's figure is read against
        local fpid=0 fticks0 fstime0 fticks fstime fgot
        if [[ -x /usr/local/bin/vb-uevent-floor ]]; then
                /usr/local/bin/vb-uevent-floor >/run/uevent-floor.out 2>&1 &
                fpid=$!
                sleep_s 1
                proc_res "$fpid" && fticks0=$RES_TICKS fstime0=$RES_STIME
        fi
        storm $((STORM_UEVENTS / 4)) 1 0 '' "${others[@]}"
        split_note other_devices
        if ((fpid)) && proc_res "$fpid"; then
                fticks=$((RES_TICKS - fticks0)) fstime=$((RES_STIME - fstime0))
                kill -TERM "$fpid"
                wait "$fpid"
                read -r _ fgot </run/uevent-floor.out
                local fus fsys
                # per uevent it received (under TCG even a bare listener may miss some)
                us_per "${fgot:-0}" "$fticks"; fus=$REPLY
                us_per "${fgot:-0}" "$fstime"; fsys=$REPLY
                note figures-storm-split "floor uevents=${fgot:-0} sent=$ST_EVENTS cpu_ticks=$fticks cpu_us_per_uevent=$fus kernel_us_per_uevent=$fsys"
        else
                note figures-storm-split "floor missing=1"
                note scenario-30 "no floor listener in the guest (run.sh --floor not given): the daemon's own share of a uevent's cost is not measured"
        fi
        load_journal vfio-bind.service
        journal_count "the kernel dropped uevents"
        note figures-storm-split "enobufs_total=$REPLY"
        proc_res "$PID"
        check scenario-30 "after all storms: open fds and /run/vfio-bind entries as before, VmRSS within 256 kB ($BF_RSS -> $RES_RSS kB)" \
                eval 'AF_RSS=$RES_RSS AF_FDS=$RES_FDS AF_RUN=$RES_RUN; same_resources'
        systemctl start systemd-udevd.service || note scenario-30 "starting udevd again failed"
}
