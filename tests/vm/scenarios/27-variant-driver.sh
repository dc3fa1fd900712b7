# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 27, Driver=auto on a real kernel's VFIO variant driver: a modern virtio-net function
# (QEMU virtio-net-pci,disable-legacy=on, 1af4:1041; topology.sh VIRTIO_NIC_EXTRA) behind a root
# port of its own, configured with Device= and the default Driver= (auto). The NixOS-like 6.12
# builds virtio_vfio_pci (VIRTIO_VFIO_PCI=m), whose alias vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i*
# is more specific than vfio_pci's own (vfio_pci:v*d*sv*sd*bc*sc*i*): vfio-bindd must load it and
# bind the NIC to its driver, and say so (status, check, journal, STATUS=). The driver's name is the
# module's, virtio_vfio_pci (its pci_driver's .name is KBUILD_MODNAME: measured here, the driver
# link and /sys/module/virtio_vfio_pci/drivers/pci:virtio_vfio_pci), not "virtio-vfio-pci".
#
# In the same boot:
#  - /dev/vfio/devices/vfioN (VFIO_DEVICE_CDEV=y) exists for the NIC, and `vfio-bind status`
#    names it (text and JSON "device_node");
#  - `vfio-bind dump` in the guest, sent to the host (base64 on the results port), replayed there
#    with the host's build (`--root=… groups`, `status`, `status --json`, `check`): the same output
#    as the guest's own (host_checks);
#  - `vfio-bind release`: virtio-pci takes the NIC back (the host driver would have it);
#  - Driver=vfio-pci in the configuration, `vfio-bind bind`: the NIC ends on plain vfio-pci, and
#    the daemon, reloaded, agrees.
# The control with the service off is scenario 28.

KERNELS="6.12-nixos"
# never looks at the boot console or the GPU: SeaBIOS boots it faster than OVMF
FIRMWARE=bios
DESCRIPTION="Driver=auto: a modern virtio-net NIC bound to its variant driver virtio_vfio_pci"
VNIC=$VIRTIO_NIC
QEMU_EXTRA=("${VIRTIO_NIC_EXTRA[@]}")
CONF="[Bind]
Device=$VNIC"

