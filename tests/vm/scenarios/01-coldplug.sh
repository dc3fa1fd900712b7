# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 1, the coldplug race, with the first half of scenario 4 (console) and scenario 8
# (ordering), which need the same boot: both functions of the GPU slot are configured; bochs and
# snd_hda_intel are loadable and udev coldplug loads them. The GPU is the boot VGA device with
# efifb and the framebuffer console on it, so Release=auto (the default) must release both before
# vfio-pci takes the GPU.

DESCRIPTION="coldplug race: GPU slot configured, host drivers loadable (scenarios 1, 4, 8)"
CONF="[Bind]
Device=$GPU_SLOT"
KERNELS="6.1 6.12 6.12-nixos"

coldplug_loaded_host_drivers() {
        all_of "module_loaded bochs" "module_loaded snd_hda_intel" "was_bound e1000e $NIC"
}

journal_bind_lines() {
        all_of "journal_has bind $GPU vfio-pci" "journal_has bind $AUDIO vfio-pci"
}

# --- scenario 4: the console

console_on_gpu_at_boot() {
        read_attr "/sys/bus/pci/devices/$GPU/boot_vga"
        [[ $REPLY == 1 ]] || { WHY="$GPU boot_vga is ${REPLY:-unreadable}"; return 1; }
        was_bound "$VM_BOOT_FB_DRIVER" "$VM_BOOT_FB"
}

# kernel log order: fbcon leaves the framebuffer (vtconsole unbound), the boot framebuffer goes
# (efifb's efi-framebuffer.0, or simpledrm's simple-framebuffer.0), then vfio-pci probes the GPU.
# vfio-pci (6.1 and 6.12) removes a VGA device's framebuffer itself while probing, so the order is
# what shows that vfio-bindd released the console, not the kernel.
console_released_before_probe() {
        local fbcon unbound removed
        klog_find '*Console: switching to colour frame buffer device*' || { WHY="fbcon never took the console"; return 1; }
        fbcon=$REPLY
        klog_find '*Console: switching to colour dummy device*' "$fbcon" || { WHY="the framebuffer console was never unbound"; return 1; }
        unbound=$REPLY
        klog_find "$(klog_fb_removed_pattern "$VM_BOOT_FB")" || { WHY="$VM_BOOT_FB was never removed (no kprobe line)"; return 1; }
        removed=$REPLY
        klog_find "$(klog_probe_pattern vfio-pci "$GPU")" || { WHY="vfio-pci never probed $GPU"; return 1; }
        ((unbound < removed && removed < REPLY)) && return 0
        WHY="kernel log lines: console unbound $unbound, $VM_BOOT_FB removed $removed, vfio-pci probing $GPU $REPLY (expected in this order)"
        return 1
}

# now: no frame buffer vtconsole bound (fbcon unregisters its vtconsole once its last
# framebuffer is gone) and the boot framebuffer without a driver
console_released_now() {
        vtcon_fb
        if [[ -n $REPLY ]]; then
                local vt=$REPLY
                read_attr "/sys/class/vtconsole/$vt/bind"
                [[ $REPLY == 0 ]] || { WHY="$vt (frame buffer device) is still bound"; return 1; }
        fi
        platform_driver "$VM_BOOT_FB" || return 0 # unregistered altogether is released too
        [[ -z $REPLY ]] && return 0
        WHY="$VM_BOOT_FB is still on $REPLY"
        return 1
}

# vfio_cdev ADDR: REPLY = the VFIO device cdev of ADDR (vfioN from its vfio-dev/ directory)
vfio_cdev() {
        local d
        REPLY=
        for d in /sys/bus/pci/devices/"$1"/vfio-dev/vfio*; do
                [[ -e $d ]] && REPLY=${d##*/}
        done
        [[ -n $REPLY ]]
}

# CONFIG_VFIO_DEVICE_CDEV=y (NixOS): each bound function also has /dev/vfio/devices/vfioN, the
# IOMMUFD way in; Debian's kernels have only the group's /dev/vfio/N. (6.12 registers the
# vfio-dev/vfioN device in sysfs either way; only with the cdev does it have a dev number.)
device_cdevs() {
        local a
        for a in "$GPU" "$AUDIO"; do
                if [[ $VM_VFIO_DEVICE_CDEV == y ]]; then
                        vfio_cdev "$a" || { WHY="$a has no vfio-dev/vfio* in sysfs"; return 1; }
                        [[ -e /sys/bus/pci/devices/$a/vfio-dev/$REPLY/dev ]] || { WHY="$a's $REPLY has no device number"; return 1; }
                        [[ -c /dev/vfio/devices/$REPLY ]] || { WHY="/dev/vfio/devices/$REPLY ($a) is not a character device"; return 1; }
                else
                        if vfio_cdev "$a" && [[ -e /sys/bus/pci/devices/$a/vfio-dev/$REPLY/dev ]]; then
                                WHY="$a's $REPLY has a device number without CONFIG_VFIO_DEVICE_CDEV"
                                return 1
                        fi
                        [[ ! -e /dev/vfio/devices ]] || { WHY="/dev/vfio/devices exists"; return 1; }
                fi
        done
}

checks() {
        check scenario-1 "coldplug loaded the host drivers (bochs, snd_hda_intel modules; e1000e bound the NIC)" coldplug_loaded_host_drivers
        check scenario-1 "both functions on vfio-pci" gpu_slot_on vfio-pci
        check scenario-1 "/dev/vfio/<group> exists" vfio_dev_node "$GPU"
        if [[ $VM_VFIO_DEVICE_CDEV == y ]]; then
                check scenario-1 "VFIO_DEVICE_CDEV=y: /dev/vfio/devices/vfioN exists for both functions (IOMMUFD)" device_cdevs
        else
                check scenario-1 "no VFIO_DEVICE_CDEV in this kernel: no /dev/vfio/devices, only the group node" device_cdevs
        fi
        check scenario-1 "kernel log: vfio-pci bound both, bochs-drm and snd_hda_intel never did" host_drivers_never_bound_klog
        check scenario-1 "uevents: vfio-pci bound both, no host driver ever did, udev's record ends on vfio-pci" host_drivers_never_bound_udev
        check scenario-1 "vfio-bind.service active, its status names both devices" \
                service_status_has "2/2 devices on vfio-pci" "$GPU" "$AUDIO"
        check scenario-1 "journalctl -u vfio-bind: a bind entry with the address for each device" journal_bind_lines
        check scenario-1 "journalctl -u vfio-bind: every action entry names its device (field and message)" journal_actions_name_devices
        report_ready_time scenario-1 "coldplug boot, 2 devices, console released"
        check scenario-4 "the GPU was the boot VGA device with $VM_BOOT_FB ($VM_BOOT_FB_DRIVER) on it" console_on_gpu_at_boot
        check scenario-4 "Release=auto: kernel log shows console unbound, then $VM_BOOT_FB removed, then vfio-pci probing the GPU" console_released_before_probe
        check scenario-4 "the framebuffer vtconsole and $VM_BOOT_FB are released" console_released_now
        check scenario-4 "journal: a release-console entry for the GPU" journal_has release-console "$GPU"
        check scenario-4 "status says the console was released" service_status_has "console released"
        check scenario-4 "no \"can't reserve\" in the kernel log" klog_absent "*can't reserve*"
        check scenario-8 "vfio-bind.service active before display-manager.service starts" \
                active_before vfio-bind.service display-manager.service
}
