# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 11, the interlocks on the real kernel, with the hardened unit:
#  - at boot, Release=no and the GPU slot configured: efifb and the framebuffer console are on
#    the GPU, so vfio-bindd refuses it (and, by Group=check, its audio function) without a
#    single write, and says why in the status, the journal and `vfio-bind check`;
#  - after boot, the NIC is up with an address (systemd-networkd): the NIC configured and the
#    daemon reloaded, it is refused as "up with 10.0.2.15/24" (the address, not a route); with Force= it is bound, with the
#    FORCED warning in the journal and the status.

DESCRIPTION="interlocks: the console with Release=no, a NIC up with an address, Force="
CONF="[Bind]
Device=$GPU_SLOT
[Console]
Release=no"
KERNELS="6.1 6.12 6.12-nixos"

payload() {
        # networkd is masked in the image; a unit of our own runs it after boot.
        cat > "$1/etc/systemd/system/vm-networkd.service" <<'UNIT'
[Unit]
Description=systemd-networkd for the interlock scenario
After=systemd-udevd.service

[Service]
Type=notify
ExecStart=/usr/lib/systemd/systemd-networkd
RuntimeDirectory=systemd/netif
RuntimeDirectoryPreserve=yes
UNIT
        mkdir -p "$1/etc/systemd/network"
        cat > "$1/etc/systemd/network/10-vm.network" <<'NET'
[Match]
Name=en* eth*

[Network]
Address=10.0.2.15/24
LinkLocalAddressing=no
IPv6AcceptRA=no
ConfigureWithoutCarrier=yes
NET
}

# gpu_with_host: the GPU and its audio function ended with the host (bochs-drm and snd_hda_intel
# from coldplug), never on vfio-pci, no override left
gpu_with_host() {
        all_of "on_driver $GPU bochs-drm" "on_driver $AUDIO snd_hda_intel" "no_override $GPU" "no_override $AUDIO" ||
                return 1
        never_bound vfio-pci "$GPU"
}

gpu_refused_status() {
        service_status_has "$GPU refused: the host uses it: the console in use (vtcon1"
}

gpu_refused_journal() {
        journal_has refuse "$GPU" || return 1
        journal_mentions "refused: the host uses it: the console in use (vtcon1, $VM_BOOT_FB) is on it"
}

check_says() {
        run_cli check-console check
        ((CLI_RC == 1)) || { WHY="vfio-bind check exited $CLI_RC"; return 1; }
        [[ $CLI_OUT == *"problem: $GPU: refused: the host uses it: the console in use"* ]] && return 0
        WHY="vfio-bind check does not explain the refusal: ${CLI_OUT//$'\n'/ | }"
        return 1
}

# nic_name: REPLY = the NIC's interface name
nic_name() {
        local n
        REPLY=
        for n in /sys/bus/pci/devices/$NIC/net/*; do
                [[ -e $n ]] && REPLY=${n##*/}
        done
        [[ -n $REPLY ]] || { WHY="$NIC has no network interface"; return 1; }
}

# nic_has_route: the NIC's interface has its IPv4 route (networkd configured it)
nic_has_route() {
        local line
        nic_name || return 1
        while IFS= read -r line; do
                [[ $line == "$REPLY"$'\t'* ]] && return 0
        done </proc/net/route
        WHY="no route through $REPLY in /proc/net/route"
        return 1
}

network_up() {
        systemctl start vm-networkd.service || { WHY="vm-networkd.service did not start"; return 1; }
        wait_for 30 nic_has_route
}

# reconfigure TEXT: write /etc/vfio-bind.conf and reload the daemon; wait for the new status
reconfigure() {
        printf '%s\n' "$1" > /etc/vfio-bind.conf
        systemctl kill -s HUP vfio-bind.service || { WHY="cannot signal vfio-bind.service"; return 1; }
        sleep 2
}


nic_refused() {
        reconfigure "[Bind]
Device=$NIC" || return 1
        nic_name || return 1
        service_status_has "$NIC refused: the host uses it: network interface $REPLY is up with 10.0.2.15/24" || return 1
        all_of "on_driver $NIC e1000e" "no_override $NIC"
}

nic_forced() {
        reconfigure "[Bind]
Device=$NIC
Force=$NIC" || return 1
        wait_for 10 on_driver "$NIC" vfio-pci || return 1
        service_status_has "$NIC FORCED although the host used it (network interface"
}

nic_force_journal() {
        journal_has force "$NIC" || return 1
        journal_mentions "FORCED by Force=: binding to vfio-pci although the host uses it: network interface"
}

checks() {
        load_klog
        load_journal vfio-bind.service
        check scenario-11 "Release=no: the GPU slot is refused; the host keeps it (bochs-drm, snd_hda_intel), no override" \
                gpu_with_host
        check scenario-11 "the status names the console on the GPU" gpu_refused_status
        check scenario-11 "journal: a refuse entry for the GPU naming vtcon1 and $VM_BOOT_FB" gpu_refused_journal
        check scenario-11 "vfio-bind check explains the refusal" check_says
        check scenario-11 "the NIC is up with 10.0.2.15/24 (systemd-networkd)" network_up
        check scenario-11 "the NIC in use is refused, stays on e1000e, the status says why" nic_refused
        check scenario-11 "Force= binds the NIC in use, the status says FORCED" nic_forced
        load_journal vfio-bind.service
        check scenario-11 "journal: a force entry for the NIC with the warning" nic_force_journal
        check scenario-11 "the sandboxed unit is the one that did all this" hardened_unit
}

# hardened_unit: the sandbox settings are in effect for the running service
hardened_unit() {
        local v
        v=$(systemctl show -p ProtectSystem --value vfio-bind.service)
        [[ $v == strict ]] || { WHY="ProtectSystem=$v"; return 1; }
        v=$(systemctl show -p CapabilityBoundingSet --value vfio-bind.service)
        [[ $v == cap_sys_module ]] || { WHY="CapabilityBoundingSet=$v"; return 1; }
}
