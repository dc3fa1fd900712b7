#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Generate the fake trees for the interlock and fault tests (tests/test-interlock.c,
# tests/test-faults.c) on top of the committed "desktop" case (make-trees.sh). Run it after
# make-trees.sh and review the diff. Cases:
#
#   in-use         the desktop with what a running host has: disks behind the AHCI controller
#                  0000:00:1f.2 (sda1 on /boot, sda2 on /, sda3 swap, sda4 under dm-0 "vg-home"
#                  on /home), an NVMe namespace behind 0000:3d:00.0 (mounted by source only,
#                  like btrfs), eth0 on the e1000e 0000:02:00.0 (up, IPv4 route, global IPv6),
#                  a bridge br0 with eth0 as its port, and lo. proc/self/mountinfo, proc/swaps,
#                  proc/net/{route,if_inet6} describe it; tests rewrite them per case.
#   in-use-group   in-use plus a second SATA function 0000:02:00.1 in IOMMU group 4 with the
#                  NIC, holding sdb1 mounted on /srv: Group=take on the NIC must refuse the
#                  whole group.
#
# Layout follows Linux 6.1 (links relative, /sys/dev/block/MAJ:MIN, /sys/class/block/NAME,
# holders/slaves, /sys/class/net/IF with flags in hex).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

C= # the case directory
S= # its sys/

