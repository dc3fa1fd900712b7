# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 24, a VM that opens the group: /dev/vfio/N existing does not prove that QEMU can use
# it. After vfio-bindd bound the GPU slot at boot, a QEMU inside the guest (TCG, paused with -S:
# the devices are opened and set up, nothing runs) starts with -device vfio-pci,host=… for each
# function of the group, and its QMP query-pci must list their vendor:device IDs. The opposite
# (and the control): with Group=ignore and only the GPU configured, the audio function back on
# snd_hda_intel, `vfio-bind check` says the group cannot go to a guest, and QEMU refuses it
# ("group N is not viable").
#
# A running VM holds the group (issue 25): with a paused nested QEMU that has both functions open,
# `vfio-bind release --take-group` refuses, naming QEMU's PID and command; with --force the
# kernel's unbind of vfio-pci waits for the VM (vfio_unregister_group_dev), so the command ends
# after its deadline with exit 3, saying which write hangs, and its writer stays in the kernel
# (state D) until QEMU quits: then it is gone, the GPU is left where the returned unbind put it
# (no driver, no override) and the audio function untouched (no further write).

DESCRIPTION="a nested QEMU opens the bound group (query-pci); refused when the group is not viable"
# looks at the GPU's drivers, never at the boot console or framebuffer: SeaBIOS and the PVH
# kernel boot it with about 8 s less CPU than OVMF (tests/vm/README.md, Time)
FIRMWARE=bios
# a nested VM or a load of many processes: the RAM of the boots before MEMORY= existed
MEMORY=2048
GUEST_QEMU=yes
CONF="[Bind]
Device=$GPU_SLOT"

# nested_qemu NAME ADDR…: start QEMU with a vfio-pci device per ADDR, paused, QMP on stdio; ask
# query-pci and quit. NESTED_RC = QEMU's exit status, NESTED_ERR = its stderr, NESTED_IDS = the
# "vvvv:dddd" of every PCI device of the nested machine; the session goes to the host as NAME.log.
NESTED_RC=0 NESTED_ERR='' NESTED_IDS=()
nested_qemu() {
        local name=$1 a args=() line reply='' log='' v d
        shift
        for a in "$@"; do
                args+=(-device "vfio-pci,host=$a")
        done
        NESTED_IDS=() NESTED_ERR=''
        coproc NESTED { exec qemu-system-x86_64 -machine q35,accel=tcg -m 128 -nodefaults -no-user-config \
                -display none -S -qmp stdio "${args[@]}" 2>/run/nested.err; }
        local out=${NESTED[0]} in=${NESTED[1]} pid=$NESTED_PID
        # the greeting; then each command's reply (QMP puts one message on a line)
        if IFS= read -r -t 120 -u "$out" line; then
                log+="$line"$'\n'
                printf '%s\n' '{"execute":"qmp_capabilities"}' >&"$in"
                IFS= read -r -t 60 -u "$out" line && log+="$line"$'\n'
                printf '%s\n' '{"execute":"query-pci"}' >&"$in"
                IFS= read -r -t 60 -u "$out" reply && log+="$reply"$'\n'
                printf '%s\n' '{"execute":"quit"}' >&"$in"
                IFS= read -r -t 60 -u "$out" line && log+="$line"$'\n'
        fi
        wait "$pid"
        NESTED_RC=$?
        NESTED_ERR=$(</run/nested.err)
        printf 'VMDUMP-BEGIN %s\n%s\n[stderr]\n%s\n[exit %d]\nVMDUMP-END %s\n' "$name" "$log" "$NESTED_ERR" "$NESTED_RC" "$name" >&3
        [[ -n $reply ]] || return 0
        while read -r v d; do
                printf -v line '%04x:%04x' "$v" "$d"
                NESTED_IDS+=("$line")
        done < <(jq -r '.return[].devices[] | "\(.id.vendor) \(.id.device)"' <<<"$reply")
}

