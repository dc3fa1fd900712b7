# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034 # WHY is read by check() (lib.sh)
#
# Guest helpers (sourced by lib.sh): libvirt (scenarios 33-35, LIBVIRT=yes): a domain with the GPU
# slot's functions as PCI host devices, virsh, what QEMU's query-pci shows, the kernel log's binds

# The IDs QEMU shows for the slot's functions (-device VGA, -device ich9-intel-hda)
GPU_ID=1234:1111 AUDIO_ID=8086:293e

# domain_xml NAME MANAGED ADDR…: a domain that boots nothing under TCG (no disk, no network, no
# display) with a PCI host device per ADDR, managed='MANAGED'
domain_xml() {
        local name=$1 managed=$2 a
        shift 2
        printf '%s\n' "<domain type='qemu'>" "  <name>$name</name>" "  <memory unit='MiB'>64</memory>" \
                "  <vcpu>1</vcpu>" "  <os><type arch='x86_64' machine='pc'>hvm</type></os>" \
                "  <on_crash>destroy</on_crash>" "  <devices>" "    <emulator>/usr/bin/qemu-system-x86_64</emulator>"
        for a in "$@"; do
                # 0000:01:00.1: domain 0000, bus 01, slot 00, function 1
                printf '%s\n' "    <hostdev mode='subsystem' type='pci' managed='$managed'>" \
                        "      <source><address domain='0x${a:0:4}' bus='0x${a:5:2}' slot='0x${a:8:2}' function='0x${a:11:1}'/></source>" \
                        "    </hostdev>"
        done
        printf '%s\n' "    <controller type='usb' model='none'/>" "    <memballoon model='none'/>" "  </devices>" "</domain>"
}

