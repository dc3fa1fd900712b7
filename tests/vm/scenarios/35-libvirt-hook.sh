# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 35, vfio-bind's libvirt hook with managed='no' (issue 32): the slot is not in the
# configuration (vfio-bindd runs and leaves it to bochs-drm and snd_hda_intel, the console on
# bochs-drm's framebuffer); the build's hook is /etc/libvirt/hooks/qemu.d/vfio-bind before
# libvirtd starts. A domain with both functions as <hostdev managed='no'>: at `virsh start`
# libvirt runs the hook (prepare begin), which binds the slot through `vfio-bind bind` (the
# console released with it), and the domain runs with both functions (query-pci); at `virsh
# destroy` the hook (release end) gives them back through `vfio-bind release`: bochs-drm and
# snd_hda_intel bind them again and fbcon takes bochs-drm's framebuffer. Twice, each function
# bound once per start and given back once per destroy (the kernel log's binds). The control is
# 33, where libvirt refuses the same domain ("must be manually detached from the host").
#
# The hook run by hand as libvirt would, once per hostdev (a domain XML with only that function,
# Group=take): the first prepare binds the group, the second finds it bound and writes nothing;
# the same for release end: exactly one bind and one give-back of each function. And a program
# holding the GPU's DRM card: `virsh start` fails with the hook's one line ("vfio-bind: DOMAIN:
# …") naming the program, nothing is written (the slot on its host drivers, no override, no bind
# in the kernel log), the domain is not running; libvirt then runs release end (libvirt 9.0 runs
# "stopped end" and "release end" after a failed start), which must write nothing either.
# `vfio-bind check` has no warning about the domain (managed='no' with the hook installed). Last,
# the slot in the configuration (and `vfio-bind bind`): the same domain starts and stops, and the
# hook leaves the slot on vfio-pci at the destroy ("stays on vfio-pci: the configuration binds
# it"), with no bind of the slot in the kernel log.

DESCRIPTION="vfio-bind's libvirt hook: managed='no' domains bind and give back the slot; a holder refuses the start"
KERNELS="6.12"
# the console comes back to the GPU's framebuffer after each destroy: OVMF's efifb, then
# bochs-drm's, as in 14 and 29
FIRMWARE=uefi
LIBVIRT_HOOK=yes
BOOT_SECONDS=600
CONF="[Console]
Release=auto"

DOM=vb35

# klog_since_mark_has PATTERN: a kernel log line after the last mark matches PATTERN
klog_since_mark_has() {
        klog_from_mark || return 1
        klog_find "$1" "$REPLY" && return 0
        WHY="no \"$1\" in the kernel log after \"$MARK_TEXT\""
        return 1
}

console_released() {
        if fb_console_bound; then
                WHY="the framebuffer console is still bound"
                return 1
        fi
        klog_since_mark_has '*Console: switching to colour dummy device*'
}

console_back() {
        wait_for 10 fb_console_bound || return 1
        klog_since_mark_has '*Console: switching to colour frame buffer device*'
}

boot_state() {
        all_of "was_bound bochs-drm $GPU" "was_bound snd_hda_intel $AUDIO" \
               "never_bound vfio-pci $GPU" "never_bound vfio-pci $AUDIO" slot_on_host fb_console_bound
}

hook_installed() {
        [[ -n ${VB_LIBVIRT_HOOK:-} && -x $VB_LIBVIRT_HOOK ]] && return 0
        WHY="no executable hook at ${VB_LIBVIRT_HOOK:-(none)}"
        return 1
}

# hook_journal: HOOK_IDS[], HOOK_MSGS[] = the journal entries with VFIO_BIND_DOMAIN=$DOM (their
# SYSLOG_IDENTIFIER and message)
HOOK_IDS=() HOOK_MSGS=()
hook_journal() {
        local id msg
        HOOK_IDS=() HOOK_MSGS=()
        while IFS=$'\t' read -r id msg; do
                HOOK_IDS+=("$id") HOOK_MSGS+=("$msg")
        done < <(journalctl -b -o json --no-pager "VFIO_BIND_DOMAIN=$DOM" |
                 jq -r '[.SYSLOG_IDENTIFIER // "-", (.MESSAGE | if type == "array" then implode else . end // "")] | @tsv')
}

