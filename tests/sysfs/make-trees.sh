#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Generate the fake sysfs/procfs trees under tests/sysfs/<case>/. The trees are committed; run
# this again after changing it and review the diff. Each case holds:
#   sys/              the sysfs root the library reads (devices, bus, class, kernel)
#   proc/             cmdline and iomem
#   fake-kernel.conf  what the real drivers would do (see tests/fake-kernel.h)
#   hotplug/<addr>/   attributes of a device that tests/fake-kernel.c can plug in later
#
# Layout details follow what Linux 6.1 shows (see KNOWLEDGE.md): "(null)" in driver_override,
# 13 resource lines for endpoints and 17 for bridges, links with the right relative depth.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cases=(desktop two-gpus shared-group no-iommu unbound simpledrm vmd sriov)

# ---- helpers -------------------------------------------------------------------------------

S= # sys/ of the case being built
C= # the case directory

# "../" repeated as many times as PATH has components: from PATH back to sys/.
up() {
        local p=$1 r=
        IFS=/ read -ra parts <<<"$p"
        for _ in "${parts[@]}"; do r+="../"; done
        printf '%s' "${r%/}"
}

hex2() { printf '\\x%02x' $(($1 & 0xff)); }

# config VENDOR DEVICE CLASS HEADER: 64 bytes of config space, as an unprivileged read shows.
config_bytes() {
        local v=$1 d=$2 c=$3 h=$4 s=""
        s+=$(hex2 $v)$(hex2 $((v >> 8)))$(hex2 $d)$(hex2 $((d >> 8)))
        s+='\x07\x00\x10\x00'                                         # command, status
        s+='\x00'$(hex2 $c)$(hex2 $((c >> 8)))$(hex2 $((c >> 16)))    # revision, class
        s+='\x00\x00'$(hex2 $h)'\x00'                                 # cacheline, latency, header, BIST
        for _ in $(seq 16 43); do s+='\x00'; done
        s+=$(hex2 0xf4)$(hex2 0x1a)'\x00\x11'                         # subsystem 1af4:1100
        for _ in $(seq 48 63); do s+='\x00'; done
        printf "$s"
}

# BARs of the next device: res INDEX START END FLAGS
declare -A RES=()
res() { RES[$1]=$(printf '0x%016x 0x%016x 0x%016x' "$2" "$3" "$4"); }

# attrs DIR ADDR VENDOR DEVICE CLASS HEADER DRIVER BOOT_VGA: the attribute files of one
# function (no links).
attrs() {
        local dir=$1 addr=$2 v=$3 d=$4 c=$5 h=$6 drv=$7 bootvga=$8 n i
        mkdir -p "$dir"
        printf '0x%04x\n' $v >"$dir/vendor"
        printf '0x%04x\n' $d >"$dir/device"
        printf '0x1af4\n' >"$dir/subsystem_vendor"
        printf '0x1100\n' >"$dir/subsystem_device"
        printf '0x%06x\n' $c >"$dir/class"
        config_bytes $v $d $c $h >"$dir/config"
        printf '(null)\n' >"$dir/driver_override"
        printf '1\n' >"$dir/enable"
        if (( (c >> 16) == 3 )); then
                printf '%s\n' "$bootvga" >"$dir/boot_vga"
        fi
        if (( (h & 0x7f) == 0 )); then n=13; else n=17; fi
        : >"$dir/resource"
        for ((i = 0; i < n; i++)); do
                printf '%s\n' "${RES[$i]:-0x0000000000000000 0x0000000000000000 0x0000000000000000}" >>"$dir/resource"
        done
        RES=()
        {
                [[ -n $drv ]] && printf 'DRIVER=%s\n' "$drv"
                printf 'PCI_CLASS=%X\n' $c
                printf 'PCI_ID=%04X:%04X\n' $v $d
                printf 'PCI_SUBSYS_ID=1AF4:1100\n'
                printf 'PCI_SLOT_NAME=%s\n' "$addr"
                printf 'MODALIAS=pci:v%08Xd%08Xsv00001AF4sd00001100bc%02Xsc%02Xi%02X\n' \
                        $v $d $((c >> 16)) $(((c >> 8) & 0xff)) $((c & 0xff))
        } >"$dir/uevent"
}

