# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034 # WHY: read by check (lib.sh)
#
# Guest helpers of the two-stage boots (tests/vm/two-stage.sh), installed as /vm/stage1-lib.sh
# next to /vm/lib.sh. The checks run in stage 2, after the switch from the dracut initrd to the
# ext4 root; what happened in the initrd is read from the kernel log (the whole boot) and from
# the journal. A no-hostonly initrd has an empty /etc/machine-id, so its journald writes under a
# transient machine ID (/run/log/journal/<id>/), another directory than stage 2's; `journalctl
# -b` in stage 2 still shows those entries (systemd 252, measured: see tests/vm/README.md), and
# that is the command the README gives, so it is the one the checks use. (`journalctl -m -b` is
# refused: "Using --boot or --list-boots with --merge is not supported.")

INITRD_UNIT=vfio-bind-initrd.service

# The driver core's bind line, in both formats: Linux 6.1 prints
#   driver: 'bochs-drm': driver_bound: bound to device '0000:01:00.0'
# and 6.12 puts the device in front:
#   bochs-drm 0000:01:00.0: driver: 'bochs-drm': driver_bound: bound to device
# klog_bound_find DRIVER ADDR [FROM]: REPLY = index of the first such line in KLOG[], -1 if none
klog_bound_find() {
        local i line
        for ((i = ${3:-0}; i < ${#KLOG[@]}; i++)); do
                line=${KLOG[i]}
                [[ $line == *"driver: '$1': driver_bound: bound to device"* ]] || continue
                if [[ $line == *"bound to device '$2'"* || $line == *" $2: driver: '$1': driver_bound:"* ]]; then
                        REPLY=$i
                        return 0
                fi
        done
        REPLY=-1
        return 1
}

# klog_bound_count DRIVER ADDR: REPLY = how many times the kernel log says DRIVER bound ADDR
klog_bound_count() {
        local n=0 from=0
        while klog_bound_find "$1" "$2" "$from"; do
                n=$((n + 1))
                from=$((REPLY + 1))
        done
        REPLY=$n
}

# never_bound_any DRIVER ADDR: no bind line of DRIVER for ADDR in the whole kernel log
never_bound_any() {
        klog_bound_find "$1" "$2" || return 0
        WHY="kernel log: ${KLOG[REPLY]}"
        return 1
}

# klog_complete: the kernel log still starts at the kernel's banner (nothing was overwritten, so
# "never bound" covers the whole boot)
klog_complete() {
        [[ ${#KLOG[@]} -gt 0 && ${KLOG[0]} == *"Linux version "* ]] && return 0
        WHY="the kernel log starts with \"${KLOG[0]:-nothing}\", not the banner: lines were lost"
        return 1
}

# ---------------------------------------------------------------------------------------------
# the boot's journal: PID 1's messages and the entries of both vfio-bind units, from both stages

MJ_SUNIT=() MJ_UNIT=() MJ_DEVICE=() MJ_ACTION=() MJ_AFTER=() MJ_MONO=() MJ_MACHINE=() MJ_PID=()
MJ_MSGID=() MJ_IDENT=() MJ_MESSAGE=()
SWITCH_ROOT_USEC=0
load_merged_journal() {
        local sunit unit dev act after mono machine pid msgid ident msg i
        MJ_SUNIT=() MJ_UNIT=() MJ_DEVICE=() MJ_ACTION=() MJ_AFTER=() MJ_MONO=() MJ_MACHINE=() MJ_PID=()
        MJ_MSGID=() MJ_IDENT=() MJ_MESSAGE=()
        while IFS=$'\t' read -r sunit unit dev act after mono machine pid msgid ident msg; do
                MJ_SUNIT+=("$sunit") MJ_UNIT+=("$unit") MJ_DEVICE+=("$dev") MJ_ACTION+=("$act")
                MJ_AFTER+=("$after") MJ_MONO+=("$mono") MJ_MACHINE+=("$machine") MJ_PID+=("$pid")
                MJ_MSGID+=("$msgid") MJ_IDENT+=("$ident") MJ_MESSAGE+=("$msg")
        done < <(journalctl -b -o json --no-pager _SYSTEMD_UNIT=$INITRD_UNIT + \
                         _SYSTEMD_UNIT=vfio-bind.service + _PID=1 + SYSLOG_IDENTIFIER=vfio-bindd |
                 jq -r '[._SYSTEMD_UNIT // "-", .UNIT // "-", .VFIO_BIND_DEVICE // "-",
                         .VFIO_BIND_ACTION // "-", .VFIO_BIND_DRIVER_AFTER // "-",
                         .__MONOTONIC_TIMESTAMP // "0", ._MACHINE_ID // "-", ._PID // "-",
                         .MESSAGE_ID // "-", .SYSLOG_IDENTIFIER // "-",
                         (.MESSAGE | if type == "array" then implode else . end // "")] | @tsv')
        SWITCH_ROOT_USEC=0
        if [[ ${INITRAMFS:-dracut} == initramfs-tools ]]; then
                # no systemd in the initramfs: the root's PID 1 starts once run-init has switched
                # root, and its start (UserspaceTimestamp) is the switch
                local line
                while IFS= read -r line; do
                        [[ $line == UserspaceTimestampMonotonic=* ]] && SWITCH_ROOT_USEC=${line#*=}
                done < <(systemctl show -p UserspaceTimestampMonotonic)
                return 0
        fi
        for ((i = 0; i < ${#MJ_PID[@]}; i++)); do
                if [[ ${MJ_PID[i]} == 1 && ${MJ_MESSAGE[i]} == "Switching root." ]]; then
                        SWITCH_ROOT_USEC=${MJ_MONO[i]}
                        break
                fi
        done
}

# two_stage_boot: PID 1 switched root, / is the ext4 disk, and this is not the initrd any more
# (initramfs-tools: the initramfs's /init ran, made /run/initramfs and moved /run to the root)
two_stage_boot() {
        local line root=''
        if [[ ${INITRAMFS:-dracut} == initramfs-tools ]]; then
                ((SWITCH_ROOT_USEC > 0)) || { WHY="no UserspaceTimestampMonotonic from PID 1"; return 1; }
                [[ -d /run/initramfs ]] || { WHY="no /run/initramfs: initramfs-tools' /init did not run"; return 1; }
                klog_find "*Run /init as init process*" || { WHY="the kernel did not run the initramfs's /init"; return 1; }
        else
                ((SWITCH_ROOT_USEC > 0)) || { WHY="no \"Switching root.\" from PID 1 in journalctl -b"; return 1; }
        fi
        [[ ! -e /etc/initrd-release ]] || { WHY="/etc/initrd-release exists: still in the initrd?"; return 1; }
        while read -r line; do
                [[ $line == *" / / "* ]] && root=$line
        done </proc/self/mountinfo
        [[ $root == *" - ext4 /dev/vda "* ]] && return 0
        WHY="/ is not ext4 on /dev/vda: $root"
        return 1
}

# bound_in_initrd DRIVER ADDR: the kernel log says DRIVER bound ADDR, before PID 1 switched root
bound_in_initrd() {
        local t s
        if ! klog_bound_find "$1" "$2"; then
                WHY="no bind of $2 by $1 in the kernel log"
                return 1
        fi
        klog_time "$REPLY"
        t=$REPLY
        ((SWITCH_ROOT_USEC > 0)) || { WHY="switch-root not found in the journal"; return 1; }
        usec_to_s "$t"
        s=$REPLY
        ((t < SWITCH_ROOT_USEC)) && return 0
        usec_to_s "$SWITCH_ROOT_USEC"
        WHY="$1 bound $2 at $s s, after the switch-root at $REPLY s"
        return 1
}

# bound_once DRIVER ADDR: the kernel log has exactly one bind of ADDR by DRIVER (stage 2 did not
# take the device off and bind it again)
bound_once() {
        klog_bound_count "$1" "$2"
        ((REPLY == 1)) && return 0
        WHY="$1 bound $2 $REPLY times"
        return 1
}

# initrd_entry ACTION ADDR [DRIVER_AFTER]: REPLY = index in MJ[] of an entry of the initrd unit
# with these fields, written before the switch-root; -1 if none
initrd_entry() {
        local i
        for ((i = 0; i < ${#MJ_SUNIT[@]}; i++)); do
                [[ ${MJ_SUNIT[i]} == "$INITRD_UNIT" && ${MJ_ACTION[i]} == "$1" && ${MJ_DEVICE[i]} == "$2" ]] || continue
                [[ $# -lt 3 || ${MJ_AFTER[i]} == "$3" ]] || continue
                ((MJ_MONO[i] < SWITCH_ROOT_USEC)) || continue
                REPLY=$i
                return 0
        done
        REPLY=-1
        return 1
}

# initrd_journal_has ACTION ADDR [DRIVER_AFTER]
initrd_journal_has() {
        initrd_entry "$@" && return 0
        local i seen=
        for ((i = 0; i < ${#MJ_SUNIT[@]}; i++)); do
                [[ ${MJ_SUNIT[i]} == "$INITRD_UNIT" ]] && seen+=" [${MJ_ACTION[i]} ${MJ_DEVICE[i]}: ${MJ_MESSAGE[i]}]"
        done
        WHY="journalctl -b -u $INITRD_UNIT has no VFIO_BIND_ACTION=$1 VFIO_BIND_DEVICE=$2${3:+ VFIO_BIND_DRIVER_AFTER=$3} before the switch-root; its entries:${seen:- none}"
        return 1
}

# initrd_journal_mentions TEXT: a message of the initrd unit (before the switch-root) has TEXT
initrd_journal_mentions() {
        local i seen=
        for ((i = 0; i < ${#MJ_SUNIT[@]}; i++)); do
                [[ ${MJ_SUNIT[i]} == "$INITRD_UNIT" ]] || continue
                [[ ${MJ_MESSAGE[i]} == *"$1"* ]] && ((MJ_MONO[i] < SWITCH_ROOT_USEC)) && return 0
                seen+=" [${MJ_MESSAGE[i]}]"
        done
        WHY="no message of $INITRD_UNIT mentions \"$1\"; its messages:${seen:- none}"
        return 1
}

# initrd_daemon_mentions TEXT: a message of vfio-bindd written before the switch-root has TEXT,
# whether or not journald could still tell its unit (a process that exits before journald reads
# its message loses _SYSTEMD_UNIT=)
initrd_daemon_mentions() {
        local i seen=
        for ((i = 0; i < ${#MJ_IDENT[@]}; i++)); do
                [[ ${MJ_IDENT[i]} == vfio-bindd ]] || continue
                ((MJ_MONO[i] < SWITCH_ROOT_USEC)) || continue
                [[ ${MJ_MESSAGE[i]} == *"$1"* ]] && return 0
                seen+=" [${MJ_SUNIT[i]}: ${MJ_MESSAGE[i]}]"
        done
        WHY="no message of vfio-bindd before the switch-root mentions \"$1\"; its messages:${seen:- none}"
        return 1
}

# initrd_klog_mentions TEXT: vfio-bindd wrote TEXT into the kernel log (SYSTEMD_LOG_TARGET=kmsg,
# as the initramfs-tools boot script runs it) before the switch-root
initrd_klog_mentions() {
        local i t seen=
        for ((i = 0; i < ${#KLOG[@]}; i++)); do
                [[ ${KLOG[i]} == *"vfio-bindd["* ]] || continue
                klog_time "$i"
                t=$REPLY
                ((t < SWITCH_ROOT_USEC)) || continue
                [[ ${KLOG[i]} == *"$1"* ]] && return 0
                seen+=" [${KLOG[i]}]"
        done
        WHY="no kernel log record of vfio-bindd before the switch-root mentions \"$1\"; its records:${seen:- none}"
        return 1
}

# initrd_unit_ran: PID 1 of the initrd started the unit (a control boot must not have one)
initrd_unit_entries() {
        local i n=0
        for ((i = 0; i < ${#MJ_SUNIT[@]}; i++)); do
                [[ ${MJ_SUNIT[i]} == "$INITRD_UNIT" || ${MJ_UNIT[i]} == "$INITRD_UNIT" ]] && n=$((n + 1))
        done
        REPLY=$n
}
no_initrd_unit() {
        initrd_unit_entries
        ((REPLY == 0)) && return 0
        WHY="$REPLY journal entries of or about $INITRD_UNIT"
        return 1
}

# pid1_unit_time UNIT STAGE: START and END = the monotonic times (µs) of PID 1's first and last
# message about UNIT in the initrd (STAGE=initrd) or in stage 2 (STAGE=root); 0 if none
pid1_unit_time() {
        local i
        START=0 END=0
        for ((i = 0; i < ${#MJ_PID[@]}; i++)); do
                [[ ${MJ_PID[i]} == 1 && ${MJ_UNIT[i]} == "$1" ]] || continue
                if [[ $2 == initrd ]]; then
                        ((MJ_MONO[i] < SWITCH_ROOT_USEC)) || continue
                else
                        ((MJ_MONO[i] > SWITCH_ROOT_USEC)) || continue
                fi
                ((START == 0)) && START=${MJ_MONO[i]}
                END=${MJ_MONO[i]}
        done
}

# initrd_unit_before UNIT: in the initrd, PID 1 had finished the vfio-bind unit before it started
# UNIT (or never started UNIT there)
initrd_unit_before() {
        local done_at s
        pid1_unit_time "$INITRD_UNIT" initrd
        done_at=$END
        ((done_at > 0)) || { WHY="PID 1 of the initrd never mentioned $INITRD_UNIT"; return 1; }
        pid1_unit_time "$1" initrd
        ((START == 0 || done_at < START)) && return 0
        usec_to_s "$done_at"
        s=$REPLY
        usec_to_s "$START"
        WHY="$INITRD_UNIT finished at $s s, $1 started at $REPLY s"
        return 1
}

# journal_by_device_finds ADDR UNIT: `journalctl -b VFIO_BIND_DEVICE=ADDR` (the command the
# README gives) has entries of UNIT
journal_by_device_finds() {
        local line
        while IFS= read -r line; do
                [[ $line == *"\"_SYSTEMD_UNIT\":\"$2\""* ]] && return 0
        done < <(journalctl -b -o json --no-pager "VFIO_BIND_DEVICE=$1")
        WHY="journalctl -b VFIO_BIND_DEVICE=$1 has no entry of $2"
        return 1
}

# journal_unit_finds UNIT ACTION ADDR: `journalctl -b -u UNIT` (the README's command) shows the
# entry of ACTION for ADDR
journal_unit_finds() {
        local line
        while IFS= read -r line; do
                [[ $line == *"\"VFIO_BIND_ACTION\":\"$2\""* && $line == *"\"VFIO_BIND_DEVICE\":\"$3\""* ]] && return 0
        done < <(journalctl -b -u "$1" -o json --no-pager)
        WHY="journalctl -b -u $1 has no $2 entry for $3"
        return 1
}

# report_journal_ids: which journal directories hold the boot, and what plain `journalctl -b`
# sees of the initrd unit (INFO lines, for the README's advice)
report_journal_ids() {
        local d ids='' machine n_plain n_merged boot
        for d in /run/log/journal/* /var/log/journal/*; do
                [[ -d $d ]] && ids+=" ${d}"
        done
        read_attr /etc/machine-id
        machine=$REPLY
        read_attr /proc/sys/kernel/random/boot_id
        boot=${REPLY//-/}
        n_plain=$(journalctl -b -o cat --no-pager -u "$INITRD_UNIT" | grep -c .)
        n_merged=$(journalctl -m "_BOOT_ID=$boot" -o cat --no-pager -u "$INITRD_UNIT" | grep -c .)
        note journal "stage 2 machine ID ${machine:-none}; journal directories:${ids:- none}; initrd unit's entries under $(journalctl -b -u "$INITRD_UNIT" -o json --no-pager | jq -r '._MACHINE_ID' | sort -u | tr '\n' ' ')"
        note journal "journalctl -b -u $INITRD_UNIT: $n_plain lines; journalctl -m _BOOT_ID=$boot -u $INITRD_UNIT: $n_merged lines"
}

# report_stage1_times ID: TIME lines "ID: LABEL: S.mmm s" (bench/stage1.sh reads them): the
# initrd phase, the initrd unit as PID 1 saw it, vfio-bindd's own first pass, coldplug's start
report_stage1_times() {
        local line initrd=0 userspace=0 done_at i
        while IFS= read -r line; do
                case $line in
                InitRDTimestampMonotonic=*) initrd=${line#*=} ;;
                UserspaceTimestampMonotonic=*) userspace=${line#*=} ;;
                esac
        done < <(systemctl show -p InitRDTimestampMonotonic -p UserspaceTimestampMonotonic)
        if ((initrd > 0 && userspace > initrd)); then
                usec_to_s $((userspace - initrd))
                timing "$1" "initrd phase (the initrd's PID 1 to the root's PID 1): $REPLY s"
                usec_to_s "$initrd"
                timing "$1" "kernel until the initrd's PID 1: $REPLY s"
        fi
        # PID 1 carries the initrd's units over the switch-root: their timestamps are PID 1's own
        # (the journal's times of the initrd's early messages are when journald read them)
        unit_props "$INITRD_UNIT"
        if ((${PROP[ExecMainStartTimestampMonotonic]:-0} > 0 && ${PROP[ExecMainExitTimestampMonotonic]:-0} > 0)); then
                usec_to_s $((PROP[ExecMainExitTimestampMonotonic] - PROP[ExecMainStartTimestampMonotonic]))
                timing "$1" "$INITRD_UNIT vfio-bindd start to exit (PID 1): $REPLY s"
        fi
        if ((${PROP[InactiveExitTimestampMonotonic]:-0} > 0)); then
                usec_to_s "${PROP[InactiveExitTimestampMonotonic]}"
                timing "$1" "$INITRD_UNIT started at (PID 1): $REPLY s"
        fi
        pid1_unit_time "$INITRD_UNIT" initrd
        done_at=$END
        if ((START > 0 && END >= START)); then
                # before journald runs, PID 1 writes to the kernel log (true times) or to the
                # journal socket (stamped when journald reads it): a lower bound at worst
                usec_to_s $((END - START))
                timing "$1" "$INITRD_UNIT starting to finished (PID 1's messages as journald stamped them, a lower bound): $REPLY s"
        fi
        klog_vfio_window "$1"
        for ((i = 0; i < ${#MJ_SUNIT[@]}; i++)); do
                [[ ${MJ_SUNIT[i]} == "$INITRD_UNIT" && ${MJ_MESSAGE[i]} =~ ^first\ pass\ done\ in\ ([0-9.]+)s ]] || continue
                timing "$1" "vfio-bindd --once first pass (its own clock): ${BASH_REMATCH[1]} s"
        done
        pid1_unit_time systemd-udev-trigger.service initrd
        if ((START > 0)); then
                if ((done_at > 0 && START > done_at)); then
                        usec_to_s $((START - done_at))
                        timing "$1" "$INITRD_UNIT finished to the initrd's coldplug start: $REPLY s"
                fi
                usec_to_s "$START"
                timing "$1" "the initrd's coldplug (systemd-udev-trigger) start: $REPLY s"
        fi
        if ((SWITCH_ROOT_USEC > 0)); then
                usec_to_s "$SWITCH_ROOT_USEC"
                timing "$1" "switch-root: $REPLY s"
        fi
}

# klog_vfio_window ID: a TIME line for the initrd's work in the kernel log, from vfio's module load
# to the last bind of the GPU slot by vfio-pci before the switch-root
klog_vfio_window() {
        local first=-1 last=-1 a t0 t1
        klog_find "*VFIO - User Level meta-driver*" && first=$REPLY
        ((first >= 0)) || return 0
        for a in "$GPU" "$AUDIO"; do
                klog_bound_find vfio-pci "$a" || continue
                ((REPLY > last)) && last=$REPLY
        done
        ((last > first)) || return 0
        klog_time "$first"
        t0=$REPLY
        klog_time "$last"
        t1=$REPLY
        ((t1 < SWITCH_ROOT_USEC)) || return 0
        usec_to_s $((t1 - t0))
        timing "$1" "kernel log: vfio loaded to the slot bound to vfio-pci: $REPLY s"
}

# dump_merged_journal: every journal directory's entries of this boot, for the host
# (journal-merged.log; run-checks' journal.log is `journalctl -b`)
dump_merged_journal() {
        local boot
        read_attr /proc/sys/kernel/random/boot_id
        boot=${REPLY//-/}
        _dump journal-merged journalctl -m "_BOOT_ID=$boot" -o short-monotonic --no-pager
}

# ---------------------------------------------------------------------------------------------
# what the scenarios check alike (stage1/*.sh's checks()), dracut's and initramfs-tools' boots in
# the words of each: an ID, then the checks in the order the scenarios report them

# stage1_words: S1_INITRD, the name of the first stage in the check texts, and S1_BOOT, the text of
# the two-stage boot's check
stage1_words() {
        if [[ ${INITRAMFS:-dracut} == initramfs-tools ]]; then
                S1_INITRD=initramfs
                S1_BOOT="a two-stage boot: initramfs-tools' /init ran, then the root's systemd; / is ext4 on /dev/vda"
        else
                S1_INITRD=initrd
                S1_BOOT="a two-stage boot: PID 1 switched root, / is ext4 on /dev/vda"
        fi
}

# stage1_begin ID: the boot's journal loaded (and kept for the host), then the checks every
# two-stage boot starts with: it was one, and the kernel log is whole
stage1_begin() {
        stage1_words
        load_merged_journal
        dump_merged_journal
        check "$1" "$S1_BOOT" two_stage_boot
        check "$1" "the kernel log is whole (starts at the banner)" klog_complete
}

# stage1_control_checks ID: the host drivers took the slot in the first stage, vfio-pci never
stage1_control_checks() {
        check "$1" "kernel log: bochs-drm bound $GPU in the $S1_INITRD (before the switch-root)" \
                bound_in_initrd bochs-drm "$GPU"
        check "$1" "kernel log: snd_hda_intel bound $AUDIO in the $S1_INITRD (before the switch-root)" \
                bound_in_initrd snd_hda_intel "$AUDIO"
        check "$1" "vfio-pci never bound $GPU or $AUDIO" \
                all_of "never_bound_any vfio-pci $GPU" "never_bound_any vfio-pci $AUDIO"
}

# stage1_bound_checks ID: vfio-pci had the slot before the switch-root, and its host drivers never
# bound it in the whole kernel log
stage1_bound_checks() {
        check "$1" "kernel log: vfio-pci bound $GPU and $AUDIO before the switch-root" \
                all_of "bound_in_initrd vfio-pci $GPU" "bound_in_initrd vfio-pci $AUDIO"
        check "$1" "kernel log: bochs-drm and snd_hda_intel never bound $GPU or $AUDIO" \
                all_of "never_bound_any bochs-drm $GPU" "never_bound_any bochs-drm $AUDIO" \
                       "never_bound_any snd_hda_intel $GPU" "never_bound_any snd_hda_intel $AUDIO"
}

# stage2_left_them: vfio-bind.service's journal has a leave entry for both functions, no bind
stage2_left_them() {
        all_of "journal_has leave $GPU vfio-pci" "journal_has leave $AUDIO vfio-pci" || return 1
        journal_lacks bind
}

# stage2_says_initrd ADDR…: stage 2's line for each device, in the wording agreed with the daemon
stage2_says_initrd() {
        local a
        for a in "$@"; do
                journal_mentions "$a: already on vfio-pci (bound in the initrd)" || return 1
        done
}

nic_untouched() {
        all_of "on_driver $NIC e1000e" "no_override $NIC" "never_bound_any vfio-pci $NIC"
}

# stage1_stage2_checks ID: the host drivers' modules were loaded and found the slot taken, and
# stage 2 found the slot bound, left it, and says it was bound in the first stage; the NIC, not
# configured, untouched
stage1_stage2_checks() {
        check "$1" "bochs and snd_hda_intel are loaded (loaded in the $S1_INITRD; they found the slot taken)" \
                all_of "module_loaded bochs" "module_loaded snd_hda_intel"
        check "$1" "each function was bound once: stage 2 did not move them again" \
                all_of "bound_once vfio-pci $GPU" "bound_once vfio-pci $AUDIO"
        check "$1" "both functions on vfio-pci in stage 2" gpu_slot_on vfio-pci
        check "$1" "stage 2: vfio-bind.service active, status 2/2 devices on vfio-pci" \
                service_status_has "2/2 devices on vfio-pci: $GPU $AUDIO"
        check "$1" "stage 2: the status says the devices were bound in the initrd" \
                service_status_has "bound in the initrd"
        check "$1" "stage 2: the journal says each function was bound in the initrd" \
                stage2_says_initrd "$GPU" "$AUDIO"
        check "$1" "stage 2: vfio-bind.service left both functions where they were (leave, no bind)" stage2_left_them
        check "$1" "the NIC $NIC is untouched: e1000e, no override, never on vfio-pci" nic_untouched
}

nothing_on_vfio() {
        local a
        for a in "$GPU" "$AUDIO" "$NIC"; do
                never_bound_any vfio-pci "$a" || return 1
        done
}

# stage1_off_checks ID: vfio-bind=off: nothing bound in either stage, the host drivers have the
# slot, no override written, and stage 2's service says why
stage1_off_checks() {
        check "$1" "kernel log: vfio-pci bound nothing, in either stage" nothing_on_vfio
        check "$1" "the host drivers have the slot: bochs-drm and snd_hda_intel" \
                all_of "on_driver $GPU bochs-drm" "on_driver $AUDIO snd_hda_intel"
        check "$1" "no driver_override was written" all_of "no_override $GPU" "no_override $AUDIO"
        check "$1" "stage 2: vfio-bind.service says vfio-bind=off disabled it" \
                service_status_has "disabled by vfio-bind=off"
}

# stage1_bad_config_checks ID: an invalid configuration (line 3): vfio-pci bound neither
# function, no override, and stage 2's service names the line too
stage1_bad_config_checks() {
        check "$1" "kernel log: vfio-pci bound neither function" \
                all_of "never_bound_any vfio-pci $GPU" "never_bound_any vfio-pci $AUDIO"
        check "$1" "no driver_override was written" all_of "no_override $GPU" "no_override $AUDIO"
        check "$1" "stage 2: journalctl -b -u vfio-bind.service names /etc/vfio-bind.conf:3 too" \
                journal_mentions "/etc/vfio-bind.conf:3:"
}
