# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 13, `vfio-bind bind` and IOMMU groups on the real kernel (issue 11): the service is not
# enabled, so udev coldplug gives the GPU to bochs-drm and its audio function to snd_hda_intel
# (the control: both host drivers really bind). With Group=check (the default), `vfio-bind bind
# 0000:01:00.0` must refuse what the daemon would refuse: half of IOMMU group 6 while
# 0000:01:00.1 is on snd_hda_intel. It exits 1, names 0000:01:00.1 and snd_hda_intel, and writes
# nothing: no driver_override, no unbind, no probe, not a single uevent of the slot. `--dry-run
# --take-group` prints the plan and writes nothing either; `--take-group` binds both functions.
#
# Programs that hold the slot (issue 25), each a transient unit whose process has a node open:
# with the GPU's DRM card open, `bind --take-group` refuses, names the node, the PID, the command
# and the unit, and writes nothing; the control is `--force` with the holder still there: the
# slot goes to vfio-pci and the holder's descriptor now names a node the kernel deleted (the
# program lost its card under its feet). The audio function's sound control node: the same
# refusal. Once the holders are gone the same command binds both. Then a holder of the bound
# group's /dev/vfio/G (what a running VM has): `release --take-group` refuses, names it, writes
# nothing; once it is gone the release gives the slot back.
#
# The single-GPU handoff with [Handoff] StopUnits=vb-dm.service: a stand-in display manager (a
# unit file whose process holds the GPU's card) is stopped by `bind --take-group`, which then
# binds the slot; `release --take-group` gives the slot back to bochs-drm and snd_hda_intel, the
# console back to a framebuffer vtconsole, and starts vb-dm.service again, which opens the new
# card. The control: a holder whose unit is not listed is named ("not in [Handoff] StopUnits=")
# and nothing is stopped or written.

DESCRIPTION="vfio-bind bind refuses half an IOMMU group (Group=check), --dry-run, --take-group; programs holding the slot"
SERVICE=disabled
CONF="[Bind]
Group=check
[Console]
Release=auto
[Handoff]
StopUnits=vb-dm.service"

# mark TEXT: MARK_MS = now (uptime in ms), MARK_TEXT = TEXT, written into the kernel log, so
# the checks can look only at what happened after it

# klog_since_mark: REPLY = index of the kernel log line after the last mark (load_klog first)
klog_since_mark() {
        load_klog
        klog_find "*$MARK_TEXT" || { WHY="the mark \"$MARK_TEXT\" is not in the kernel log"; return 1; }
        REPLY=$((REPLY + 1))
}