pci_driver() {
        local dir="$S/bus/pci/drivers/$1"
        [[ -d $dir ]] && return 0
        mkdir -p "$dir"
        : >"$dir/bind"; : >"$dir/unbind"; : >"$dir/new_id"; : >"$dir/remove_id"
        printf 'DRIVER=%s\n' "$1" >"$dir/uevent"
}

# dev PARENT ADDR VENDOR DEVICE CLASS HEADER DRIVER GROUP [BOOT_VGA]
# PARENT is relative to sys/, e.g. devices/pci0000:00/0000:00:01.0. DRIVER "" = unbound,
# GROUP "" = no IOMMU group.
dev() {
        local parent=$1 addr=$2 v=$3 d=$4 c=$5 h=$6 drv=$7 group=$8 bootvga=${9:-0}
        local path="$parent/$addr" u
        u=$(up "$path")
        attrs "$S/$path" "$addr" $v $d $c $h "$drv" "$bootvga"
        ln -s "$u/bus/pci" "$S/$path/subsystem"
        mkdir -p "$S/bus/pci/devices"
        ln -s "../../../$path" "$S/bus/pci/devices/$addr"
        if [[ -n $drv ]]; then
                pci_driver "$drv"
                ln -s "$u/bus/pci/drivers/$drv" "$S/$path/driver"
                ln -s "../../../../$path" "$S/bus/pci/drivers/$drv/$addr"
        fi
        if [[ -n $group ]]; then
                mkdir -p "$S/kernel/iommu_groups/$group/devices"
                printf 'DMA\n' >"$S/kernel/iommu_groups/$group/type"
                ln -s "../../../../$path" "$S/kernel/iommu_groups/$group/devices/$addr"
                ln -s "$u/kernel/iommu_groups/$group" "$S/$path/iommu_group"
        fi
}

# A device that is not there yet: its attributes under hotplug/<addr>/, plugged in by the fake
# kernel (fake_kernel_plug()) under the parent and group named in fake-kernel.conf.
staged_dev() {
        local addr=$1 v=$2 d=$3 c=$4
        attrs "$C/hotplug/$addr" "$addr" $v $d $c 0 "" 0
}

# sriov DIR TOTAL OFFSET STRIDE VF_DEVICE: the SR-IOV attributes of a physical function (PF) with
# no VFs yet, as drivers/pci/iov.c shows them (sriov_vf_device in hex without 0x). The fake
# kernel creates the VFs when sriov_numvfs is written; a "sriov" line in fake-kernel.conf
# says which IOMMU groups they join.
sriov() {
        local dir=$1
        printf '%u\n' "$2" >"$dir/sriov_totalvfs"
        printf '0\n' >"$dir/sriov_numvfs"
        printf '%u\n' "$3" >"$dir/sriov_offset"
        printf '%u\n' "$4" >"$dir/sriov_stride"
        printf '%x\n' "$5" >"$dir/sriov_vf_device"
        printf '1\n' >"$dir/sriov_drivers_autoprobe"
}

host_bridge() {
        mkdir -p "$S/devices/pci0000:00"
        printf '\n' >"$S/devices/pci0000:00/uevent"
        dev devices/pci0000:00 0000:00:00.0 0x8086 $1 0x060000 0x00 "" "$2"
}

vtconsoles() {
        local i name
        for i in 0 1; do
                name=$([[ $i = 0 ]] && echo '(S) dummy device' || echo '(M) frame buffer device')
                [[ $i = 1 && ${1:-} = nofb ]] && break
                mkdir -p "$S/devices/virtual/vtconsole/vtcon$i" "$S/class/vtconsole"
                printf '%s\n' "$name" >"$S/devices/virtual/vtconsole/vtcon$i/name"
                printf '1\n' >"$S/devices/virtual/vtconsole/vtcon$i/bind"
                printf '\n' >"$S/devices/virtual/vtconsole/vtcon$i/uevent"
                ln -s "../../devices/virtual/vtconsole/vtcon$i" "$S/class/vtconsole/vtcon$i"
        done
}

dmar() {
        mkdir -p "$S/devices/virtual/iommu/dmar0" "$S/class/iommu"
        printf '\n' >"$S/devices/virtual/iommu/dmar0/uevent"
        ln -s ../../devices/virtual/iommu/dmar0 "$S/class/iommu/dmar0"
}