# nic_driver_link DRIVER: the basename of /sys/bus/pci/devices/NIC/driver is DRIVER
nic_driver_link() {
        local l
        l=$(readlink "/sys/bus/pci/devices/$VNIC/driver") || { WHY="$VNIC has no driver link"; return 1; }
        [[ ${l##*/} == "$1" ]] && return 0
        WHY="$VNIC/driver -> ${l##*/}, not $1"
        return 1
}

variant_bound() {
        all_of "attr_is $VNIC vendor 0x1af4" "attr_is $VNIC device 0x1041" "nic_driver_link virtio_vfio_pci" \
               "on_driver $VNIC virtio_vfio_pci" "moved_from_host_driver" || return 1
        [[ -e /sys/module/virtio_vfio_pci/drivers/pci:virtio_vfio_pci ]] ||
                { WHY="/sys/module/virtio_vfio_pci/drivers/pci:virtio_vfio_pci does not exist"; return 1; }
        iommu_group_is "$VNIC" "$VNIC"
}

# virtio-pci is a module here, but it binds the NIC before any unit starts (about a second after
# PID 1 began, before vm-uevents.service records anything: scenario 28), so vfio-bindd finds it
# bound and moves it (UnbindHost=yes, the default): the kernel log shows virtio-pci's bind before
# virtio_vfio_pci's, the journal's bind entry says the driver before was virtio-pci
moved_from_host_driver() {
        local host variant
        [[ -e /sys/module/virtio_pci/initstate ]] || { WHY="virtio_pci is built in or not loaded"; return 1; }
        klog_find "$(klog_bound_pattern virtio-pci "$VNIC")" || { WHY="virtio-pci never bound $VNIC (kernel log)"; return 1; }
        host=$REPLY
        klog_find "$(klog_bound_pattern virtio_vfio_pci "$VNIC")" || { WHY="virtio_vfio_pci never bound $VNIC (kernel log)"; return 1; }
        variant=$REPLY
        ((variant > host)) || { WHY="virtio_vfio_pci bound $VNIC (line $variant) before virtio-pci (line $host)"; return 1; }
        uevent_bind virtio_vfio_pci "$VNIC" || return 1
        journal_find bind "$VNIC" virtio_vfio_pci || { WHY="no journal bind entry of $VNIC to virtio_vfio_pci"; return 1; }
        [[ ${J_BEFORE[REPLY]} == virtio-pci ]] && return 0
        WHY="the bind entry of $VNIC has VFIO_BIND_DRIVER_BEFORE=${J_BEFORE[REPLY]}, expected virtio-pci"
        return 1
}

# cli_line PATTERN: some line of the last run_cli's output matches the glob PATTERN
cli_line() {
        local line
        while IFS= read -r line; do
                # shellcheck disable=SC2053
                [[ $line == $1 ]] && return 0
        done <<<"$CLI_OUT"
        WHY="no line matches \"$1\": ${CLI_OUT//$'\n'/ | }"
        return 1
}

# the check's driver line: "ADDR: driver: variant driver virtio_vfio_pci (module virtio_vfio_pci:
# its alias vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i* is the most specific …)"
check_driver_line() {
        cli_ok || return 1
        cli_line "$VNIC: driver: variant driver virtio_vfio_pci (module virtio_vfio_pci: *" || return 1
        [[ $CLI_OUT == *"$VIRTIO_NIC_ALIAS"* ]] || { WHY="the output does not name the alias $VIRTIO_NIC_ALIAS: ${CLI_OUT//$'\n'/ | }"; return 1; }
}

daemon_says_variant() {
        unit_active vfio-bind.service || return 1
        status_has "devices on virtio_vfio_pci" "$VNIC" || return 1
        load_journal vfio-bind.service
        journal_has bind "$VNIC" virtio_vfio_pci || return 1
        journal_mentions "virtio_vfio_pci" || return 1
        journal_mentions "variant"
}

# VFIO_DEVICE_CDEV: NIC/vfio-dev/vfioN and /dev/vfio/devices/vfioN; CDEV = that path
CDEV=''
cdev_exists() {
        local d
        CDEV=''
        [[ $VM_VFIO_DEVICE_CDEV == y ]] || { WHY="the kernel has no VFIO_DEVICE_CDEV"; return 1; }
        for d in /sys/bus/pci/devices/"$VNIC"/vfio-dev/vfio*; do
                [[ -e $d ]] || continue
                CDEV=/dev/vfio/devices/${d##*/}
        done
        [[ -n $CDEV ]] || { WHY="$VNIC has no vfio-dev/vfioN in sysfs"; return 1; }
        [[ -c $CDEV ]] || { WHY="$CDEV is not a character device"; return 1; }
        vfio_dev_node "$VNIC"
}

status_names_cdev() {
        run_cli status-cdev status
        cli_has "$CDEV" || return 1
        run_cli status-cdev-json status --json
        cli_has '"device_node"' "\"$CDEV\""
}

released_to_host() {
        wait_for 20 on_driver "$VNIC" virtio-pci || { on_driver "$VNIC" virtio-pci; return 1; }
        all_of "nic_driver_link virtio-pci" "no_override $VNIC"
}

checks() {
        check scenario-27 "$VNIC (1af4:1041, alone in its IOMMU group) on virtio_vfio_pci (driver link, /sys/module/virtio_vfio_pci/drivers/pci:virtio_vfio_pci), moved from virtio-pci (which PID 1's early module load lets bind first)" \
                variant_bound
        run_cli status status
        check scenario-27 "vfio-bind status names virtio_vfio_pci and says it is the variant driver" \
                cli_has "$VNIC" virtio_vfio_pci variant
        run_cli check check
        check scenario-27 "vfio-bind check: a \"$VNIC: driver:\" line naming virtio_vfio_pci and the alias $VIRTIO_NIC_ALIAS" \
                check_driver_line
        unit_props vfio-bind.service
        check scenario-27 "STATUS= says \"devices on virtio_vfio_pci\"; the journal's bind entry names virtio_vfio_pci and why (variant)" \
                daemon_says_variant
        check scenario-27 "VFIO_DEVICE_CDEV: $VNIC/vfio-dev/vfioN and /dev/vfio/devices/vfioN exist, /dev/vfio/<group> too" cdev_exists
        note scenario-27 "the NIC's device node: ${CDEV:-none}"
        check scenario-27 "vfio-bind status names ${CDEV:-the device node} (text, and \"device_node\" in --json)" status_names_cdev

        check scenario-27 "vfio-bind dump /tmp/guest.tar: exit 0, under 1 MiB; sent to the host with the guest's groups, status, status --json, check" \
                send_dump scenario-27

        mark "vfio-bind release $VNIC"
        run_cli release release "$VNIC"
        check scenario-27 "vfio-bind release $VNIC succeeds" cli_ok
        check scenario-27 "control: after the release virtio-pci binds $VNIC (the host driver would have taken it), no driver_override left" \
                released_to_host

        printf '[Bind]\nDevice=%s\nDriver=vfio-pci\n' "$VNIC" >/etc/vfio-bind.conf
        mark "Driver=vfio-pci, vfio-bind bind $VNIC"
        run_cli bind-plain bind "$VNIC"
        check scenario-27 "Driver=vfio-pci: vfio-bind bind $VNIC succeeds" cli_ok
        check scenario-27 "Driver=vfio-pci: $VNIC ends on plain vfio-pci (driver link)" \
                all_of "nic_driver_link vfio-pci" "on_driver $VNIC vfio-pci"
        reconfigure "[Bind]
Device=$VNIC
Driver=vfio-pci"
        wait_for 10 eval 'unit_props vfio-bind.service; status_has "devices on vfio-pci"'
        unit_props vfio-bind.service
        check scenario-27 "Driver=vfio-pci, daemon reloaded: $VNIC stays on vfio-pci, STATUS= says \"devices on vfio-pci\"" \
                plain_after_reload
}

plain_after_reload() {
        all_of "unit_active vfio-bind.service" "on_driver $VNIC vfio-pci" || return 1
        status_has "1/1 devices on vfio-pci"
}

# --- on the host: the guest's dump replayed with the host's build

host_checks() {
        replay_open "$1"
        host_check "scenario-27: host: the guest's dump replays: vfio-bind --root=guest.tar groups prints what the guest printed" replay_same groups groups
        host_check "scenario-27: host: the replay's status is the guest's" replay_same status status
        host_check "scenario-27: host: the replay's status --json is the guest's" replay_same status-json status --json
        host_check "scenario-27: host: the replay's check is the guest's" replay_same check check
}
