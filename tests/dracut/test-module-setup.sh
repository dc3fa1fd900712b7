#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The dracut module's module-setup.sh (the build's, with its paths filled in) against stand-ins
# for dracut's functions, on a fake system root (dracutsysrootdir): check() with and without
# systemd, the driver taken from Driver= across vfio-bind.conf and its drop-ins, instmods run with
# hostonly cleared, what install() copies and the unit enabled with systemctl add-wants. The real
# dracut run is the two-stage QEMU boot (tests/vm/two-stage.sh).
#
# Usage: test-module-setup.sh BUILD/dracut/module-setup.sh

MODULE=$1
# shellcheck source=../expect.sh
source "$(dirname "${BASH_SOURCE[0]}")/../expect.sh"

sbindir=$(sed -n 's|^[[:space:]]*inst_binary \(/[^ ]*\)/vfio-bindd$|\1|p' "$MODULE")
sysconfdir=$(sed -n 's|.*\[\[ -f \${dracutsysrootdir-}\(/[^ ]*\)/vfio-bind.conf \]\].*|\1|p' "$MODULE")
[[ -n $sbindir && -n $sysconfdir ]] || { echo "not ok - cannot read the paths from $MODULE"; exit 1; }

# run FUNCTION [VAR=VALUE…]: run the module's FUNCTION in a shell with dracut's functions stood in;
# every call they get is written to $tmp/calls
run() {
        local fn=$1
        shift
        : > "$tmp/calls"
        env "$@" bash -c '
                calls=$1 module=$2 fn=$3
                derror() { echo "derror $*" >>"$calls"; }
                require_binaries() { local b; for b; do [[ -x $dracutsysrootdir$b ]] || return 1; done; }
                instmods() { echo "instmods hostonly=[${hostonly-unset}] $*" >>"$calls"; }
                inst_binary() { echo "inst_binary $*" >>"$calls"; }
                inst_simple() { echo "inst_simple $*" >>"$calls"; }
                systemctl_stub() { echo "systemctl $*" >>"$calls"; }
                SYSTEMCTL=systemctl_stub
                # shellcheck source=/dev/null
                source "$module"
                "$fn"
        ' sh "$tmp/calls" "$MODULE" "$fn"
}

root=$tmp/root
mkdir -p "$root$sbindir" "$root/usr/lib/systemd" "$root$sysconfdir/vfio-bind.conf.d"
printf '#!/bin/sh\n' > "$root$sbindir/vfio-bindd"
printf '#!/bin/sh\n' > "$root/usr/lib/systemd/systemd"
chmod +x "$root$sbindir/vfio-bindd" "$root/usr/lib/systemd/systemd"
common=(dracutsysrootdir="$root" systemdutildir=/usr/lib/systemd hostonly=yes moddir=/mod
        initdir=/initrd systemdsystemunitdir=/usr/lib/systemd/system)

# check(): only when asked for (255), refused without systemd (1, with the reason)
run check "${common[@]}"
expect "check: 255 (only when asked for) with systemd" "$?" 255
run check "${common[@]}" omit_dracutmodules=" systemd "
expect "check: refused when systemd is omitted" "$?" 1
expect "check: the refusal says why" "$(grep -c 'this initrd has no systemd' "$tmp/calls")" 1
rm "$root/usr/lib/systemd/systemd"
run check "${common[@]}"
expect "check: refused when systemd is not installed" "$?" 1
printf '#!/bin/sh\n' > "$root/usr/lib/systemd/systemd"
chmod +x "$root/usr/lib/systemd/systemd"
rm "$root$sbindir/vfio-bindd"
run check "${common[@]}"
expect "check: refused without vfio-bindd" "$?" 1
printf '#!/bin/sh\n' > "$root$sbindir/vfio-bindd"
chmod +x "$root$sbindir/vfio-bindd"

# depends(): systemd
expect "depends: systemd" "$(run depends "${common[@]}")" systemd

# installkernel(): the driver of Driver= (default auto: vfio-pci with its IOMMU backend, and the
# variant drivers named in vfio_bind_variant_modules), hostonly cleared
run installkernel "${common[@]}"
expect "installkernel: no configuration (Driver=auto): vfio-pci and the vfio backend, hostonly=''" \
        "$(cat "$tmp/calls")" "instmods hostonly=[] vfio-pci
instmods hostonly=[] vfio vfio_iommu_type1"
run installkernel "${common[@]}" vfio_bind_variant_modules="mlx5_vfio_pci virtio_vfio_pci"
expect "installkernel: Driver=auto with vfio_bind_variant_modules: those variants too" "$(cat "$tmp/calls")" \
        "instmods hostonly=[] vfio-pci mlx5_vfio_pci virtio_vfio_pci
instmods hostonly=[] vfio vfio_iommu_type1"
printf '[Bind]\nDriver=vfio-pci\n' > "$root$sysconfdir/vfio-bind.conf"
run installkernel "${common[@]}" vfio_bind_variant_modules="mlx5_vfio_pci"
expect "installkernel: Driver=vfio-pci: no variant" "$(cat "$tmp/calls")" \
        "instmods hostonly=[] vfio-pci
instmods hostonly=[] vfio vfio_iommu_type1"
printf '[Bind]\nDevice=01:00\n\n[Console]\nRelease=auto\n' > "$root$sysconfdir/vfio-bind.conf"
printf '# a drop-in\n[Bind]\n  Driver = pci-stub   # the stub\n' > "$root$sysconfdir/vfio-bind.conf.d/50-stub.conf"
printf '[Other]\nDriver=nonsense\n' > "$root$sysconfdir/vfio-bind.conf.d/60-other.conf"
run installkernel "${common[@]}"
expect "installkernel: Driver= from a drop-in (blanks, comment), not from another section" \
        "$(cat "$tmp/calls")" "instmods hostonly=[] pci-stub"

# install(): the program, the configuration and its drop-ins, the unit, enabled
run install "${common[@]}"
expect "install: vfio-bindd, the configuration, the drop-ins, the unit, add-wants" "$(cat "$tmp/calls")" \
        "inst_binary $sbindir/vfio-bindd
inst_simple $sysconfdir/vfio-bind.conf
inst_simple $sysconfdir/vfio-bind.conf.d/50-stub.conf
inst_simple $sysconfdir/vfio-bind.conf.d/60-other.conf
inst_simple /mod/vfio-bind-initrd.service /usr/lib/systemd/system/vfio-bind-initrd.service
systemctl -q --root /initrd add-wants sysinit.target vfio-bind-initrd.service"

expect_end
