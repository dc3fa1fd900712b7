#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demo: what vfio-bind does on a machine with a GPU to pass through, shown on a real Linux
# kernel with systemd and udev in QEMU (no KVM needed, nothing on this machine is touched).
#
#     ./tools/demo.sh          (as root)
#
# It installs what it needs with apt-get (Debian 12), builds vfio-bind with meson, builds the
# guest image once (a few minutes; cached in /var/cache/vfio-bind-vm), and boots the guest twice:
#   1. the machine today: `vfio-bind groups` shows the GPU and its audio function held by their
#      host drivers, and `vfio-bind check` the plan for the configuration below;
#   2. after writing /etc/vfio-bind.conf and rebooting: `systemctl status vfio-bind`, its journal
#      lines, `vfio-bind status` and `vfio-bind groups` with both functions on vfio-pci.
#
# Environment: VB_SKIP_DEPS=1 (no apt-get), VB_DEMO_BUILD (build directory, default build-demo),
# VB_VM_CACHE (image cache).

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$PWD
build=${VB_DEMO_BUILD:-$top/build-demo}

if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
        B=$'\e[1m' G=$'\e[32m' D=$'\e[2m' R=$'\e[0m'
else
        B='' G='' D='' R=''
fi
say() { printf '\n%s==> %s%s\n' "$B" "$*" "$R"; }
detail() { printf '%s    %s%s\n' "$D" "$*" "$R"; }
die() { printf '\n%sdemo: %s%s\n' "$B" "$*" "$R" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "run it as root, in a root shell or with sudo where it is installed (it installs packages and builds a root file system for the guest)"

# 1. what the demo needs
if [[ -z ${VB_SKIP_DEPS:-} ]]; then
        say "Installing the build tools and QEMU with apt-get (log: $build.deps.log)"
        mkdir -p "$(dirname "$build")"
        { tools/deps.sh build && sh tests/vm/install-deps.sh; } >"$build.deps.log" 2>&1 ||
                { tail -n 20 "$build.deps.log"; die "installing the packages failed (see $build.deps.log)"; }
fi

# 2. the build
say "Building vfio-bind (meson, release build in ${build#"$top"/})"
if [[ ! -f $build/build.ninja ]]; then
        meson setup "$build" --buildtype=release -Dtests=false >"$build.setup.log" 2>&1 ||
                { cat "$build.setup.log"; die "meson setup failed"; }
fi
ninja -C "$build" 2>&1 | sed -u "s/^/$D    /;s/\$/$R/" | tail -n 3
[[ ${PIPESTATUS[0]} == 0 ]] || die "the build failed"

# 3. the guest image and the machine
export VB_DAEMON=$build/daemon/vfio-bindd VB_CLI=$build/cli/vfio-bind VB_UNIT=$build/systemd/vfio-bind.service
VM_LOGDIR=$build/demo-logs
# shellcheck source=../tests/vm/vm-lib.sh
source "$top/tests/vm/vm-lib.sh"
mapfile -t missing < <(vm_missing_tools)
((${#missing[@]} == 0)) || die "missing: ${missing[*]} (run tests/vm/install-deps.sh)"

say "Guest image: Debian's kernel with systemd and udev (built once, a few minutes; then cached)"
vm_image 2> >(sed -u "s/^\[vm-image\] /$D    /;s/^\[mmdebstrap\] I: /$D    mmdebstrap: /;/^\[mmdebstrap\]/d;s/\$/$R/") ||
        die "the guest image could not be built"
vm_setup || die "cannot read ExecStart= from $VB_UNIT"

DEMO_CONF="# /etc/vfio-bind.conf: give the GPU and its HDMI audio (slot $GPU_SLOT) to virtual machines
[Bind]
Device=$GPU_SLOT"
export DEMO_CONF

detail "the guest: kernel $KREL under QEMU (q35, emulated Intel IOMMU, OVMF), no KVM needed"
detail "  $GPU  VGA GPU (bochs-drm), the boot display, with the firmware framebuffer on it"
detail "  $AUDIO  its HDMI audio function (snd_hda_intel), same IOMMU group"
detail "  $NIC  a network card (e1000e)"

booting() { (($1 % 10 == 0)) && detail "guest booting... $1 s"; return 0; }

# boot NAME FILE TITLE: boot, then print what the guest showed
boot() {
        local name=$1 file=$2 line n=0
        vm_scenario_load "$file"
        vm_build_payload "$name" "$file" || die "could not build the guest's payload"
        say "$3"
        vm_boot "$name" booting
        detail "booted, ran and powered off in $VM_BOOT_SECONDS s"
        echo
        while IFS= read -r line; do
                n=$((n + 1))
                if [[ $line == '$ '* ]]; then
                        printf '%s%s%s\n' "$G$B" "$line" "$R"
                else
                        printf '%s\n' "$line"
                fi
        done < <(tr -d '\r' < "$VM_RESULTS" | sed -n 's/^VMSHOW \{0,1\}//p')
        if ((n == 0)) || ! grep -aq '^VMRESULT END' "$VM_RESULTS"; then
                vm_console_tail 15 | sed 's/^/    /'
                die "the guest did not finish (exit $VM_BOOT_RC); logs in $VM_LOGDIR/$name"
        fi
}

boot today "$top/tests/vm/demo/1-today.sh" \
        "Boot 1: your machine today, vfio-bind installed but not configured"

say "You write /etc/vfio-bind.conf and reboot:"
printf '%s\n' "$DEMO_CONF" | sed 's/^/    /'

boot configured "$top/tests/vm/demo/2-configured.sh" \
        "Boot 2: vfio-bind.service runs early in boot, before udev coldplug and module loading"

if grep -aq '^VMSHOW .*[0-9]/[0-9] devices on vfio-pci' "$VM_RESULTS" &&
   ! grep -aq '^VMSHOW .*Active: failed' "$VM_RESULTS"; then
        say "Done: the GPU and its audio function went to vfio-pci before any host driver could take them."
else
        say "Done, but the GPU did not end on vfio-pci: see above and $VM_LOGDIR/configured/"
        exit 1
fi
detail "the guest's full kernel log and journal: $VM_LOGDIR/{today,configured}/"
detail "run every real-kernel scenario: meson test -C <build> --suite vm (or tests/vm/run.sh)"
