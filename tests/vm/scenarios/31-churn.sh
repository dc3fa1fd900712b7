# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 31, hotplug churn and surprise removal (issue 16).
#
# Churn: CHURN_CYCLES device_add/device_del cycles of a configured e1000e NIC in the free root
# port, through QMP (the guest asks, the host sends: QMP_REQUESTS). e1000e binds each new NIC
# during device_add; vfio-bindd must move every one to vfio-pci, and after every removal its
# STATUS= must stop claiming it. Afterwards the daemon's VmRSS, open fds and /run/vfio-bind are
# what they were after the first cycle, and the journal has a bind entry per cycle.
# Surprise removal while the daemon is binding the NIC, at three moments: QMP device_del right after
# device_add; the guest's own sysfs `remove` as soon as the override is written, and as soon as
# e1000e has let go (QMP's ACPI removal takes too long to land inside a bind): no crash (active, NRestarts=0, the same PID), a truthful STATUS= (the NIC is not claimed
# bound), and the next add is bound.
# Sizes: VB_CHURN_CYCLES (default 12), on the host. Nothing is timed.

DESCRIPTION="hotplug churn: add/remove cycles of a configured NIC through QMP, each bound and forgotten; device_del during a bind"
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
        printf 'CHURN_CYCLES=%d\n' "${VB_CHURN_CYCLES:-12}" >"$1/vm/load.env"
}

hotnic_on_vfio() { on_driver "$HOTNIC" vfio-pci; }
hotnic_gone() { [[ ! -e /sys/bus/pci/devices/$HOTNIC ]] || { WHY="$HOTNIC is still there"; return 1; }; }
# STATUS= no longer claims the NIC: it says 1/2 and names the NIC
status_forgot() {
        unit_props vfio-bind.service
        [[ ${PROP[StatusText]} != *"2/2 devices"* && ${PROP[StatusText]} == *"$HOTNIC"* ]] && return 0
        WHY="status: ${PROP[StatusText]}"
        return 1
}
status_both() { unit_props vfio-bind.service; status_has "2/2 devices on vfio-pci"; }

daemon_survived() {
        unit_active vfio-bind.service || return 1
        [[ ${PROP[NRestarts]} == 0 ]] || { WHY="NRestarts=${PROP[NRestarts]}"; return 1; }
        daemon_pid
        [[ $REPLY == "$PID" ]] || { WHY="the main PID is $REPLY, was $PID"; return 1; }
}

# the NIC's moment: MOMENT=seen (it exists), override (driver_override says vfio-pci, e1000e
# still holds it) or unbound (override written, no driver); builtins only, tight
moment_reached() {
        local d=/sys/bus/pci/devices/$HOTNIC ov
        [[ -e $d ]] || return 1
        case $1 in
        seen) return 0 ;;
        override) read -r ov <"$d/driver_override" 2>/dev/null; [[ $ov == vfio-pci && -e /sys/bus/pci/drivers/e1000e/$HOTNIC ]] ;;
        unbound) read -r ov <"$d/driver_override" 2>/dev/null; [[ $ov == vfio-pci && ! -e $d/driver ]] ;;
        esac
}