# platform_fb NAME DRIVER [PARENT]: the firmware framebuffer's platform device, bound to DRIVER,
# under devices/platform or (newer kernels) under the GPU's device directory PARENT.
platform_fb() {
        local name=$1 drv=$2 parent=${3:-devices/platform} path u
        path="$parent/$name"
        u=$(up "$path")
        mkdir -p "$S/$path" "$S/bus/platform/devices" "$S/bus/platform/drivers/$drv"
        printf 'DRIVER=%s\nOF_NAME=\nMODALIAS=platform:%s\n' "$drv" "${name%.*}" >"$S/$path/uevent"
        printf '(null)\n' >"$S/$path/driver_override"
        printf 'platform:%s\n' "${name%.*}" >"$S/$path/modalias"
        ln -s "$u/bus/platform" "$S/$path/subsystem"
        ln -s "$u/bus/platform/drivers/$drv" "$S/$path/driver"
        ln -s "../../../$path" "$S/bus/platform/devices/$name"
        : >"$S/bus/platform/drivers/$drv/bind"
        : >"$S/bus/platform/drivers/$drv/unbind"
        printf 'DRIVER=%s\n' "$drv" >"$S/bus/platform/drivers/$drv/uevent"
        ln -s "../../../../$path" "$S/bus/platform/drivers/$drv/$name"
}

bus_files() {
        mkdir -p "$S/bus/pci"
        : >"$S/bus/pci/drivers_probe"
        printf '1\n' >"$S/bus/pci/drivers_autoprobe"
        : >"$S/bus/pci/rescan"
}

proc_files() {
        mkdir -p "$C/proc"
        printf '%s\n' "$1" >"$C/proc/cmdline"
        cat >"$C/proc/iomem"
}

CMDLINE_IOMMU='BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=6b1c2f0e-1d2a-4c39-9a55-0c3f2f1e9d11 ro quiet intel_iommu=on iommu=pt'
CMDLINE_PLAIN='BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=6b1c2f0e-1d2a-4c39-9a55-0c3f2f1e9d11 ro quiet'

# ---- the QEMU-like desktop (the seed's layout) ---------------------------------------------

# desktop_devices GPU_DRIVER AUDIO_DRIVER IOMMU(yes/no)
desktop_devices() {
        local gdrv=$1 adrv=$2 iommu=$3 g
        g() { [[ $iommu = yes ]] && printf '%s' "$1" || true; }
        P=devices/pci0000:00
        host_bridge 0x29c0 "$(g 0)"
        res 7 0xc0000000 0xc10fffff 0x200
        dev $P 0000:00:01.0 0x1b36 0x000c 0x060400 0x01 pcieport "$(g 2)"
        res 0 0xc0000000 0xc0ffffff 0x42208
        res 2 0xc1000000 0xc1000fff 0x40200
        res 6 0xc1010000 0xc101ffff 0x46200
        dev $P/0000:00:01.0 0000:01:00.0 0x1234 0x1111 0x030000 0x80 "$gdrv" "$(g 1)" 1
        res 0 0xc1020000 0xc1023fff 0x40200
        dev $P/0000:00:01.0 0000:01:00.1 0x8086 0x293e 0x040300 0x00 "$adrv" "$(g 1)"
        res 7 0xc1200000 0xc12fffff 0x200
        dev $P 0000:00:02.0 0x1b36 0x000c 0x060400 0x01 pcieport "$(g 3)"
        res 0 0xc1200000 0xc121ffff 0x40200
        dev $P/0000:00:02.0 0000:02:00.0 0x8086 0x10d3 0x020000 0x00 e1000e "$(g 4)"
        dev $P 0000:00:03.0 0x1b36 0x000c 0x060400 0x01 pcieport "$(g 5)"
        res 5 0xc1300000 0xc1300fff 0x40200
        dev $P 0000:00:1f.2 0x8086 0x2922 0x010601 0x00 ahci "$(g 6)"
        staged_dev 0000:03:00.0 0x8086 0x10d3 0x020000
        bus_files
        vtconsoles
        [[ $iommu = yes ]] && dmar
        return 0
}