# hook_logged_more N: the journal has more than N entries with VFIO_BIND_DOMAIN=$DOM, each from
# SYSLOG_IDENTIFIER=vfio-bind-libvirt-hook (HOOK_SEEN = how many there are now)
HOOK_SEEN=0
hook_logged_more() {
        local i
        hook_journal
        HOOK_SEEN=${#HOOK_MSGS[@]}
        ((HOOK_SEEN > $1)) || { WHY="journalctl VFIO_BIND_DOMAIN=$DOM has $HOOK_SEEN entries (there were $1)"; return 1; }
        for ((i = 0; i < HOOK_SEEN; i++)); do
                [[ ${HOOK_IDS[i]} == vfio-bind-libvirt-hook ]] ||
                        { WHY="entry \"${HOOK_MSGS[i]}\" has SYSLOG_IDENTIFIER=${HOOK_IDS[i]}"; return 1; }
        done
}

# bound_by_hook: the slot on vfio-pci, each function bound there once since the mark, the host
# drivers not again
bound_by_hook() {
        all_of "gpu_slot_on vfio-pci" "vfio_binds_since_mark_are 1" "host_binds_since_mark_are 0"
}

# given_back: bochs-drm and snd_hda_intel hold the slot again (each bound once since the mark), no
# override, vfio-pci did not bind again
given_back() {
        wait_for 20 slot_on_host || return 1
        all_of "host_binds_since_mark_are 1" "vfio_binds_since_mark_are 0"
}

round() {
        local n=$1 t0 seen
        hook_journal
        seen=${#HOOK_MSGS[@]}
        mark "virsh start $DOM, round $n"
        t0=$(uptime_ms)
        virsh_run "start-$n" start "$DOM"
        timing scenario-35 "virsh start with the hook, round $n: $(( $(uptime_ms) - t0 )) ms"
        check scenario-35 "round $n: virsh start succeeds" virsh_ok
        check scenario-35 "round $n: the domain runs; QEMU's query-pci lists $GPU_ID and $AUDIO_ID" dom_runs_with_slot "$DOM"
        check scenario-35 "round $n: the hook bound the slot: on vfio-pci, each function bound there once (kernel log), no host driver bind" \
                bound_by_hook
        check scenario-35 "round $n: the console was released with it (no framebuffer vtconsole bound, \"switching to colour dummy device\")" \
                console_released
        check scenario-35 "round $n: the hook logged to the journal (VFIO_BIND_DOMAIN=$DOM, SYSLOG_IDENTIFIER=vfio-bind-libvirt-hook)" \
                hook_logged_more "$seen"
        seen=$HOOK_SEEN
        mark "virsh destroy $DOM, round $n"
        t0=$(uptime_ms)
        virsh_run "destroy-$n" destroy "$DOM"
        check scenario-35 "round $n: virsh destroy succeeds, the domain is shut off" all_of virsh_ok "dom_shut_off $DOM"
        check scenario-35 "round $n: the hook gave the slot back: bochs-drm and snd_hda_intel bound it once each (kernel log), no override" \
                given_back
        timing scenario-35 "virsh destroy to the slot back on its host drivers, round $n: $(( $(uptime_ms) - t0 )) ms"
        check scenario-35 "round $n: the console is back on the GPU's framebuffer (a framebuffer vtconsole bound, \"switching to colour frame buffer device\")" \
                console_back
        check scenario-35 "round $n: the hook logged its release to the journal" hook_logged_more "$seen"
}

# run_hook NAME OP SUBOP XML: the hook as libvirt runs it (DOMAIN OP SUBOP -, the domain XML on
# stdin); HOOK_OUT, HOOK_RC; the output goes to the host as NAME.log
HOOK_OUT='' HOOK_RC=0
run_hook() {
        local name=$1
        HOOK_OUT=$("$VB_LIBVIRT_HOOK" "$DOM" "$2" "$3" - <"$4" 2>&1)
        HOOK_RC=$?
        printf 'VMDUMP-BEGIN %s\n$ %s %s %s %s - < %s\n%s\n[exit %d]\nVMDUMP-END %s\n' "$name" "$VB_LIBVIRT_HOOK" \
                "$DOM" "$2" "$3" "$4" "$HOOK_OUT" "$HOOK_RC" "$name" >&3
}

hook_ok() {
        ((HOOK_RC == 0)) && return 0
        WHY="the hook exited $HOOK_RC: ${HOOK_OUT//$'\n'/ | }"
        return 1
}

# per_hostdev: the hook run by hand once per hostdev, for prepare begin and then release end
per_hostdev() {
        domain_xml "$DOM" no "$GPU" >/run/hostdev-gpu.xml
        domain_xml "$DOM" no "$AUDIO" >/run/hostdev-audio.xml
        check scenario-35 "Group=take in /etc/vfio-bind.conf (reload)" reconfigure "[Bind]
Group=take
[Console]
Release=auto"
        mark "the hook by hand: prepare begin, once per hostdev"
        run_hook hook-prepare-gpu prepare begin /run/hostdev-gpu.xml
        check scenario-35 "by hand, prepare begin with only $GPU: exit 0" hook_ok
        run_hook hook-prepare-audio prepare begin /run/hostdev-audio.xml
        check scenario-35 "by hand, prepare begin with only $AUDIO (the group is bound already): exit 0" hook_ok
        check scenario-35 "by hand, prepare begin once per hostdev: the slot on vfio-pci, each function bound exactly once (kernel log)" \
                bound_by_hook
        mark "the hook by hand: release end, once per hostdev"
        run_hook hook-release-gpu release end /run/hostdev-gpu.xml
        check scenario-35 "by hand, release end with only $GPU: exit 0" hook_ok
        run_hook hook-release-audio release end /run/hostdev-audio.xml
        check scenario-35 "by hand, release end with only $AUDIO (the group is given back already): exit 0" hook_ok
        check scenario-35 "by hand, release end once per hostdev: bochs-drm and snd_hda_intel bound the slot exactly once each (kernel log), no override" \
                given_back
        check scenario-35 "the configuration back as at boot (reload)" reconfigure "$CONF"
}

# card_node: REPLY = the GPU's DRM card node (/dev/dri/cardN)
card_node() {
        local c
        for c in /sys/bus/pci/devices/"$GPU"/drm/card*; do
                [[ -e $c ]] || continue
                REPLY=/dev/dri/${c##*/}
                [[ -c $REPLY ]] && return 0
        done
        WHY="$GPU has no DRM card node"
        return 1
}

# refused_naming_holder: the last virsh start failed with the hook's line naming the holder
refused_naming_holder() {
        virsh_failed_saying "vfio-bind: $DOM:" || return 1
        [[ $VIRSH_OUT == *"$HOLDER"* || $VIRSH_OUT == *sleep* ]] && return 0
        WHY="the error names neither PID $HOLDER nor sleep: ${VIRSH_OUT//$'\n'/ | }"
        return 1
}

refused_untouched() {
        all_of slot_on_host "host_binds_since_mark_are 0" "vfio_binds_since_mark_are 0" || return 1
        dom_shut_off "$DOM"
}

# release_hooks: REPLY = how many times libvirtd ran the hook for release end
release_hooks() {
        libvirt_log_lines "Calling hook $VB_LIBVIRT_HOOK id=$DOM op=release subop=end"
        REPLY=${#LV_LINES[@]}
}

# release_ran_after BEFORE: libvirtd ran release end more than BEFORE times
release_ran_after() {
        release_hooks
        ((REPLY > $1)) && return 0
        WHY="libvirtd's log has $REPLY runs of the hook for release end, as before the start"
        return 1
}

HOLDER=''
held_card() {
        local card releases
        check scenario-35 "the GPU has a DRM card node" card_node || return
        card=$REPLY
        # shellcheck disable=SC2217 # the holder only keeps the card open
        sleep 1000 <"$card" &
        HOLDER=$!
        release_hooks
        releases=$REPLY
        mark "virsh start $DOM, $card held by PID $HOLDER (sleep)"
        virsh_run start-held start "$DOM"
        check scenario-35 "$card held by PID $HOLDER (sleep): virsh start fails with the hook's line \"vfio-bind: $DOM: …\" naming it" \
                refused_naming_holder
        note scenario-35 "virsh start, card held: ${VIRSH_OUT//$'\n'/ | }"
        # libvirt cleans up a start that failed as it stops a domain: the hook's release end runs
        check scenario-35 "after the refused prepare libvirt ran the hook's release end too (libvirtd.log)" release_ran_after "$releases"
        check scenario-35 "the refused start and its release end wrote nothing (the slot on its host drivers, no override, no bind since), the domain is shut off" \
                refused_untouched
        kill "$HOLDER" 2>/dev/null
        wait "$HOLDER" 2>/dev/null
}

# settled_on_vfio: some seconds after the destroy, both functions on vfio-pci and not bound again
# by anyone since the mark
settled_on_vfio() {
        udevadm settle --timeout=10 || :
        read -r -t 3 -u 9 || :
        all_of "gpu_slot_on vfio-pci" "host_binds_since_mark_are 0" "vfio_binds_since_mark_are 0"
}

# hook_says TEXT: a journal entry with VFIO_BIND_DOMAIN=$DOM has TEXT
hook_says() {
        local i
        hook_journal
        for ((i = 0; i < ${#HOOK_MSGS[@]}; i++)); do
                [[ ${HOOK_MSGS[i]} == *"$1"* ]] && return 0
        done
        WHY="no journal entry of the hook (VFIO_BIND_DOMAIN=$DOM) says \"$1\""
        return 1
}

# slot_configured: Device= the slot, and a reload: vfio-bindd binds it itself. The hook's
# give-backs went through `vfio-bind release`, and the hook removed the release marks they left
# (the configuration did not reach the slot then): no "released by hand" keeps vfio-bindd off it.
slot_configured() {
        local i
        reconfigure "[Bind]
Device=$GPU_SLOT
[Console]
Release=auto" || return 1
        wait_for 20 gpu_slot_on vfio-pci || return 1
        load_journal vfio-bind.service
        for ((i = 0; i < ${#J_MESSAGE[@]}; i++)); do
                if [[ ${J_MESSAGE[i]} == "$GPU: left to the host"* ]]; then
                        WHY="vfio-bindd on the reload: ${J_MESSAGE[i]}"
                        return 1
                fi
        done
}

# configured: the slot in the configuration (vfio-bindd binds it), the same managed='no' domain:
# the hook finds it bound at the start and leaves it to vfio-bindd at the destroy
configured() {
        check scenario-35 "Device=$GPU_SLOT in /etc/vfio-bind.conf and a reload: vfio-bindd binds the slot (no release mark of the hook's give-backs keeps it off)" slot_configured
        mark "virsh start $DOM, the slot configured"
        virsh_run start-configured start "$DOM"
        check scenario-35 "configured: virsh start succeeds, the domain runs; QEMU's query-pci lists $GPU_ID and $AUDIO_ID" \
                all_of virsh_ok "dom_runs_with_slot $DOM"
        check scenario-35 "configured: the start bound nothing (no bind of the slot since)" settled_on_vfio
        mark "virsh destroy $DOM, the slot configured"
        virsh_run destroy-configured destroy "$DOM"
        check scenario-35 "configured: virsh destroy succeeds; the hook leaves the slot to vfio-bindd: on vfio-pci, no bind since" \
                all_of virsh_ok "dom_shut_off $DOM" settled_on_vfio
        check scenario-35 "configured: the hook's journal says the configuration binds it" \
                hook_says "$GPU: stays on vfio-pci: the configuration binds it"
}

checks() {
        check scenario-35 "boot: the slot on bochs-drm and snd_hda_intel (not configured), vfio-pci never bound it, the console on the framebuffer" \
                boot_state
        check scenario-35 "the hook is installed (${VB_LIBVIRT_HOOK:-no hook in /vm/env})" hook_installed
        check scenario-35 "a domain with both functions, managed='no', is defined" dom_define "$DOM" no "$GPU" "$AUDIO"
        round 1
        round 2
        per_hostdev
        held_card
        check scenario-35 "vfio-bind check has no warning about $DOM (managed='no', the hook installed)" check_quiet_about_domain "$DOM"
        configured
        hook_journal
        local i
        for ((i = 0; i < ${#HOOK_MSGS[@]}; i++)); do
                note scenario-35 "journal (VFIO_BIND_DOMAIN=$DOM): ${HOOK_MSGS[i]}"
        done
        send_libvirt_logs
}