PID=0
checks() {
        local k bound=0 forgot=0 timeline=() rss0 fds0 run0 t0 n_bind
        load_sizes
        check scenario-31 "the NIC present at boot is on vfio-pci, $HOTNIC absent" all_of "on_driver $NIC vfio-pci" hotnic_gone
        daemon_pid; PID=$REPLY
        proc_res "$PID"
        local rss_start=$RES_RSS fds_start=$RES_FDS run_start=$RES_RUN

        t0=$(uptime_ms)
        for ((k = 1; k <= CHURN_CYCLES; k++)); do
                qmp_request device_add driver=e1000e bus=rp3 addr=0x0 id="c$k"
                # on vfio-pci, and the daemon has said so: else the STATUS= of the cycle before
                # ("1/2", naming the NIC) would pass for this cycle's removal being seen
                if wait_for 120 hotnic_on_vfio && wait_for 60 status_both; then
                        bound=$((bound + 1))
                else
                        pci_driver "$HOTNIC"
                        note scenario-31 "cycle $k: $HOTNIC not on vfio-pci, or STATUS= not 2/2, in time (driver: ${REPLY:-absent or none}; $WHY)"
                fi
                qmp_request device_del id="c$k"
                if wait_for 120 hotnic_gone && wait_for 60 status_forgot; then
                        forgot=$((forgot + 1))
                else
                        note scenario-31 "cycle $k: not forgotten: $WHY"
                fi
                if ((k == 1)); then
                        wait_for 30 daemon_idle "$PID"
                        rss0=$RES_RSS fds0=$RES_FDS run0=$RES_RUN
                fi
        done
        local churn_ms=$(( $(uptime_ms) - t0 ))
        wait_for 30 daemon_idle "$PID"
        check scenario-31 "churn: $bound of $CHURN_CYCLES hot-added NICs bound to vfio-pci (STATUS= 2/2)" test "$bound" -eq "$CHURN_CYCLES"
        check scenario-31 "churn: $forgot of $CHURN_CYCLES removals forgotten (gone, STATUS= 1/2 naming $HOTNIC)" test "$forgot" -eq "$CHURN_CYCLES"
        load_journal vfio-bind.service
        n_bind=0
        for ((k = 0; k < ${#J_ACTION[@]}; k++)); do
                [[ ${J_ACTION[k]} == bind && ${J_DEVICE[k]} == "$HOTNIC" && ${J_AFTER[k]} == vfio-pci ]] && n_bind=$((n_bind + 1))
        done
        if ((n_bind != CHURN_CYCLES)); then
                for ((k = 0; k < ${#J_ACTION[@]}; k++)); do
                        [[ ${J_DEVICE[k]} == "$HOTNIC" || ${J_MESSAGE[k]} == *"$HOTNIC"* ]] || continue
                        note scenario-31 "journal entry for $HOTNIC at ${J_MONO[k]}: ${J_ACTION[k]} ${J_BEFORE[k]} -> ${J_AFTER[k]}: ${J_MESSAGE[k]}"
                done
        fi
        check scenario-31 "journal: $n_bind bind entries for $HOTNIC (one per cycle: $CHURN_CYCLES)" test "$n_bind" -eq "$CHURN_CYCLES"
        check scenario-31 "after the churn: fds ($fds0 -> $RES_FDS) and /run/vfio-bind entries ($run0 -> $RES_RUN) as after the first cycle, VmRSS within 256 kB ($rss0 -> $RES_RSS kB)" \
                eval "((RES_FDS == fds0 && RES_RUN == run0 && RES_RSS <= rss0 + 256)) || { WHY=\"grew\"; false; }"
        check scenario-31 "the daemon lived through the churn: active, NRestarts=0, the same PID" daemon_survived
        note figures-churn "cycles=$CHURN_CYCLES bound=$bound forgotten=$forgot journal_binds=$n_bind ms=$churn_ms rss_kb=$rss_start/$rss0/$RES_RSS fds=$fds_start/$fds0/$RES_FDS run_entries=$run_start/$run0/$RES_RUN"

        # surprise removal. "seen": QMP device_add and device_del back to back. "override" and
        # "unbound": QMP's removal (ACPI, a second or more under TCG) cannot land inside a bind of
        # 0.3-0.6 s, so the guest removes the device itself through sysfs (`remove`) at that very
        # step, and brings it back with a bus rescan (a new add) afterwards.
        local moment i reached seen_vfio survived=0 truthful=0 rebound=0 during=0 s=0 tries=0
        # one removal at MOMENT; its outcome goes into the counters
        surprise_once() {
                local moment=$1
                tries=$((tries + 1))
                s=$((s + 1))
                qmp_request device_add driver=e1000e bus=rp3 addr=0x0 id="s$s"
                [[ $moment == seen ]] && qmp_request device_del id="s$s"
                reached=0
                local deadline=$(( $(uptime_ms) + 120000 ))
                while (( $(uptime_ms) < deadline )); do
                        for ((i = 0; i < 2000; i++)); do
                                if moment_reached "$moment"; then
                                        reached=1
                                        [[ $moment == seen ]] || echo 1 >"/sys/bus/pci/devices/$HOTNIC/remove"
                                        break 2
                                fi
                                [[ $moment != seen && -e /sys/bus/pci/drivers/vfio-pci/$HOTNIC ]] && break 2
                        done
                done
                seen_vfio=0
                if ((!reached)); then
                        note scenario-31 "surprise ($moment): the moment was not caught (the bind went faster)"
                        # it is on vfio-pci already: remove it now, nothing to watch
                        [[ -e /sys/bus/pci/drivers/vfio-pci/$HOTNIC ]] && seen_vfio=1
                        [[ $moment == seen ]] || echo 1 >"/sys/bus/pci/devices/$HOTNIC/remove"
                fi
                # watch until it is gone: was it ever on vfio-pci?
                for ((i = 0; i < 200000; i++)); do
                        [[ -e /sys/bus/pci/devices/$HOTNIC ]] || break
                        [[ -e /sys/bus/pci/drivers/vfio-pci/$HOTNIC ]] && seen_vfio=1
                done
                wait_for 120 hotnic_gone
                ((reached && !seen_vfio)) && during=$((during + 1))
                note scenario-31 "surprise ($moment): removed $( ((seen_vfio)) && echo after vfio-pci had bound it || echo before vfio-pci bound it)"
                sleep_s 2
                if daemon_survived; then survived=$((survived + 1)); else note scenario-31 "surprise ($moment): $WHY"; fi
                if wait_for 60 status_forgot; then truthful=$((truthful + 1)); else note scenario-31 "surprise ($moment): $WHY"; fi
                if [[ $moment == seen ]]; then
                        qmp_request device_add driver=e1000e bus=rp3 addr=0x0 id="r$s"
                else
                        echo 1 >/sys/bus/pci/rescan
                fi
                if wait_for 120 hotnic_on_vfio && wait_for 30 status_both; then
                        rebound=$((rebound + 1))
                else
                        pci_driver "$HOTNIC"; note scenario-31 "surprise ($moment): the next add is ${REPLY:-not there or on no driver}: $WHY"
                fi
                qmp_request device_del id="$( [[ $moment == seen ]] && echo "r$s" || echo "s$s")"
                wait_for 120 hotnic_gone
                wait_for 60 status_forgot
        }
        for moment in seen override unbound; do
                surprise_once "$moment"
        done
        # A removal inside a bind depends on the guest's timing: try the step after the unbind
        # again, up to 3 more times, until one lands before vfio-pci has the NIC.
        for ((extra = 0; during == 0 && extra < 3; extra++)); do
                surprise_once unbound
        done
        check scenario-31 "surprise removal ($tries: device_del after device_add, sysfs remove after the override, after e1000e let go): no crash each time (active, NRestarts=0, same PID)" test "$survived" -eq "$tries"
        check scenario-31 "surprise removal: STATUS= did not claim the removed NIC each time (1/2, naming $HOTNIC)" test "$truthful" -eq "$tries"
        check scenario-31 "surprise removal: the next add was bound to vfio-pci each time" test "$rebound" -eq "$tries"
        check scenario-31 "surprise removal: at least one removal came before vfio-pci had bound the NIC ($during of $tries)" test "$during" -ge 1
        proc_res "$PID"
        note figures-surprise "removals=$tries before_vfio_bound=$during survived=$survived truthful=$truthful rebound=$rebound rss_kb=$RES_RSS fds=$RES_FDS run_entries=$RES_RUN"
}
