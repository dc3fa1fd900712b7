# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 24, a VM that opens the group: /dev/vfio/N existing does not prove that QEMU can use
# it. After vfio-bindd bound the GPU slot at boot, a QEMU inside the guest (TCG, paused with -S:
# the devices are opened and set up, nothing runs) starts with -device vfio-pci,host=… for each
# function of the group, and its QMP query-pci must list their vendor:device IDs. The opposite
# (and the control): with Group=ignore and only the GPU configured, the audio function back on
# snd_hda_intel, `vfio-bind check` says the group cannot go to a guest, and QEMU refuses it
# ("group N is not viable").

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

checks() {
        check scenario-24 "both functions on vfio-pci, /dev/vfio/<group> exists" \
                all_of "gpu_slot_on vfio-pci" "vfio_dev_node $GPU"
        check scenario-24 "QEMU is in this guest" command -v qemu-system-x86_64
        local t0=$SECONDS
        check scenario-24 "a nested QEMU with -device vfio-pci for $GPU and $AUDIO starts; its query-pci lists their vendor:device IDs" nested_ran
        timing scenario-24 "nested QEMU (TCG, paused): start, query-pci, quit $((SECONDS - t0)) s"
        check scenario-24 "after QEMU quit both functions are still on vfio-pci" gpu_slot_on vfio-pci
        check scenario-24 "Group=ignore, only the GPU configured (reload), the audio function back on snd_hda_intel" not_viable_setup
        check scenario-24 "vfio-bind groups shows the group held by the host (snd_hda_intel)" groups_says_held
        check scenario-24 "vfio-bind check says the GPU's group cannot go to a guest, naming $AUDIO on snd_hda_intel" check_says_not_viable
        check scenario-24 "QEMU refuses the GPU: \"group N is not viable\"" nested_refused
}