desktop_iomem() {
        cat <<'IOMEM'
00000000-00000fff : Reserved
00001000-0009ffff : System RAM
000a0000-000bffff : PCI Bus 0000:00
000f0000-000fffff : Reserved
  000f0000-000fffff : System ROM
00100000-7fffffff : System RAM
  01000000-01e00ab6 : Kernel code
b0000000-bfffffff : PCI ECAM 0000 [bus 00-ff]
c0000000-febfffff : PCI Bus 0000:00
  c0000000-c10fffff : PCI Bus 0000:01
    c0000000-c0ffffff : 0000:01:00.0
      c0000000-c02fffff : BOOTFB
    c1000000-c1000fff : 0000:01:00.0
    c1020000-c1023fff : 0000:01:00.1
  c1200000-c12fffff : PCI Bus 0000:02
    c1200000-c121ffff : 0000:02:00.0
      c1200000-c121ffff : e1000e
  c1300000-c1300fff : 0000:00:1f.2
    c1300000-c1300fff : ahci
fee00000-fee00fff : Local APIC
IOMEM
}

desktop_conf() {
        cat <<CONF
# What the drivers of this machine do (see tests/fake-kernel.h).
match 1234:1111 bochs-drm
match 8086:293e snd_hda_intel
match 8086:10d3 e1000e
match 8086:2922 ahci
match 1b36:000c pcieport
builtin pcieport
builtin bochs-drm
builtin snd_hda_intel
builtin e1000e
builtin ahci
$1
# A NIC that can be hot-plugged into the empty root port 00:03.0 (group 9).
hotplug 0000:03:00.0 0000:00:03.0 9
CONF
}

build_desktop() {
        desktop_devices bochs-drm snd_hda_intel yes
        platform_fb efi-framebuffer.0 efi-framebuffer
        proc_files "$CMDLINE_IOMMU" < <(desktop_iomem)
        desktop_conf 'module vfio-pci' >"$C/fake-kernel.conf"
}

build_no_iommu() {
        desktop_devices bochs-drm snd_hda_intel no
        platform_fb efi-framebuffer.0 efi-framebuffer
        proc_files "$CMDLINE_PLAIN" < <(desktop_iomem)
        desktop_conf 'module vfio-pci' >"$C/fake-kernel.conf"
}

# The daemon won the race: the GPU and its audio function have no driver yet, vfio-pci is
# built in (so loading it probes nothing by itself).
build_unbound() {
        desktop_devices "" "" yes
        pci_driver vfio-pci
        platform_fb efi-framebuffer.0 efi-framebuffer
        proc_files "$CMDLINE_IOMMU" < <(desktop_iomem)
        desktop_conf 'builtin vfio-pci' >"$C/fake-kernel.conf"
}

# A newer kernel with simpledrm: the firmware framebuffer is simple-framebuffer.0, a child of
# the GPU. The GPU and audio are unbound; vfio-pci is a module.
build_simpledrm() {
        desktop_devices "" "" yes
        platform_fb simple-framebuffer.0 simple-framebuffer devices/pci0000:00/0000:00:01.0/0000:01:00.0
        proc_files "$CMDLINE_IOMMU" < <(desktop_iomem | sed 's/^\(      c0000000-c02fffff : BOOTFB\)$/\1\n        c0000000-c02fffff : simpledrm/')
        desktop_conf 'module vfio-pci' >"$C/fake-kernel.conf"
}

# The desktop plus a second GPU behind root port 00:04.0 whose IOMMU group also holds its
# audio and USB-C (xhci_hcd) functions.
build_shared_group() {
        build_desktop
        P=devices/pci0000:00
        res 7 0xd0000000 0xe1ffffff 0x200
        dev $P 0000:00:04.0 0x1b36 0x000c 0x060400 0x01 pcieport 7
        res 0 0xe0000000 0xe0ffffff 0x40200
        res 1 0xd0000000 0xdfffffff 0x14220c
        res 3 0xe1000000 0xe1ffffff 0x14220c
        dev $P/0000:00:04.0 0000:04:00.0 0x10de 0x1e84 0x030000 0x80 nouveau 8 0
        res 0 0xe2080000 0xe2083fff 0x40200
        dev $P/0000:00:04.0 0000:04:00.1 0x10de 0x10f8 0x040300 0x00 snd_hda_intel 8
        res 0 0xe2040000 0xe207ffff 0x40200
        dev $P/0000:00:04.0 0000:04:00.2 0x10de 0x1ad8 0x0c0330 0x00 xhci_hcd 8
        cat >>"$C/fake-kernel.conf" <<CONF
match 10de:1e84 nouveau
match 10de:10f8 snd_hda_intel
match 10de:1ad8 xhci_hcd
builtin nouveau
builtin xhci_hcd
CONF
}

