# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 32, killed during a real bind (issue 16): vfio-bindd gets SIGKILL in the middle of
# moving a hot-added NIC from e1000e to vfio-pci, at two steps: right after it wrote
# driver_override (e1000e still holds the NIC) and right after e1000e let go (override written,
# no driver yet, vfio-pci not probed). A tight loop of shell builtins watches sysfs and kills at
# that moment. Then, at every reading for a second after the kill, the NIC has a driver or the
# override that says where it belongs (never driverless without an override); systemd restarts the
# daemon (Restart=on-failure, NRestarts goes up by one, a new PID), and it converges: the NIC on
# vfio-pci, STATUS= 2/2. Each step is tried up to KILL_TRIES times (the window can be missed;
# a miss is reported, and at least one kill must land in the middle of a bind).
# Sizes: VB_KILL_TRIES (default 3), on the host.

DESCRIPTION="SIGKILL during a real bind (after the override, after the host driver's unbind): restarted by systemd, converges, never driverless without an override"
KERNELS="6.12"
# never looks at the boot console or the GPU: SeaBIOS boots it faster than OVMF
FIRMWARE=bios
QMP_REQUESTS=yes
CONF="[Bind]
Device=$NIC
Device=$HOTNIC
Timeout=2s"

payload() {
        printf 'KILL_TRIES=%d\n' "${VB_KILL_TRIES:-3}" >"$1/vm/load.env"
}

hotnic_on_vfio() { on_driver "$HOTNIC" vfio-pci; }
hotnic_gone() { [[ ! -e /sys/bus/pci/devices/$HOTNIC ]] || { WHY="$HOTNIC is still there"; return 1; }; }
status_both() { unit_props vfio-bind.service; status_has "2/2 devices on vfio-pci"; }

# kill_at STEP PID: tight watch of the NIC; SIGKILL PID at STEP (override: driver_override says
# vfio-pci, e1000e still bound; unbound: override written, no driver); KILLED_AT = what sysfs said
# right before the kill, or "" if the NIC reached vfio-pci first (missed)
kill_at() {
        local step=$1 pid=$2 d=/sys/bus/pci/devices/$HOTNIC ov i
        KILLED_AT=
        for ((i = 0; i < 3000000; i++)); do
                [[ -e $d ]] || continue
                ov=
                read -r ov <"$d/driver_override" 2>/dev/null
                if [[ $ov == vfio-pci ]]; then
                        if [[ $step == override && -e /sys/bus/pci/drivers/e1000e/$HOTNIC ]] ||
                           [[ $step == unbound && ! -e $d/driver ]]; then
                                kill -KILL "$pid"
                                KILLED_AT="override=vfio-pci driver=$( [[ -e $d/driver ]] && echo e1000e || echo none)"
                                return 0
                        fi
                fi
                [[ -e /sys/bus/pci/drivers/vfio-pci/$HOTNIC ]] && return 1
        done
        return 1
}

# never_lost: for about a second, every reading: a driver, or driver_override vfio-pci
LOST=
never_lost() {
        local d=/sys/bus/pci/devices/$HOTNIC ov i t_end n=0
        t_end=$(( $(uptime_ms) + 1000 ))
        LOST=
        while (( $(uptime_ms) < t_end )); do
                for ((i = 0; i < 200; i++)); do
                        n=$((n + 1))
                        [[ -e $d/driver ]] && continue
                        ov=
                        read -r ov <"$d/driver_override" 2>/dev/null
                        [[ $ov == vfio-pci ]] || { LOST="reading $n: no driver and driver_override \"$ov\""; WHY=$LOST; return 1; }
                done
        done
        READINGS=$n
}

restarted() {
        unit_active vfio-bind.service || return 1
        ((PROP[NRestarts] == N0 + 1)) || { WHY="NRestarts=${PROP[NRestarts]}, was $N0"; return 1; }
        daemon_pid
        [[ $REPLY != 0 && $REPLY != "$PID" ]] || { WHY="main PID $REPLY (killed: $PID)"; return 1; }
}

checks() {
        local step try n=0 landed=0 converged=0 safe=0 missed=0 tries=0 results=()
        load_sizes
        check scenario-32 "the NIC present at boot is on vfio-pci, $HOTNIC absent" all_of "on_driver $NIC vfio-pci" hotnic_gone
        for step in override unbound; do
                for ((try = 1; try <= KILL_TRIES; try++)); do
                        n=$((n + 1)) tries=$((tries + 1))
                        daemon_pid; PID=$REPLY
                        unit_props vfio-bind.service; N0=${PROP[NRestarts]}
                        qmp_request device_add driver=e1000e bus=rp3 addr=0x0 id="k$n"
                        wait_for 120 test -e "/sys/bus/pci/devices/$HOTNIC" || { note scenario-32 "$step #$try: $HOTNIC never appeared"; continue; }
                        if kill_at "$step" "$PID"; then
                                landed=$((landed + 1))
                                if never_lost; then
                                        safe=$((safe + 1))
                                        note scenario-32 "killed after $step (#$try): sysfs said $KILLED_AT; $READINGS readings over a second after it: never driverless without an override"
                                else
                                        fail scenario-32 "killed after $step (#$try): $LOST"
                                fi
                                if wait_for 60 restarted && wait_for 120 hotnic_on_vfio && wait_for 60 status_both; then
                                        converged=$((converged + 1))
                                        results+=("$step:converged")
                                else
                                        pci_driver "$HOTNIC"
                                        fail scenario-32 "killed after $step (#$try): restarted and converged (NIC on vfio-pci, STATUS= 2/2): $WHY; the NIC is on ${REPLY:-no driver}"
                                        results+=("$step:NOT-converged")
                                fi
                                qmp_request device_del id="k$n"
                                wait_for 120 hotnic_gone
                                wait_for 30 eval 'unit_props vfio-bind.service; [[ ${PROP[StatusText]} != *"2/2"* ]]'
                                break
                        fi
                        missed=$((missed + 1))
                        note scenario-32 "$step #$try: missed the moment (the NIC reached vfio-pci first)"
                        wait_for 60 hotnic_on_vfio
                        qmp_request device_del id="k$n"
                        wait_for 120 hotnic_gone
                        wait_for 30 eval 'unit_props vfio-bind.service; [[ ${PROP[StatusText]} != *"2/2"* ]]'
                done
        done
        check scenario-32 "at least one SIGKILL landed in the middle of a bind ($landed of 2 steps; $missed tries missed the moment)" test "$landed" -ge 1
        check scenario-32 "every kill: never driverless without an override right after it ($safe of $landed)" test "$safe" -eq "$landed"
        check scenario-32 "every kill: restarted by systemd (Restart=on-failure) and converged: NIC on vfio-pci, STATUS= 2/2 ($converged of $landed)" test "$converged" -eq "$landed"
        unit_props vfio-bind.service
        check scenario-32 "the unit counts the restarts: NRestarts=$landed" test "${PROP[NRestarts]}" -eq "$landed"
        load_journal vfio-bind.service
        journal_count "bound to vfio-pci"
        note figures-kill "steps=override,unbound tries=$tries landed=$landed missed=$missed safe=$safe converged=$converged nrestarts=${PROP[NRestarts]} results=${results[*]}"
}
