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

# ---------------------------------------------------------------------------------------------
# sysfs, builtins only

# pci_driver ADDR: REPLY = the driver bound to ADDR ("" for none); returns 1 if ADDR is absent.
pci_driver() {
        local line
        REPLY=
        [[ -e /sys/bus/pci/devices/$1 ]] || return 1
        while IFS= read -r line; do
                [[ $line == DRIVER=* ]] && REPLY=${line#DRIVER=}
        done </sys/bus/pci/devices/$1/uevent
        return 0
}

# read_attr FILE: REPLY = the first line of FILE ("" if it cannot be read)
read_attr() {
        REPLY=
        [[ -r $1 ]] || return 1
        IFS= read -r REPLY <"$1" || [[ -n $REPLY ]]
}

# iommu_group ADDR: REPLY = the IOMMU group number of ADDR; returns 1 if it has none.
iommu_group() {
        local p
        REPLY=
        for p in /sys/kernel/iommu_groups/*/devices/"$1"; do
                [[ -e $p ]] || continue
                p=${p#/sys/kernel/iommu_groups/}
                REPLY=${p%%/*}
                return 0
        done
        return 1
}

# on_driver ADDR DRIVER: the device is there and bound to DRIVER ("" means no driver).
on_driver() {
        if ! pci_driver "$1"; then
                WHY="$1 is not on the bus"
                return 1
        fi
        [[ $REPLY == "$2" ]] && return 0
        WHY="$1 is on ${REPLY:-no driver}, not ${2:-no driver}"
        return 1
}

# no_override ADDR: driver_override of ADDR is empty.
no_override() {
        read_attr "/sys/bus/pci/devices/$1/driver_override"
        [[ $REPLY == "(null)" || -z $REPLY ]] && return 0
        WHY="$1 still has driver_override=$REPLY"
        return 1
}

# vfio_dev_node ADDR: /dev/vfio/<group of ADDR> exists.
vfio_dev_node() {
        if ! iommu_group "$1"; then
                WHY="$1 has no IOMMU group"
                return 1
        fi
        [[ -c /dev/vfio/$REPLY ]] && return 0
        WHY="/dev/vfio/$REPLY (group of $1) does not exist"
        return 1
}

# module_loaded NAME: /sys/module/NAME exists (loaded as a module or built in with parameters).
module_loaded() {
        [[ -d /sys/module/$1 ]] && return 0
        WHY="module $1 is not loaded"
        return 1
}

# vtcon_fb: REPLY = the vtconsole whose driver is the frame buffer console ("" if none).
vtcon_fb() {
        local d name
        REPLY=
        for d in /sys/class/vtconsole/vtcon*; do
                read_attr "$d/name" || continue
                name=$REPLY
                REPLY=
                if [[ $name == *"frame buffer"* ]]; then
                        REPLY=${d##*/}
                        return 0
                fi
        done
        return 1
}