# virsh_run NAME ARGS…: run virsh; VIRSH_OUT = its output (stdout and stderr), VIRSH_RC = its
# exit status; the output also goes to the host as NAME.log
VIRSH_OUT='' VIRSH_RC=0
virsh_run() {
        local name=$1
        shift
        VIRSH_OUT=$(virsh -c qemu:///system "$@" 2>&1)
        VIRSH_RC=$?
        printf 'VMDUMP-BEGIN %s\n$ virsh %s\n%s\n[exit %d]\nVMDUMP-END %s\n' "$name" "$*" "$VIRSH_OUT" "$VIRSH_RC" "$name" >&3
}

# virsh_ok: the last virsh_run exited 0
virsh_ok() {
        ((VIRSH_RC == 0)) && return 0
        WHY="virsh exited $VIRSH_RC: ${VIRSH_OUT//$'\n'/ | }"
        return 1
}

# virsh_failed_saying TEXT…: the last virsh_run failed and its output has each TEXT
virsh_failed_saying() {
        local t
        ((VIRSH_RC != 0)) || { WHY="virsh exited 0: ${VIRSH_OUT//$'\n'/ | }"; return 1; }
        for t in "$@"; do
                [[ $VIRSH_OUT == *"$t"* ]] || { WHY="virsh exited $VIRSH_RC without \"$t\": ${VIRSH_OUT//$'\n'/ | }"; return 1; }
        done
}

# dom_define NAME MANAGED ADDR…: define the domain (its XML in /run/NAME.xml)
dom_define() {
        local name=$1
        domain_xml "$@" >"/run/$name.xml"
        virsh_run "define-$name" define "/run/$name.xml"
        virsh_ok
}

# dom_state_is DOM STATE: `virsh domstate DOM` says STATE ("running", "shut off")
dom_state_is() {
        local out
        out=$(virsh -c qemu:///system domstate "$1" 2>&1)
        [[ ${out%%$'\n'*} == "$2" ]] && return 0
        WHY="virsh domstate $1: ${out//$'\n'/ | } (expected $2)"
        return 1
}

# dom_pci_lists DOM ID…: QEMU's query-pci (through virsh qemu-monitor-command) lists every ID
# ("vvvv:dddd") among the domain's PCI devices
DOM_IDS=()
dom_pci_lists() {
        local dom=$1 v d id i found
        shift
        virsh_run "query-pci-$dom" qemu-monitor-command "$dom" '{"execute":"query-pci"}'
        virsh_ok || return 1
        DOM_IDS=()
        while read -r v d; do
                printf -v id '%04x:%04x' "$v" "$d"
                DOM_IDS+=("$id")
        done < <(jq -r '.return[].devices[] | "\(.id.vendor) \(.id.device)"' <<<"$VIRSH_OUT")
        for id in "$@"; do
                found=0
                for i in "${DOM_IDS[@]}"; do
                        [[ $i == "$id" ]] && found=1
                done
                ((found)) || { WHY="query-pci of $dom lists ${DOM_IDS[*]:-nothing}, not $id"; return 1; }
        done
}

# dom_runs_with_slot DOM: the domain runs, and QEMU shows both functions of the slot
dom_runs_with_slot() {
        dom_state_is "$1" running || return 1
        dom_pci_lists "$1" "$GPU_ID" "$AUDIO_ID"
}

# klog_binds_since_mark DRIVER ADDR: REPLY = how many times the kernel log says DRIVER bound ADDR
# after the last mark (mark, klog_from_mark: lib-sriov.sh)
klog_binds_since_mark() {
        klog_from_mark || return 1
        klog_count "$(klog_bound_pattern "$1" "$2")" "$REPLY"
}

# binds_since_mark_are DRIVER ADDR N: the kernel log has exactly N binds of ADDR by DRIVER since
# the last mark
binds_since_mark_are() {
        klog_binds_since_mark "$1" "$2" || return 1
        ((REPLY == $3)) && return 0
        WHY="the kernel log has $REPLY binds of $2 by $1 after \"$MARK_TEXT\", expected $3"
        return 1
}

# host_binds_since_mark_are N: bochs-drm bound the GPU and snd_hda_intel the audio function
# exactly N times each since the last mark
host_binds_since_mark_are() {
        all_of "binds_since_mark_are bochs-drm $GPU $1" "binds_since_mark_are snd_hda_intel $AUDIO $1"
}

# vfio_binds_since_mark_are N: vfio-pci bound each function exactly N times since the last mark
vfio_binds_since_mark_are() {
        all_of "binds_since_mark_are vfio-pci $GPU $1" "binds_since_mark_are vfio-pci $AUDIO $1"
}

# send_libvirt_logs: libvirtd's debug log (libvirtd.conf of the payload) and each domain's QEMU
# log to the host (libvirtd.log, libvirt-qemu-DOM.log)
send_libvirt_logs() {
        local f d
        printf 'VMDUMP-BEGIN libvirtd\n' >&3
        cat /var/log/libvirt/libvirtd.log >&3 2>&1
        printf 'VMDUMP-END libvirtd\n' >&3
        for f in /var/log/libvirt/qemu/*.log; do
                [[ -f $f ]] || continue
                d=${f##*/}
                printf 'VMDUMP-BEGIN libvirt-qemu-%s\n' "${d%.log}" >&3
                cat "$f" >&3 2>&1
                printf 'VMDUMP-END libvirt-qemu-%s\n' "${d%.log}" >&3
        done
}

# libvirt_log_lines TEXT…: LV_LINES = the lines of libvirtd's debug log that contain every TEXT
# (without the time, thread and level in front)
LV_LINES=()
libvirt_log_lines() {
        local line t ok
        LV_LINES=()
        while IFS= read -r line; do
                ok=1
                for t in "$@"; do
                        [[ $line == *"$t"* ]] || { ok=0; break; }
                done
                ((ok)) && LV_LINES+=("${line#*: * : }")
        done < <(grep -F -e "$1" /var/log/libvirt/libvirtd.log)
}

# libvirt_log_has TEXT…: libvirtd's debug log has a line with every TEXT; REPLY = the first
libvirt_log_has() {
        libvirt_log_lines "$@"
        if ((${#LV_LINES[@]})); then
                REPLY=${LV_LINES[0]}
                return 0
        fi
        WHY="libvirtd's log has no line with \"$*\""
        return 1
}

# note_libvirt_lines ID TEXT…: each distinct line of libvirtd's log with every TEXT that says what
# libvirt decided or did with a host device (virHostdev…, and virPCIDevice's detach, reattach,
# reset, stub and reprobe lines; not its reading of config space), as an INFO line of ID
note_libvirt_lines() {
        local id=$1 l seen=$'\n'
        shift
        libvirt_log_lines "$@"
        for l in "${LV_LINES[@]}"; do
                [[ $l == virHostdev* || $l == virPCIDeviceDetach* || $l == virPCIDeviceReattach* ||
                   $l == virPCIDeviceReset* || $l == *Stub* || $l == *eprobe* ]] || continue
                [[ $seen == *$'\n'"$l"$'\n'* ]] && continue
                seen+="$l"$'\n'
                note "$id" "libvirtd: $l"
        done
}

# check_warns_domain DOM MANAGED: `vfio-bind check` warns about libvirt's definition of DOM
# (/etc/libvirt/qemu/DOM.xml, as virsh define wrote it): its GPU hostdev with managed='yes' that
# vfio-bind does not hold at boot, or with managed='no' while the hook is not installed
check_warns_domain() {
        local what="managed='yes', and vfio-bind does not hold it at boot"
        [[ $2 == no ]] && what="managed='no', and vfio-bind's libvirt hook is not installed"
        run_cli "check-libvirt-$1" check
        cli_says "$GPU: libvirt domain $1 (/etc/libvirt/qemu/$1.xml:" "$what"
}

# check_quiet_about_domain DOM: `vfio-bind check` has no warning about libvirt's definition of DOM
check_quiet_about_domain() {
        local line
        run_cli "check-libvirt-$1" check
        [[ -n $CLI_OUT ]] || { WHY="vfio-bind check printed nothing (exit $CLI_RC)"; return 1; }
        while IFS= read -r line; do
                [[ $line == *"libvirt domain $1 "* ]] || continue
                WHY="vfio-bind check (exit $CLI_RC): $line"
                return 1
        done <<<"$CLI_OUT"
}

# slot_on_host: the GPU on bochs-drm, the audio function on snd_hda_intel, no driver_override
slot_on_host() {
        all_of "on_driver $GPU bochs-drm" "on_driver $AUDIO snd_hda_intel" "no_override $GPU" "no_override $AUDIO"
}

# dom_shut_off DOM
dom_shut_off() {
        dom_state_is "$1" "shut off"
}
