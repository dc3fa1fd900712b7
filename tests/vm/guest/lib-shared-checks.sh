# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Guest helpers (sourced by lib.sh): checks shared by several scenarios (the addresses come from topology.sh)
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