# platform_driver DEV: REPLY = the driver of the platform device DEV ("" for none); 1 if absent.
platform_driver() {
        local line
        REPLY=
        [[ -e /sys/bus/platform/devices/$1 ]] || return 1
        while IFS= read -r line; do
                [[ $line == DRIVER=* ]] && REPLY=${line#DRIVER=}
        done </sys/bus/platform/devices/$1/uevent
        return 0
}

# wait_for SECONDS FUNCTION [ARGS…]: poll FUNCTION every 0.1 s until it holds.
wait_for() {
        local deadline=$(( $(uptime_ms) + $1 * 1000 ))
        shift
        while ! "$@"; do
                (( $(uptime_ms) < deadline )) || return 1
                read -r -t 0.1 -u 9 || :
        done
        return 0
}

# uptime_ms: prints the uptime in milliseconds (CLOCK_BOOTTIME, close to the monotonic clock).
uptime_ms() {
        local up
        read -r up _ </proc/uptime
        printf '%d\n' "$(( ${up%.*} * 1000 + 10#${up#*.} * 10 ))"
}

# ---------------------------------------------------------------------------------------------
# the kernel log: KLOG[] holds `dmesg` once, load_klog refreshes it

KLOG=()
load_klog() {
        mapfile -t KLOG < <(dmesg)
}

# klog_find PATTERN [FROM]: REPLY = index of the first line (from FROM on) matching the glob
# PATTERN, -1 if none. PATTERN may hold alternatives, one a line (the same message as two kernels
# print it).
klog_find() {
        local i p pats=()
        if [[ $1 == *$'\n'* ]]; then
                mapfile -t pats <<<"$1"
        else
                pats=("$1")
        fi
        for ((i = ${2:-0}; i < ${#KLOG[@]}; i++)); do
                for p in "${pats[@]}"; do
                        # shellcheck disable=SC2053
                        if [[ ${KLOG[i]} == $p ]]; then
                                REPLY=$i
                                return 0
                        fi
                done
        done
        REPLY=-1
        return 1
}

# The driver core's lines (dyndbg "func driver_bound +p; func really_probe +p"). 6.1 prints them
# with pr_debug, naming the device at the end:
#   bus: 'pci': really_probe: probing driver bochs-drm with device 0000:01:00.0
#   driver: 'bochs-drm': driver_bound: bound to device '0000:01:00.0'
# 6.12 with dev_dbg, the device in front:
#   pci 0000:01:00.0: bus: 'pci': really_probe: probing driver bochs-drm with device
#   bochs-drm 0000:01:00.0: driver: 'bochs-drm': driver_bound: bound to device
# Each pattern below is both, one a line (klog_find tries each).
klog_bound_pattern() {
        printf '%s\n%s' "*driver: '$1': driver_bound: bound to device '$2'*" \
                "* $2: driver: '$1': driver_bound: bound to device"
}
klog_probe_pattern() {
        printf '%s\n%s' "*really_probe: probing driver $1 with device $2*" \
                "* $2: bus: '*': really_probe: probing driver $1 with device"
}

# klog_fb_removed_pattern DEVICE: the boot-time kprobe on platform_remove (every kernel), or on
# efifb_remove (6.1, for efi-framebuffer.0), logging that DEVICE lost its driver
klog_fb_removed_pattern() {
        if [[ $1 == efi-framebuffer.* && ${VM_EFIFB_REMOVE:-0} == 1 ]]; then
                printf '%s\n%s' "*platform_remove: (platform_remove+*dev=\"$1\"*" '*efifb_remove: (efifb_remove+*'
        else
                printf '%s' "*platform_remove: (platform_remove+*dev=\"$1\"*"
        fi
}

# never_bound DRIVER ADDR: the kernel log has no driver_bound line for DRIVER and ADDR.
never_bound() {
        if klog_find "$(klog_bound_pattern "$1" "$2")"; then
                WHY="kernel log: ${KLOG[REPLY]}"
                return 1
        fi
        return 0
}

# was_bound DRIVER ADDR: the kernel log has a driver_bound line for DRIVER and ADDR.
was_bound() {
        klog_find "$(klog_bound_pattern "$1" "$2")" && return 0
        WHY="no \"driver: '$1': driver_bound: bound to device '$2'\" in the kernel log"
        return 1
}

# klog_absent PATTERN: no kernel log line matches the glob.
klog_absent() {
        if klog_find "$1"; then
                WHY="kernel log: ${KLOG[REPLY]}"
                return 1
        fi
        return 0
}

# ---------------------------------------------------------------------------------------------
# uevents recorded by vm-uevents.service (udevadm monitor --kernel --udev --property)

UE_SRC=() UE_TIME=() UE_ACTION=() UE_SLOT=() UE_DRIVER=()
_uevent_push() {
        [[ -n $src ]] || return 0
        UE_SRC+=("$src") UE_TIME+=("$time") UE_ACTION+=("$action") UE_SLOT+=("$slot") UE_DRIVER+=("$driver")
        src=
}
load_uevents() {
        local line src='' time='' action='' slot='' driver=''
        UE_SRC=() UE_TIME=() UE_ACTION=() UE_SLOT=() UE_DRIVER=()
        while IFS= read -r line; do
                if [[ $line =~ ^(KERNEL|UDEV)\ *\[([0-9.]+)\]\ +([a-z]+)\  ]]; then
                        _uevent_push
                        src=${BASH_REMATCH[1]} time=${BASH_REMATCH[2]} action=${BASH_REMATCH[3]}
                        slot='' driver=''
                elif [[ $line == PCI_SLOT_NAME=* ]]; then
                        slot=${line#PCI_SLOT_NAME=}
                elif [[ $line == DRIVER=* ]]; then
                        driver=${line#DRIVER=}
                elif [[ -z $line ]]; then
                        _uevent_push
                fi
        done </run/vm-uevents.log
        _uevent_push
}

# uevent_find SRC ACTION ADDR [DRIVER]: REPLY = index of the first matching event, -1 if none.
uevent_find() {
        local i
        for ((i = 0; i < ${#UE_SRC[@]}; i++)); do
                [[ ${UE_SRC[i]} == "$1" && ${UE_ACTION[i]} == "$2" && ${UE_SLOT[i]} == "$3" ]] || continue
                [[ $# -lt 4 || ${UE_DRIVER[i]} == "$4" ]] || continue
                REPLY=$i
                return 0
        done
        REPLY=-1
        return 1
}

# no_uevent_bind DRIVER ADDR: neither the kernel nor udev ever reported DRIVER binding ADDR.
no_uevent_bind() {
        local src
        for src in KERNEL UDEV; do
                if uevent_find $src bind "$2" "$1"; then
                        WHY="$src bind of $2 by $1 at ${UE_TIME[REPLY]} s"
                        return 1
                fi
        done
        return 0
}

# uevent_bind DRIVER ADDR: the kernel reported DRIVER binding ADDR.
uevent_bind() {
        uevent_find KERNEL bind "$2" "$1" && return 0
        WHY="no KERNEL bind uevent of $2 with DRIVER=$1"
        return 1
}

# ---------------------------------------------------------------------------------------------
# IOMMU groups and `vfio-bind groups`

# iommu_group_is ADDR MEMBER…: ADDR's IOMMU group holds exactly the MEMBERs (in sysfs order)
iommu_group_is() {
        local p found=()
        iommu_group "$1" || { WHY="$1 has no IOMMU group"; return 1; }
        for p in /sys/kernel/iommu_groups/"$REPLY"/devices/*; do
                [[ -e $p ]] && found+=("${p##*/}")
        done
        shift
        [[ "${found[*]}" == "$*" ]] && return 0
        WHY="the group holds ${found[*]:-nothing}, expected $*"
        return 1
}

# GROUP_OF[addr], ROW_OF[addr] from the last `vfio-bind groups` (run_cli): "IOMMU group N: …"
# headers, then "  ADDR  …" rows
declare -A GROUP_OF=() ROW_OF=()
parse_groups() {
        local line g=
        GROUP_OF=() ROW_OF=()
        while IFS= read -r line; do
                if [[ $line =~ ^IOMMU\ group\ ([0-9]+): ]]; then
                        g=${BASH_REMATCH[1]}
                elif [[ $line =~ ^\ +([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\  ]]; then
                        GROUP_OF[${BASH_REMATCH[1]}]=$g
                        ROW_OF[${BASH_REMATCH[1]}]=$line
                fi
        done <<<"$CLI_OUT"
}

# groups_agree: the last `vfio-bind groups` lists every device of /sys/kernel/iommu_groups in
# its group, and nothing else
groups_agree() {
        local p g a n=0
        cli_ok || return 1
        parse_groups
        for p in /sys/kernel/iommu_groups/*/devices/*; do
                [[ -e $p ]] || continue
                a=${p##*/}
                g=${p#/sys/kernel/iommu_groups/}
                g=${g%%/*}
                n=$((n + 1))
                [[ ${GROUP_OF[$a]-} == "$g" ]] ||
                        { WHY="sysfs puts $a in group $g, vfio-bind groups in '${GROUP_OF[$a]-none}'"; return 1; }
        done
        for a in "${!GROUP_OF[@]}"; do
                [[ -e /sys/kernel/iommu_groups/${GROUP_OF[$a]}/devices/$a ]] ||
                        { WHY="vfio-bind groups lists $a in group ${GROUP_OF[$a]}, sysfs does not"; return 1; }
        done
        ((n == ${#GROUP_OF[@]} && n > 0)) && return 0
        WHY="sysfs has $n devices in groups, vfio-bind groups lists ${#GROUP_OF[@]}"
        return 1
}

# host_first DRIVER ADDR: the kernel log shows DRIVER bound ADDR before vfio-bindd started, then
# vfio-pci bound it
host_first() {
        local host_at host_line
        klog_find "$(klog_bound_pattern "$1" "$2")" || { WHY="$1 never bound $2 (the setup did not work)"; return 1; }
        host_line=$REPLY
        klog_time "$host_line"
        host_at=$REPLY
        unit_props vfio-bind.service
        ((host_at < ${PROP[ExecMainStartTimestampMonotonic]:-0})) ||
                { WHY="$1 bound $2 at $host_at us, not before vfio-bindd started (${PROP[ExecMainStartTimestampMonotonic]:-never})"; return 1; }
        klog_find "$(klog_bound_pattern vfio-pci "$2")" "$host_line" && return 0
        WHY="no vfio-pci driver_bound line for $2 after $1's"
        return 1
}

# journal_before ADDR DRIVER: the bind entry of ADDR says VFIO_BIND_DRIVER_BEFORE=DRIVER
journal_before() {
        journal_find bind "$1" vfio-pci || { WHY="no bind entry for $1"; return 1; }
        [[ ${J_BEFORE[REPLY]} == "$2" ]] && return 0
        WHY="the bind entry of $1 has VFIO_BIND_DRIVER_BEFORE=${J_BEFORE[REPLY]}, expected $2"
        return 1
}

# reconfigure TEXT: write /etc/vfio-bind.conf and reload the daemon; give it time to act
reconfigure() {
        printf '%s\n' "$1" > /etc/vfio-bind.conf
        systemctl kill -s HUP vfio-bind.service || { WHY="cannot signal vfio-bind.service"; return 1; }
        sleep 2
}

# ---------------------------------------------------------------------------------------------
# systemd: unit properties and the journal

# unit_props UNIT: PROP[Key]=value for the properties the checks use
declare -A PROP=()
unit_props() {
        local line
        PROP=()
        while IFS= read -r line; do
                PROP[${line%%=*}]=${line#*=}
        done < <(systemctl show "$1" -p ActiveState -p SubState -p Result -p StatusText \
                 -p ExecMainStatus -p ExecMainCode -p ExecMainStartTimestampMonotonic \
                 -p ActiveEnterTimestampMonotonic -p InactiveExitTimestampMonotonic \
                 -p ExecMainExitTimestampMonotonic -p NRestarts)
}

# unit_active UNIT
unit_active() {
        unit_props "$1"
        [[ ${PROP[ActiveState]} == active ]] && return 0
        WHY="$1 is ${PROP[ActiveState]:-unknown}/${PROP[SubState]:-?} (result ${PROP[Result]:-?})"
        return 1
}

# status_has TEXT…: the last StatusText read by unit_props contains every TEXT
status_has() {
        local t
        for t in "$@"; do
                if [[ ${PROP[StatusText]} != *"$t"* ]]; then
                        WHY="status \"${PROP[StatusText]}\" does not mention \"$t\""
                        return 1
                fi
        done
        return 0
}

# load_journal UNIT: J_DEVICE[], J_ACTION[], J_BEFORE[], J_AFTER[], J_MESSAGE[], J_MONO[] (the
# journal's monotonic timestamp in microseconds), J_PID[], one per entry of the unit
J_DEVICE=() J_ACTION=() J_BEFORE=() J_AFTER=() J_MESSAGE=() J_MONO=() J_PID=()
load_journal() {
        local dev act before after mono pid msg
        J_DEVICE=() J_ACTION=() J_BEFORE=() J_AFTER=() J_MESSAGE=() J_MONO=() J_PID=()
        while IFS=$'\t' read -r dev act before after mono pid msg; do
                J_DEVICE+=("$dev") J_ACTION+=("$act") J_BEFORE+=("$before") J_AFTER+=("$after")
                J_MONO+=("$mono") J_PID+=("$pid") J_MESSAGE+=("$msg")
        done < <(journalctl -b -u "$1" -o json --no-pager |
                 jq -r '[.VFIO_BIND_DEVICE // "-", .VFIO_BIND_ACTION // "-",
                         .VFIO_BIND_DRIVER_BEFORE // "-", .VFIO_BIND_DRIVER_AFTER // "-",
                         .__MONOTONIC_TIMESTAMP // "0", ._PID // "-",
                         (.MESSAGE | if type == "array" then implode else . end // "")] | @tsv')
}

# journal_find ACTION ADDR [DRIVER_AFTER]: REPLY = index of an entry with these fields whose
# message also names ADDR; -1 if none.
journal_find() {
        local i
        for ((i = 0; i < ${#J_ACTION[@]}; i++)); do
                [[ ${J_ACTION[i]} == "$1" && ${J_DEVICE[i]} == "$2" ]] || continue
                [[ $# -lt 3 || ${J_AFTER[i]} == "$3" ]] || continue
                [[ ${J_MESSAGE[i]} == *"$2"* ]] || continue
                REPLY=$i
                return 0
        done
        REPLY=-1
        return 1
}

# journal_has ACTION ADDR [DRIVER_AFTER]
journal_has() {
        journal_find "$@" && return 0
        local i seen=
        for ((i = 0; i < ${#J_ACTION[@]}; i++)); do
                [[ ${J_DEVICE[i]} == "$2" ]] && seen+=" ${J_ACTION[i]}(${J_BEFORE[i]}->${J_AFTER[i]})"
        done
        WHY="no journal entry VFIO_BIND_ACTION=$1 VFIO_BIND_DEVICE=$2${3:+ VFIO_BIND_DRIVER_AFTER=$3} naming $2 in its message; entries for $2:${seen:- none}"
        return 1
}

# journal_lacks ACTION: no entry has VFIO_BIND_ACTION=ACTION.
journal_lacks() {
        local i
        for ((i = 0; i < ${#J_ACTION[@]}; i++)); do
                if [[ ${J_ACTION[i]} == "$1" ]]; then
                        WHY="journal: ${J_MESSAGE[i]}"
                        return 1
                fi
        done
        return 0
}

# journal_mentions TEXT: some message of the unit contains TEXT.
journal_mentions() {
        local i
        for ((i = 0; i < ${#J_MESSAGE[@]}; i++)); do
                [[ ${J_MESSAGE[i]} == *"$1"* ]] && return 0
        done
        WHY="no journal message of the unit mentions \"$1\""
        return 1
}

# usec_to_s USEC: REPLY = "S.mmm"
usec_to_s() {
        printf -v REPLY '%d.%03d' $(( $1 / 1000000 )) $(( ($1 / 1000) % 1000 ))
}

# ---------------------------------------------------------------------------------------------
# checks shared by several scenarios (the addresses come from topology.sh)

# both functions of the GPU slot on DRIVER (default vfio-pci)
gpu_slot_on() {
        all_of "on_driver $GPU ${1:-vfio-pci}" "on_driver $AUDIO ${1:-vfio-pci}"
}

# kernel log: vfio-pci bound both functions, bochs-drm and snd_hda_intel never bound them
host_drivers_never_bound_klog() {
        all_of "was_bound vfio-pci $GPU" "was_bound vfio-pci $AUDIO" \
               "never_bound bochs-drm $GPU" "never_bound snd_hda_intel $AUDIO"
}

# udev_last_driver ADDR DRIVER: udev's last processed event of ADDR has DRIVER=DRIVER
udev_last_driver() {
        local i last=-1
        for ((i = 0; i < ${#UE_SRC[@]}; i++)); do
                [[ ${UE_SRC[i]} == UDEV && ${UE_SLOT[i]} == "$1" ]] && last=$i
        done
        ((last >= 0)) || { WHY="udev processed no event of $1"; return 1; }
        [[ ${UE_DRIVER[last]} == "$2" ]] && return 0
        WHY="udev's last event of $1 (${UE_ACTION[last]}) has DRIVER=${UE_DRIVER[last]:-none}"
        return 1
}

# uevents: the kernel reported vfio-pci binding both functions, neither the kernel nor udev ever
# reported a host driver binding them, and udev's record of each ends on vfio-pci
host_drivers_never_bound_udev() {
        all_of "uevent_bind vfio-pci $GPU" "uevent_bind vfio-pci $AUDIO" \
               "no_uevent_bind bochs-drm $GPU" "no_uevent_bind snd_hda_intel $AUDIO" \
               "udev_last_driver $GPU vfio-pci" "udev_last_driver $AUDIO vfio-pci"
}

# vfio-bind.service is active and its status text contains every TEXT
service_status_has() {
        unit_active vfio-bind.service || return 1
        status_has "$@"
}

# klog_time INDEX: REPLY = the kernel log line's timestamp in microseconds
klog_time() {
        local t
        REPLY=0
        [[ ${KLOG[$1]} =~ ^\[\ *([0-9]+)\.([0-9]{6})\] ]] || return 1
        REPLY=$(( 10#${BASH_REMATCH[1]} * 1000000 + 10#${BASH_REMATCH[2]} ))
}

# active_before A B: unit A became active (READY) before unit B started
active_before() {
        local ready start r
        unit_props "$1"
        ready=${PROP[ActiveEnterTimestampMonotonic]:-0}
        unit_props "$2"
        start=${PROP[ExecMainStartTimestampMonotonic]:-0}
        ((start > 0)) || start=${PROP[InactiveExitTimestampMonotonic]:-0}
        ((ready > 0)) || { WHY="$1 never became active"; return 1; }
        ((start > 0)) || { WHY="$2 never started"; return 1; }
        usec_to_s "$ready"
        r=$REPLY
        usec_to_s "$start"
        ((ready < start)) && return 0
        WHY="$1 became active at $r s, after $2 started at $REPLY s"
        return 1
}

# report_ready_time ID TEXT: a TIME line with vfio-bind.service's start -> READY
report_ready_time() {
        local start ready
        unit_props vfio-bind.service
        start=${PROP[ExecMainStartTimestampMonotonic]:-0} ready=${PROP[ActiveEnterTimestampMonotonic]:-0}
        if ((start > 0 && ready >= start)); then
                usec_to_s $((ready - start))
                timing "$1" "vfio-bind.service start -> READY $REPLY s ($2)"
        else
                timing "$1" "vfio-bind.service start -> READY not measured (never active)"
        fi
}

# run_cli NAME ARGS…: run the vfio-bind CLI; CLI_OUT = its output (stdout and stderr), CLI_RC =
# its exit status; the output also goes to the host as NAME.log
CLI_OUT='' CLI_RC=0
SANITIZER_REPORTS=()
run_cli() {
        local name=$1
        shift
        CLI_OUT=$(NO_COLOR=1 "$VB_CLI" "$@" 2>&1)
        CLI_RC=$?
        [[ $CLI_OUT != *"Sanitizer"* && $CLI_OUT != *"runtime error:"* ]] || SANITIZER_REPORTS+=("vfio-bind $*")
        printf 'VMDUMP-BEGIN %s\n%s\n[exit %d]\nVMDUMP-END %s\n' "$name" "$CLI_OUT" "$CLI_RC" "$name" >&3
}

# send_dump SCENARIO: `vfio-bind dump /tmp/guest.tar` (exit 0, under 1 MiB), then the outputs a
# replay on the host must match (groups, status, status --json, check), and the dump itself to
# the host (base64 on the results port, as guest-dump-b64); the host's replay_same compares
send_dump() {
        local size
        run_cli dump dump /tmp/guest.tar
        cli_ok || return 1
        [[ -s /tmp/guest.tar ]] || { WHY="/tmp/guest.tar is empty or missing"; return 1; }
        size=$(stat -c %s /tmp/guest.tar)
        ((size < 1048576)) || { WHY="the dump has $size bytes (1 MiB or more)"; return 1; }
        run_cli guest-groups groups
        run_cli guest-status status
        run_cli guest-status-json status --json
        run_cli guest-check check
        printf 'VMDUMP-BEGIN guest-dump-b64\n' >&3
        base64 /tmp/guest.tar >&3
        printf 'VMDUMP-END guest-dump-b64\n' >&3
        note "$1" "the dump has $size bytes"
}

# cli_says TEXT…: the last run_cli's output has each TEXT (whatever it exited)
cli_says() {
        local t
        for t in "$@"; do
                [[ $CLI_OUT == *"$t"* ]] || { WHY="the output does not say \"$t\": ${CLI_OUT//$'\n'/ | }"; return 1; }
        done
}

# cli_has TEXT…: the last run_cli exited 0 and its output has each TEXT
cli_has() {
        cli_ok && cli_says "$@"
}

# cli_ok TEXT: the last run_cli exited 0
cli_ok() {
        ((CLI_RC == 0)) && return 0
        WHY="vfio-bind exited $CLI_RC: ${CLI_OUT//$'\n'/ | }"
        return 1
}

# show TEXT COMMAND…: for the demo: "$ TEXT", then what COMMAND printed, on the results port as
# VMSHOW lines (TEXT is the command as a user would type it)
show() {
        local text=$1 out line
        shift
        out=$(NO_COLOR=1 SYSTEMD_COLORS=0 COLUMNS=100 "$@" 2>&1)
        printf 'VMSHOW $ %s\n' "$text" >&3
        while IFS= read -r line; do
                printf 'VMSHOW %s\n' "$line" >&3
        done <<<"$out"
        printf 'VMSHOW \n' >&3
}

# journal_actions_name_devices: every entry of the unit that records an action for a device names
# that device's address in its message text too
journal_actions_name_devices() {
        local i n=0
        for ((i = 0; i < ${#J_ACTION[@]}; i++)); do
                [[ ${J_ACTION[i]} != - ]] || continue
                n=$((n + 1))
                [[ ${J_DEVICE[i]} != - ]] || { WHY="entry \"${J_MESSAGE[i]}\" (action ${J_ACTION[i]}) has no VFIO_BIND_DEVICE="; return 1; }
                [[ ${J_MESSAGE[i]} == *"${J_DEVICE[i]}"* ]] ||
                        { WHY="entry \"${J_MESSAGE[i]}\" does not name its device ${J_DEVICE[i]}"; return 1; }
        done
        ((n > 0)) && return 0
        WHY="no journal entry with VFIO_BIND_ACTION="
        return 1
}

# no_sanitizer_reports: in a sanitizer build, neither the journal (the daemon's stderr) nor any
# output of the CLI run by the checks has an AddressSanitizer/LeakSanitizer/UBSan report
no_sanitizer_reports() {
        local line
        while IFS= read -r line; do
                if [[ $line == *"ERROR: AddressSanitizer"* || $line == *"ERROR: LeakSanitizer"* ||
                      $line == *"runtime error:"* ]]; then
                        WHY="journal: $line"
                        return 1
                fi
        done < <(journalctl -b -o cat --no-pager)
        ((${#SANITIZER_REPORTS[@]} == 0)) && return 0
        WHY="reports in the output of: ${SANITIZER_REPORTS[*]}"
        return 1
}

# ---------------------------------------------------------------------------------------------
# SR-IOV (scenarios 25-26): marks in the kernel log and what the kprobes of SRIOV_KPROBES logged

# mark TEXT: "vm-test: TEXT" into the kernel log; MARK_MS = the uptime then
# shellcheck disable=SC2034
MARK_TEXT='' MARK_MS=0
mark() {
        MARK_TEXT="vm-test: $1"
        printf '%s\n' "$MARK_TEXT" >/dev/kmsg
        MARK_MS=$(uptime_ms)
}

# klog_from_mark: REPLY = index of the first kernel log line after the last mark (reloads KLOG)
klog_from_mark() {
        load_klog
        klog_find "*$MARK_TEXT" || { WHY="the mark \"$MARK_TEXT\" is not in the kernel log"; return 1; }
        REPLY=$((REPLY + 1))
}

# klog_count PATTERN [FROM]: REPLY = how many kernel log lines (from FROM on) match PATTERN
klog_count() {
        local n=0 from=${2:-0}
        while klog_find "$1" "$from"; do
                n=$((n + 1))
                from=$((REPLY + 1))
        done
        REPLY=$n
}

# attr_is ADDR ATTR VALUE: /sys/bus/pci/devices/ADDR/ATTR reads VALUE
attr_is() {
        read_attr "/sys/bus/pci/devices/$1/$2" || { WHY="cannot read $1/$2"; return 1; }
        [[ $REPLY == "$3" ]] && return 0
        WHY="$1/$2 is $REPLY, expected $3"
        return 1
}

# kprobe_writes [FROM [TO]]: WRITES = the writes to sriov_drivers_autoprobe / sriov_numvfs the
# kprobes logged in kernel log lines FROM..TO-1, as "autoprobe:ADDR:BYTE" / "numvfs:ADDR:BYTE",
# in order; WRITE_AT = their line indexes
WRITES=() WRITE_AT=()
kprobe_writes() {
        local i
        WRITES=() WRITE_AT=()
        for ((i = ${1:-0}; i < ${2:-${#KLOG[@]}}; i++)); do
                [[ ${KLOG[i]} =~ vb_(autoprobe|numvfs):\ \(.*\)\ dev=\"([^\"]*)\"\ buf=([0-9]+) ]] || continue
                WRITES+=("${BASH_REMATCH[1]}:${BASH_REMATCH[2]}:${BASH_REMATCH[3]}")
                WRITE_AT+=("$i")
        done
}

# nvme_probes [FROM [TO]]: NVME_PROBES = the devfns nvme's probe function ran for (kprobe), in order
NVME_PROBES=()
nvme_probes() {
        local i
        NVME_PROBES=()
        for ((i = ${1:-0}; i < ${2:-${#KLOG[@]}}; i++)); do
                [[ ${KLOG[i]} =~ vb_nvme_probe:\ \(nvme_probe\+.*\)\ devfn=([0-9]+) ]] && NVME_PROBES+=("${BASH_REMATCH[1]}")
        done
        return 0
}

# ---------------------------------------------------------------------------------------------
# load tests (scenarios 30-32): QMP from the guest, the daemon's resources, builtins only

# qmp_request COMMAND [KEY=VALUE…]: ask the host to send a QMP command (the scenario sets
# QMP_REQUESTS=yes); the host runs the requests in order, without answering: watch sysfs
QMP_SEQ=0
qmp_request() {
        QMP_SEQ=$((QMP_SEQ + 1))
        _result "QMP-REQUEST $QMP_SEQ $*"
}

# daemon_pid: REPLY = vfio-bind.service's main PID (0 when it has none)
daemon_pid() {
        REPLY=$(systemctl show -p MainPID --value vfio-bind.service)
        REPLY=${REPLY:-0}
}

# proc_res PID: RES_RSS (VmRSS, kB), RES_FDS (open fds), RES_TICKS (utime+stime, clock ticks;
# RES_STIME: stime alone, the kernel's share),
# RES_RUN (entries below /run/vfio-bind), RES_WAKE (voluntary context switches: times it slept
# and was woken), RES_SYSCR (read-family syscalls, from /proc/PID/io: sysfs reads among them);
# returns 1 if PID is gone
proc_res() {
        local line stat fds run
        RES_RSS= RES_FDS= RES_TICKS= RES_STIME= RES_RUN= RES_WAKE=0 RES_SYSCR=0
        [[ -d /proc/$1 ]] || return 1
        while IFS= read -r line; do
                [[ $line == VmRSS:* ]] && { read -r _ RES_RSS _ <<<"$line"; }
                [[ $line == voluntary_ctxt_switches:* ]] && { read -r _ RES_WAKE <<<"$line"; }
        done </proc/$1/status
        while IFS= read -r line; do
                [[ $line == syscr:* ]] && { read -r _ RES_SYSCR <<<"$line"; }
        done 2>/dev/null </proc/$1/io
        read -r stat </proc/$1/stat
        stat=${stat##*) }
        read -r -a stat <<<"$stat"
        # after "comm)": state is field 3, utime 14, stime 15 (indexes 0, 11, 12)
        RES_TICKS=$((stat[11] + stat[12])) RES_STIME=${stat[12]}
        shopt -s nullglob dotglob globstar
        fds=(/proc/$1/fd/*)
        run=(/run/vfio-bind/**)
        shopt -u nullglob dotglob globstar
        RES_FDS=${#fds[@]}
        # the glob lists /run/vfio-bind/ itself first
        RES_RUN=$(( ${#run[@]} > 0 ? ${#run[@]} - 1 : 0 ))
}

# uevent_socket PID: REPLY = "RMEM DROPS" of PID's kernel uevent socket (NETLINK_KOBJECT_UEVENT,
# protocol 15, in /proc/net/netlink, found by the inode of one of PID's socket fds)
uevent_socket() {
        local f l inodes=' ' sk eth pid groups rmem wmem dump locks drops inode
        REPLY=
        for f in /proc/$1/fd/*; do
                l=$(readlink "$f") || continue
                [[ $l == socket:\[*\] ]] && { l=${l#socket:[}; inodes+="${l%]} "; }
        done
        while read -r sk eth pid groups rmem wmem dump locks drops inode; do
                [[ $eth == 15 && $inodes == *" $inode "* ]] || continue
                REPLY="$rmem $drops"
                return 0
        done </proc/net/netlink
        WHY="no NETLINK_KOBJECT_UEVENT socket among the fds of $1"
        return 1
}

# uevent_seqnum: REPLY = the kernel's uevent sequence number (every uevent sent moves it by one)
uevent_seqnum() { read -r REPLY </sys/kernel/uevent_seqnum; }

# journal_count TEXT: REPLY = how many entries of the unit (load_journal) contain TEXT
journal_count() {
        local i n=0
        for ((i = 0; i < ${#J_MESSAGE[@]}; i++)); do
                [[ ${J_MESSAGE[i]} == *"$1"* ]] && n=$((n + 1))
        done
        REPLY=$n
}

# daemon_idle PID: PID's CPU ticks did not move over the last second (it has worked through its
# backlog); RES_* are PID's
daemon_idle() {
        local t
        proc_res "$1" || return 1
        t=$RES_TICKS
        read -r -t 1 -u 9 || :
        proc_res "$1" || return 1
        ((RES_TICKS == t))
}

# sleep_s SECONDS: a sleep without forking
sleep_s() { read -r -t "$1" -u 9 || :; }

# load_sizes: the scenario's sizes from /vm/load.env (the host's VB_* variables, see payload())
load_sizes() {
        [[ -r /vm/load.env ]] && source /vm/load.env
        return 0
}