# host_id ADDR: REPLY = "vvvv:dddd" of ADDR from sysfs
host_id() {
        local v d
        read_attr "/sys/bus/pci/devices/$1/vendor" && v=${REPLY#0x}
        read_attr "/sys/bus/pci/devices/$1/device" && d=${REPLY#0x}
        REPLY=$v:$d
}

nested_lists() {
        local a id found
        ((NESTED_RC == 0)) || { WHY="QEMU exited $NESTED_RC: ${NESTED_ERR//$'\n'/ | }"; return 1; }
        for a in "$@"; do
                host_id "$a"
                id=$REPLY found=0
                for i in "${NESTED_IDS[@]}"; do
                        [[ $i == "$id" ]] && found=1
                done
                ((found)) || { WHY="query-pci lists ${NESTED_IDS[*]:-nothing}, not $id ($a)"; return 1; }
        done
        note scenario-24 "the nested machine's PCI devices: ${NESTED_IDS[*]}"
        return 0
}

nested_ran() {
        nested_qemu nested-viable "$GPU" "$AUDIO"
        nested_lists "$GPU" "$AUDIO"
}

# second half: only the GPU configured, Group=ignore, the audio function given back to its driver
not_viable_setup() {
        reconfigure "[Bind]
Device=$GPU
Group=ignore" || return 1
        if ! on_driver "$AUDIO" snd_hda_intel; then
                run_cli release-audio release "$AUDIO"
                cli_ok || return 1
        fi
        wait_for 10 on_driver "$AUDIO" snd_hda_intel || return 1
        on_driver "$GPU" vfio-pci
}

check_says_not_viable() {
        run_cli check-not-viable check
        # a problem or a warning, but in words: the group, the function that holds it, its driver
        [[ $CLI_OUT == *"$GPU"*"$AUDIO"*snd_hda_intel* && ( $CLI_OUT == *"not viable"* || $CLI_OUT == *"cannot go to a guest"* ) ]] &&
                return 0
        WHY="vfio-bind check (exit $CLI_RC) does not say that the group of $GPU cannot go to a guest because $AUDIO is on snd_hda_intel: ${CLI_OUT//$'\n'/ | }"
        return 1
}

groups_says_held() {
        run_cli groups-not-viable groups
        iommu_group "$GPU"
        [[ $CLI_OUT == *"IOMMU group $REPLY: held by the host (snd_hda_intel)"* ]] && return 0
        WHY="vfio-bind groups does not show group $REPLY held by snd_hda_intel: ${CLI_OUT//$'\n'/ | }"
        return 1
}

nested_refused() {
        local g
        iommu_group "$GPU"
        g=$REPLY
        nested_qemu nested-not-viable "$GPU"
        ((NESTED_RC != 0)) || { WHY="QEMU started with the group not viable"; return 1; }
        [[ $NESTED_ERR == *"group $g is not viable"* ]] && return 0
        WHY="QEMU exited $NESTED_RC without \"group $g is not viable\": ${NESTED_ERR//$'\n'/ | }"
        return 1
}

# held_vm_start / held_vm_quit: a paused nested QEMU with both functions of the group open
HELD_QEMU=0 HELD_OUT=0 HELD_IN=0
held_vm_start() {
        local line
        coproc HELD { exec qemu-system-x86_64 -machine q35,accel=tcg -m 128 -nodefaults -no-user-config \
                -display none -S -qmp stdio -device "vfio-pci,host=$GPU" -device "vfio-pci,host=$AUDIO" 2>/run/held.err; }
        HELD_OUT=${HELD[0]} HELD_IN=${HELD[1]} HELD_QEMU=$HELD_PID
        IFS= read -r -t 120 -u "$HELD_OUT" line || { WHY="the held VM gave no QMP greeting: $(</run/held.err)"; return 1; }
        printf '%s\n' '{"execute":"qmp_capabilities"}' >&"$HELD_IN"
        IFS= read -r -t 60 -u "$HELD_OUT" line || { WHY="the held VM did not answer"; return 1; }
}

held_vm_quit() {
        local line
        printf '%s\n' '{"execute":"quit"}' >&"$HELD_IN"
        IFS= read -r -t 60 -u "$HELD_OUT" line || :
        wait "$HELD_QEMU" || :
}

# refused_names_vm: the last run_cli refused, naming the VM's PID and command
refused_names_vm() {
        ((CLI_RC == 1)) || { WHY="vfio-bind exited $CLI_RC: ${CLI_OUT//$'\n'/ | }"; return 1; }
        [[ $CLI_OUT == *"is open in PID $HELD_QEMU (qemu-system-x86"* ]] && return 0
        WHY="the refusal does not name PID $HELD_QEMU (qemu-system-x86): ${CLI_OUT//$'\n'/ | }"
        return 1
}

# ended_stuck: the last run_cli exited 3, naming the unbind of vfio-pci that hangs
ended_stuck() {
        ((CLI_RC == 3)) || { WHY="vfio-bind exited $CLI_RC, not 3: ${CLI_OUT//$'\n'/ | }"; return 1; }
        [[ $CLI_OUT == *"to /sys/bus/pci/drivers/vfio-pci/unbind has not returned after"* ]] && return 0
        WHY="the output does not name the hanging unbind: ${CLI_OUT//$'\n'/ | }"
        return 1
}

# stuck_writer: STUCK_PID = a vfio-bind process in uninterruptible sleep
STUCK_PID=
stuck_writer() {
        local stat seen=
        STUCK_PID=
        for stat in /proc/[0-9]*/stat; do
                read -r stat <"$stat" 2>/dev/null || continue
                # "PID (comm) STATE …"
                [[ $stat == *" (vfio-bind) "* ]] || continue
                seen+=" ${stat%% *}:${stat#*) }"
                seen=${seen%% [0-9]* [0-9]*}
                if [[ ${stat#*) } == D* ]]; then
                        STUCK_PID=${stat%% *}
                        return 0
                fi
        done
        WHY="no vfio-bind process in state D (vfio-bind processes:${seen:- none})"
        return 1
}

# kernel_says_blocked: the kernel log after the mark says a task is blocked until the device is
# released (vfio_unregister_group_dev, when the waiting task gets a signal)
kernel_says_blocked() {
        klog_from_mark || return 1
        klog_find "*blocked until device is released*" "$REPLY" && return 0
        WHY="no \"blocked until device is released\" in the kernel log after the mark"
        return 1
}

writer_gone_nothing_more() {
        [[ -n $STUCK_PID && ! -e /proc/$STUCK_PID ]] || { WHY="PID $STUCK_PID ($(cat "/proc/$STUCK_PID/comm" 2>/dev/null)) is still there"; return 1; }
        pci_driver "$GPU"
        [[ -z $REPLY ]] || { WHY="$GPU is on $REPLY"; return 1; }
        all_of "no_override $GPU" "on_driver $AUDIO vfio-pci"
}

vm_holds_group() {
        local t0=$SECONDS
        held_vm_start || { fail scenario-24 "a nested QEMU holding the group: $WHY"; return; }
        run_cli release-vm-held release --take-group "$GPU"
        check scenario-24 "a VM holds the group: vfio-bind release --take-group exits 1, naming its PID and command" refused_names_vm
        check scenario-24 "the refused release wrote nothing: both functions on vfio-pci" gpu_slot_on vfio-pci
        mark "vfio-bind release --take-group --force $GPU, the VM running"
        run_cli release-vm-forced release --take-group --force "$GPU"
        check scenario-24 "--force: the unbind of vfio-pci waits for the VM; the command ends after its deadline with exit 3, naming the write" ended_stuck
        check scenario-24 "the writer stays in the kernel (state D): the kernel cannot cancel the write" stuck_writer
        check scenario-24 "kernel log: the task is blocked until the device is released" kernel_says_blocked
        held_vm_quit
        check scenario-24 "once the VM quits the writer is gone and wrote nothing more: $GPU unbound with no override, $AUDIO untouched" \
                wait_for 10 writer_gone_nothing_more
        timing scenario-24 "a VM holding the group, release refused, then forced until its deadline: $((SECONDS - t0)) s"
        run_cli rebind bind --take-group "$GPU"
        check scenario-24 "vfio-bind bind --take-group takes the slot again" all_of cli_ok "gpu_slot_on vfio-pci"
}

checks() {
        check scenario-24 "both functions on vfio-pci, /dev/vfio/<group> exists" \
                all_of "gpu_slot_on vfio-pci" "vfio_dev_node $GPU"
        check scenario-24 "QEMU is in this guest" command -v qemu-system-x86_64
        local t0=$SECONDS
        check scenario-24 "a nested QEMU with -device vfio-pci for $GPU and $AUDIO starts; its query-pci lists their vendor:device IDs" nested_ran
        timing scenario-24 "nested QEMU (TCG, paused): start, query-pci, quit $((SECONDS - t0)) s"
        check scenario-24 "after QEMU quit both functions are still on vfio-pci" gpu_slot_on vfio-pci
        vm_holds_group
        check scenario-24 "Group=ignore, only the GPU configured (reload), the audio function back on snd_hda_intel" not_viable_setup
        check scenario-24 "vfio-bind groups shows the group held by the host (snd_hda_intel)" groups_says_held
        check scenario-24 "vfio-bind check says the GPU's group cannot go to a guest, naming $AUDIO on snd_hda_intel" check_says_not_viable
        check scenario-24 "QEMU refuses the GPU: \"group N is not viable\"" nested_refused
}
