# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Two-stage boot with the Debian package (debian/, dpkg-buildpackage) installed by dpkg -i in the
# guest's root instead of the build's files: its postinst enables vfio-bind.service and runs no
# update-initramfs; the guest's update-initramfs then takes its hook and boot script, and the slot
# is on vfio-pci before the switch-root. On a copy of the root: dpkg -r leaves no enabled unit,
# dpkg -P leaves the configuration the user wrote.

DESCRIPTION="the Debian package in an initramfs-tools system: installed, enabled, bound in the initramfs"
INITRAMFS=initramfs-tools
# Debian's kernels: initramfs-tools is the initramfs of their distribution
STAGE1_KERNELS="6.1 6.12"
ITOOLS_HOOK=no
INSTALL=deb
CONF="[Bind]
Device=$GPU_SLOT"

deb_enabled_unit() {
        local link=$ROOT/etc/systemd/system/sysinit.target.wants/vfio-bind.service
        [[ -L $link && $(readlink "$link") == */lib/systemd/system/vfio-bind.service ]] && return 0
        WHY="sysinit.target.wants/vfio-bind.service: $(readlink "$link" 2>&1)"
        return 1
}

deb_ran_no_update_initramfs() {
        ! grep -qi "update-initramfs" "$VM_WORK/dpkg.log" && return 0
        WHY="dpkg -i said: $(grep -i update-initramfs "$VM_WORK/dpkg.log" | head -n 2 | tr '\n' ' ')"
        return 1
}

# dpkg -r and dpkg -P on a copy of the root tree (the disk is made from the original)
deb_remove_purge() {
        local keep=$ROOT state
        ROOT=$VM_WORK/root-rm
        rm -rf "$ROOT"
        cp -a "$keep" "$ROOT"
        in_root dpkg -r vfio-bind >"$VM_WORK/dpkg-r.log" 2>&1 || { WHY="dpkg -r failed: $(tail -n 2 "$VM_WORK/dpkg-r.log")"; ROOT=$keep; return 1; }
        state=$(in_root systemctl is-enabled vfio-bind.service 2>&1)
        if [[ $state == enabled* || -e $ROOT/lib/systemd/system/vfio-bind.service ]]; then
                WHY="after dpkg -r: systemctl is-enabled says \"$state\""
                ROOT=$keep
                return 1
        fi
        in_root dpkg -P vfio-bind >"$VM_WORK/dpkg-p.log" 2>&1 || { WHY="dpkg -P failed: $(tail -n 2 "$VM_WORK/dpkg-p.log")"; ROOT=$keep; return 1; }
        if [[ ! -f $ROOT/etc/vfio-bind.conf || -e $ROOT/etc/systemd/system/sysinit.target.wants/vfio-bind.service ||
                -L $ROOT/etc/systemd/system/sysinit.target.wants/vfio-bind.service ]]; then
                WHY="after dpkg -P: /etc/vfio-bind.conf $([[ -f $ROOT/etc/vfio-bind.conf ]] && echo kept || echo gone), wants link $(readlink "$ROOT/etc/systemd/system/sysinit.target.wants/vfio-bind.service" 2>&1)"
                ROOT=$keep
                return 1
        fi
        rm -rf "$ROOT"
        ROOT=$keep
}

host_checks() {
        host_check "itools-deb: dpkg -i enabled vfio-bind.service (sysinit.target.wants) and ran no update-initramfs" \
                all_of deb_enabled_unit deb_ran_no_update_initramfs
        host_check "itools-deb: initramfs: the package's vfio-bindd, the boot script, /etc/vfio-bind.conf, vfio-pci" \
                all_of "initrd_has usr/sbin/vfio-bindd" "initrd_has scripts/init-top/00-vfio-bind" \
                       "initrd_has etc/vfio-bind.conf" "initrd_has usr/lib/modules/*/vfio-pci.ko*"
        host_check "itools-deb: dpkg -r leaves no enabled unit; dpkg -P keeps /etc/vfio-bind.conf and drops the wants link" \
                deb_remove_purge
}

unit_is_the_package_s() {
        local path
        path=$(systemctl show -p FragmentPath --value vfio-bind.service)
        [[ $path == /lib/systemd/system/vfio-bind.service || $path == /usr/lib/systemd/system/vfio-bind.service ]] &&
                return 0
        WHY="vfio-bind.service comes from ${path:-nowhere}"
        return 1
}

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        stage1_begin itools-deb
        stage1_bound_checks itools-deb
        check itools-deb "stage 2: the package's vfio-bind.service (/lib/systemd/system) runs" unit_is_the_package_s
        check itools-deb "stage 2: status 2/2 devices on vfio-pci, bound in the initrd" \
                service_status_has "2/2 devices on vfio-pci: $GPU $AUDIO" "bound in the initrd"
}
