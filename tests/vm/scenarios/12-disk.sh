# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 12, the disk interlock on the real kernel: a virtio disk behind its own root port holds
# an ext4 file system that an early unit mounts before vfio-bind.service starts. The disk's
# controller is configured together with the GPU slot: vfio-bindd binds the GPU slot, refuses the
# disk ("the host uses it: /dev/vda is mounted on /mnt/data") without writing anything to it, and
# says so in the status and the journal; the file system goes on working.

DESCRIPTION="interlock: a configured disk controller holding a mounted file system is refused"
# looks at the GPU's drivers, never at the boot console or framebuffer: SeaBIOS and the PVH
# kernel boot it with about 8 s less CPU than OVMF (tests/vm/README.md, Time)
FIRMWARE=bios
DISK=0000:04:00.0     # virtio-blk behind root port 00:05.0 (the fourth root port, bus 04)
CONF="[Bind]
Device=$GPU_SLOT $DISK"

payload() {
        # The disk: a small ext4 image, made on the host.
        truncate -s 16M "$VM_WORK/disk.img" &&
                mkfs.ext4 -q -F -L vbdata "$VM_WORK/disk.img" || return 1
        # shellcheck disable=SC2054
        QEMU_EXTRA=(
                -device pcie-root-port,id=rp4,bus=pcie.0,chassis=4,slot=4,addr=0x5
                -drive if=none,id=disk0,format=raw,file="$VM_WORK/disk.img"
                -device virtio-blk-pci,drive=disk0,bus=rp4,addr=0x0
        )
        cat > "$1/etc/systemd/system/vm-mount-disk.service" <<'UNIT'
# Mounts the virtio disk before vfio-bind.service, as a real root or data disk would be.
[Unit]
Description=Mount the virtio disk early (the host's file system on the configured controller)
DefaultDependencies=no
After=vm-uevents.service
Before=vfio-bind.service sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'modprobe -a virtio_pci virtio_blk ext4; i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; mkdir -p /mnt/data; mount -t ext4 /dev/vda /mnt/data'
UNIT
        ln -s ../vm-mount-disk.service "$1/etc/systemd/system/sysinit.target.wants/vm-mount-disk.service"
}

# disk_mounted: /dev/vda is mounted on /mnt/data (the setup worked)
disk_mounted() {
        local line
        while read -r line; do
                [[ $line == *" /mnt/data "*" - ext4 /dev/vda "* ]] && return 0
        done < /proc/self/mountinfo
        WHY="/dev/vda is not mounted on /mnt/data"
        return 1
}

# disk_untouched: the disk's controller is on virtio-pci with no override, and never was on vfio-pci
disk_untouched() {
        all_of "on_driver $DISK virtio-pci" "no_override $DISK" || return 1
        never_bound vfio-pci "$DISK"
}

disk_refused_status() {
        service_status_has "$DISK refused: the host uses it: /dev/vda is mounted on /mnt/data"
}

disk_refused_journal() {
        journal_has refuse "$DISK" || return 1
        journal_mentions "$DISK: refused: the host uses it: /dev/vda is mounted on /mnt/data"
}

# fs_works: the file system still takes a write and gives it back
fs_works() {
        local got
        echo vfio-bind > /mnt/data/probe || { WHY="cannot write to /mnt/data"; return 1; }
        read -r got < /mnt/data/probe
        [[ $got == vfio-bind ]] && return 0
        WHY="read back \"$got\""
        return 1
}

checks() {
        check scenario-12 "the virtio disk $DISK holds ext4 mounted on /mnt/data" disk_mounted
        check scenario-12 "the GPU slot is on vfio-pci in the same pass" gpu_slot_on vfio-pci
        check scenario-12 "the disk controller is refused: on virtio-pci, no override, never on vfio-pci" disk_untouched
        check scenario-12 "the status names the disk and the mount" disk_refused_status
        load_journal vfio-bind.service
        check scenario-12 "journal: a refuse entry for the disk naming the mount" disk_refused_journal
        check scenario-12 "the file system still works" fs_works
}
