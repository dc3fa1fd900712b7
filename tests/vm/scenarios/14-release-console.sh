# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 14, a hand release of the boot GPU leaves the host its console (issue 11): with the GPU
# slot configured and Release=auto, vfio-bindd releases the console (vtcon1, efi-framebuffer.0)
# and binds the slot at boot. Then `vfio-bind release` gives both functions back; bochs-drm binds
# the GPU and its fbdev brings a framebuffer console back (the control: the host driver does take
# the device and the console when vfio-bind lets go). vfio-bindd sees bochs-drm's bind uevent,
# then a reload and a "change" uevent of the GPU: none of them may release the console again,
# since the device it would be released for is left to the host. The bug being fixed: the daemon
# logged "released the console: vtcon1 (0000:01:00.0: it is the boot VGA device)" on each of
# them and switched the host's console to the dummy device.

DESCRIPTION="hand release of the boot GPU: the console stays with the host (bind uevent, reload, change)"
CONF="[Bind]
Device=$GPU_SLOT
[Console]
Release=auto"

# mark TEXT: MARK_TEXT = "vm-test: TEXT", written into the kernel log; MARK_MS = the uptime then

# --- at boot (as scenario 1 and 4)

boot_bound_and_released() {
        gpu_slot_on vfio-pci || return 1
        was_bound efi-framebuffer efi-framebuffer.0 || return 1
        journal_has release-console "$GPU" || return 1
        klog_find '*Console: switching to colour dummy device*' && return 0
        WHY="the kernel log never says the framebuffer console let go"
        return 1
}

# --- after the hand release

released_to_host() {
        all_of "on_driver $GPU bochs-drm" "on_driver $AUDIO snd_hda_intel" "no_override $GPU" "no_override $AUDIO"
}

# release_output_says_group: `vfio-bind release $GPU` said what it means for the rest of the
# group: its output names the audio function
release_output_says_group() {
        cli_ok || return 1
        [[ $RELEASE_GPU_OUT == *"$AUDIO"* ]] && return 0
        WHY="the output of vfio-bind release $GPU does not mention $AUDIO, the rest of its IOMMU group: ${RELEASE_GPU_OUT//$'\n'/ | }"
        return 1
}

# control: after the release the host driver took the GPU and fbcon its framebuffer (the kernel
# log after the mark says so, whatever happened to the console afterwards)
host_took_gpu_and_console() {
        local from
        load_klog
        klog_find "*$RELEASE_MARK" || { WHY="the mark is not in the kernel log"; return 1; }
        from=$REPLY
        klog_find "$(klog_bound_pattern bochs-drm "$GPU")" "$from" || { WHY="bochs-drm did not bind $GPU after the release"; return 1; }
        klog_find '*Console: switching to colour frame buffer device*' "$from" && return 0
        WHY="fbcon did not take the console again after the release"
        return 1
}

# no_console_release_since_step: the daemon logged no release-console (and no "released the
# console" message) since the step began (STEP_MS)
no_console_release_since_step() {
        local i
        load_journal vfio-bind.service
        for ((i = 0; i < ${#J_MESSAGE[@]}; i++)); do
                ((J_MONO[i] >= STEP_MS * 1000)) || continue
                if [[ ${J_ACTION[i]} == release-console || ${J_MESSAGE[i]} == *"released the console"* ]]; then
                        usec_to_s "${J_MONO[i]}"
                        WHY="journal at $REPLY s (the step began at $((STEP_MS / 1000)).$((STEP_MS % 1000)) s): ${J_MESSAGE[i]}"
                        return 1
                fi
        done
        return 0
}

# no_dummy_console_since_step: the kernel log has no "switching to colour dummy device" since the
# step's mark (STEP_MARK)
no_dummy_console_since_step() {
        local from
        load_klog
        klog_find "*$STEP_MARK" || { WHY="the mark is not in the kernel log"; return 1; }
        from=$REPLY
        if klog_find '*Console: switching to colour dummy device*' "$from"; then
                WHY="kernel log after \"$STEP_MARK\": ${KLOG[REPLY]}"
                return 1
        fi
        return 0
}

console_still_host() {
        fb_console_bound || return 1
        no_console_release_since_step || return 1
        no_dummy_console_since_step
}

# step TEXT: the next step begins: mark the kernel log; the console checks look only after it
STEP_MARK='' STEP_MS=0
step() {
        mark "$1"
        STEP_MARK=$MARK_TEXT STEP_MS=$MARK_MS
}

# restore_console: when a step above lost the console (a check failed), bind the framebuffer
# console again by hand, so that the next step is judged on its own
restore_console() {
        local vt
        fb_console_bound && return 0
        vtcon_fb || return 0
        vt=$REPLY
        note scenario-14 "binding $vt again by hand after: $WHY"
        printf '1\n' >"/sys/class/vtconsole/$vt/bind" || note scenario-14 "could not bind $vt again"
}

# settle_daemon: let the daemon handle what is queued (it reacts to uevents within a second)
settle_daemon() {
        udevadm settle --timeout=10 || :
        read -r -t 3 -u 9 || :
}

# reload_daemon: systemctl reload; when that fails (ExecReload= cannot run), the same SIGHUP
# through systemctl kill, so that the checks after it still look at the daemon's reload path
reload_daemon() {
        local out
        out=$(systemctl reload vfio-bind.service 2>&1) && return 0
        WHY="systemctl reload failed: ${out//$'\n'/ | }; sent SIGHUP with systemctl kill instead"
        systemctl kill -s HUP vfio-bind.service || WHY+=", which failed too"
        return 1
}

RELEASE_GPU_OUT='' RELEASE_MARK=''

checks() {
        check scenario-14 "boot: Release=auto released the console (efifb was on the GPU) and bound the slot to vfio-pci" \
                boot_bound_and_released

        step "vfio-bind release $GPU and $AUDIO"
        RELEASE_MARK=$MARK_TEXT
        run_cli release-gpu release "$GPU"
        RELEASE_GPU_OUT=$CLI_OUT
        check scenario-14 "vfio-bind release $GPU succeeds and says what it means for $AUDIO, the rest of its group" \
                release_output_says_group
        run_cli release-audio release "$AUDIO"
        check scenario-14 "vfio-bind release $AUDIO succeeds" cli_ok
        wait_for 20 released_to_host
        wait_for 10 fb_console_bound
        check scenario-14 "control: bochs-drm took the GPU back and fbcon switched to its framebuffer (kernel log)" \
                host_took_gpu_and_console
        settle_daemon
        check scenario-14 "after bochs-drm's bind uevent: the console is still the host's (no release-console, no dummy console)" \
                console_still_host

        restore_console
        step "systemctl reload vfio-bind"
        check scenario-14 "systemctl reload vfio-bind.service succeeds" reload_daemon
        settle_daemon
        check scenario-14 "after systemctl reload: the console is still the host's (no release-console, no dummy console)" \
                console_still_host

        restore_console
        step "change uevent of $GPU"
        printf 'change\n' >"/sys/bus/pci/devices/$GPU/uevent"
        settle_daemon
        check scenario-14 "after a change uevent of the GPU: the console is still the host's (no release-console, no dummy console)" \
                console_still_host
        check scenario-14 "the GPU stays on bochs-drm, the audio on snd_hda_intel, no driver_override on either" released_to_host
        check scenario-14 "vfio-bind.service is still active" unit_active vfio-bind.service
}