# mkblock DEVPATH MAJ:MIN [PARTITION]: a block device directory DEVPATH (relative to sys/)
# with its class/block and dev/block links.
mkblock() {
        local path=$1 devt=$2 part=${3:-} name
        name=${path##*/}
        mkdir -p "$S/$path" "$S/class/block" "$S/dev/block"
        printf '%s\n' "$devt" >"$S/$path/dev"
        printf 'MAJOR=%s\nMINOR=%s\nDEVNAME=%s\nDEVTYPE=%s\n' "${devt%:*}" "${devt#*:}" "$name" \
                "$([[ -n $part ]] && echo partition || echo disk)" >"$S/$path/uevent"
        printf '2097152\n' >"$S/$path/size"
        [[ -n $part ]] && printf '%s\n' "$part" >"$S/$path/partition"
        ln -sr "$S/$path" "$S/class/block/$name"
        ln -sr "$S/$path" "$S/dev/block/$devt"
}

# mknet NAME DEVPATH FLAGS OPERSTATE: a network interface at DEVPATH (relative to sys/).
mknet() {
        local name=$1 path=$2 flags=$3 oper=$4
        mkdir -p "$S/$path" "$S/class/net"
        printf '%s\n' "$flags" >"$S/$path/flags"
        printf '%s\n' "$oper" >"$S/$path/operstate"
        printf 'INTERFACE=%s\n' "$name" >"$S/$path/uevent"
        ln -sr "$S/$path" "$S/class/net/$name"
}

# pci_function PARENT ADDR VENDOR DEVICE CLASS DRIVER GROUP: an endpoint like make-trees.sh makes
# them (attributes, links to the bus, driver and IOMMU group).
pci_function() {
        local parent=$1 addr=$2 v=$3 d=$4 c=$5 drv=$6 group=$7 dir i
        dir="$S/$parent/$addr"
        mkdir -p "$dir"
        printf '0x%04x\n' "$v" >"$dir/vendor"
        printf '0x%04x\n' "$d" >"$dir/device"
        printf '0x1af4\n' >"$dir/subsystem_vendor"
        printf '0x1100\n' >"$dir/subsystem_device"
        printf '0x%06x\n' "$c" >"$dir/class"
        printf '(null)\n' >"$dir/driver_override"
        printf '1\n' >"$dir/enable"
        # 64 bytes of config space: IDs, class, header type 0.
        {
                printf "\\x$(printf %02x $((v & 0xff)))\\x$(printf %02x $((v >> 8)))"
                printf "\\x$(printf %02x $((d & 0xff)))\\x$(printf %02x $((d >> 8)))"
                printf '\x07\x00\x10\x00\x00'
                printf "\\x$(printf %02x $((c & 0xff)))\\x$(printf %02x $(((c >> 8) & 0xff)))\\x$(printf %02x $((c >> 16)))"
                head -c 52 /dev/zero
        } >"$dir/config"
        : >"$dir/resource"
        for ((i = 0; i < 13; i++)); do
                echo '0x0000000000000000 0x0000000000000000 0x0000000000000000' >>"$dir/resource"
        done
        printf 'DRIVER=%s\nPCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SLOT_NAME=%s\n' "$drv" "$c" "$v" "$d" "$addr" >"$dir/uevent"
        ln -sr "$S/bus/pci" "$dir/subsystem"
        ln -sr "$dir" "$S/bus/pci/devices/$addr"
        ln -sr "$S/bus/pci/drivers/$drv" "$dir/driver"
        ln -sr "$dir" "$S/bus/pci/drivers/$drv/$addr"
        ln -sr "$dir" "$S/kernel/iommu_groups/$group/devices/$addr"
        ln -sr "$S/kernel/iommu_groups/$group" "$dir/iommu_group"
}

build_in_use() {
        local sata=devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda
        local nvme=devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1
        local nic=devices/pci0000:00/0000:00:02.0/0000:02:00.0

        cp -a "$here/desktop/." "$C/"

        mkblock "$sata" 8:0
        for i in 1 2 3 4; do
                mkblock "$sata/sda$i" "8:$i" "$i"
        done
        # dm-0 ("vg-home") on sda4, both sides of the stack linked like the kernel does.
        mkblock devices/virtual/block/dm-0 253:0
        mkdir -p "$S/devices/virtual/block/dm-0/dm" "$S/devices/virtual/block/dm-0/slaves" "$S/$sata/sda4/holders"
        printf 'vg-home\n' >"$S/devices/virtual/block/dm-0/dm/name"
        ln -sr "$S/$sata/sda4" "$S/devices/virtual/block/dm-0/slaves/sda4"
        ln -sr "$S/devices/virtual/block/dm-0" "$S/$sata/sda4/holders/dm-0"
        # An NVMe namespace whose controller is not among the enumerated devices: only the path
        # walk matters here.
        mkblock "$nvme" 259:0
        mkblock "$nvme/nvme0n1p1" 259:1 1

        mknet eth0 "$nic/net/eth0" 0x1003 up
        mknet lo devices/virtual/net/lo 0x9 unknown
        mknet br0 devices/virtual/net/br0 0x1003 up
        ln -sr "$S/$nic/net/eth0" "$S/devices/virtual/net/br0/lower_eth0"
        ln -sr "$S/devices/virtual/net/br0" "$S/$nic/net/eth0/upper_br0"

        mkdir -p "$C/proc/self" "$C/proc/net"
        cat >"$C/proc/self/mountinfo" <<'EOF'
21 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw,errors=remount-ro
22 21 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=4008000k,mode=755
23 21 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
24 21 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
25 21 0:24 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=803000k,mode=755
26 21 8:1 / /boot rw,relatime shared:30 - vfat /dev/sda1 rw,fmask=0077,dmask=0077
27 21 253:0 / /home rw,relatime shared:31 - ext4 /dev/mapper/vg-home rw
28 21 0:45 / /mnt/my\040data rw,relatime shared:32 - btrfs /dev/nvme0n1p1 rw,space_cache=v2
EOF
        cat >"$C/proc/swaps" <<'EOF'
Filename				Type		Size		Used		Priority
/dev/sda3                               partition	2097148		0		-2
EOF
        cat >"$C/proc/net/route" <<'EOF'
Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT                                                       
eth0	00000000	0202000A	0003	0	0	100	00000000	0	0	0                                                                          
eth0	0002000A	00000000	0001	0	0	100	00FFFFFF	0	0	0                                                                          
EOF
        cat >"$C/proc/net/if_inet6" <<'EOF'
00000000000000000000000000000001 01 80 10 80       lo
20010db8000000000000000000000002 02 40 00 00     eth0
fe800000000000005054fffffe123456 02 40 20 80     eth0
EOF
}

build_in_use_group() {
        local sdb=devices/pci0000:00/0000:00:02.0/0000:02:00.1/ata7/host6/target6:0:0/6:0:0:0/block/sdb

        cp -a "$here/in-use/." "$C/"
        pci_function devices/pci0000:00/0000:00:02.0 0000:02:00.1 0x8086 0x2922 0x010601 ahci 4
        mkblock "$sdb" 8:16
        mkblock "$sdb/sdb1" 8:17 1
        echo '29 21 8:17 / /srv rw,relatime shared:33 - xfs /dev/sdb1 rw' >>"$C/proc/self/mountinfo"
}

for c in in-use in-use-group; do
        C="$here/$c"
        S="$C/sys"
        rm -rf "$C"
        mkdir -p "$C"
        case $c in
        in-use) build_in_use ;;
        in-use-group) build_in_use_group ;;
        esac
        # git keeps no empty directories; every link must resolve inside the case
        if empty=$(find "$C" -type d -empty) && [[ -n $empty ]]; then
                echo "empty directories in $c:" >&2
                echo "$empty" >&2
                exit 1
        fi
        if broken=$(find "$C" -xtype l) && [[ -n $broken ]]; then
                echo "broken links in $c:" >&2
                echo "$broken" >&2
                exit 1
        fi
done