# The seed guide's machine: two NVIDIA cards with identical audio functions (10de:0fbb), each
# card its own group; the first is the boot VGA and its BAR 1 holds the boot framebuffer.
build_two_gpus() {
        P=devices/pci0000:00
        host_bridge 0x191f 0
        res 7 0xe0000000 0xf70fffff 0x200
        dev $P 0000:00:01.0 0x8086 0x1901 0x060400 0x01 pcieport 1
        res 7 0xd0000000 0xf50fffff 0x200
        dev $P 0000:00:01.1 0x8086 0x1905 0x060400 0x01 pcieport 2
        res 5 0xf7200000 0xf7201fff 0x40200
        dev $P 0000:00:17.0 0x8086 0xa102 0x010601 0x00 ahci 5
        res 0 0xf6000000 0xf6ffffff 0x40200
        res 1 0xe0000000 0xefffffff 0x14220c
        res 3 0xf0000000 0xf1ffffff 0x14220c
        res 5 0x0000e000 0x0000e07f 0x40101
        res 6 0xf7000000 0xf707ffff 0x46200
        dev $P/0000:00:01.0 0000:0e:00.0 0x10de 0x13c2 0x030000 0x80 nouveau 13 1
        res 0 0xf7080000 0xf7083fff 0x40200
        dev $P/0000:00:01.0 0000:0e:00.1 0x10de 0x0fbb 0x040300 0x00 snd_hda_intel 13
        res 0 0xf4000000 0xf4ffffff 0x40200
        res 1 0xd0000000 0xdfffffff 0x14220c
        res 3 0xf2000000 0xf3ffffff 0x14220c
        res 5 0x0000d000 0x0000d07f 0x40101
        res 6 0xf5000000 0xf507ffff 0x46200
        dev $P/0000:00:01.1 0000:0f:00.0 0x10de 0x13c0 0x030000 0x80 nouveau 14 0
        res 0 0xf5080000 0xf5083fff 0x40200
        dev $P/0000:00:01.1 0000:0f:00.1 0x10de 0x0fbb 0x040300 0x00 snd_hda_intel 14
        bus_files
        vtconsoles
        dmar
        platform_fb efi-framebuffer.0 efi-framebuffer
        proc_files "$CMDLINE_IOMMU" <<'IOMEM'
00000000-00000fff : Reserved
00001000-0009ffff : System RAM
00100000-bfffffff : System RAM
  01000000-01e00ab6 : Kernel code
d0000000-f7ffffff : PCI Bus 0000:00
  d0000000-f50fffff : PCI Bus 0000:0f
    d0000000-dfffffff : 0000:0f:00.0
    f2000000-f3ffffff : 0000:0f:00.0
    f4000000-f4ffffff : 0000:0f:00.0
      f4000000-f4ffffff : nvidia
    f5080000-f5083fff : 0000:0f:00.1
      f5080000-f5083fff : ICH HD audio
  e0000000-f70fffff : PCI Bus 0000:0e
    e0000000-efffffff : 0000:0e:00.0
      e0000000-e07e8fff : BOOTFB
    f0000000-f1ffffff : 0000:0e:00.0
    f6000000-f6ffffff : 0000:0e:00.0
      f6000000-f6ffffff : nvidia
    f7080000-f7083fff : 0000:0e:00.1
      f7080000-f7083fff : ICH HD audio
  f7200000-f7201fff : 0000:00:17.0
    f7200000-f7201fff : ahci
fee00000-fee00fff : Local APIC
IOMEM
        cat >"$C/fake-kernel.conf" <<'CONF'
# What the drivers of this machine do (see tests/fake-kernel.h).
match 10de:13c2 nouveau
match 10de:13c0 nouveau
match 10de:0fbb snd_hda_intel
match 8086:a102 ahci
match 8086:1901 pcieport
match 8086:1905 pcieport
builtin pcieport
builtin nouveau
builtin snd_hda_intel
builtin ahci
module vfio-pci
CONF
}

