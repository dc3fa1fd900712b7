# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 29, the boot GPU given back with its console, on the NixOS-like 6.12, whose boot
# framebuffer is simple-framebuffer.0 driven by the built-in simpledrm: the GPU slot configured,
# Release=auto, so vfio-bindd releases the framebuffer console (and simpledrm's device) and binds
# the slot at boot. Then `vfio-bind release --take-group` gives the whole slot back: bochs-drm must
# bind the GPU and a framebuffer console be bound again on it (a vtconsole named "frame buffer"
# with bind 1), and the release must say so on a line of its own starting with "console:".
# What the kernel shows at each step (the vtconsoles, /sys/class/graphics' fb devices, whether
# simple-framebuffer.0 is still there) is reported as INFO lines.
#
# The modern virtio-net NIC of scenario 27 is there too, not configured: virtio-pci binds it with
# vfio-bindd running (vfio-bind touches only what it is told to).

KERNELS="6.12-nixos"
DESCRIPTION="the boot GPU released by hand gets bochs-drm and a framebuffer console back"
VNIC=$VIRTIO_NIC
QEMU_EXTRA=("${VIRTIO_NIC_EXTRA[@]}")
CONF="[Bind]
Device=$GPU_SLOT
[Console]
Release=auto"

# what the kernel shows of consoles and framebuffers: REPLY = one line
console_state() {
        local d s=''
        for d in /sys/class/vtconsole/vtcon*; do
                [[ -e $d ]] || continue
                read_attr "$d/name"
                s+="${d##*/}=\"$REPLY\""
                read_attr "$d/bind"
                s+=" bind=$REPLY; "
        done
        s+="fb:"
        for d in /sys/class/graphics/fb*; do
                [[ -e $d ]] || continue
                read_attr "$d/name"
                s+=" ${d##*/}($REPLY)"
        done
        s+="; $VM_BOOT_FB: "
        if platform_driver "$VM_BOOT_FB"; then
                s+="present, driver ${REPLY:-none}"
        else
                s+="absent"
        fi
        REPLY=$s
}

boot_bound_and_released() {
        gpu_slot_on vfio-pci || return 1
        journal_has release-console "$GPU" || return 1
        fb_console_bound && { WHY="a framebuffer console is still bound ($REPLY)"; return 1; }
        return 0
}

gpu_back() {
        all_of "on_driver $GPU bochs-drm" "on_driver $AUDIO snd_hda_intel" "no_override $GPU" "no_override $AUDIO"
}

release_says_console() {
        local line
        cli_ok || return 1
        while IFS= read -r line; do
                [[ $line == console:* ]] && return 0
        done <<<"$CLI_OUT"
        WHY="no line starts with \"console:\": ${CLI_OUT//$'\n'/ | }"
        return 1
}

checks() {
        check scenario-29 "boot: Release=auto released the console and bound the slot to vfio-pci; no framebuffer console bound" \
                boot_bound_and_released
        console_state
        note scenario-29 "after the boot: $REPLY"
        check scenario-29 "the NIC not configured: virtio-pci binds $VNIC with vfio-bindd running" \
                all_of "on_driver $VNIC virtio-pci" "no_override $VNIC"

        mark "vfio-bind release --take-group $GPU"
        run_cli release release --take-group "$GPU"
        check scenario-29 "vfio-bind release --take-group $GPU succeeds" cli_ok
        wait_for 20 gpu_back
        check scenario-29 "after the release: bochs-drm on $GPU, snd_hda_intel on $AUDIO, no override" gpu_back
        wait_for 10 fb_console_bound
        console_state
        note scenario-29 "after the release: $REPLY"
        check scenario-29 "after the release: a framebuffer console (\"frame buffer\" vtconsole) is bound again" fb_console_bound
        check scenario-29 "the release output has a line starting with \"console:\"" release_says_console
        check scenario-29 "vfio-bind.service is still active" unit_active vfio-bind.service
}
