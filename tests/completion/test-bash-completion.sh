#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs the bash completion of vfio-bind without a terminal: for each command line, set COMP_LINE
# and COMP_POINT as bash would, call the completion function, and compare COMPREPLY with what a
# user must be offered. PCI devices and drivers come from a fake sysfs tree built here; one last
# case compares against the machine's real /sys when it has PCI devices.
#
# Usage: test-bash-completion.sh [PATH/TO/vfio-bind.bash [PATH/TO/vfio-bindd.bash]]

set -u

script=${1:-$(dirname "$0")/../../completions/vfio-bind.bash}
daemon_script=${2:-$(dirname "$0")/../../completions/vfio-bindd.bash}
if [[ ! -r $script ]]; then
        echo "cannot read $script" >&2
        exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# a host bridge, a GPU, a GPU and its audio function, a PCIe root port (bridge), an NVMe drive;
# 0000:0f:00.2 has no class file (a device the completion cannot classify is offered)
for a in 0000:00:00.0/0x060000 0000:00:02.0/0x030000 0000:0f:00.0/0x030000 0000:0f:00.1/0x040300 \
        0000:0f:00.2/ 0001:00:00.0/0x060400 10000:e1:00.0/0x010802; do
        class=${a#*/} a=${a%/*}
        mkdir -p "$tmp/sys/devices/pci/$a"
        [[ -n $class ]] && echo "$class" > "$tmp/sys/devices/pci/$a/class"
        mkdir -p "$tmp/sys/bus/pci/devices"
        ln -s "../../../devices/pci/$a" "$tmp/sys/bus/pci/devices/$a"
done
# what the completion must offer: no bridge
endpoints=(0000:00:02.0 0000:0f:00.0 0000:0f:00.1 0000:0f:00.2 10000:e1:00.0)
for d in pcieport pci-stub snd_hda_intel vfio-pci; do
        mkdir -p "$tmp/sys/bus/pci/drivers/$d"
done
# passed through, what release offers: 0000:0f:00.0 on vfio-pci, 0000:0f:00.2 with its override
# and no driver; 0000:0f:00.1 on snd_hda_intel and the rest with "(null)" as the kernel shows it
ln -s ../../../bus/pci/drivers/vfio-pci "$tmp/sys/devices/pci/0000:0f:00.0/driver"
ln -s ../../../bus/pci/drivers/snd_hda_intel "$tmp/sys/devices/pci/0000:0f:00.1/driver"
for a in "${endpoints[@]}"; do
        echo '(null)' > "$tmp/sys/devices/pci/$a/driver_override"
done
echo vfio-pci > "$tmp/sys/devices/pci/0000:0f:00.2/driver_override"
released=(0000:0f:00.0 0000:0f:00.2)
mkdir -p "$tmp/etc/vfio-bind.conf.d"
touch "$tmp/etc/vfio-bind.conf" "$tmp/etc/other.conf"

# shellcheck source=../../completions/vfio-bind.bash
source "$script"
_vfio_bind_sysfs=$tmp/sys

if ! complete -p vfio-bind >/dev/null 2>&1; then
        echo "not ok - the script does not register a completion for vfio-bind"
        exit 1
fi

passed=0
failed=0

# check LINE EXPECTED... : complete at the end of LINE; COMPREPLY must be exactly EXPECTED (any
# order).
check() {
        local line=$1
        shift
        COMP_LINE=$line
        COMP_POINT=${#line}
        read -ra COMP_WORDS <<< "$line"
        COMP_CWORD=${#COMP_WORDS[@]}
        [[ $line == *' ' ]] || COMP_CWORD=$((COMP_CWORD - 1))
        COMPREPLY=()
        _vfio_bind vfio-bind

        local got want
        got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | sed '/^$/d')
        want=$(printf '%s\n' "$@" | sort | sed '/^$/d')
        if [[ $got == "$want" ]]; then
                passed=$((passed + 1))
                echo "ok - '$line'"
        else
                failed=$((failed + 1))
                echo "not ok - '$line'"
                echo "#   expected: $(echo $want)"
                echo "#   got:      $(echo $got)"
        fi
}

# Verbs and global options.
check 'vfio-bind ' groups status check bind release dump
check 'vfio-bind st' status
check 'vfio-bind b' bind
check 'vfio-bind -' --help --version --root=
check 'vfio-bind nonsense ' 

# Options per verb.
check 'vfio-bind groups ' 
check 'vfio-bind groups -' --help --config= --root=
check 'vfio-bind status --' --help --json --config= --root=
check 'vfio-bind status --j' --json
check 'vfio-bind check -' --help --config= --root=
check 'vfio-bind dump -' --help --config= --root=
check 'vfio-bind release -' --help --dry-run --take-group --force
check 'vfio-bind release 0000:0f:00.0 --t' --take-group
check 'vfio-bind bind 0000:0f:00.0 --' --help --dry-run --take-group --force --release-console --driver= --config=
check 'vfio-bind bind --dry-run --take-group 0f:00.0 --f' --force
check 'vfio-bind bind 0f:00.0 --r' --release-console

# PCI addresses. bash splits words at ':', so only the part after the last ':' is returned.
# Bridges (the host bridge 0000:00:00.0, the root port 0001:00:00.0) are never offered.
check 'vfio-bind bind ' "${endpoints[@]}"
check 'vfio-bind release ' "${released[@]}"
check 'vfio-bind release 0000:0f:' 00.0 00.2
check 'vfio-bind bind 0001' 
check 'vfio-bind bind 0000:00:0' 02.0
# a VMD domain (10000 and up): offered in full; e1: is domain 0000, so no short form
check 'vfio-bind bind 1000' 10000:e1:00.0
check 'vfio-bind bind 10000:' e1:00.0
check 'vfio-bind release 10000:e1:' 
check 'vfio-bind bind 10000:e1:' 00.0
check 'vfio-bind bind e1' 
check 'vfio-bind bind 0000:0f:' 00.0 00.1 00.2
check 'vfio-bind release 0000:0f:00.' 00.0 00.2
check 'vfio-bind bind 0f' 0f:00.0 0f:00.1 0f:00.2
check 'vfio-bind bind 0f:' 00.0 00.1 00.2
check 'vfio-bind bind 0000:0f:00.0 ' 
check 'vfio-bind status ' 
check 'vfio-bind bind --driver vfio-pci ' "${endpoints[@]}"
check 'vfio-bind bind --driver=vfio-pci 0f:00.' 00.0 00.1 00.2

# Driver names, as --driver=NAME and --driver NAME. '=' is a word break too.
check 'vfio-bind bind 0f:00.0 --driver=' pcieport pci-stub snd_hda_intel vfio-pci
check 'vfio-bind bind 0f:00.0 --driver=vf' vfio-pci
check 'vfio-bind bind 0f:00.0 --driver=pci' pci-stub pcieport
check 'vfio-bind bind 0f:00.0 --driver ' pcieport pci-stub snd_hda_intel vfio-pci
check 'vfio-bind bind 0f:00.0 --driver s' snd_hda_intel

# Files for --config.
check "vfio-bind check --config=$tmp/etc/vfio" "$tmp/etc/vfio-bind.conf" "$tmp/etc/vfio-bind.conf.d/"
check "vfio-bind status --json --config=$tmp/etc/o" "$tmp/etc/other.conf"
check "vfio-bind check --config $tmp/etc/o" "$tmp/etc/other.conf"

# The machine's own PCI devices and drivers, if it has any.
_vfio_bind_sysfs=/sys
shopt -s nullglob
real_devices=()
for d in /sys/bus/pci/devices/*; do
        c=''
        read -r c 2>/dev/null < "$d/class"
        [[ $c == 0x06* ]] || real_devices+=("$d")
done
real_drivers=(/sys/bus/pci/drivers/*)
shopt -u nullglob
if ((${#real_devices[@]} > 0)); then
        check 'vfio-bind bind ' "${real_devices[@]##*/}"
        check 'vfio-bind bind 0f:00.0 --driver ' "${real_drivers[@]##*/}"
else
        echo "ok - # SKIP the machine has no PCI devices in /sys"
fi

# vfio-bindd: its options; the three modes exclude each other, --root= only beside --dry-run.
if [[ -r $daemon_script ]]; then
        # shellcheck source=../../completions/vfio-bindd.bash
        source "$daemon_script"
        checkd() {
                local line=$1
                shift
                COMP_LINE=$line COMP_POINT=${#line}
                COMPREPLY=()
                _vfio_bindd vfio-bindd
                local got want
                got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | sed '/^$/d')
                want=$(printf '%s\n' "$@" | sort | sed '/^$/d')
                if [[ $got == "$want" ]]; then
                        passed=$((passed + 1))
                        echo "ok - '$line'"
                else
                        failed=$((failed + 1))
                        echo "not ok - '$line'"
                        echo "#   expected: $(echo $want)"
                        echo "#   got:      $(echo $got)"
                fi
        }
        checkd 'vfio-bindd -' --help --version --config= --validate --dry-run --once
        checkd 'vfio-bindd --v' --version --validate
        checkd 'vfio-bindd --dry-run -' --help --version --config= --root=
        checkd 'vfio-bindd --validate --' --help --version --config=
        checkd 'vfio-bindd --once --config=/etc/x --' --help --version --in-initrd
        checkd 'vfio-bindd --once --in-initrd --' --help --version --config=
        checkd "vfio-bindd --dry-run --root=$tmp/etc/o" "$tmp/etc/other.conf"
        checkd "vfio-bindd --config $tmp/etc/vfio" "$tmp/etc/vfio-bind.conf" "$tmp/etc/vfio-bind.conf.d/"
        if ! complete -p vfio-bindd >/dev/null 2>&1; then
                failed=$((failed + 1))
                echo "not ok - the script does not register a completion for vfio-bindd"
        fi
else
        failed=$((failed + 1))
        echo "not ok - cannot read $daemon_script"
fi

echo "$passed passed, $failed failed"
((failed == 0))