# block DEVPATH MAJ:MIN [PARTITION]: a block device at DEVPATH (relative to sys/) with its
# class/block and dev/block links, as make-safety-trees.sh makes them.
block() {
        local path=$1 devt=$2 part=${3:-} name
        name=${path##*/}
        mkdir -p "$S/$path" "$S/class/block" "$S/dev/block"
        printf '%s\n' "$devt" >"$S/$path/dev"
        printf 'MAJOR=%s\nMINOR=%s\nDEVNAME=%s\nDEVTYPE=%s\n' "${devt%:*}" "${devt#*:}" "$name" \
                "$([[ -n $part ]] && echo partition || echo disk)" >"$S/$path/uevent"
        [[ -n $part ]] && printf '%s\n' "$part" >"$S/$path/partition"
        ln -sr "$S/$path" "$S/class/block/$name"
        ln -sr "$S/$path" "$S/dev/block/$devt"
}

# A laptop with Intel VMD (Volume Management Device) on: the VMD controller 0000:00:0e.0
# (8086:9a0b, class 010400 RAID, driver vmd) is an endpoint in domain 0000; the storage behind
# it sits on a PCI root bus of its own, domain 10000, whose directory is *inside* the VMD
# endpoint's: devices/pci0000:00/0000:00:0e.0/pci10000:e0/. Behind it: a root port
# 10000:e0:1d.0 with an NVMe controller 10000:e1:00.0 (unmounted, the one a user would want to
# pass through), an empty root port 10000:e0:1c.0 where a second NVMe 10000:e2:00.0 can be
# hot-plugged, and the SATA controller 10000:e0:17.0 that holds the root file system. DMA from
# behind VMD carries the VMD endpoint's requester ID, so the IOMMU cannot tell those devices
# apart: they are all in the VMD endpoint's IOMMU group 7, and their iommu_group links point to
# it. A NIC 0000:00:1f.6 in a group of its own is the ordinary device next to them.
build_vmd() {
        local V sda
        P=devices/pci0000:00
        V=$P/0000:00:0e.0/pci10000:e0
        sda=$V/10000:e0:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda
        host_bridge 0x9a14 0
        res 0 0x6000000000 0x6001ffffff 0x14220c
        res 2 0x72000000 0x73ffffff 0x40200
        res 4 0x6002000000 0x60020fffff 0x14220c
        dev $P 0000:00:0e.0 0x8086 0x9a0b 0x010400 0x00 vmd 7
        mkdir -p "$S/$V"
        printf '\n' >"$S/$V/uevent"
        res 7 0x72000000 0x720fffff 0x200
        dev $V 10000:e0:1d.0 0x8086 0xa0b0 0x060400 0x01 pcieport 7
        res 0 0x72000000 0x72003fff 0x40200
        dev $V/10000:e0:1d.0 10000:e1:00.0 0x144d 0xa80a 0x010802 0x00 nvme 7
        res 5 0x72100000 0x721007ff 0x40200
        dev $V 10000:e0:17.0 0x8086 0xa0d3 0x010601 0x00 ahci 7
        # An empty hot-plug root port; a second NVMe (hotplug/10000:e2:00.0) can arrive there.
        res 7 0x72200000 0x722fffff 0x200
        dev $V 10000:e0:1c.0 0x8086 0xa0bc 0x060400 0x01 pcieport 7
        staged_dev 10000:e2:00.0 0x144d 0xa80a 0x010802
        res 0 0x70000000 0x7001ffff 0x40200
        dev $P 0000:00:1f.6 0x8086 0x15fc 0x020000 0x00 e1000e 9
        block "$V/10000:e0:1d.0/10000:e1:00.0/nvme/nvme0/nvme0n1" 259:0
        block "$sda" 8:0
        block "$sda/sda1" 8:1 1
        block "$sda/sda2" 8:2 2
        bus_files
        vtconsoles nofb
        dmar
        mkdir -p "$C/proc/self"
        cat >"$C/proc/self/mountinfo" <<'MOUNTS'
21 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw,errors=remount-ro
22 21 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=8008000k,mode=755
23 21 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
24 21 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
26 21 8:1 / /boot/efi rw,relatime shared:30 - vfat /dev/sda1 rw,fmask=0077,dmask=0077
MOUNTS
        printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' >"$C/proc/swaps"
        proc_files "$CMDLINE_IOMMU" <<'IOMEM'
00000000-00000fff : Reserved
00001000-0009ffff : System RAM
00100000-6fffffff : System RAM
  01000000-01e00ab6 : Kernel code
70000000-bfffffff : PCI Bus 0000:00
  70000000-7001ffff : 0000:00:1f.6
    70000000-7001ffff : e1000e
  72000000-73ffffff : 0000:00:0e.0
    72000000-73ffffff : VMD MEMBAR1
      72000000-720fffff : PCI Bus 10000:e1
        72000000-72003fff : 10000:e1:00.0
          72000000-72003fff : nvme
      72100000-721007ff : 10000:e0:17.0
        72100000-721007ff : ahci
c0000000-cfffffff : PCI ECAM 0000 [bus 00-ff]
fee00000-fee00fff : Local APIC
6000000000-6001ffffff : 0000:00:0e.0
  6000000000-6001ffffff : VMD CFGBAR
6002000000-60020fffff : 0000:00:0e.0
  6002000000-60020fffff : VMD MEMBAR2
IOMEM
        cat >"$C/fake-kernel.conf" <<'CONF'
# What the drivers of this machine do (see tests/fake-kernel.h).
match 8086:9a0b vmd
match 8086:a0b0 pcieport
match 8086:a0bc pcieport
match 144d:a80a nvme
match 8086:a0d3 ahci
match 8086:15fc e1000e
builtin vmd
builtin pcieport
builtin nvme
builtin ahci
builtin e1000e
module vfio-pci
# A second NVMe that can be hot-plugged into the empty root port 10000:e0:1c.0 (group 7).
hotplug 10000:e2:00.0 10000:e0:1c.0 7
CONF
}

# A small machine with SR-IOV: an Intel 82576 dual-port NIC (8086:10c9, igb) behind root port
# 00:03.0 whose two functions are physical functions (7 VFs each, VF offset 128, stride 2, VF
# device 8086:10ca for igbvf: the VFs of 03:00.0 are 03:10.0, 03:10.2, …, 03:11.4, those of
# 03:00.1 are 03:10.1, 03:10.3, …, 03:11.5, siblings of the PFs under 00:03.0), a plain e1000e NIC
# without SR-IOV behind 00:01.0, and an empty root port 00:02.0 where an NVMe drive that is a PF
# itself (144d:a824, 4 VFs at 02:00.1..02:00.4) can be hot-plugged. Groups follow bus order at
# boot (0-7), the NVMe gets 9 when it arrives; the VFs' groups are fixed by the "sriov" lines:
# 10-16 for 03:00.0's, 20-26 for 03:00.1's, 30-33 for the NVMe's. Resource lines 7 and 10 of a
# PF are its VF BARs 0 and 3, TOTAL slices of 16K (each VF gets its slice, like
# pci_iov_resource_size()).
build_sriov() {
        P=devices/pci0000:00
        host_bridge 0x29c0 0
        res 7 0xc1000000 0xc10fffff 0x200
        dev $P 0000:00:01.0 0x1b36 0x000c 0x060400 0x01 pcieport 1
        res 0 0xc1000000 0xc101ffff 0x40200
        dev $P/0000:00:01.0 0000:01:00.0 0x8086 0x10d3 0x020000 0x00 e1000e 2
        res 7 0xc1100000 0xc11fffff 0x200
        dev $P 0000:00:02.0 0x1b36 0x000c 0x060400 0x01 pcieport 3
        res 7 0xc1200000 0xc12fffff 0x200
        dev $P 0000:00:03.0 0x1b36 0x000c 0x060400 0x01 pcieport 4
        res 0 0xc1200000 0xc121ffff 0x40200
        res 3 0xc1280000 0xc1283fff 0x40200
        res 7 0xc1240000 0xc125bfff 0x40200
        res 10 0xc1260000 0xc127bfff 0x40200
        dev $P/0000:00:03.0 0000:03:00.0 0x8086 0x10c9 0x020000 0x80 igb 5
        sriov "$S/$P/0000:00:03.0/0000:03:00.0" 7 128 2 0x10ca
        res 0 0xc1220000 0xc123ffff 0x40200
        res 3 0xc1284000 0xc1287fff 0x40200
        res 7 0xc1288000 0xc12a3fff 0x40200
        res 10 0xc12a8000 0xc12c3fff 0x40200
        dev $P/0000:00:03.0 0000:03:00.1 0x8086 0x10c9 0x020000 0x80 igb 6
        sriov "$S/$P/0000:00:03.0/0000:03:00.1" 7 128 2 0x10ca
        res 5 0xc1300000 0xc1300fff 0x40200
        dev $P 0000:00:1f.2 0x8086 0x2922 0x010601 0x00 ahci 7
        res 0 0xc1100000 0xc1103fff 0x40200
        res 7 0xc1104000 0xc1113fff 0x40200
        staged_dev 0000:02:00.0 0x144d 0xa824 0x010802
        sriov "$C/hotplug/0000:02:00.0" 4 1 1 0xa824
        bus_files
        vtconsoles
        dmar
        proc_files "$CMDLINE_IOMMU" <<'IOMEM'
00000000-00000fff : Reserved
00001000-0009ffff : System RAM
00100000-7fffffff : System RAM
  01000000-01e00ab6 : Kernel code
b0000000-bfffffff : PCI ECAM 0000 [bus 00-ff]
c0000000-febfffff : PCI Bus 0000:00
  c1000000-c10fffff : PCI Bus 0000:01
    c1000000-c101ffff : 0000:01:00.0
      c1000000-c101ffff : e1000e
  c1200000-c12fffff : PCI Bus 0000:03
    c1200000-c121ffff : 0000:03:00.0
      c1200000-c121ffff : igb
    c1220000-c123ffff : 0000:03:00.1
      c1220000-c123ffff : igb
    c1240000-c125bfff : 0000:03:00.0
    c1260000-c127bfff : 0000:03:00.0
    c1280000-c1283fff : 0000:03:00.0
      c1280000-c1283fff : igb
    c1284000-c1287fff : 0000:03:00.1
      c1284000-c1287fff : igb
    c1288000-c12a3fff : 0000:03:00.1
    c12a8000-c12c3fff : 0000:03:00.1
  c1300000-c1300fff : 0000:00:1f.2
    c1300000-c1300fff : ahci
fee00000-fee00fff : Local APIC
IOMEM
        cat >"$C/fake-kernel.conf" <<'CONF'
# What the drivers of this machine do (see tests/fake-kernel.h).
match 8086:10d3 e1000e
match 8086:10c9 igb
match 8086:10ca igbvf
match 144d:a824 nvme
match 8086:2922 ahci
match 1b36:000c pcieport
builtin pcieport
builtin e1000e
builtin igb
builtin igbvf
builtin nvme
builtin ahci
module vfio-pci
# The PFs' VFs: VF i joins IOMMU group FIRST+i.
sriov 0000:03:00.0 10
sriov 0000:03:00.1 20
sriov 0000:02:00.0 30
# nvme_remove() leaves SR-IOV enabled (igb_remove() disables it).
keep-vfs nvme
# An NVMe drive (a PF itself) that can be hot-plugged into the empty root port 00:02.0 (group 9).
hotplug 0000:02:00.0 0000:00:02.0 9
CONF
}

# ---- main ----------------------------------------------------------------------------------

for c in "${cases[@]}"; do
        C="$here/$c"
        S="$C/sys"
        rm -rf "$C"
        mkdir -p "$S"
        case $c in
        desktop) build_desktop ;;
        two-gpus) build_two_gpus ;;
        shared-group) build_shared_group ;;
        no-iommu) build_no_iommu ;;
        unbound) build_unbound ;;
        simpledrm) build_simpledrm ;;
        vmd) build_vmd ;;
        sriov) build_sriov ;;
        esac
        # git keeps no empty directories: every directory must hold a file
        if empty=$(find "$C" -type d -empty) && [[ -n $empty ]]; then
                echo "empty directories in $c:" >&2
                echo "$empty" >&2
                exit 1
        fi
        # every link must resolve inside the case
        if broken=$(find "$C" -xtype l) && [[ -n $broken ]]; then
                echo "broken links in $c:" >&2
                echo "$broken" >&2
                exit 1
        fi
done