# slot_quiet_since_mark: since the mark, the driver core logged no probe, bind or unbind of
# either function, and neither the kernel nor udev sent a uevent for them
slot_quiet_since_mark() {
        local from i t a
        klog_since_mark || return 1
        from=$REPLY
        for a in "$GPU" "$AUDIO"; do
                if klog_find "*really_probe*$a*" "$from" || klog_find "*driver_bound*$a*" "$from"; then
                        WHY="kernel log after the mark: ${KLOG[REPLY]}"
                        return 1
                fi
        done
        load_uevents
        for ((i = 0; i < ${#UE_SRC[@]}; i++)); do
                [[ ${UE_SLOT[i]} == "$GPU" || ${UE_SLOT[i]} == "$AUDIO" ]] || continue
                t=${UE_TIME[i]}
                # UE_TIME is "S.micro" of CLOCK_MONOTONIC; MARK_MS is close to it (no suspend here)
                if (( ${t%.*} * 1000 + 10#${t#*.} / 1000 >= MARK_MS )); then
                        WHY="${UE_SRC[i]} ${UE_ACTION[i]} uevent of ${UE_SLOT[i]} (DRIVER=${UE_DRIVER[i]:-none}) at $t s, after the mark at $MARK_MS ms"
                        return 1
                fi
        done
        return 0
}

# slot_as_before: the GPU on bochs-drm, its audio on snd_hda_intel, no override on either
slot_as_before() {
        all_of "on_driver $GPU bochs-drm" "on_driver $AUDIO snd_hda_intel" "no_override $GPU" "no_override $AUDIO"
}

# host_drivers_bound_first: the control: bochs-drm and snd_hda_intel bound the functions
# (coldplug), vfio-pci never did, and that is where they are now
host_drivers_bound_first() {
        all_of "was_bound bochs-drm $GPU" "was_bound snd_hda_intel $AUDIO" \
               "never_bound vfio-pci $GPU" "never_bound vfio-pci $AUDIO" slot_as_before
}

# refused_names_audio: the last run_cli exited 1 and its output names the audio function and
# its driver
refused_names_audio() {
        local out=${CLI_OUT//$'\n'/ | }
        ((CLI_RC == 1)) || { WHY="vfio-bind exited $CLI_RC, not 1: $out"; return 1; }
        [[ $CLI_OUT == *"$AUDIO"* && $CLI_OUT == *snd_hda_intel* ]] && return 0
        WHY="the refusal does not name $AUDIO and snd_hda_intel: $out"
        return 1
}

# dry_run_plan: the last run_cli printed the plan: a line per function of the group with its
# IDs, class and IOMMU group, and a console line, and exited 0
dry_run_plan() {
        local a line group found=0 console=0
        cli_ok || return 1
        iommu_group "$GPU" || { WHY="$GPU has no IOMMU group"; return 1; }
        group=$REPLY
        for a in "$GPU" "$AUDIO"; do
                found=0
                while IFS= read -r line; do
                        [[ $line == *"$a ["????:????"] class "??????", group $group"* ]] && found=1
                done <<<"$CLI_OUT"
                ((found)) || { WHY="no plan line \"$a [vvvv:dddd] class cccccc, group $group…\": ${CLI_OUT//$'\n'/ | }"; return 1; }
        done
        while IFS= read -r line; do
                [[ $line == *"console: "* ]] && console=1
        done <<<"$CLI_OUT"
        ((console)) && return 0
        WHY="no \"console: …\" line in the plan: ${CLI_OUT//$'\n'/ | }"
        return 1
}

# restore_slot: when a step left the slot changed (a check above failed), put it back by hand, so
# that each later check looks at its own step: clear the overrides, give each function back to
# its host driver
restore_slot() {
        local a host
        slot_as_before && return 0
        note scenario-13 "restoring the slot by hand after: $WHY"
        for a in "$GPU" "$AUDIO"; do
                printf '\n' >"/sys/bus/pci/devices/$a/driver_override"
                host=bochs-drm
                [[ $a == "$AUDIO" ]] && host=snd_hda_intel
                pci_driver "$a"
                if [[ $REPLY != "$host" ]]; then
                        [[ -z $REPLY ]] || printf '%s\n' "$a" >"/sys/bus/pci/devices/$a/driver/unbind"
                        printf '%s\n' "$a" >/sys/bus/pci/drivers_probe
                fi
        done
        wait_for 10 slot_as_before || note scenario-13 "the slot could not be restored: $WHY"
        udevadm settle --timeout=10 || :
}

# took_group: the last run_cli exited 0; both functions are on vfio-pci now, bound after the mark
took_group() {
        local from
        cli_ok || return 1
        gpu_slot_on vfio-pci || return 1
        klog_since_mark || return 1
        from=$REPLY
        klog_find "$(klog_bound_pattern vfio-pci "$GPU")" "$from" || { WHY="no vfio-pci bind of $GPU after the mark"; return 1; }
        klog_find "$(klog_bound_pattern vfio-pci "$AUDIO")" "$from" || { WHY="no vfio-pci bind of $AUDIO after the mark"; return 1; }
        vfio_dev_node "$GPU"
}

# hold UNIT NODE: a transient unit whose process has NODE open (as its standard input);
# HOLDER_PID = its PID once it has
hold() {
        HOLDER_NODE=$2 HOLDER_PID=
        systemd-run --quiet --unit="$1" --property=Type=exec sh -c "exec sleep 600 <'$2'" ||
                { note scenario-13 "systemd-run $1 failed"; return 1; }
        wait_for 10 holder_has_node "$1"
}

# holder_has_node UNIT: the unit's main process has HOLDER_NODE open (HOLDER_PID set)
holder_has_node() {
        local pid
        pid=$(systemctl show -p MainPID --value "$1")
        [[ -n $pid && $pid != 0 && $(readlink "/proc/$pid/fd/0") == "$HOLDER_NODE" ]] ||
                { WHY="$1 has no process with $HOLDER_NODE open (MainPID ${pid:-none})"; return 1; }
        HOLDER_PID=$pid
}

# refused_names_holder UNIT: the last run_cli exited 1 and named the node, the PID, the command
# and the unit of the holder
refused_names_holder() {
        local want="$HOLDER_NODE is open in PID $HOLDER_PID (sleep, $1.service)"
        ((CLI_RC == 1)) || { WHY="vfio-bind exited $CLI_RC, not 1: ${CLI_OUT//$'\n'/ | }"; return 1; }
        [[ $CLI_OUT == *"$want"* ]] && return 0
        WHY="the refusal does not say \"$want\": ${CLI_OUT//$'\n'/ | }"
        return 1
}

# holder_lost_node: the holder's descriptor names a node the kernel deleted
holder_lost_node() {
        local now
        now=$(readlink "/proc/$HOLDER_PID/fd/0")
        [[ $now == "$HOLDER_NODE (deleted)" ]] && return 0
        WHY="PID $HOLDER_PID's descriptor names \"$now\", not \"$HOLDER_NODE (deleted)\""
        return 1
}

# class_node DEVICE SUBDIR GLOB: REPLY = /dev/ and the DEVNAME of the first class device below
# DEVICE's SUBDIR that matches GLOB ("drm" "card*" → /dev/dri/card0)
class_node() {
        local d line
        for d in /sys/bus/pci/devices/"$1"/$2/$3; do
                [[ -r $d/uevent ]] || continue
                while IFS= read -r line; do
                        [[ $line == DEVNAME=* ]] && { REPLY=/dev/${line#DEVNAME=}; return 0; }
                done <"$d/uevent"
        done
        WHY="$1 has no $2/$3 with a DEVNAME"
        return 1
}

# slot_on_vfio_still: both functions on vfio-pci
slot_on_vfio_still() {
        gpu_slot_on vfio-pci
}

# held_bind_refused NAME UNIT NODE: with NODE held by a process of the transient UNIT, bind
# --take-group refuses, names it, and writes nothing (the run_cli output goes to the host as NAME)
held_bind_refused() {
        hold "$2" "$3" || { fail scenario-13 "a process holding $3: $WHY"; return 1; }
        mark "vfio-bind bind --take-group $GPU, $HOLDER_NODE held"
        run_cli "$1" bind --take-group "$GPU"
        check scenario-13 "$HOLDER_NODE held by a program: bind --take-group exits 1 and names it (node, PID, command, unit)" \
                refused_names_holder "$2"
        check scenario-13 "the refused bind ($HOLDER_NODE held) wrote nothing: both functions where they were, no driver_override" \
                slot_as_before
        check scenario-13 "the refused bind ($HOLDER_NODE held) wrote nothing: no probe, bind or unbind in the kernel log, no uevent of the slot" \
                slot_quiet_since_mark
}

holders() {
        class_node "$GPU" drm "card*" || { fail scenario-13 "the GPU's DRM card node"; return; }
        held_bind_refused bind-card-held vb-holder-card "$REPLY" || return
        mark "control: vfio-bind bind --take-group --force $GPU, $HOLDER_NODE held"
        run_cli bind-card-forced bind --take-group --force "$GPU"
        check scenario-13 "control: --force binds the slot all the same, and the holder's $HOLDER_NODE is a deleted node now" \
                all_of took_group holder_lost_node
        systemctl stop vb-holder-card
        restore_slot

        class_node "$AUDIO" sound "card*/controlC*" || { fail scenario-13 "the audio function's control node"; return; }
        held_bind_refused bind-snd-held vb-holder-snd "$REPLY" || return
        systemctl stop vb-holder-snd
        restore_slot
}

vfio_holder() {
        iommu_group "$GPU" || { fail scenario-13 "$GPU has no IOMMU group"; return; }
        hold vb-holder-vfio "/dev/vfio/$REPLY" || { fail scenario-13 "a process holding /dev/vfio/$REPLY: $WHY"; return; }
        mark "vfio-bind release --take-group $GPU, $HOLDER_NODE held"
        run_cli release-vfio-held release --take-group "$GPU"
        check scenario-13 "$HOLDER_NODE held (as by a running VM): release --take-group exits 1 and names it (node, PID, command, unit)" \
                refused_names_holder vb-holder-vfio
        check scenario-13 "the refused release wrote nothing: both functions on vfio-pci" slot_on_vfio_still
        check scenario-13 "the refused release wrote nothing: no probe, bind or unbind in the kernel log, no uevent of the slot" \
                slot_quiet_since_mark
        systemctl stop vb-holder-vfio
        run_cli release-after release --take-group "$GPU"
        check scenario-13 "once the holder is gone, release --take-group gives the slot back to bochs-drm and snd_hda_intel" \
                all_of cli_ok "wait_for 10 slot_as_before"
}

# dm_holds_card: vb-dm.service is active and its process has a DRM card of the GPU open
dm_holds_card() {
        local pid node
        [[ $(systemctl is-active vb-dm.service) == active ]] || { WHY="vb-dm.service is $(systemctl is-active vb-dm.service)"; return 1; }
        class_node "$GPU" drm "card*" || return 1
        node=$REPLY
        pid=$(systemctl show -p MainPID --value vb-dm.service)
        [[ $(readlink "/proc/$pid/fd/0") == "$node" ]] && return 0
        WHY="vb-dm.service's PID $pid has $(readlink "/proc/$pid/fd/0"), not $node, open"
        return 1
}

# dm_stopped: vb-dm.service is not running
dm_stopped() {
        local s
        s=$(systemctl is-active vb-dm.service)
        [[ $s == inactive ]] && return 0
        WHY="vb-dm.service is $s"
        return 1
}

# handoff_bound: the last run_cli bound the slot and said it stopped vb-dm.service
handoff_bound() {
        cli_ok || return 1
        [[ $CLI_OUT == *"$GPU: stopped vb-dm.service, which held it ([Handoff] StopUnits=)"* ]] ||
                { WHY="the output does not say that vb-dm.service was stopped: ${CLI_OUT//$'\n'/ | }"; return 1; }
        gpu_slot_on vfio-pci
}

# handoff_released: the last run_cli gave the slot back, the console back, and started vb-dm again
handoff_released() {
        local v name bound found=0
        cli_ok || return 1
        [[ $CLI_OUT == *"console: back on"* && $CLI_OUT == *"started vb-dm.service again"* ]] ||
                { WHY="the output lacks \"console: back on\" or \"started vb-dm.service again\": ${CLI_OUT//$'\n'/ | }"; return 1; }
        [[ ${CLI_OUT%%started vb-dm.service again*} == *"console: back on"* ]] ||
                { WHY="vb-dm.service was started before the console was given back"; return 1; }
        wait_for 10 slot_as_before || return 1
        for v in /sys/class/vtconsole/vtcon*; do
                read -r name <"$v/name"
                read -r bound <"$v/bind"
                [[ $name == *"frame buffer"* && $bound == 1 ]] && found=1
        done
        ((found)) || { WHY="no framebuffer vtconsole is bound"; return 1; }
        wait_for 10 dm_holds_card
}

# refused_not_listed: the last run_cli refused, naming vb-other.service as not in StopUnits=
refused_not_listed() {
        refused_names_holder vb-other || return 1
        [[ $CLI_OUT == *"vb-other.service is not in [Handoff] StopUnits=, so it is not stopped"* ]] && return 0
        WHY="the refusal does not say that vb-other.service is not in StopUnits=: ${CLI_OUT//$'\n'/ | }"
        return 1
}

handoff() {
        cat >/run/systemd/system/vb-dm.service <<'UNIT'
[Unit]
Description=Stand-in display manager holding the GPU's card (scenario 13)
[Service]
ExecStart=/bin/sh -c 'exec sleep 600 <"$(ls /dev/dri/card* | head -n 1)"'
UNIT
        systemctl daemon-reload
        systemctl start vb-dm.service
        check scenario-13 "handoff: vb-dm.service (a stand-in display manager) holds the GPU's card" wait_for 10 dm_holds_card

        class_node "$GPU" drm "card*" || { fail scenario-13 "the GPU's DRM card node"; return; }
        hold vb-other "$REPLY" || { fail scenario-13 "a second holder: $WHY"; return; }
        mark "vfio-bind bind --take-group $GPU, held by vb-dm and vb-other"
        run_cli handoff-other bind --take-group "$GPU"
        check scenario-13 "control: a holder not in StopUnits= (vb-other.service) is named, the bind refused" \
                refused_not_listed
        check scenario-13 "control: nothing was stopped (vb-dm.service still holds the card) and nothing written" \
                all_of dm_holds_card slot_as_before slot_quiet_since_mark
        systemctl stop vb-other

        mark "vfio-bind bind --take-group $GPU, held by vb-dm (StopUnits=vb-dm.service)"
        run_cli handoff-bind bind --take-group "$GPU"
        check scenario-13 "handoff: bind --take-group stops vb-dm.service (StopUnits=), says so, and binds the slot" handoff_bound
        check scenario-13 "handoff: vb-dm.service is stopped while the slot is on vfio-pci" dm_stopped
        check scenario-13 "handoff: /run/vfio-bind/stopped records vb-dm.service for $GPU" \
                grep -qx vb-dm.service "/run/vfio-bind/stopped/$GPU"

        run_cli handoff-release release --take-group "$GPU"
        check scenario-13 "handoff: release --take-group gives the slot to bochs-drm and snd_hda_intel, the console to a framebuffer vtconsole, then starts vb-dm.service, which opens the card again" \
                handoff_released
        check scenario-13 "handoff: the record of what was stopped is gone" test ! -e "/run/vfio-bind/stopped/$GPU"
        systemctl stop vb-dm.service
}

checks() {
        check scenario-13 "control: without vfio-bind, bochs-drm and snd_hda_intel bound the GPU slot (and vfio-pci never did)" \
                host_drivers_bound_first

        mark "vfio-bind bind $GPU"
        run_cli bind-half bind "$GPU"
        check scenario-13 "Group=check: vfio-bind bind $GPU exits 1 and names $AUDIO on snd_hda_intel" refused_names_audio
        check scenario-13 "the refused bind wrote nothing: both functions where they were, no driver_override" slot_as_before
        check scenario-13 "the refused bind wrote nothing: no probe, bind or unbind in the kernel log, no uevent of the slot" \
                slot_quiet_since_mark
        restore_slot

        mark "vfio-bind bind --dry-run --take-group $GPU"
        run_cli bind-dry-run bind --dry-run --take-group "$GPU"
        check scenario-13 "--dry-run --take-group prints the plan (both functions with IDs, class, group; the console)" dry_run_plan
        check scenario-13 "--dry-run wrote nothing: both functions where they were, no driver_override" slot_as_before
        check scenario-13 "--dry-run wrote nothing: no probe, bind or unbind in the kernel log, no uevent of the slot" \
                slot_quiet_since_mark
        restore_slot

        holders
        handoff

        mark "vfio-bind bind --take-group $GPU"
        run_cli bind-take-group bind --take-group "$GPU"
        check scenario-13 "--take-group binds both functions of the group to vfio-pci (exit 0, the holders gone), /dev/vfio/<group> exists" took_group

        vfio_holder
}
